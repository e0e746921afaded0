//! Accepting and serving connections.
//!
//! `axum::serve` gives a handler no way to close its connection, and the
//! drop fault needs exactly that. So each connection is served here with
//! hyper-util's HTTP/1 + HTTP/2 builder, and gets a [`ConnectionHandle`]
//! (in every request's extensions) that, when triggered, makes this task
//! drop the connection: the client sees EOF or a reset, never an answer.
//!
//! NOTE: on an HTTP/2 connection a drop ends every stream on it, not just
//! the one request; clients reaching `http://` use HTTP/1.1 unless told to
//! use prior knowledge, so this is acceptable for a simulator.

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use super::App;
use super::gate::ConnectionHandle;

/// How long open connections get to finish their requests on shutdown
/// before they are closed anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Accepts connections until `app.shutdown` is cancelled.
pub async fn accept_loop(listener: TcpListener, router: Router, app: App) {
    loop {
        let accepted = tokio::select! {
            biased;
            () = app.shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _peer)) => {
                let task = serve_connection(stream, router.clone(), app.shutdown.clone());
                app.tracker.spawn(task);
            }
            Err(err) => {
                // Out of file descriptors and the like: back off briefly
                // instead of spinning on the error.
                tracing::warn!(%err, "sandbox could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves one connection until it ends, a handler asks to drop it, or the
/// sandbox shuts down (then gracefully, within [`SHUTDOWN_GRACE`]).
async fn serve_connection(stream: TcpStream, router: Router, shutdown: CancellationToken) {
    let handle = ConnectionHandle::default();
    let service = {
        let handle = handle.clone();
        hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(handle.clone());
            router.clone().oneshot(request)
        })
    };
    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(connection);

    // WARNING: `biased` makes a drop win over a response that became ready
    // in the same poll; the gate triggers the drop before it would answer.
    tokio::select! {
        biased;
        () = handle.dropped() => return,
        result = connection.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(%err, "sandbox connection ended with an error");
            }
            return;
        }
        () = shutdown.cancelled() => {}
    }
    connection.as_mut().graceful_shutdown();
    tokio::select! {
        biased;
        () = handle.dropped() => {}
        _ = connection.as_mut() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
}
