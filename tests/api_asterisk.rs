//! `provision asterisk upload` and `provision asterisk clear`.

use sha2::{Digest, Sha256};

use provision::sandbox::Faults;

use crate::util::*;

const UPLOAD: &str = "/api/reports/asterisk/upload";
const CLEAR: &str = "/api/reports/asterisk/clear";

/// Writes a queue_log of `calls` calls (five lines each, one ENTERQUEUE),
/// a few MB for a few ten thousand calls; its SHA-256 in hex.
fn write_queue_log(path: &std::path::Path, calls: u64) -> String {
    let mut text = String::new();
    for n in 0..calls {
        let t = 1_700_000_000 + n;
        text.push_str(&format!(
            "{t}|{t}.{n}|support|NONE|ENTERQUEUE||1555{n:07}|1\n"
        ));
        text.push_str(&format!(
            "{t}|{t}.{n}|support|SIP/10{}|RINGNOANSWER|1000\n",
            n % 10
        ));
        text.push_str(&format!(
            "{t}|{t}.{n}|support|SIP/20{}|CONNECT|5|{t}.{n}|3\n",
            n % 10
        ));
        text.push_str(&format!(
            "{t}|{t}.{n}|support|SIP/20{}|COMPLETECALLER|5|42|1\n",
            n % 10
        ));
        text.push_str(&format!("{t}|NONE|NONE|NONE|QUEUESTART|\n"));
    }
    std::fs::write(path, &text).unwrap();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The file arrives byte for byte (same SHA-256) in the `logs` field, and
/// the count the dashboard answers is printed.
#[tokio::test(flavor = "multi_thread")]
async fn upload_streams_the_file_intact() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue_log");
    let sha256 = write_queue_log(&path, 30_000);
    let size = std::fs::metadata(&path).unwrap().len();
    let token = sandbox.admin_token();

    let run = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["asterisk", "upload", path.to_str().unwrap()],
    )
    .await;

    assert_eq!(run.code, 0, "{run:?}");
    let uploads = sandbox.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].sha256, sha256);
    assert_eq!(uploads[0].bytes, size);
    assert_eq!(uploads[0].calls, 30_000);
    assert_eq!(uploads[0].file_name.as_deref(), Some("queue_log"));
    assert_eq!(
        run.stdout,
        format!(
            "30000 calls uploaded from {} ({size} bytes)\n",
            path.display()
        )
    );
    let recorded = &requests_to(&sandbox, UPLOAD)[0];
    assert!(recorded.sent_bearer);
    assert!(
        recorded
            .content_type
            .as_deref()
            .unwrap()
            .starts_with("multipart/form-data")
    );
}

/// A missing file: exit 2 with what to do, and nothing sent.
#[tokio::test(flavor = "multi_thread")]
async fn upload_of_a_missing_file_exits_2() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();

    let run = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["asterisk", "upload", "no-such-log"],
    )
    .await;

    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("cannot read no-such-log"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("provision asterisk upload PATH"),
        "{}",
        run.stderr
    );
    assert!(sandbox.requests().is_empty());
}

/// A refused token: exit 3, nothing stored.
#[tokio::test(flavor = "multi_thread")]
async fn upload_with_a_wrong_token_exits_3() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("queue_log");
    write_queue_log(&path, 10);

    let run = provision_in(
        &sandbox,
        dir.path(),
        "wrong",
        &["asterisk", "upload", "queue_log"],
    )
    .await;

    assert_eq!(run.code, 3, "{run:?}");
    assert!(sandbox.uploads().is_empty());
}

/// `clear` refuses without a terminal or --yes (nothing sent); with --yes
/// the dashboard forgets every upload.
#[tokio::test(flavor = "multi_thread")]
async fn clear_asks_first_then_forgets_uploads() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    write_queue_log(&dir.path().join("queue_log"), 5);
    let token = sandbox.admin_token();
    let upload = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["asterisk", "upload", "queue_log"],
    )
    .await;
    assert_eq!(upload.code, 0, "{upload:?}");

    let refused = provision_in(&sandbox, dir.path(), token.expose(), &["asterisk", "clear"]).await;
    assert_eq!(refused.code, 2, "{refused:?}");
    assert!(refused.stderr.contains("pass --yes"), "{}", refused.stderr);
    assert!(requests_to(&sandbox, CLEAR).is_empty());
    assert_eq!(sandbox.uploads().len(), 1);

    let cleared = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["asterisk", "clear", "--yes"],
    )
    .await;
    assert_eq!(cleared.code, 0, "{cleared:?}");
    assert!(
        cleared
            .stdout
            .starts_with("Cleared all uploaded Asterisk data from http://127.0.0.1:")
    );
    assert!(sandbox.uploads().is_empty());
    assert!(requests_to(&sandbox, CLEAR)[0].sent_bearer);
}

/// Nothing listening: exit 1 with a connection error, and no advice to
/// clear a partial upload, since nothing reached any dashboard.
#[tokio::test(flavor = "multi_thread")]
async fn upload_to_nothing_listening_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    write_queue_log(&dir.path().join("queue_log"), 3);
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = command(&["asterisk", "upload", "queue_log"]);
    command
        .current_dir(dir.path())
        .env("SOFTPHONE_DASHBOARD", format!("http://127.0.0.1:{port}"))
        .env("SOFTPHONE_TOKEN", "a-token");

    let run = run(command).await;

    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("uploading queue_log: could not connect to the dashboard"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("asterisk clear"), "{}", run.stderr);
}
