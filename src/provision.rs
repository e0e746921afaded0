//! The provisioning engine: plan against the users the dashboard already
//! has, then send every remaining row exactly once.
//!
//! "Exactly once" rests on two facts. The dashboard refuses a second user
//! with the same email, and we never resend a row whose first attempt may
//! have been carried out without first looking its email up. So a retry can
//! at worst meet a refusal, which the lookup then turns into "created".
//!
//! The engine prints nothing: it yields one [`RowResult`] per row as rows
//! finish, and the caller reports them.

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures::{Stream, StreamExt};
use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::dashboard::{ApiError, Dashboard, ListQuery};
use crate::limit::Limit;
use crate::payload::SaveUser;
use crate::roster::RowSummary;
use crate::secret::Secret;

/// Rows in flight unless `--concurrency` says otherwise: kind to a
/// production dashboard, and already 4x the vendor's script.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Attempts after the first, for failures that may pass.
pub const DEFAULT_RETRIES: u32 = 5;
/// The first backoff; each retry doubles it, and a random half of it is
/// taken off so that rows that failed together do not retry together.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// No single wait is longer, whatever the dashboard's `Retry-After`.
const BACKOFF_CAP: Duration = Duration::from_secs(30);
/// Lookups of an unknown outcome are tried again this many times.
const LOOKUP_RETRIES: u32 = 3;

/// One row to send.
///
/// NOTE: a large run holds every job at once, so a job keeps only what it
/// sends; its [`RowSummary`] is derived from the payload when reported.
#[derive(Clone, Debug)]
pub struct Job {
    pub row: usize,
    pub line: u64,
    pub payload: SaveUser,
}

impl Job {
    /// Whose row this is, for reports.
    pub fn summary(&self) -> RowSummary {
        RowSummary {
            email: self.payload.email.clone(),
            name: self.payload.name.clone(),
            surname: self.payload.surname.clone(),
            role: self.payload.role.to_string(),
        }
    }
}

/// How a row ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The dashboard created the user (possibly found after an unknown
    /// outcome).
    Created { id: u64 },
    /// A user with this email was already on the dashboard.
    Exists { id: u64 },
    /// The dashboard refused the row, or it could not be sent.
    Failed {
        /// The status, or a word such as `timeout`.
        error: String,
        status: Option<u16>,
        message: Option<String>,
    },
    /// The row broke the file's rules (only with `--skip-invalid`).
    Invalid { message: String },
    /// Never sent: the run stopped first.
    NotSent { reason: String },
}

impl Outcome {
    /// The word used in the results file and JSON output.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Created { .. } => "created",
            Outcome::Exists { .. } => "exists",
            Outcome::Failed { .. } => "failed",
            Outcome::Invalid { .. } => "invalid",
            Outcome::NotSent { .. } => "not_sent",
        }
    }

    fn failed(error: &ApiError) -> Outcome {
        Outcome::Failed {
            error: error.short(),
            status: error.status(),
            message: error.message().map(str::to_string).or_else(|| match error {
                ApiError::Status { .. } => None,
                other => Some(other.to_string()),
            }),
        }
    }
}

/// The final word on one row.
#[derive(Clone, Debug)]
pub struct RowResult {
    pub row: usize,
    pub line: u64,
    pub summary: RowSummary,
    pub outcome: Outcome,
}

impl RowResult {
    /// A result for `job` without sending it.
    pub fn of(job: &Job, outcome: Outcome) -> RowResult {
        RowResult {
            row: job.row,
            line: job.line,
            summary: job.summary(),
            outcome,
        }
    }
}

/// How hard to push.
#[derive(Clone, Debug)]
pub struct Settings {
    pub concurrency: NonZeroUsize,
    pub retries: u32,
}

/// The admin's login, kept to log in again once if the token expires.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub email: String,
    pub password: Secret,
}

/// The users the dashboard has, by lower-case email.
///
/// Failures that may pass (timeouts, lost connections, 429, 502, 503,
/// 504) are tried again up to `retries` times, with the same backoff as a
/// save: a run must not end on its first request for what a save would
/// have survived. Each request made is counted in `requests`.
pub async fn existing_users(
    dashboard: &Dashboard,
    retries: u32,
    requests: &AtomicU64,
) -> Result<HashMap<String, u64>, ApiError> {
    let mut attempt = 0;
    loop {
        requests.fetch_add(1, Ordering::Relaxed);
        let error = match dashboard.list_users(&ListQuery::all()).await {
            Ok(page) => {
                return Ok(page
                    .users
                    .into_iter()
                    .map(|user| (user.email.to_lowercase(), user.id))
                    .collect());
            }
            Err(error) => error,
        };
        if !error.is_transient() || attempt >= retries {
            return Err(error);
        }
        tracing::debug!(attempt, %error, "listing the users failed; trying again");
        tokio::time::sleep(backoff(attempt, error.retry_after())).await;
        attempt += 1;
    }
}

/// Splits jobs into rows that already exist (with their IDs) and rows to
/// send.
pub fn plan(jobs: Vec<Job>, existing: &HashMap<String, u64>) -> (Vec<RowResult>, Vec<Job>) {
    let (known, new): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|job| existing.contains_key(&job.payload.email.to_lowercase()));
    let known = known
        .iter()
        .map(|job| {
            let id = existing[&job.payload.email.to_lowercase()];
            RowResult::of(job, Outcome::Exists { id })
        })
        .collect();
    (known, new)
}

/// The engine's state shared by every row in flight.
#[derive(Debug)]
pub struct Engine {
    dashboard: Arc<Dashboard>,
    settings: Settings,
    limit: Limit,
    stop: CancellationToken,
    credentials: Option<Credentials>,
    relogin: tokio::sync::Mutex<Relogin>,
    token_generation: AtomicU64,
    auth_rejected: AtomicBool,
    requests: AtomicU64,
}

#[derive(Debug, Default)]
struct Relogin {
    used: bool,
}

impl Engine {
    /// An engine for `dashboard`; cancelling `stop` stops new rows.
    pub fn new(
        dashboard: Arc<Dashboard>,
        settings: Settings,
        credentials: Option<Credentials>,
        stop: CancellationToken,
    ) -> Arc<Engine> {
        Arc::new(Engine {
            limit: Limit::new(settings.concurrency.get()),
            dashboard,
            settings,
            stop,
            credentials,
            relogin: tokio::sync::Mutex::new(Relogin::default()),
            token_generation: AtomicU64::new(0),
            auth_rejected: AtomicBool::new(false),
            requests: AtomicU64::new(0),
        })
    }

    /// Whether the dashboard rejected our token (exit code 3).
    pub fn auth_rejected(&self) -> bool {
        self.auth_rejected.load(Ordering::SeqCst)
    }

    /// HTTP requests made so far.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends every job, yielding results as rows finish.
    ///
    /// NOTE: this is the only concurrent step of a run. `buffer_unordered`
    /// bounds the rows in progress; the [`Limit`] inside bounds requests on
    /// the wire and shrinks on 429. Rows not started when `stop` is
    /// cancelled come out as [`Outcome::NotSent`].
    pub fn run(self: &Arc<Engine>, jobs: Arc<[Job]>) -> impl Stream<Item = RowResult> + use<> {
        let engine = Arc::clone(self);
        let width = self.settings.concurrency.get();
        futures::stream::iter(0..jobs.len())
            .map(move |index| {
                let engine = Arc::clone(&engine);
                let jobs = Arc::clone(&jobs);
                async move { engine.process(&jobs[index]).await }
            })
            .buffer_unordered(width)
    }

    async fn process(&self, job: &Job) -> RowResult {
        let permit = tokio::select! {
            biased;
            () = self.stop.cancelled() => return RowResult::of(job, self.not_sent()),
            permit = self.limit.acquire() => permit,
        };
        let outcome = self.send(job).await;
        drop(permit);
        RowResult::of(job, outcome)
    }

    fn not_sent(&self) -> Outcome {
        let reason = if self.auth_rejected() {
            "the dashboard rejected the token"
        } else {
            "the run was interrupted before this row was sent"
        };
        Outcome::NotSent {
            reason: reason.into(),
        }
    }

    /// One row, with retries, lookups of unknown outcomes and one re-login.
    async fn send(&self, job: &Job) -> Outcome {
        let mut attempt = 0;
        loop {
            let generation = self.token_generation.load(Ordering::SeqCst);
            self.requests.fetch_add(1, Ordering::Relaxed);
            let error = match self.dashboard.save_user(&job.payload).await {
                Ok(id) => {
                    self.limit.went_well();
                    return Outcome::Created { id };
                }
                Err(error) => error,
            };
            tracing::debug!(row = job.row, attempt, %error, "save failed");
            if error.is_auth() {
                if self.log_in_again(generation).await {
                    continue;
                }
                return self.reject_auth(&error);
            }
            if error.status() == Some(429) {
                self.limit.slow_down();
            }
            if error.outcome_unknown() {
                match self.look_up(&job.payload.email).await {
                    Ok(Some(id)) => return Outcome::Created { id },
                    Ok(None) => {}
                    Err(lookup) => return unknown_outcome(&error, &lookup),
                }
            }
            if !error.is_transient() || attempt >= self.settings.retries {
                if error.is_transient() {
                    tracing::warn!(row = job.row, %error, "giving up after {} attempts", attempt + 1);
                }
                return Outcome::failed(&error);
            }
            tokio::time::sleep(backoff(attempt, error.retry_after())).await;
            attempt += 1;
        }
    }

    /// Logs in again once per run, if we have the credentials and nobody
    /// else already did since `generation`. True when the save may be
    /// tried again.
    async fn log_in_again(&self, generation: u64) -> bool {
        let Some(credentials) = &self.credentials else {
            return false;
        };
        let mut relogin = self.relogin.lock().await;
        if self.token_generation.load(Ordering::SeqCst) != generation {
            return true;
        }
        if relogin.used {
            return false;
        }
        relogin.used = true;
        tracing::info!("the token was rejected; logging in again");
        self.requests.fetch_add(1, Ordering::Relaxed);
        match self
            .dashboard
            .login(&credentials.email, &credentials.password)
            .await
        {
            Ok(token) => {
                self.dashboard.set_token(token);
                self.token_generation.fetch_add(1, Ordering::SeqCst);
                true
            }
            Err(error) => {
                tracing::error!(%error, "logging in again failed");
                false
            }
        }
    }

    fn reject_auth(&self, error: &ApiError) -> Outcome {
        if !self.auth_rejected.swap(true, Ordering::SeqCst) {
            tracing::error!("the dashboard rejected the token; no new rows will be sent");
        }
        self.stop.cancel();
        Outcome::failed(error)
    }

    /// Whether a user with `email` exists now, and its ID.
    async fn look_up(&self, email: &str) -> Result<Option<u64>, ApiError> {
        let users = existing_users(&self.dashboard, LOOKUP_RETRIES, &self.requests).await?;
        Ok(users.get(&email.to_lowercase()).copied())
    }
}

/// A row whose save may or may not have happened, and whose lookup failed
/// too: a rerun settles it, since it skips users that exist.
fn unknown_outcome(save: &ApiError, lookup: &ApiError) -> Outcome {
    Outcome::Failed {
        error: save.short(),
        status: save.status(),
        message: Some(format!(
            "the user may have been created, and looking it up failed too ({lookup}); \
             rerun the same file to settle it"
        )),
    }
}

/// How long to wait before retry number `attempt + 1`: the dashboard's
/// `Retry-After` if it gave one, otherwise exponential with jitter.
pub fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(BACKOFF_CAP);
    }
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_honours_retry_after() {
        assert!(backoff(0, None) <= BACKOFF_BASE);
        assert!(backoff(3, None) >= BACKOFF_BASE * 4);
        assert!(backoff(30, None) <= BACKOFF_CAP);
        assert_eq!(
            backoff(0, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(backoff(0, Some(Duration::from_secs(3600))), BACKOFF_CAP);
    }
}
