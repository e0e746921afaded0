//! Moving large bodies: a queue_log streamed up from disk, a report
//! streamed down to a file that appears only once complete.
//!
//! Neither is ever held in memory as a whole: the upload reads the file in
//! [`CHUNK_BYTES`] pieces as the connection takes them, the download writes
//! each piece as it arrives. A big file on a slow line may take far longer
//! than `--timeout`, so both stop when nothing has moved for that long
//! rather than after a fixed total time. A progress bar shows on stderr
//! only when a person is watching it; this module prints nothing else.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::io::AsyncReadExt;
use tokio::time::Instant;
use tokio_util::io::ReaderStream;

use crate::dashboard::{ApiError, Dashboard};
use crate::output::PendingFile;

/// How much of a file is read at a time for an upload.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Transfers smaller than this get no progress bar: they end before it
/// would be worth drawing.
const PROGRESS_MIN_BYTES: u64 = 1024 * 1024;

/// What went wrong moving a file.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The file to upload could not be opened or is not a regular file.
    #[error("cannot read {}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The dashboard failed, or the connection did.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The download could not be written where it was asked for.
    #[error("cannot write {target}")]
    Write {
        target: String,
        #[source]
        source: io::Error,
    },
}

impl TransferError {
    /// As an `anyhow` error in which a dashboard failure is still an
    /// [`ApiError`] (`#[error(transparent)]` hides it from the cause
    /// chain), so the exit code and the hint follow the documented table:
    /// a transfer cut short is the dashboard's failure (1), not bad input.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            TransferError::Api(api) => anyhow::Error::new(api),
            other => anyhow::Error::new(other),
        }
    }
}

/// The first bytes of every `.xlsx` file (a ZIP archive).
pub const XLSX_MAGIC: &[u8] = b"PK\x03\x04";

/// When bytes last moved, for a timeout that only fires when a transfer
/// stalls. Shared between the body stream (which touches it) and the
/// request (which waits for a stall).
#[derive(Debug)]
pub struct Activity {
    started: Instant,
    /// Milliseconds from `started` to the last movement.
    last: AtomicU64,
}

impl Activity {
    /// Counts as moving now.
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            started: Instant::now(),
            last: AtomicU64::new(0),
        })
    }

    /// Records that bytes moved just now.
    pub fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.fetch_max(now, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(last)
    }

    /// Resolves once nothing has moved for `limit`.
    pub async fn stalled(&self, limit: Duration) {
        loop {
            let idle = self.idle();
            if idle >= limit {
                return;
            }
            tokio::time::sleep(limit - idle).await;
        }
    }
}

/// A byte progress bar on stderr for a transfer of `total` bytes (unknown
/// if `None`), or a hidden one when stderr is not a terminal or the file
/// is small.
pub fn progress_bar(total: Option<u64>, what: &str) -> ProgressBar {
    let small = total.is_some_and(|total| total < PROGRESS_MIN_BYTES);
    if small || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr()),
            "{msg} {bar:30} {bytes}/{total_bytes}, {bytes_per_sec}, {eta} left",
        ),
        None => (
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            "{msg} {spinner} {bytes}, {bytes_per_sec}",
        ),
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(what.to_string());
    bar
}

/// A file opened for upload. Its length is fixed when it is opened: lines
/// that Asterisk appends meanwhile are left for the next upload, so the
/// declared length and the bytes sent always agree.
#[derive(Debug)]
pub struct UploadFile {
    file: tokio::fs::File,
    length: u64,
    name: String,
    path: PathBuf,
}

impl UploadFile {
    /// Opens `path`; fails if it is missing, unreadable or not a file.
    pub async fn open(path: &Path) -> Result<UploadFile, TransferError> {
        let open_error = |source| TransferError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = tokio::fs::File::open(path).await.map_err(open_error)?;
        let metadata = file.metadata().await.map_err(open_error)?;
        if !metadata.is_file() {
            return Err(open_error(io::Error::other("not a regular file")));
        }
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "queue_log".into());
        Ok(UploadFile {
            file,
            length: metadata.len(),
            name,
            path: path.to_path_buf(),
        })
    }

    /// The number of bytes that will be sent.
    pub fn length(&self) -> u64 {
        self.length
    }

    /// The multipart part that streams the file, touching `activity` and
    /// advancing `bar` as each chunk is taken by the connection.
    pub fn into_part(self, activity: Arc<Activity>, bar: ProgressBar) -> reqwest::multipart::Part {
        let length = self.length;
        let sent = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&sent);
        let chunks = ReaderStream::with_capacity(self.file.take(length), CHUNK_BYTES).inspect_ok(
            move |chunk| {
                activity.touch();
                bar.inc(chunk.len() as u64);
                counted.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            },
        );
        // A file cut short meanwhile (log rotation) would end the body
        // early: say so, rather than let the server see a truncated form.
        let path = self.path;
        let check = futures::stream::once(async move {
            let sent = sent.load(Ordering::Relaxed);
            if sent < length {
                Some(Err(io::Error::other(format!(
                    "{} shrank from {length} to {sent} bytes while it was uploaded",
                    path.display()
                ))))
            } else {
                None
            }
        })
        .filter_map(std::future::ready);
        let body = reqwest::Body::wrap_stream(chunks.chain(check));
        reqwest::multipart::Part::stream_with_length(body, length)
            .file_name(self.name)
            .mime_str("application/octet-stream")
            .expect("a constant, valid MIME type")
    }
}

/// Where a download goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Standard output (`-o -`).
    Stdout,
    /// A file, replaced only once the download is complete.
    File(PathBuf),
}

impl Target {
    /// The target as messages name it.
    pub fn label(&self) -> String {
        match self {
            Target::Stdout => "standard output".into(),
            Target::File(path) => path.display().to_string(),
        }
    }
}

/// Streams the body of a checked `response` to `target`: the bytes
/// written. A file is written under a temporary name beside its final
/// place and renamed only once complete, so a failed download leaves
/// nothing behind. Stdout gets the bytes as they come, so a failure there
/// leaves what came so far. With `magic`, a body that does not start with
/// those bytes (an error page or message that came with a success status)
/// is refused before anything is written.
pub async fn save(
    dashboard: &Dashboard,
    response: reqwest::Response,
    target: &Target,
    what: &str,
    magic: Option<&[u8]>,
) -> Result<u64, TransferError> {
    let bar = progress_bar(response.content_length(), what);
    let write_error = |source| TransferError::Write {
        target: target.label(),
        source,
    };
    let written = match target {
        Target::Stdout => {
            let sink = (&mut io::stdout() as &mut (dyn Write + Send), target);
            pump(dashboard, response, sink, (what, magic), &bar).await?
        }
        Target::File(path) => {
            let pending = PendingFile::create(path).map_err(write_error)?;
            let sink = (&mut pending.file() as &mut (dyn Write + Send), target);
            let written = pump(dashboard, response, sink, (what, magic), &bar).await?;
            pending.commit().map_err(write_error)?;
            written
        }
    };
    bar.finish_and_clear();
    Ok(written)
}

/// Copies the body into `sink` chunk by chunk; each chunk must come within
/// the timeout of the one before. With a `magic`, the first bytes are
/// held back until they can be checked against it.
///
/// NOTE: the writes block the runtime thread for the time one chunk takes
/// to reach the OS, which is short next to the network wait; tokio's own
/// async stdout would need another tokio feature for no gain here.
async fn pump(
    dashboard: &Dashboard,
    response: reqwest::Response,
    (sink, target): (&mut (dyn Write + Send), &Target),
    (what, magic): (&str, Option<&[u8]>),
    bar: &ProgressBar,
) -> Result<u64, TransferError> {
    let write_error = |source| TransferError::Write {
        target: target.label(),
        source,
    };
    let limit = dashboard.timeout();
    let mut stream = response.bytes_stream();
    let mut written = 0u64;
    // The start of the body while it is too short to check.
    let mut held: Option<Vec<u8>> = magic.map(|_| Vec::new());
    loop {
        let next = tokio::time::timeout(limit, stream.next())
            .await
            .map_err(|_| ApiError::Timeout(limit))?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|error| dashboard.classify(error))?;
        bar.inc(chunk.len() as u64);
        let bytes = match (&mut held, magic) {
            (Some(start), Some(magic)) => {
                start.extend_from_slice(&chunk);
                if start.len() < magic.len() {
                    continue;
                }
                check_magic(start, magic, what)?;
                held.take().unwrap_or_default()
            }
            _ => chunk.to_vec(),
        };
        sink.write_all(&bytes).map_err(write_error)?;
        written += bytes.len() as u64;
    }
    if let (Some(start), Some(magic)) = (&held, magic) {
        // The whole body was shorter than the magic.
        check_magic(start, magic, what)?;
    }
    sink.flush().map_err(write_error)?;
    Ok(written)
}

/// Refuses a body that does not start with `magic`, quoting its start.
fn check_magic(start: &[u8], magic: &[u8], what: &str) -> Result<(), ApiError> {
    if start.starts_with(magic) {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&start[..start.len().min(512)]);
    Err(ApiError::Unexpected(format!(
        "the {what} that came is not an .xlsx workbook: {}",
        crate::dashboard::snippet(&text)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wait for a stall counts from the last movement, not from the
    /// start (the sleep is the scenario, a transfer that moved late).
    #[tokio::test]
    async fn a_stall_is_idle_time_not_total_time() {
        let activity = Activity::new();
        let limit = Duration::from_millis(300);
        tokio::time::sleep(Duration::from_millis(200)).await;
        activity.touch();
        let touched = Instant::now();
        activity.stalled(limit).await;
        assert!(touched.elapsed() >= Duration::from_millis(290));
        assert!(activity.idle() >= limit);
    }
}
