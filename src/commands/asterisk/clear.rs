//! `provision asterisk clear`: remove all uploaded Asterisk data, after
//! asking (or with `--yes`).

use anyhow::{Context, bail};

use crate::cli::ClearArgs;
use crate::commands::confirm;
use crate::connect;
use crate::exit::Exit;

/// Asks, then clears.
pub async fn run(args: &ClearArgs) -> anyhow::Result<Exit> {
    confirm::require_terminal_or_yes(args.yes, "clear the Asterisk data")?;
    let connected = connect::connect(&args.connection).await?;
    let base = connected.dashboard.base().clone();
    let question = format!("Remove all uploaded Asterisk data from {base}?");
    if !args.yes && !confirm::ask(&question)? {
        bail!("not confirmed: nothing was cleared");
    }
    connected
        .dashboard
        .clear_asterisk()
        .await
        .context("clearing the Asterisk data")?;
    println!("Cleared all uploaded Asterisk data from {base}");
    Ok(Exit::Success)
}
