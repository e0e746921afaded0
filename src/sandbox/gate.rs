//! The middleware every request passes through: it draws and applies the
//! faults, caps JSON bodies, records the request and its answer, and turns
//! a "drop" verdict into a connection closed without an answer.
//!
//! The work runs in a task of its own (tracked for shutdown), not in the
//! connection's future: a request whose client gave up, or whose connection
//! was dropped, is still processed to the end, as on a real server. That is
//! what makes a hung save land late.

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use super::App;
use super::http::{ApiError, bearer_token, cookie_token};
use super::store::{AppliedFault, RecordedRequest};
use super::{LOGIN_PATH, UPLOAD_PATH};

/// The largest body accepted by every endpoint but the upload: 1 MiB.
/// Larger bodies are answered 413.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// How much of an oversized body is still read (and thrown away) before the
/// 413 is sent, so that the client, still writing, sees the answer rather
/// than a reset. Beyond this the connection is simply closed after the 413.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// Lets a handler close its own connection without answering. Inserted into
/// every request by the connection task that serves it.
#[derive(Debug, Clone, Default)]
pub struct ConnectionHandle(CancellationToken);

impl ConnectionHandle {
    /// Asks the connection task to drop the connection now.
    pub fn drop_connection(&self) {
        self.0.cancel();
    }

    /// Resolves once [`ConnectionHandle::drop_connection`] was called.
    pub async fn dropped(&self) {
        self.0.cancelled().await;
    }
}

/// The middleware itself (see the module doc).
pub async fn gate(State(app): State<App>, request: Request, next: Next) -> Response {
    let connection = request.extensions().get::<ConnectionHandle>().cloned();
    let record = record_of(&request);
    let work = app.tracker.spawn(process(app.clone(), request, next));

    match work.await {
        Ok(Some(response)) => response,
        Ok(None) => match connection {
            Some(connection) => {
                connection.drop_connection();
                // The connection task drops this future with the connection.
                std::future::pending().await
            }
            None => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot drop").into_response(),
        },
        Err(err) => {
            tracing::error!(%err, path = record.path, "a sandbox handler panicked");
            app.panicked.store(true, Ordering::SeqCst);
            app.store.record(RecordedRequest {
                status: Some(500),
                ..record
            });
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// Answers one request and records it. `None` means: drop the connection.
async fn process(app: App, request: Request, next: Next) -> Option<Response> {
    let mut record = record_of(&request);
    let rolls = app.faults.roll();
    let response = answer(&app, request, next, rolls, &mut record.faults).await;

    let handler_fault = response.extensions().get::<AppliedFault>().copied();
    record.faults.extend(handler_fault);
    let dropped = handler_fault == Some(AppliedFault::SaveDrop);
    record.status = (!dropped).then(|| response.status().as_u16());
    tracing::debug!(
        method = record.method,
        path = record.path,
        status = ?record.status,
        faults = ?record.faults,
        "sandbox request"
    );
    app.store.record(record);
    (!dropped).then_some(response)
}

/// Applies the faults drawn for this request, in order: latency, rate
/// limit, body cap, hang; then hands the request to its handler.
async fn answer(
    app: &App,
    request: Request,
    next: Next,
    rolls: super::faults::Rolls,
    faults: &mut Vec<AppliedFault>,
) -> Response {
    let settings = &app.faults.settings;
    if !settings.latency.is_zero() {
        faults.push(AppliedFault::Latency);
        app.pause(settings.latency).await;
    }
    if let (true, Some(limit)) = (rolls.rate_limited, settings.rate_limit) {
        faults.push(AppliedFault::RateLimited);
        return too_many_requests(limit.retry_after_secs);
    }

    let is_login = request.uri().path() == LOGIN_PATH;
    let mut request = match buffer_body(request).await {
        Ok(request) => request,
        Err(response) => return response,
    };
    if rolls.hang && !is_login {
        faults.push(AppliedFault::Hang);
        app.pause(settings.hang_for).await;
    }
    request.extensions_mut().insert(rolls);
    next.run(request).await
}

fn too_many_requests(retry_after_secs: u64) -> Response {
    let mut response =
        ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too many requests").into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    response
}

/// Reads a body of at most [`JSON_BODY_LIMIT`] bytes into memory, so that
/// it survives the client going away during a hang. The upload is left
/// alone: it is streamed by its handler, with no limit.
async fn buffer_body(request: Request) -> Result<Request, Response> {
    if request.uri().path() == UPLOAD_PATH {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::bad_request("could not read the request body").into_response()
        })?;
        seen = seen.saturating_add(chunk.len());
        if seen > DRAIN_LIMIT {
            break;
        }
        if seen <= JSON_BODY_LIMIT {
            bytes.extend_from_slice(&chunk);
        }
    }
    if seen > JSON_BODY_LIMIT {
        let message = format!("body larger than {JSON_BODY_LIMIT} bytes");
        return Err(ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message).into_response());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// What is recorded before the answer is known.
fn record_of(request: &Request) -> RecordedRequest {
    let headers = request.headers();
    let query = request.uri().query().unwrap_or("");
    RecordedRequest {
        method: request.method().to_string(),
        path: request.uri().path().to_string(),
        query: url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect(),
        content_type: headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string),
        sent_bearer: bearer_token(headers).is_some(),
        sent_cookie: cookie_token(headers).is_some(),
        status: None,
        faults: Vec::new(),
    }
}
