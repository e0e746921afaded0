//! From `--dashboard` and the token options to a ready [`Dashboard`].
//!
//! The token comes from, in order: `--token`, `--token-file`,
//! `SOFTPHONE_TOKEN`; otherwise `--email` logs in with the password from
//! `SOFTPHONE_PASSWORD` or a prompt that does not echo.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};

use crate::cli::{ConnectionArgs, SiteArgs};
use crate::dashboard::{ApiError, ClientOptions, Dashboard, resolve_address};
use crate::provision::Credentials;
use crate::secret::Secret;

/// The environment variable holding the token.
pub const TOKEN_ENV: &str = "SOFTPHONE_TOKEN";
/// The environment variable holding the administrator's password.
pub const PASSWORD_ENV: &str = "SOFTPHONE_PASSWORD";

/// A client with a token, and the login to renew it when we have one.
#[derive(Debug)]
pub struct Connected {
    pub dashboard: Arc<Dashboard>,
    pub credentials: Option<Credentials>,
}

/// The client options the flags ask for.
pub fn client_options(args: &SiteArgs) -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(args.timeout.max(1)),
        insecure: args.insecure,
        allow_http: args.allow_http,
    }
}

/// Whether the flags name a dashboard at all.
pub fn has_dashboard(args: &ConnectionArgs) -> bool {
    args.site
        .dashboard
        .as_deref()
        .is_some_and(|d| !d.trim().is_empty())
}

/// A client without a token yet, for `login`.
pub fn dashboard_without_token(args: &SiteArgs) -> anyhow::Result<Dashboard> {
    let Some(address) = args.dashboard.as_deref() else {
        bail!(
            "no dashboard given: pass --dashboard TENANT (or a full address), or set SOFTPHONE_DASHBOARD"
        );
    };
    let base = resolve_address(address)?;
    Ok(Dashboard::new(
        base,
        Secret::default(),
        &client_options(args),
    )?)
}

/// Resolves the dashboard and a token, logging in if that is how the
/// token is to be had.
pub async fn connect(args: &ConnectionArgs) -> anyhow::Result<Connected> {
    let dashboard = dashboard_without_token(&args.site)?;
    if let Some(token) = given_token(args)? {
        dashboard.set_token(token);
        return Ok(Connected {
            dashboard: Arc::new(dashboard),
            credentials: None,
        });
    }
    let Some(email) = args.site.email.clone() else {
        bail!(
            "no token given: set {TOKEN_ENV}, pass --token-file PATH, or pass --email to log in \
             (get a token with `provision login`)"
        );
    };
    let password = password(&email)?;
    let token = log_in(&dashboard, &email, &password).await?;
    dashboard.set_token(token);
    tracing::info!(email, "logged in");
    Ok(Connected {
        dashboard: Arc::new(dashboard),
        credentials: Some(Credentials { email, password }),
    })
}

/// The dashboard refused the email and password (401 or 403 to the login).
#[derive(Debug, thiserror::Error)]
#[error("the dashboard refused the login of {email}: check the email and the password")]
pub struct LoginRejected {
    pub email: String,
    #[source]
    pub source: ApiError,
}

/// Logs in, telling a refused login ([`LoginRejected`]) apart from a
/// dashboard that could not be reached or answered oddly.
pub async fn log_in(
    dashboard: &Dashboard,
    email: &str,
    password: &Secret,
) -> anyhow::Result<Secret> {
    match dashboard.login(email, password).await {
        Ok(token) => Ok(token),
        Err(source) if source.is_auth() => Err(LoginRejected {
            email: email.to_string(),
            source,
        }
        .into()),
        Err(source) => Err(anyhow::Error::new(source)
            .context(format!("logging in to {} as {email}", dashboard.base()))),
    }
}

fn given_token(args: &ConnectionArgs) -> anyhow::Result<Option<Secret>> {
    if let Some(token) = &args.token {
        return non_empty(token, "--token").map(Some);
    }
    if let Some(path) = &args.token_file {
        return read_token_file(path).map(Some);
    }
    match std::env::var(TOKEN_ENV) {
        Ok(token) if !token.trim().is_empty() => non_empty(&token, TOKEN_ENV).map(Some),
        _ => Ok(None),
    }
}

fn non_empty(token: &str, source: &str) -> anyhow::Result<Secret> {
    let token = token.trim();
    if token.is_empty() {
        bail!("the token from {source} is empty");
    }
    Ok(Secret::new(token))
}

/// Reads a token file; only its first line counts.
pub fn read_token_file(path: &Path) -> anyhow::Result<Secret> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read the token file {}", path.display()))?;
    let first = text.lines().next().unwrap_or_default();
    non_empty(first, &path.display().to_string())
}

/// The administrator's password: from the environment, else asked for on
/// the terminal without echo.
pub fn password(email: &str) -> anyhow::Result<Secret> {
    if let Ok(password) = std::env::var(PASSWORD_ENV) {
        return Ok(Secret::new(password));
    }
    if !std::io::stdin().is_terminal() {
        bail!(
            "no password for {email}: set {PASSWORD_ENV}, or run in a terminal to be asked for it"
        );
    }
    let password = rpassword::prompt_password(format!("Password for {email}: "))
        .context("failed to read the password from the terminal")?;
    Ok(Secret::new(password))
}
