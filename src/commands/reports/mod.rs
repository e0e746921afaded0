//! `provision reports status-log|call-log`: download a report of a time
//! range to a file (or stdout).
//!
//! What the two share lives here: reading `--from`/`--to`, choosing the
//! destination, and saving the download so that a failed one leaves no
//! partial file.

pub mod call_log;
pub mod status_log;

use std::path::Path;

use anyhow::{Context, bail};

use crate::cli::RangeArgs;
use crate::dashboard::Dashboard;
use crate::dates::{self, When};
use crate::exit::Exit;
use crate::transfer::{self, Target};

/// `--from` and `--to` as typed, checked to be dates.
fn range(args: &RangeArgs) -> anyhow::Result<(When, When)> {
    let from = dates::parse(&args.from).context("--from")?;
    let to = dates::parse(&args.to).context("--to")?;
    Ok((from, to))
}

/// Refuses an empty or reversed range before anything is sent.
fn ordered<T: PartialOrd>(from: &T, to: &T) -> anyhow::Result<()> {
    if from < to {
        Ok(())
    } else {
        bail!(
            "--from must be before --to; --to is not included, so use the next day for a whole day"
        )
    }
}

/// `-o -` is stdout, `-o FILE` that file, nothing `default_name` here.
fn target(output: Option<&Path>, default_name: String) -> Target {
    match output {
        Some(path) if path == Path::new("-") => Target::Stdout,
        Some(path) => Target::File(path.to_path_buf()),
        None => Target::File(default_name.into()),
    }
}

/// Saves a checked download and says where it went (on stderr: stdout may
/// be the report itself). With `magic`, the body must start with it.
async fn save(
    dashboard: &Dashboard,
    response: reqwest::Response,
    target: &Target,
    (what, magic): (&str, Option<&[u8]>),
) -> anyhow::Result<Exit> {
    let bytes = transfer::save(dashboard, response, target, what, magic)
        .await
        .map_err(transfer::TransferError::into_anyhow)
        .with_context(|| format!("downloading the {what}"))?;
    if let Target::File(path) = target {
        eprintln!("Saved the {what} to {} ({bytes} bytes)", path.display());
    }
    Ok(Exit::Success)
}
