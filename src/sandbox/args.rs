//! The flags of `provision sandbox`, turned into [`SandboxOptions`].

use std::net::{Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use crate::secret::Secret;

use super::options::{
    DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, DEFAULT_HANG_FOR, DEFAULT_RETRY_AFTER_SECS,
    DEFAULT_SAVE_ERROR_STATUS, DEFAULT_SEED, Faults, RateLimit, SandboxOptions,
};

/// Runs a simulated Team Dashboard on 127.0.0.1 for trying the tool safely.
#[derive(Debug, Clone, clap::Args)]
pub struct SandboxArgs {
    /// Port to listen on, on 127.0.0.1 only. 0 picks a free port; the URL is
    /// printed either way.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub port: u16,

    /// Keep users and the next user ID in FILE (JSON, passwords in plain
    /// text): loaded at start if it exists, rewritten after every change.
    /// Without it, everything is forgotten on exit.
    #[arg(long = "state", value_name = "FILE")]
    pub state_file: Option<PathBuf>,

    /// Seed for the fault draws and the tokens; the same seed and the same
    /// order of requests give the same faults.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
    pub seed: u64,

    /// Delay every answer by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,

    /// Share of user saves (0.0 to 1.0) answered with --save-error-status
    /// before anything is stored.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub save_error_rate: f64,

    /// The status (400 to 599) of the saves hit by --save-error-rate.
    #[arg(long, value_name = "STATUS", default_value_t = DEFAULT_SAVE_ERROR_STATUS,
          value_parser = clap::value_parser!(u16).range(400..=599))]
    pub save_error_status: u16,

    /// Share of user saves (0.0 to 1.0) that are stored, after which the
    /// connection is closed without any answer.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub save_drop_rate: f64,

    /// Share of requests (0.0 to 1.0; all endpoints but login) that wait
    /// --hang-ms before being processed; a hung save is still stored, late,
    /// even if the client gave up.
    #[arg(long, value_name = "RATE", default_value_t = 0.0, value_parser = parse_rate)]
    pub hang_rate: f64,

    /// How long a request hit by --hang-rate waits, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_HANG_FOR.as_millis() as u64)]
    pub hang_ms: u64,

    /// Answer 429 to every request beyond PER_SECOND in each one-second
    /// window (login included). Default: no limit.
    #[arg(long, value_name = "PER_SECOND")]
    pub rate_limit: Option<NonZeroU32>,

    /// The Retry-After header, in seconds, sent with a 429.
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_RETRY_AFTER_SECS)]
    pub retry_after: u64,

    /// The administrator's login (the only account that can log in).
    #[arg(long, value_name = "EMAIL", default_value = DEFAULT_ADMIN_EMAIL)]
    pub admin_email: String,

    /// The administrator's password.
    #[arg(long, value_name = "PASSWORD", default_value = DEFAULT_ADMIN_PASSWORD,
          env = "PROVISION_SANDBOX_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: String,
}

impl SandboxArgs {
    /// The options these flags describe.
    pub fn options(&self) -> SandboxOptions {
        SandboxOptions {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, self.port)),
            admin_email: self.admin_email.clone(),
            admin_password: Secret::new(self.admin_password.clone()),
            state_file: self.state_file.clone(),
            faults: Faults {
                latency: Duration::from_millis(self.latency_ms),
                save_error_rate: self.save_error_rate,
                save_error_status: self.save_error_status,
                save_drop_rate: self.save_drop_rate,
                hang_rate: self.hang_rate,
                hang_for: Duration::from_millis(self.hang_ms),
                rate_limit: self.rate_limit.map(|per_second| RateLimit {
                    per_second: per_second.get(),
                    retry_after_secs: self.retry_after,
                }),
            },
            seed: self.seed,
        }
    }
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number"))?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!("{rate} is not between 0 and 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SandboxArgs,
    }

    #[test]
    fn defaults_match_the_library_defaults() {
        let options = Cli::parse_from(["sandbox"]).args.options();
        let defaults = SandboxOptions::default();
        assert_eq!(options.listen, defaults.listen);
        assert_eq!(options.admin_email, defaults.admin_email);
        assert_eq!(options.admin_password, defaults.admin_password);
        assert_eq!(options.faults, defaults.faults);
        assert_eq!(options.seed, defaults.seed);
    }

    #[test]
    fn flags_reach_the_options() {
        let cli = Cli::parse_from([
            "sandbox",
            "--port",
            "8080",
            "--save-error-rate",
            "0.25",
            "--rate-limit",
            "5",
            "--retry-after",
            "7",
            "--hang-ms",
            "150",
        ]);
        let options = cli.args.options();
        assert_eq!(options.listen.port(), 8080);
        assert_eq!(options.faults.save_error_rate, 0.25);
        assert_eq!(options.faults.hang_for, Duration::from_millis(150));
        assert_eq!(
            options.faults.rate_limit,
            Some(RateLimit {
                per_second: 5,
                retry_after_secs: 7
            })
        );
    }

    #[test]
    fn rejects_rates_outside_zero_to_one() {
        assert!(Cli::try_parse_from(["sandbox", "--hang-rate", "1.5"]).is_err());
        assert!(Cli::try_parse_from(["sandbox", "--rate-limit", "0"]).is_err());
        assert!(Cli::try_parse_from(["sandbox", "--save-error-status", "200"]).is_err());
    }
}
