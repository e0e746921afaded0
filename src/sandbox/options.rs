//! How a sandbox is set up: where it listens, who the administrator is, where
//! its users are kept between runs, and which faults it injects.
//!
//! The defaults here are shared by [`super::SandboxArgs`] (the CLI flags) and
//! the in-process API, so the two cannot drift apart.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::secret::Secret;

use super::SandboxError;

/// The administrator's login when none is given.
pub const DEFAULT_ADMIN_EMAIL: &str = "admin@sandbox.test";

/// The administrator's password when none is given. It is printed on start
/// and written here on purpose: the sandbox holds no real data.
pub const DEFAULT_ADMIN_PASSWORD: &str = "sandbox-admin";

/// The status of a save answered by the `save_error_rate` fault.
pub const DEFAULT_SAVE_ERROR_STATUS: u16 = 503;

/// How long a request hit by the `hang_rate` fault waits when no
/// `hang_for` is given: longer than any sensible client timeout.
pub const DEFAULT_HANG_FOR: Duration = Duration::from_secs(30);

/// The `Retry-After` value sent with a 429 when none is given.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

/// The seed of the fault and token generators when none is given.
pub const DEFAULT_SEED: u64 = 0;

/// Everything [`super::start`] needs.
#[derive(Debug, Clone)]
pub struct SandboxOptions {
    /// Where to listen; port 0 picks a free port. Default `127.0.0.1:0`.
    pub listen: SocketAddr,
    /// The only account that can log in (user ID 1, role ADMIN).
    pub admin_email: String,
    /// That account's password.
    pub admin_password: Secret,
    /// Keeps users (and the next ID) across restarts: loaded at start if the
    /// file exists, rewritten atomically after every change and on shutdown.
    /// Holds passwords in plain text: it is test data.
    pub state_file: Option<PathBuf>,
    /// The failures to inject; none by default.
    pub faults: Faults,
    /// Seeds the fault draws and the tokens, so a run can be repeated.
    pub seed: u64,
}

impl Default for SandboxOptions {
    fn default() -> SandboxOptions {
        SandboxOptions {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            admin_email: DEFAULT_ADMIN_EMAIL.to_string(),
            admin_password: Secret::new(DEFAULT_ADMIN_PASSWORD),
            state_file: None,
            faults: Faults::default(),
            seed: DEFAULT_SEED,
        }
    }
}

/// Failures the sandbox injects. Each rate is a probability from 0.0 (never)
/// to 1.0 (always), drawn per request in arrival order from one generator
/// seeded by [`SandboxOptions::seed`].
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// A fixed delay before every answer, including error answers.
    pub latency: Duration,
    /// The share of authenticated saves answered with `save_error_status`
    /// before the payload is even validated: nothing is stored.
    pub save_error_rate: f64,
    /// The status those saves get. Default 503.
    pub save_error_status: u16,
    /// The share of authenticated saves that are processed normally (stored
    /// if valid) and whose connection is then closed with no answer at all.
    pub save_drop_rate: f64,
    /// The share of requests (any endpoint but login) that wait `hang_for`
    /// and are then processed normally, even if the client has given up: a
    /// hung save that was valid is stored late.
    pub hang_rate: f64,
    /// How long a hung request waits. Default 30 s.
    pub hang_for: Duration,
    /// Answers 429 to requests beyond a per-second budget.
    pub rate_limit: Option<RateLimit>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            latency: Duration::ZERO,
            save_error_rate: 0.0,
            save_error_status: DEFAULT_SAVE_ERROR_STATUS,
            save_drop_rate: 0.0,
            hang_rate: 0.0,
            hang_for: DEFAULT_HANG_FOR,
            rate_limit: None,
        }
    }
}

/// A fixed-window rate limit: each window lasts one second from its first
/// request; every request beyond `per_second` in it, login included, is
/// answered 429 with `Retry-After: retry_after_secs`. Rejected requests
/// count towards the window too, as they would on a real proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window; at least 1.
    pub per_second: u32,
    /// The `Retry-After` header value of a 429, in seconds.
    pub retry_after_secs: u64,
}

impl Faults {
    /// Rejects rates outside 0.0..=1.0, a non-error `save_error_status` and a
    /// zero rate limit, so a typo cannot silently switch a fault off.
    pub(crate) fn validate(&self) -> Result<(), SandboxError> {
        let rates = [
            ("save_error_rate", self.save_error_rate),
            ("save_drop_rate", self.save_drop_rate),
            ("hang_rate", self.hang_rate),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SandboxError::InvalidOption(format!(
                    "{name} must be between 0 and 1, got {rate}"
                )));
            }
        }
        if !(400..=599).contains(&self.save_error_status) {
            return Err(SandboxError::InvalidOption(format!(
                "save_error_status must be 400 to 599, got {}",
                self.save_error_status
            )));
        }
        if self.rate_limit.is_some_and(|limit| limit.per_second == 0) {
            return Err(SandboxError::InvalidOption(
                "rate limit must allow at least 1 request per second".to_string(),
            ));
        }
        Ok(())
    }
}
