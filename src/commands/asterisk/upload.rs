//! `provision asterisk upload [PATH]`: stream a queue_log to the dashboard
//! and print how many calls it counted.
//!
//! The file is never read whole: memory stays flat whatever its size (see
//! `scripts/bench-upload.sh`). Only the bytes present when the upload
//! starts are sent, so Asterisk may keep writing to it meanwhile.

use std::sync::Arc;

use anyhow::{Context, bail};

use crate::cli::UploadArgs;
use crate::connect;
use crate::dashboard::ApiError;
use crate::exit::Exit;
use crate::transfer::{self, Activity, UploadFile};

/// Opens the file, connects, uploads, prints the count.
pub async fn run(args: &UploadArgs) -> anyhow::Result<Exit> {
    let path = args.path.display().to_string();
    let file = match UploadFile::open(&args.path).await {
        Ok(file) => file,
        Err(error) => bail!(
            "{:#}; name the queue_log to upload: provision asterisk upload PATH",
            anyhow::Error::from(error)
        ),
    };
    let connected = connect::connect(&args.connection).await?;

    let bytes = file.length();
    let activity = Activity::new();
    let bar = transfer::progress_bar(Some(bytes), "uploading");
    let part = file.into_part(Arc::clone(&activity), bar.clone());
    let uploaded = connected.dashboard.upload_queue_log(part, &activity).await;
    bar.finish_and_clear();

    let calls = match uploaded {
        Ok(calls) => calls,
        Err(error) => {
            // Refused or never connected: nothing reached the dashboard.
            let nothing_sent = error.is_auth() || matches!(error, ApiError::Connect(_));
            if !nothing_sent {
                eprintln!(
                    "note: if the dashboard kept part of the upload, `provision asterisk clear` \
                     removes all uploaded data before you try again"
                );
            }
            return Err(error).with_context(|| format!("uploading {path}"));
        }
    };
    println!("{calls} calls uploaded from {path} ({bytes} bytes)");
    Ok(Exit::Success)
}
