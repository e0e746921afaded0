//! A simulated Softphone.Pro Team Dashboard, for `provision sandbox`,
//! `provision demo` and the tests.
//!
//! It serves every endpoint of the vendor's API page over real HTTP on
//! loopback, with the rules in `shared/reference/api-notes.md`, and it is a
//! strict witness rather than a stub: it checks methods, headers, auth and
//! bodies, records every request it answers, and refuses what a careless
//! client might get away with elsewhere (unknown query parameters, unknown
//! JSON fields, a lower-case role). It shares no types with the client, so a
//! mistake in the client's wire format cannot be mirrored here.
//!
//! It can inject faults (latency, save errors, answers lost after a save,
//! hangs, a rate limit), each drawn from a seeded generator so a run can be
//! repeated; see [`Faults`]. It does not model teams, user states, logins of
//! agents, or the real content of reports.

mod args;
mod asterisk;
mod faults;
mod gate;
mod http;
mod options;
mod persist;
mod reports;
mod server;
mod store;
mod users;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::secret::Secret;

pub use args::SandboxArgs;
pub use asterisk::UPLOAD_FIELD;
pub use gate::JSON_BODY_LIMIT;
pub use options::{
    DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, DEFAULT_HANG_FOR, DEFAULT_RETRY_AFTER_SECS,
    DEFAULT_SAVE_ERROR_STATUS, DEFAULT_SEED, Faults, RateLimit, SandboxOptions,
};
pub use reports::XLSX_CONTENT_TYPE;
pub use server::SHUTDOWN_GRACE;
pub use store::{ADMIN_ID, AppliedFault, RecordedRequest, StoredUser, Upload};
pub use users::{MAX_FIELD_CHARS, MIN_PASSWORD_CHARS, ROLES};

/// The login endpoint, the one that takes no token and never hangs.
const LOGIN_PATH: &str = "/login/api/auth";

/// The upload endpoint, the one whose body is streamed, not capped.
const UPLOAD_PATH: &str = "/api/reports/asterisk/upload";

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The listening address is taken or not ours.
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The state file could not be read, parsed or written.
    #[error("state file {}", path.display())]
    State {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An option is out of range.
    #[error("invalid sandbox option: {0}")]
    InvalidOption(String),
}

/// What every handler shares.
type App = Arc<Shared>;

#[derive(Debug)]
struct Shared {
    store: store::Store,
    faults: faults::FaultEngine,
    admin_email: String,
    admin_password: Secret,
    state_file: Option<PathBuf>,
    /// Cancelled on shutdown: stops accepting, cuts hangs and latency short.
    shutdown: CancellationToken,
    /// Every connection and request task, so shutdown can wait for them.
    tracker: TaskTracker,
    panicked: AtomicBool,
    /// Serializes state-file writes so the last write holds the last state.
    persist_lock: tokio::sync::Mutex<()>,
}

impl Shared {
    /// Waits `duration`, or less if the sandbox is shutting down.
    async fn pause(&self, duration: Duration) {
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            () = self.shutdown.cancelled() => {}
        }
    }

    /// Writes the users to the state file, if there is one. A failure is
    /// logged, not answered: the change itself did happen.
    async fn persist(&self) {
        let Some(path) = self.state_file.clone() else {
            return;
        };
        let _writing = self.persist_lock.lock().await;
        let table = store::lock(&self.store.users).clone();
        let written = tokio::task::spawn_blocking(move || persist::save(&path, &table)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::error!(error = %anyhow::Error::from(err), "sandbox state not saved")
            }
            Err(err) => tracing::error!(%err, "sandbox state not saved"),
        }
    }
}

/// A running sandbox. Dropping it stops the server abruptly; prefer
/// [`Sandbox::shutdown`].
#[derive(Debug)]
pub struct Sandbox {
    app: App,
    url: url::Url,
    admin_token: Secret,
    server: Option<JoinHandle<()>>,
}

/// Binds `options.listen`, loads the state file if any, spawns the server
/// and returns at once. Needs a tokio runtime with the time and I/O drivers.
pub async fn start(options: SandboxOptions) -> Result<Sandbox, SandboxError> {
    options.faults.validate()?;
    let users = match &options.state_file {
        Some(path) => persist::load(path)?,
        None => store::UserTable::new(),
    };
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
        addr: options.listen,
        source,
    })?;

    let app: App = Arc::new(Shared {
        store: store::Store::new(users, options.seed),
        faults: faults::FaultEngine::new(options.faults, options.seed),
        admin_email: options.admin_email,
        admin_password: options.admin_password,
        state_file: options.state_file,
        shutdown: CancellationToken::new(),
        tracker: TaskTracker::new(),
        panicked: AtomicBool::new(false),
        persist_lock: tokio::sync::Mutex::new(()),
    });
    let admin_token = app.store.issue_token();
    let server = tokio::spawn(server::accept_loop(
        listener,
        router(app.clone()),
        app.clone(),
    ));
    let url = url::Url::parse(&format!("http://{addr}/")).expect("a socket address makes a URL");
    tracing::debug!(%url, "sandbox dashboard started");
    Ok(Sandbox {
        app,
        url,
        admin_token,
        server: Some(server),
    })
}

/// Every endpoint of the API page, behind the gate; anything else is 404.
fn router(app: App) -> Router {
    Router::new()
        .route(LOGIN_PATH, post(users::login))
        .route("/api/settings/users/save", post(users::save))
        .route("/api/settings/users/delete", post(users::delete))
        .route("/api/settings/users", get(users::list))
        .route("/api/reports/agents/worktime/raw", get(reports::status_log))
        .route("/api/history/calls/export", get(reports::call_log))
        .route(
            UPLOAD_PATH,
            post(asterisk::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/reports/asterisk/clear", post(asterisk::clear))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            gate::gate,
        ))
        .with_state(app)
}

async fn not_found() -> http::ApiError {
    http::ApiError::new(axum::http::StatusCode::NOT_FOUND, "not found")
}

async fn method_not_allowed(method: axum::http::Method) -> http::ApiError {
    http::ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} not allowed here"),
    )
}

impl Sandbox {
    /// The base URL, `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> url::Url {
        self.url.clone()
    }

    /// A token issued at start; invalid after [`Sandbox::revoke_tokens`].
    pub fn admin_token(&self) -> Secret {
        self.admin_token.clone()
    }

    /// The created users (not the administrator), by ID.
    pub fn users(&self) -> Vec<StoredUser> {
        store::lock(&self.app.store.users)
            .users
            .values()
            .cloned()
            .collect()
    }

    /// Every request answered (or dropped) so far, in the order finished.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.app.store.requests()
    }

    /// Resolves once at least `count` requests have been recorded: the way
    /// to wait for a request whose client already gave up (a hang).
    pub async fn wait_for_requests(&self, count: usize) {
        self.app.store.wait_for_requests(count).await;
    }

    /// Uploads since start or since the last clear.
    pub fn uploads(&self) -> Vec<Upload> {
        store::lock(&self.app.store.uploads).clone()
    }

    /// IDs that delete requests named but that did not exist.
    pub fn ignored_deletes(&self) -> Vec<u64> {
        store::lock(&self.app.store.ignored_deletes).clone()
    }

    /// Whether any handler panicked (answered 500 instead).
    pub fn panicked(&self) -> bool {
        self.app.panicked.load(Ordering::SeqCst)
    }

    /// Invalidates every token, [`Sandbox::admin_token`] included, as if
    /// they had expired; logging in again gives a fresh one.
    pub fn revoke_tokens(&self) {
        self.app.store.revoke_tokens();
    }

    /// Stops accepting, lets open requests finish (hangs are cut short),
    /// closes connections after [`SHUTDOWN_GRACE`] at most, then writes the
    /// state file if there is one.
    pub async fn shutdown(mut self) {
        self.app.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
        self.app.tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE * 2, self.app.tracker.wait())
            .await
            .is_err()
        {
            tracing::warn!("sandbox tasks still running after shutdown grace");
        }
        self.app.persist().await;
        tracing::debug!("sandbox dashboard stopped");
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.app.shutdown.cancel();
    }
}

/// Runs a sandbox for `provision sandbox`: prints its URL, the admin login,
/// password and a token to stdout, then serves until Ctrl-C (or SIGTERM on
/// Unix) and shuts down gracefully.
pub async fn serve_until_signal(options: SandboxOptions) -> anyhow::Result<()> {
    let login = options.admin_email.clone();
    let password = options.admin_password.clone();
    let sandbox = start(options).await?;
    println!("Sandbox dashboard listening on {}", sandbox.url());
    println!("Admin login: {login}");
    println!("Admin password: {}", password.expose());
    println!("Token: {}", sandbox.admin_token().expose());
    eprintln!(
        "Serving until Ctrl-C or SIGTERM. Request bodies over {} MiB are answered 413 \
         (queue_log uploads are streamed, with no limit).",
        JSON_BODY_LIMIT / (1024 * 1024)
    );

    wait_for_signal().await?;
    eprintln!("Shutting down the sandbox dashboard");
    sandbox.shutdown().await;
    Ok(())
}

#[cfg(unix)]
async fn wait_for_signal() -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result?,
        _ = terminate.recv() => {}
    }
    Ok(())
}

#[cfg(not(unix))]
async fn wait_for_signal() -> anyhow::Result<()> {
    tokio::signal::ctrl_c().await?;
    Ok(())
}
