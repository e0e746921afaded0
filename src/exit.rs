//! Exit codes, and which one an error means.

use crate::connect::LoginRejected;
use crate::dashboard::ApiError;

/// The documented exit codes (README, `--help`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every row created or already there; or the command did its job.
    Success = 0,
    /// Some rows failed at the dashboard, or the dashboard could not be
    /// reached or gave an answer we could not use.
    RowsFailed = 1,
    /// Invalid input or usage; nothing was sent.
    Invalid = 2,
    /// The dashboard rejected the token or the login.
    Auth = 3,
    /// Stopped by Ctrl-C (or SIGTERM).
    Interrupted = 130,
}

impl Exit {
    /// The code the process ends with.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The exit code an error means: auth failures 3, other failures of
    /// the dashboard 1, everything else (input, usage, files) 2.
    pub fn for_error(error: &anyhow::Error) -> Exit {
        let api = error
            .chain()
            .find_map(|cause| cause.downcast_ref::<ApiError>());
        match api {
            Some(api) if api.is_auth() => Exit::Auth,
            Some(_) => Exit::RowsFailed,
            None => Exit::Invalid,
        }
    }

    /// What the user can do about an error, if we know.
    pub fn hint(error: &anyhow::Error) -> Option<&'static str> {
        if error.chain().any(|cause| cause.is::<LoginRejected>()) {
            return Some(
                "the password comes from --password-stdin, SOFTPHONE_PASSWORD or the prompt, \
                 in that order: an old SOFTPHONE_PASSWORD wins over the prompt",
            );
        }
        match Exit::for_error(error) {
            Exit::Auth => Some(
                "the token may have expired or been revoked: get a new one with \
                 `provision login --dashboard D --email E --save-token FILE`, or pass \
                 --email to log in for this run",
            ),
            Exit::RowsFailed => Some(
                "check the --dashboard address and your network, then try again; a \
                 provisioning rerun skips users that already exist",
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;
    use reqwest::StatusCode;

    fn status(code: u16) -> ApiError {
        ApiError::Status {
            status: StatusCode::from_u16(code).unwrap(),
            message: String::new(),
            retry_after: None,
        }
    }

    #[test]
    fn errors_map_to_the_documented_codes() {
        let auth = Err::<(), _>(status(401))
            .context("listing users")
            .unwrap_err();
        assert_eq!(Exit::for_error(&auth), Exit::Auth);
        let down = anyhow::Error::new(ApiError::Connect("refused".into()));
        assert_eq!(Exit::for_error(&down), Exit::RowsFailed);
        assert_eq!(Exit::for_error(&anyhow::anyhow!("bad file")), Exit::Invalid);
    }
}
