//! Exit codes, and which one an error means.

use reqwest::StatusCode;

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

    /// What the user can do about an error, if we know. An answer the
    /// dashboard gave for a reason of its own (a 400 with its message)
    /// gets none: the message says it, and the network is not to blame.
    pub fn hint(error: &anyhow::Error) -> Option<&'static str> {
        if error.chain().any(|cause| cause.is::<LoginRejected>()) {
            return Some(
                "the password comes from --password-stdin, SOFTPHONE_PASSWORD or the prompt, \
                 in that order: an old SOFTPHONE_PASSWORD wins over the prompt",
            );
        }
        let api = error
            .chain()
            .find_map(|cause| cause.downcast_ref::<ApiError>())?;
        match api {
            _ if api.is_auth() => Some(
                "the token may have expired or been revoked: get a new one with \
                 `provision login --dashboard D --email E --save-token FILE`, or pass \
                 --email to log in for this run",
            ),
            ApiError::Connect(_) | ApiError::Timeout(_) | ApiError::Lost(_) => Some(
                "check the --dashboard address and your network, then try again; a \
                 provisioning rerun skips users that already exist",
            ),
            ApiError::Status { status, .. } if *status == StatusCode::NOT_FOUND => Some(
                "check the --dashboard address: a tenant name such as `company`, or the \
                 Team Dashboard's own address",
            ),
            ApiError::Status { status, .. } if status.is_server_error() => Some(
                "the dashboard failed on its side; try again later, and ask its \
                 administrator if it keeps failing",
            ),
            ApiError::Status { .. } | ApiError::Unexpected(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;
    use std::time::Duration;

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

    #[test]
    fn only_network_failures_get_the_network_hint() {
        let hint = |api: ApiError| Exit::hint(&anyhow::Error::new(api).context("deleting"));
        let network = hint(ApiError::Connect("refused".into())).unwrap();
        assert!(network.starts_with("check the --dashboard address and your network"));
        assert_eq!(
            hint(ApiError::Timeout(Duration::from_secs(1))),
            Some(network)
        );
        assert_eq!(hint(ApiError::Lost("reset".into())), Some(network));

        let refused = ApiError::Status {
            status: StatusCode::BAD_REQUEST,
            message: "administrator cannot be deleted".into(),
            retry_after: None,
        };
        assert_eq!(hint(refused), None);
        assert_eq!(hint(ApiError::Unexpected("a web page".into())), None);
        assert!(
            hint(status(404))
                .unwrap()
                .contains("--dashboard address: a tenant")
        );
        assert!(
            hint(status(503))
                .unwrap()
                .starts_with("the dashboard failed on its side")
        );
        assert!(hint(status(401)).unwrap().contains("provision login"));
        assert_eq!(Exit::hint(&anyhow::anyhow!("bad file")), None);
    }
}
