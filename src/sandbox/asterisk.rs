//! The Asterisk endpoints: upload a queue_log, clear what was uploaded.
//!
//! Uploads are streamed: each chunk is hashed and scanned as it arrives, and
//! only a few bytes of the current line are ever kept, so a 200 MB log (or
//! one with no line breaks at all) costs constant memory.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use sha2::{Digest, Sha256};

use super::App;
use super::http::{ApiError, BearerAuth};
use super::store::{Upload, lock};

/// The multipart field that carries the file, as in the vendor's curl.
pub const UPLOAD_FIELD: &str = "logs";

/// The queue_log event that starts a call: `timestamp|callid|queue|agent|ENTERQUEUE|...`.
const CALL_EVENT: &[u8] = b"ENTERQUEUE";

/// The (0-based) field of a queue_log line that holds the event name.
const EVENT_FIELD: usize = 4;

/// `POST /api/reports/asterisk/upload`: answers the number of calls found.
pub async fn upload(
    State(app): State<App>,
    _auth: BearerAuth,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<String, ApiError> {
    let mut multipart = multipart.map_err(|_| {
        ApiError::bad_request(format!(
            "expected a multipart/form-data body with the queue_log in the field `{UPLOAD_FIELD}`"
        ))
    })?;
    let mut upload = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some(UPLOAD_FIELD) {
            // Other parts are read and thrown away.
            while field.chunk().await.map_err(multipart_error)?.is_some() {}
            continue;
        }
        if upload.is_some() {
            return Err(ApiError::bad_request("more than one `logs` part"));
        }
        let file_name = field.file_name().map(str::to_string);
        let mut hasher = Sha256::new();
        let mut counter = CallCounter::default();
        let mut bytes = 0u64;
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            hasher.update(&chunk);
            counter.feed(&chunk);
            bytes += chunk.len() as u64;
        }
        upload = Some(Upload {
            file_name,
            bytes,
            sha256: hex(&hasher.finalize()),
            calls: counter.finish(),
        });
    }

    let upload = upload.ok_or_else(|| ApiError::bad_request("missing file field `logs`"))?;
    let calls = upload.calls;
    tracing::debug!(bytes = upload.bytes, calls, "queue_log uploaded");
    lock(&app.store.uploads).push(upload);
    Ok(calls.to_string())
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::new(
        err.status(),
        format!("invalid multipart body: {}", err.body_text()),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// `POST /api/reports/asterisk/clear`: forgets every upload.
pub async fn clear(State(app): State<App>, _auth: BearerAuth) -> StatusCode {
    lock(&app.store.uploads).clear();
    StatusCode::OK
}

/// Counts queue_log lines whose event field is `ENTERQUEUE`, fed in chunks
/// that may split a line (or the event name) anywhere.
#[derive(Debug, Default)]
struct CallCounter {
    /// The field of the current line being read.
    field: usize,
    /// The event field read so far, or `None` once it is longer than any
    /// event we look for.
    event: Option<Vec<u8>>,
    calls: u64,
}

impl CallCounter {
    fn feed(&mut self, chunk: &[u8]) {
        for &byte in chunk {
            match byte {
                b'\n' => self.end_line(),
                b'|' => {
                    if self.field == EVENT_FIELD {
                        self.end_event();
                    }
                    self.field += 1;
                }
                // A CRLF line ending is not part of the event name.
                b'\r' => {}
                _ if self.field == EVENT_FIELD => self.push_event(byte),
                _ => {}
            }
        }
    }

    fn push_event(&mut self, byte: u8) {
        let event = self.event.get_or_insert_with(Vec::new);
        if event.len() < CALL_EVENT.len() + 1 {
            event.push(byte);
        }
    }

    fn end_event(&mut self) {
        if self.event.as_deref() == Some(CALL_EVENT) {
            self.calls += 1;
        }
        self.event = None;
    }

    fn end_line(&mut self) {
        if self.field == EVENT_FIELD {
            self.end_event();
        }
        self.field = 0;
        self.event = None;
    }

    /// The count, including a last line without a line break.
    fn finish(mut self) -> u64 {
        self.end_line();
        self.calls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "1366720340|1366720340.303267|MYQUEUE|SIP/8007|RINGNOANSWER|1000\n\
        1366720340|1366720340.303268|MYQUEUE|NONE|ENTERQUEUE||15551234567|1\r\n\
        1366720341|1366720341.1|MYQUEUE|NONE|ENTERQUEUEX||1|1\n\
        1366720342|NONE|NONE|NONE|QUEUESTART|\n\
        1366720343|1366720343.2|MYQUEUE|NONE|ENTERQUEUE\n\
        1366720344|1366720344.3|MYQUEUE|NONE|ENTERQUEUE||2|1";

    #[test]
    fn counts_enterqueue_events_only() {
        let mut counter = CallCounter::default();
        counter.feed(LOG.as_bytes());
        assert_eq!(counter.finish(), 3);
    }

    #[test]
    fn counts_the_same_whatever_the_chunking() {
        for size in 1..=17 {
            let mut counter = CallCounter::default();
            LOG.as_bytes()
                .chunks(size)
                .for_each(|chunk| counter.feed(chunk));
            assert_eq!(counter.finish(), 3, "chunks of {size}");
        }
    }

    #[test]
    fn an_event_in_another_field_does_not_count() {
        let mut counter = CallCounter::default();
        counter.feed(b"ENTERQUEUE|a|b|c|d\n1|2|3|4|5|ENTERQUEUE\n");
        assert_eq!(counter.finish(), 0);
    }
}
