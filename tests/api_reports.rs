//! `provision reports status-log` and `provision reports call-log`.

use std::time::Duration;

use provision::sandbox::Faults;

use crate::util::*;

const STATUS_LOG: &str = "/api/reports/agents/worktime/raw";
const CALL_LOG: &str = "/api/history/calls/export";

/// Dates alone mean midnight UTC; the file gets a name with the dates in
/// the current folder; both auth forms are sent.
#[tokio::test(flavor = "multi_thread")]
async fn status_log_default_name_and_exact_query() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    let args = [
        "reports",
        "status-log",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-31",
    ];

    let run = provision_in(&sandbox, dir.path(), token.expose(), &args).await;

    assert_eq!(run.code, 0, "{run:?}");
    let recorded = &requests_to(&sandbox, STATUS_LOG)[0];
    let query = pairs(&[
        ("from", "2024-01-01T00:00:00"),
        ("to", "2024-01-31T00:00:00"),
        ("format", "csv"),
    ]);
    assert_eq!(recorded.query, query);
    assert!(recorded.sent_cookie && recorded.sent_bearer);
    assert_eq!(
        file_names(dir.path()),
        vec!["status-log_2024-01-01_2024-01-31.csv"]
    );
    let text =
        std::fs::read_to_string(dir.path().join("status-log_2024-01-01_2024-01-31.csv")).unwrap();
    assert!(
        text.starts_with("userId,email,name,status,start,end\n1,admin@sandbox.test,"),
        "{text}"
    );
    assert!(
        run.stderr
            .contains("Saved the status log to status-log_2024-01-01_2024-01-31.csv")
    );
}

/// `-o -` streams to stdout and writes no file; a time with an offset is
/// converted to UTC, as the endpoint wants.
#[tokio::test(flavor = "multi_thread")]
async fn status_log_to_stdout_in_utc() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    let args = [
        "reports",
        "status-log",
        "--from",
        "2024-01-01T05:00:00+05:00",
        "--to",
        "2024-01-01T08:30",
        "--format",
        "tsv",
        "-o",
        "-",
    ];

    let run = provision_in(&sandbox, dir.path(), token.expose(), &args).await;

    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .starts_with("userId\temail\tname\tstatus\tstart\tend\n"),
        "{}",
        run.stdout
    );
    let query = pairs(&[
        ("from", "2024-01-01T00:00:00"),
        ("to", "2024-01-01T08:30:00"),
        ("format", "tsv"),
    ]);
    assert_eq!(requests_to(&sandbox, STATUS_LOG)[0].query, query);
    assert!(file_names(dir.path()).is_empty());
}

/// Offsets such as `+05:00` arrive intact (a `+` sent unencoded would
/// arrive as a space and be refused); so do `+300`, `lang` and `typeFile`.
#[tokio::test(flavor = "multi_thread")]
async fn call_log_keeps_plus_offsets_intact() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    let args = [
        "reports",
        "call-log",
        "--from",
        "2021-10-13T00:00:00+05:00",
        "--to",
        "2021-10-14T00:00:00+05:00",
        "--format",
        "csv",
        "--lang",
        "ru",
        "-o",
        "calls.csv",
    ];

    let run = provision_in(&sandbox, dir.path(), token.expose(), &args).await;

    assert_eq!(run.code, 0, "{run:?}");
    let query = pairs(&[
        ("dateFrom", "2021-10-13T00:00:00+05:00"),
        ("dateTo", "2021-10-14T00:00:00+05:00"),
        ("localTimeZoneOffset", "+300"),
        ("lang", "ru"),
        ("typeFile", "csv"),
    ]);
    assert_eq!(requests_to(&sandbox, CALL_LOG)[0].query, query);
    let text = std::fs::read_to_string(dir.path().join("calls.csv")).unwrap();
    assert!(text.starts_with("Дата,Направление"), "{text}");
    // Shown in +05:00: the first call falls after local midnight.
    assert!(
        text.lines().nth(1).unwrap().starts_with("2021-10-13 "),
        "{text}"
    );
}

/// `--tz-offset -180` applies to dates typed without an offset and to the
/// file; the default format is xlsx, under a name with the dates.
#[tokio::test(flavor = "multi_thread")]
async fn call_log_tz_offset_applies_to_bare_dates() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    let args = [
        "reports",
        "call-log",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-02T12:00",
        "--tz-offset",
        "-180",
    ];

    let run = provision_in(&sandbox, dir.path(), token.expose(), &args).await;

    assert_eq!(run.code, 0, "{run:?}");
    let query = pairs(&[
        ("dateFrom", "2024-01-01T00:00:00-03:00"),
        ("dateTo", "2024-01-02T12:00:00-03:00"),
        ("localTimeZoneOffset", "-180"),
        ("typeFile", "xlsx"),
    ]);
    let recorded = &requests_to(&sandbox, CALL_LOG)[0];
    assert_eq!(recorded.query, query);
    assert!(recorded.sent_cookie);
    let name = "call-log_2024-01-01_2024-01-02T1200.xlsx";
    assert_eq!(file_names(dir.path()), vec![name]);
    let bytes = std::fs::read(dir.path().join(name)).unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");
}

/// Without offsets or --tz-offset everything is UTC.
#[tokio::test(flavor = "multi_thread")]
async fn call_log_defaults_to_utc() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    let args = [
        "reports",
        "call-log",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-02",
        "-o",
        "-",
        "--format",
        "csv",
    ];

    let run = provision_in(&sandbox, dir.path(), token.expose(), &args).await;

    assert_eq!(run.code, 0, "{run:?}");
    let query = pairs(&[
        ("dateFrom", "2024-01-01T00:00:00+00:00"),
        ("dateTo", "2024-01-02T00:00:00+00:00"),
        ("localTimeZoneOffset", "+0"),
        ("typeFile", "csv"),
    ]);
    assert_eq!(requests_to(&sandbox, CALL_LOG)[0].query, query);
    assert!(run.stdout.starts_with("Date,Direction"));
}

/// A reversed range, a bad date or a bad offset: exit 2, nothing sent.
#[tokio::test(flavor = "multi_thread")]
async fn bad_ranges_exit_2_before_sending() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "reports",
                "status-log",
                "--from",
                "2024-02-01",
                "--to",
                "2024-01-01",
            ],
            "--from must be before --to",
        ),
        (
            &[
                "reports",
                "status-log",
                "--from",
                "2024-01-01",
                "--to",
                "2024-01-01",
            ],
            "--from must be before --to",
        ),
        (
            &[
                "reports",
                "call-log",
                "--from",
                "01.01.2024",
                "--to",
                "2024-01-02",
            ],
            "--from: `01.01.2024` is not a date",
        ),
        (
            &[
                "reports",
                "call-log",
                "--from",
                "2024-01-01",
                "--to",
                "2024-01-02",
                "--tz-offset",
                "+5h",
            ],
            "--tz-offset: `+5h` is not a time-zone offset",
        ),
    ];
    for (args, message) in cases {
        let run = provision_in(&sandbox, dir.path(), token.expose(), args).await;
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    }
    assert!(sandbox.requests().is_empty());
    assert!(file_names(dir.path()).is_empty());
}

/// A refused token (exit 3) or a dashboard that stops answering (exit 1)
/// leaves no file, partial or whole, and an older file untouched.
#[tokio::test(flavor = "multi_thread")]
async fn failed_downloads_leave_no_file() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.csv"), "keep me").unwrap();
    let args = [
        "reports",
        "status-log",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-02",
        "-o",
        "old.csv",
    ];
    let refused = provision_in(&sandbox, dir.path(), "revoked", &args).await;
    assert_eq!(refused.code, 3, "{refused:?}");

    let hanging = sandbox_with(Faults {
        hang_rate: 1.0,
        hang_for: Duration::from_secs(20),
        ..Faults::default()
    })
    .await;
    let token = hanging.admin_token();
    let mut timed = args.to_vec();
    timed.extend(["--timeout", "1"]);
    let stalled = provision_in(&hanging, dir.path(), token.expose(), &timed).await;
    assert_eq!(stalled.code, 1, "{stalled:?}");
    assert!(
        stalled.stderr.contains("no answer within 1s"),
        "{}",
        stalled.stderr
    );

    assert_eq!(file_names(dir.path()), vec!["old.csv"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("old.csv")).unwrap(),
        "keep me"
    );
    hanging.shutdown().await;
}

/// A one-shot HTTP server on loopback that answers every connection with
/// `answer` (raw bytes: status line, headers, body) and then closes it, as
/// a broken proxy or dashboard might; its address.
async fn raw_server(answer: Vec<u8>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 8192];
                let _ = stream.read(&mut request).await;
                let _ = stream.write_all(&answer).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    address
}

/// `provision reports ARGS` against `dashboard` in `dir`, with a token.
async fn report_from(dashboard: &str, dir: &std::path::Path, args: &[&str]) -> Run {
    let mut command = command(args);
    command
        .current_dir(dir)
        .env("SOFTPHONE_DASHBOARD", dashboard)
        .env("SOFTPHONE_TOKEN", "a-token");
    run(command).await
}

/// A body that breaks off before its declared length is the dashboard's
/// failure (exit 1, with the hint), not bad input, and leaves no file.
#[tokio::test(flavor = "multi_thread")]
async fn a_download_cut_short_exits_1_and_leaves_no_file() {
    let mut answer =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/csv\r\ncontent-length: 1000000\r\n\r\n".to_vec();
    answer.extend(b"userId,email\n".repeat(1000));
    let dashboard = raw_server(answer).await;
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "reports",
        "status-log",
        "--from",
        "2024-01-01",
        "--to",
        "2024-01-02",
    ];

    let run = report_from(&dashboard, dir.path(), &args).await;

    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("downloading the status log: the connection was lost"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: "), "{}", run.stderr);
    assert!(file_names(dir.path()).is_empty());
}

/// An answer with a success status that is not the report asked for (a
/// JSON error, or anything but a workbook for xlsx) is refused with a
/// snippet of it, exit 1, and no file, not even on stdout.
#[tokio::test(flavor = "multi_thread")]
async fn a_success_that_is_not_the_report_is_refused() {
    let json = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 32\r\n\r\n\
        {\"error\":\"report not available\"}"
        .to_vec();
    let plain = b"HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\n\
        content-length: 19\r\n\r\nmaintenance window\n"
        .to_vec();
    let cases = [
        (
            json,
            "a JSON answer came instead of the report: {\"error\":\"report not available\"}",
        ),
        (
            plain,
            "the call log that came is not an .xlsx workbook: maintenance window",
        ),
    ];
    for (answer, message) in cases {
        let dashboard = raw_server(answer).await;
        let dir = tempfile::tempdir().unwrap();
        for output in [None, Some("-")] {
            let mut args = vec![
                "reports",
                "call-log",
                "--from",
                "2024-01-01",
                "--to",
                "2024-01-02",
            ];
            args.extend(output.iter().flat_map(|o| ["-o", o]));

            let run = report_from(&dashboard, dir.path(), &args).await;

            assert_eq!(run.code, 1, "{run:?}");
            assert!(run.stderr.contains(message), "{}", run.stderr);
            assert_eq!(run.stdout, "");
            assert!(file_names(dir.path()).is_empty());
        }
    }
}
