//! The Team Dashboard REST client: one method per documented endpoint.
//!
//! This module knows the wire format (paths, auth forms, bodies) and how to
//! classify what went wrong, so that callers can decide between retrying,
//! looking the user up, and giving up. It does not retry by itself and
//! prints nothing; the token never leaves it except in request headers.

use std::net::IpAddr;
use std::sync::RwLock;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, NaiveDateTime};
use reqwest::StatusCode;
use reqwest::header::{self, HeaderMap, HeaderValue};
use serde::Deserialize;
use url::Url;

use crate::payload::SaveUser;
use crate::secret::Secret;
use crate::transfer::Activity;

/// How long one request may take unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The status log's times: UTC, no offset (`2019-01-01T00:00:00`).
const UTC_TIME: &str = "%Y-%m-%dT%H:%M:%S";

/// The call log's times, with an offset (`2021-10-13T00:00:00+05:00`).
const OFFSET_TIME: &str = "%Y-%m-%dT%H:%M:%S%:z";

/// The multipart field that carries the queue_log, as in the vendor's curl.
const UPLOAD_FIELD: &str = "logs";

/// The longest part of an answer's body quoted in an error message.
const SNIPPET_CHARS: usize = 120;

/// The whole-request limit of report downloads and uploads, which may take
/// far longer than `--timeout`; they stop instead when nothing moves for
/// `--timeout` (see [`Activity`]).
const TRANSFER_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);

/// Problems with the dashboard address or the client's settings, found
/// before anything is sent.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(
        "`{0}` is neither a tenant name (such as `company`) nor an address \
         (such as https://company.softphone.pro)"
    )]
    BadAddress(String),
    #[error(
        "refusing to send the token over plain http to {0}, where anyone on the \
         network could read it; use https, or pass --allow-http if you really mean it"
    )]
    PlainHttp(String),
    #[error("could not set up the HTTP client")]
    Client(#[source] reqwest::Error),
}

/// What went wrong with one request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The dashboard answered with an error status.
    #[error("the dashboard answered {status}{}", quote(.message))]
    Status {
        status: StatusCode,
        /// A short, safe snippet of the answer's body.
        message: String,
        retry_after: Option<Duration>,
    },
    /// No answer within the timeout; the request may have been processed.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The connection could not be made; nothing was sent.
    #[error("could not connect to the dashboard: {0}")]
    Connect(String),
    /// The connection broke after the request was sent; it may have been
    /// processed.
    #[error("the connection was lost: {0}")]
    Lost(String),
    /// A 2xx answer we could not understand.
    #[error("the dashboard's answer was not understood: {0}")]
    Unexpected(String),
}

fn quote(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl ApiError {
    /// 401 or 403: the token (or the login) was rejected.
    pub fn is_auth(&self) -> bool {
        matches!(self, ApiError::Status { status, .. }
            if *status == StatusCode::UNAUTHORIZED || *status == StatusCode::FORBIDDEN)
    }

    /// Whether the request may have been carried out although we got no
    /// success: a timeout, a lost connection, or any 5xx answer.
    pub fn outcome_unknown(&self) -> bool {
        match self {
            ApiError::Timeout(_) | ApiError::Lost(_) => true,
            ApiError::Status { status, .. } => status.is_server_error(),
            _ => false,
        }
    }

    /// Whether trying again later may succeed: network trouble, 429, and
    /// the gateway statuses 502, 503 and 504. A 500 is not retried.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Timeout(_) | ApiError::Lost(_) | ApiError::Connect(_) => true,
            ApiError::Status { status, .. } => matches!(status.as_u16(), 429 | 502 | 503 | 504),
            ApiError::Unexpected(_) => false,
        }
    }

    /// How long the dashboard asked us to wait (`Retry-After`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(status.as_u16()),
            _ => None,
        }
    }

    /// What the vendor's line puts after "got error": the status number,
    /// or a word for failures without one.
    pub fn short(&self) -> String {
        match self {
            ApiError::Status { status, .. } => status.as_u16().to_string(),
            ApiError::Timeout(_) => "timeout".into(),
            ApiError::Connect(_) => "connection refused".into(),
            ApiError::Lost(_) => "connection lost".into(),
            ApiError::Unexpected(_) => "unexpected answer".into(),
        }
    }

    /// The dashboard's own short message, if it gave one.
    pub fn message(&self) -> Option<&str> {
        match self {
            ApiError::Status { message, .. } if !message.is_empty() => Some(message),
            _ => None,
        }
    }
}

/// Settings for talking to one dashboard.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    pub timeout: Duration,
    /// Accept any certificate (`--insecure`).
    pub insecure: bool,
    /// Allow the token over plain http to a host that is not loopback.
    pub allow_http: bool,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            timeout: DEFAULT_TIMEOUT,
            insecure: false,
            allow_http: false,
        }
    }
}

/// Turns `--dashboard` into a base URL: a tenant name means
/// `https://TENANT.softphone.pro/`, anything with `://` is taken as given.
pub fn resolve_address(input: &str) -> Result<Url, SetupError> {
    let input = input.trim();
    let bad = || SetupError::BadAddress(input.to_string());
    let mut url = if input.contains("://") {
        Url::parse(input).map_err(|_| bad())?
    } else if !input.is_empty() && input.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Url::parse(&format!("https://{input}.softphone.pro/")).map_err(|_| bad())?
    } else {
        return Err(bad());
    };
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(bad());
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A user as the list endpoint returns it.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
pub struct User {
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub surname: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub state: serde_json::Value,
    #[serde(default)]
    pub role: serde_json::Value,
    /// Team names (the list gives names, not IDs).
    #[serde(default)]
    pub groups: Vec<serde_json::Value>,
    #[serde(default)]
    pub sfversion: Option<String>,
}

/// One answer of the list endpoint.
#[derive(Clone, Debug, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserPage {
    pub total_count: u64,
    pub users: Vec<User>,
}

/// The columns the list endpoint sorts by (the API page lost its list;
/// these are the user fields it documents).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SortColumn {
    Id,
    Name,
    Surname,
    Email,
    Role,
    State,
}

impl SortColumn {
    /// The value of `sortColumn`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortColumn::Id => "id",
            SortColumn::Name => "name",
            SortColumn::Surname => "surname",
            SortColumn::Email => "email",
            SortColumn::Role => "role",
            SortColumn::State => "state",
        }
    }
}

/// Sort direction of the list endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Direction {
    Asc,
    Desc,
}

/// Which users to list: all of them, or one page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListQuery {
    pub sort_column: Option<SortColumn>,
    pub direction: Option<Direction>,
    /// `None` asks for every user (`allUsers=true`).
    pub page: Option<Page>,
}

/// A page of the list: numbers count from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub number: u32,
    pub size: u32,
}

impl ListQuery {
    /// Every user, in the dashboard's default order.
    pub fn all() -> ListQuery {
        ListQuery {
            sort_column: None,
            direction: None,
            page: None,
        }
    }

    fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(column) = &self.sort_column {
            pairs.push(("sortColumn", column.as_str().to_string()));
        }
        if let Some(direction) = self.direction {
            let text = if direction == Direction::Asc {
                "asc"
            } else {
                "desc"
            };
            pairs.push(("sortDirection", text.to_string()));
        }
        match self.page {
            Some(page) => {
                pairs.push(("pageSize", page.size.to_string()));
                pairs.push(("pageNumber", page.number.to_string()));
                pairs.push(("allUsers", "false".into()));
            }
            None => pairs.push(("allUsers", "true".into())),
        }
        pairs
    }
}

/// The status log's file format (`format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusLogFormat {
    Csv,
    Tsv,
}

/// The call log's file format (`typeFile`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CallLogFormat {
    Csv,
    Xlsx,
}

/// The call log's language (`lang`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    En,
    Ru,
}

/// The status log of a time range, in UTC as the endpoint wants it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusLogQuery {
    pub from: NaiveDateTime,
    pub to: NaiveDateTime,
    pub format: StatusLogFormat,
}

impl StatusLogQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        let format = match self.format {
            StatusLogFormat::Csv => "csv",
            StatusLogFormat::Tsv => "tsv",
        };
        vec![
            ("from", self.from.format(UTC_TIME).to_string()),
            ("to", self.to.format(UTC_TIME).to_string()),
            ("format", format.to_string()),
        ]
    }
}

/// The call log of a time range; each end keeps its own offset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallLogQuery {
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    /// Minutes east of UTC in which the file shows times.
    pub local_offset_minutes: i32,
    /// `None` leaves the language to the dashboard (English).
    pub lang: Option<Lang>,
    pub format: CallLogFormat,
}

impl CallLogQuery {
    fn pairs(&self) -> Vec<(&'static str, String)> {
        // The `+` of an offset must reach the server as %2B: the URL
        // encoder does that; a hand-built query would send a space.
        let mut pairs = vec![
            ("dateFrom", self.from.format(OFFSET_TIME).to_string()),
            ("dateTo", self.to.format(OFFSET_TIME).to_string()),
            (
                "localTimeZoneOffset",
                format!("{:+}", self.local_offset_minutes),
            ),
        ];
        if let Some(lang) = self.lang {
            let lang = if lang == Lang::Ru { "ru" } else { "en" };
            pairs.push(("lang", lang.to_string()));
        }
        let format = match self.format {
            CallLogFormat::Csv => "csv",
            CallLogFormat::Xlsx => "xlsx",
        };
        pairs.push(("typeFile", format.to_string()));
        pairs
    }
}

/// A client for one dashboard, holding the token.
#[derive(Debug)]
pub struct Dashboard {
    base: Url,
    http: reqwest::Client,
    timeout: Duration,
    /// Replaced when the tool logs in again mid-run.
    token: RwLock<Secret>,
}

impl Dashboard {
    /// A client for `base` (see [`resolve_address`]) that will present
    /// `token`, which may be empty until [`Dashboard::login`] is called.
    pub fn new(base: Url, token: Secret, options: &ClientOptions) -> Result<Dashboard, SetupError> {
        if base.scheme() == "http" && !is_loopback(&base) && !options.allow_http {
            return Err(SetupError::PlainHttp(base.to_string()));
        }
        if options.insecure {
            tracing::warn!("--insecure: the dashboard's certificate is not checked");
        }
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .danger_accept_invalid_certs(options.insecure)
            .user_agent(concat!("provision/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(SetupError::Client)?;
        Ok(Dashboard {
            base,
            http,
            timeout: options.timeout,
            token: RwLock::new(token),
        })
    }

    /// The dashboard's base URL.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Replaces the token, after logging in again.
    pub fn set_token(&self, token: Secret) {
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = token;
    }

    fn token(&self) -> Secret {
        self.token.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The full URL of an API path such as `api/settings/users`.
    pub fn endpoint(&self, path: &str) -> Url {
        self.base
            .join(path)
            .expect("API paths are valid relative URLs")
    }

    /// Both auth forms the API page shows: the Bearer header for user and
    /// Asterisk calls, the `jwt` cookie for report downloads.
    pub fn auth_headers(&self) -> HeaderMap {
        let token = self.token();
        let mut headers = HeaderMap::new();
        let values = (
            HeaderValue::from_str(&format!("Bearer {}", token.expose())),
            HeaderValue::from_str(&format!("jwt={}", token.expose())),
        );
        if let (Ok(mut bearer), Ok(mut cookie)) = values {
            bearer.set_sensitive(true);
            cookie.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, bearer);
            headers.insert(header::COOKIE, cookie);
        }
        headers
    }

    /// The HTTP client, for the streaming endpoints built elsewhere.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// `POST /login/api/auth`: the token from the `jwt` cookie.
    pub async fn login(&self, email: &str, password: &Secret) -> Result<Secret, ApiError> {
        let url = self.endpoint("login/api/auth");
        tracing::debug!(%url, email, "logging in");
        let body = serde_json::json!({ "login": email, "password": password.expose() });
        let referer = self.endpoint("login/");
        let response = self
            .http
            .post(url)
            .header(header::ACCEPT, "application/json, text/plain, */*")
            .header(header::REFERER, referer.as_str())
            .json(&body)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let response = check_status(response).await?;
        jwt_cookie(response.headers())
            .ok_or_else(|| ApiError::Unexpected("the login answer has no `jwt` cookie".into()))
    }

    /// `POST /api/settings/users/save`: the new user's ID.
    pub async fn save_user(&self, user: &SaveUser) -> Result<u64, ApiError> {
        let url = self.endpoint("api/settings/users/save");
        tracing::trace!(%url, email = %user.email, "saving user");
        let response = self
            .http
            .post(url)
            .headers(self.auth_headers())
            .json(user)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let body = read_body(check_status(response).await?, self).await?;
        parse_id(&body).ok_or_else(|| {
            ApiError::Unexpected(format!(
                "expected the new user's ID, got {}",
                snippet(&body)
            ))
        })
    }

    /// `GET /api/settings/users`.
    pub async fn list_users(&self, query: &ListQuery) -> Result<UserPage, ApiError> {
        let mut url = self.endpoint("api/settings/users");
        url.query_pairs_mut().extend_pairs(query.pairs());
        tracing::debug!(%url, "listing users");
        let response = self
            .http
            .get(url)
            .headers(self.auth_headers())
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        let response = check_status(response).await?;
        if is_content_type(&response, "text/html") {
            return Err(ApiError::Unexpected(
                "a web page came instead of the user list; check the --dashboard address".into(),
            ));
        }
        let body = read_body(response, self).await?;
        serde_json::from_str(&body).map_err(|e| {
            ApiError::Unexpected(format!(
                "the user list is not valid ({e}): {}",
                snippet(&body)
            ))
        })
    }

    /// `POST /api/settings/users/delete` with a JSON array of IDs.
    pub async fn delete_users(&self, ids: &[u64]) -> Result<(), ApiError> {
        let url = self.endpoint("api/settings/users/delete");
        tracing::debug!(%url, count = ids.len(), "deleting users");
        let response = self
            .http
            .post(url)
            .headers(self.auth_headers())
            .json(ids)
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        check_status(response).await.map(drop)
    }

    /// `GET /api/reports/agents/worktime/raw`: the answer, checked, with its
    /// body still to be streamed (see [`crate::transfer::save`]).
    pub async fn status_log(&self, query: &StatusLogQuery) -> Result<reqwest::Response, ApiError> {
        let mut url = self.endpoint("api/reports/agents/worktime/raw");
        url.query_pairs_mut().extend_pairs(query.pairs());
        self.download(url).await
    }

    /// `GET /api/history/calls/export`: the answer, checked, with its body
    /// still to be streamed.
    pub async fn call_log(&self, query: &CallLogQuery) -> Result<reqwest::Response, ApiError> {
        let mut url = self.endpoint("api/history/calls/export");
        url.query_pairs_mut().extend_pairs(query.pairs());
        self.download(url).await
    }

    /// A GET whose headers must come within the timeout and whose body may
    /// take as long as it keeps moving. A web page instead of a file means
    /// the address leads to something else (a login page, a proxy).
    async fn download(&self, url: Url) -> Result<reqwest::Response, ApiError> {
        tracing::debug!(%url, "downloading");
        let send = self
            .http
            .get(url)
            .headers(self.auth_headers())
            .timeout(TRANSFER_LIMIT)
            .send();
        let response = tokio::time::timeout(self.timeout, send)
            .await
            .map_err(|_| ApiError::Timeout(self.timeout))?
            .map_err(|e| self.classify(e))?;
        let response = check_status(response).await?;
        if is_content_type(&response, "text/html") {
            return Err(ApiError::Unexpected(
                "a web page came instead of the report; check the --dashboard address".into(),
            ));
        }
        // A report is a CSV, TSV or workbook, never JSON: a JSON answer is
        // an error message that came with a success status.
        if is_content_type(&response, "application/json") {
            let start = read_start(response, self).await?;
            return Err(ApiError::Unexpected(format!(
                "a JSON answer came instead of the report: {}",
                snippet(&start)
            )));
        }
        Ok(response)
    }

    /// `POST /api/reports/asterisk/upload` with `logs` as the multipart field
    /// `logs`: the number of calls the dashboard counted. The request runs
    /// as long as `activity` shows the body moving, and the answer must come
    /// within the timeout after the last byte.
    pub async fn upload_queue_log(
        &self,
        logs: reqwest::multipart::Part,
        activity: &Activity,
    ) -> Result<u64, ApiError> {
        let url = self.endpoint("api/reports/asterisk/upload");
        tracing::debug!(%url, "uploading the queue_log");
        let form = reqwest::multipart::Form::new().part(UPLOAD_FIELD, logs);
        let upload = async {
            let response = self
                .http
                .post(url)
                .headers(self.auth_headers())
                .multipart(form)
                .timeout(TRANSFER_LIMIT)
                .send()
                .await
                .map_err(|e| self.classify(e))?;
            read_body(check_status(response).await?, self).await
        };
        let body = tokio::select! {
            body = upload => body?,
            () = activity.stalled(self.timeout) => return Err(ApiError::Timeout(self.timeout)),
        };
        parse_count(&body).ok_or_else(|| {
            ApiError::Unexpected(format!(
                "expected the number of calls, got {}",
                snippet(&body)
            ))
        })
    }

    /// `POST /api/reports/asterisk/clear`: removes every uploaded queue_log.
    pub async fn clear_asterisk(&self) -> Result<(), ApiError> {
        let url = self.endpoint("api/reports/asterisk/clear");
        tracing::debug!(%url, "clearing the Asterisk data");
        let response = self
            .http
            .post(url)
            .headers(self.auth_headers())
            .send()
            .await
            .map_err(|e| self.classify(e))?;
        check_status(response).await.map(drop)
    }

    /// The per-request timeout (`--timeout`).
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sorts a reqwest failure into what callers can act on.
    pub fn classify(&self, error: reqwest::Error) -> ApiError {
        let text = error_chain(&error);
        // NOTE: no answer is ever parsed by reqwest here (bodies are read
        // as text or bytes and parsed by us), so its "decode" errors are
        // bodies cut short: the connection broke while the answer came,
        // and the request may well have been carried out.
        if error.is_timeout() {
            ApiError::Timeout(self.timeout)
        } else if error.is_connect() {
            ApiError::Connect(text)
        } else {
            ApiError::Lost(text)
        }
    }
}

/// The whole cause chain on one line; reqwest's own message is terse.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Passes a success through; turns anything else into [`ApiError::Status`].
pub async fn check_status(response: reqwest::Response) -> Result<reqwest::Response, ApiError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response.text().await.unwrap_or_default();
    Err(ApiError::Status {
        status,
        message: snippet(&body),
        retry_after,
    })
}

async fn read_body(response: reqwest::Response, dashboard: &Dashboard) -> Result<String, ApiError> {
    response.text().await.map_err(|e| dashboard.classify(e))
}

/// Whether the answer says its body is of this MIME type.
fn is_content_type(response: &reqwest::Response, mime: &str) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case(mime))
}

/// The first few KiB of a body, enough for a snippet, without reading a
/// large one whole; each piece must come within the timeout.
async fn read_start(
    mut response: reqwest::Response,
    dashboard: &Dashboard,
) -> Result<String, ApiError> {
    const START_BYTES: usize = 4096;
    let mut start = Vec::new();
    while start.len() < START_BYTES {
        let next = tokio::time::timeout(dashboard.timeout, response.chunk())
            .await
            .map_err(|_| ApiError::Timeout(dashboard.timeout))?;
        match next.map_err(|e| dashboard.classify(e))? {
            Some(chunk) => start.extend_from_slice(&chunk),
            None => break,
        }
    }
    Ok(String::from_utf8_lossy(&start).into_owned())
}

/// The start of a body, on one line, safe to print: control characters
/// dropped and cut to a readable length.
pub fn snippet(body: &str) -> String {
    let flat: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > SNIPPET_CHARS {
        let cut: String = flat.chars().take(SNIPPET_CHARS).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// The new user's ID: a bare integer, or a JSON object with `id`.
fn parse_id(body: &str) -> Option<u64> {
    let body = body.trim();
    if let Ok(id) = body.parse::<u64>() {
        return Some(id);
    }
    match serde_json::from_str::<serde_json::Value>(body).ok()? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::Object(map) => {
            let id = map.get("id")?;
            id.as_u64().or_else(|| id.as_str()?.parse().ok())
        }
        _ => None,
    }
}

/// The upload's call count: a bare integer, or one as JSON (a number or a
/// string).
fn parse_count(body: &str) -> Option<u64> {
    let body = body.trim();
    if let Ok(count) = body.parse::<u64>() {
        return Some(count);
    }
    match serde_json::from_str::<serde_json::Value>(body).ok()? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// The `jwt` cookie's value among the `Set-Cookie` headers.
fn jwt_cookie(headers: &HeaderMap) -> Option<Secret> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| cookie::Cookie::parse(value).ok())
        .find(|cookie| cookie.name() == "jwt" && !cookie.value().is_empty())
        .map(|cookie| Secret::new(cookie.value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_setup_error_shows_its_cause_once() {
        let cause = reqwest::Client::new()
            .get("no-scheme")
            .build()
            .expect_err("a relative URL is refused");
        let shown = format!("{:#}", anyhow::Error::new(SetupError::Client(cause)));
        assert!(
            shown.starts_with("could not set up the HTTP client: "),
            "{shown}"
        );
        assert_eq!(shown.matches("builder error").count(), 1, "{shown}");
    }

    #[test]
    fn tenant_names_become_hosted_addresses() {
        assert_eq!(
            resolve_address("company").unwrap().as_str(),
            "https://company.softphone.pro/"
        );
        assert_eq!(
            resolve_address("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            resolve_address("https://pbx.example.com/team")
                .unwrap()
                .as_str(),
            "https://pbx.example.com/team/"
        );
        assert!(resolve_address("company.softphone.pro").is_err());
        assert!(resolve_address("ftp://x").is_err());
    }

    #[test]
    fn the_token_never_goes_over_plain_http_to_another_host() {
        let options = ClientOptions::default();
        let remote = Url::parse("http://dashboard.example.com/").unwrap();
        let error = Dashboard::new(remote.clone(), Secret::new("t"), &options).unwrap_err();
        assert!(error.to_string().contains("--allow-http"));
        let allowed = ClientOptions {
            allow_http: true,
            ..options.clone()
        };
        assert!(Dashboard::new(remote, Secret::new("t"), &allowed).is_ok());
        for local in [
            "http://127.0.0.1:9/",
            "http://localhost:9/",
            "http://[::1]:9/",
        ] {
            assert!(Dashboard::new(Url::parse(local).unwrap(), Secret::new("t"), &options).is_ok());
        }
    }

    #[test]
    fn ids_come_bare_or_in_an_object() {
        assert_eq!(parse_id("17"), Some(17));
        assert_eq!(parse_id(" 17\n"), Some(17));
        assert_eq!(parse_id(r#"{"id": 5}"#), Some(5));
        assert_eq!(parse_id(r#"{"id": "6"}"#), Some(6));
        assert_eq!(parse_id("<html>"), None);
        assert_eq!(parse_id("-3"), None);
    }

    #[test]
    fn counts_come_bare_or_as_json() {
        assert_eq!(parse_count("12\n"), Some(12));
        assert_eq!(parse_count("\"7\""), Some(7));
        assert_eq!(parse_count("0"), Some(0));
        assert_eq!(parse_count("{\"calls\": 3}"), None);
        assert_eq!(parse_count("<html>"), None);
    }

    #[test]
    fn report_queries_keep_offsets_and_signs() {
        let at = |text: &str| DateTime::parse_from_rfc3339(text).unwrap();
        let query = CallLogQuery {
            from: at("2021-10-13T00:00:00+05:00"),
            to: at("2021-10-14T00:00:00-03:30"),
            local_offset_minutes: 300,
            lang: Some(Lang::Ru),
            format: CallLogFormat::Csv,
        };
        let mut url = Url::parse("http://x/").unwrap();
        url.query_pairs_mut().extend_pairs(query.pairs());
        assert_eq!(
            url.query(),
            Some(
                "dateFrom=2021-10-13T00%3A00%3A00%2B05%3A00&dateTo=2021-10-14T00%3A00%3A00-03%3A30\
                 &localTimeZoneOffset=%2B300&lang=ru&typeFile=csv"
            )
        );
        let west = CallLogQuery {
            local_offset_minutes: -180,
            lang: None,
            ..query
        };
        assert!(
            west.pairs()
                .contains(&("localTimeZoneOffset", "-180".into()))
        );
        assert!(!west.pairs().iter().any(|(name, _)| *name == "lang"));
    }

    #[test]
    fn list_queries_page_or_take_everything() {
        let query = ListQuery {
            sort_column: Some(SortColumn::Surname),
            direction: Some(Direction::Asc),
            page: Some(Page { number: 3, size: 5 }),
        };
        assert_eq!(
            query.pairs(),
            vec![
                ("sortColumn", "surname".to_string()),
                ("sortDirection", "asc".into()),
                ("pageSize", "5".into()),
                ("pageNumber", "3".into()),
                ("allUsers", "false".into()),
            ]
        );
        assert_eq!(ListQuery::all().pairs(), vec![("allUsers", "true".into())]);
    }

    #[test]
    fn the_token_is_the_jwt_cookie() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_static("lang=en; Path=/"),
        );
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_static("jwt=abc.def+g=; Path=/; HttpOnly"),
        );
        assert_eq!(jwt_cookie(&headers).unwrap().expose(), "abc.def+g=");
    }

    #[test]
    fn snippets_are_short_and_on_one_line() {
        assert_eq!(snippet("  bad\r\n request \u{7}"), "bad request");
        let long = "x".repeat(500);
        assert_eq!(snippet(&long).chars().count(), SNIPPET_CHARS + 1);
    }

    #[test]
    fn classification_follows_the_retry_rules() {
        let status = |code: u16| ApiError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            message: String::new(),
            retry_after: None,
        };
        assert!(status(500).outcome_unknown() && !status(500).is_transient());
        assert!(status(503).outcome_unknown() && status(503).is_transient());
        assert!(status(429).is_transient() && !status(429).outcome_unknown());
        assert!(status(401).is_auth() && status(403).is_auth());
        assert!(!status(400).is_transient() && !status(400).outcome_unknown());
        assert!(ApiError::Connect("x".into()).is_transient());
        assert!(!ApiError::Connect("x".into()).outcome_unknown());
    }
}
