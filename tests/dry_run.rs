//! `provision --dry-run`: checks and previews, sends nothing.

use provision::sandbox::Faults;

use crate::util::*;

/// The example file is valid; the preview masks every password.
#[tokio::test(flavor = "multi_thread")]
async fn example_file_is_valid_and_previewed() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/agents.example.csv");

    let run = run(command(&["--dry-run", example])).await;

    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Row #2 is valid and would be sent: Иван Петров <ivan.petrov@example.com>, EMPLOYEE, teams 1,2"));
    assert!(
        run.stdout
            .ends_with("Summary: 4 rows: 4 valid, 0 invalid, 1 warning; nothing was sent\n")
    );
    for secret in ["Welcome-2024", "Privet-2024", "SipPass-101", "Supervisor-1"] {
        assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    }
}

/// With a dashboard, a dry run says who exists, and writes nothing there.
#[tokio::test(flavor = "multi_thread")]
async fn dry_run_against_a_dashboard_reads_but_never_writes() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 4);
    let first = provision_into(&sandbox, &[file.to_str().unwrap()]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let more = write_agents(dir.path(), 6);

    let run = provision_into(&sandbox, &["--dry-run", more.to_str().unwrap()]).await;

    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(sandbox.users().len(), 4);
    let id = sandbox
        .users()
        .iter()
        .find(|u| u.email == "agent3@example.com")
        .unwrap()
        .id;
    assert!(run.stdout.contains(&format!(
        "User #3 from csv already exists with ID {id}; it would be skipped"
    )));
    assert!(run.stdout.contains("Row #5 is valid and would be sent"));
    let writes = sandbox
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(writes, 4, "only the first run wrote");
}

/// Invalid rows: every problem is named, exit 2, nothing sent.
#[tokio::test(flavor = "multi_thread")]
async fn invalid_rows_stop_the_run_before_anything_is_sent() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agents.csv");
    std::fs::write(
        &file,
        format!("{HEADER}\ntrue;Ann;Lee;ann@example.com;secret1;EMPLOYEE;1;;;;;;\nmaybe;Bob;Ray;bob@example.com;short;EMPLOYEE;1;;;;;;\n"),
    )
    .unwrap();

    let run = provision_into(&sandbox, &[file.to_str().unwrap()]).await;

    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains("row #2 (line 3), column usesSP"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("row #2 (line 3), column password"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("short") || !run.stdout.contains("found \"short\""));
    assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
    assert!(sandbox.requests().is_empty());
}

/// --skip-invalid sends the valid rows, reports the others, exits 1.
#[tokio::test(flavor = "multi_thread")]
async fn skip_invalid_sends_the_valid_rows() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agents.csv");
    std::fs::write(
        &file,
        format!("{HEADER}\ntrue;Ann;Lee;ann@example.com;secret1;EMPLOYEE;1;;;;;;\ntrue;Bob;Ray;bob@example.com;secret2;BOSS;1;;;;;;\n"),
    )
    .unwrap();

    let run = provision_into(&sandbox, &["--skip-invalid", file.to_str().unwrap()]).await;

    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(sandbox.users().len(), 1);
    assert!(
        run.stdout
            .contains("Skipped user #2 from csv: the row is invalid")
    );
    let results = std::fs::read_to_string(dir.path().join("agents.results.csv")).unwrap();
    assert!(
        results.contains("2;3;bob@example.com;Bob;Ray;BOSS;invalid;;;\"role: must be one of"),
        "{results}"
    );
}

/// Input that cannot be read gets one clear message and exit 2.
#[tokio::test(flavor = "multi_thread")]
async fn unreadable_input_exits_2_with_one_message() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let header_only = dir.path().join("header.csv");
    std::fs::write(&header_only, format!("{HEADER}\n")).unwrap();
    let garbage = dir.path().join("garbage.csv");
    std::fs::write(&garbage, [0u8, 159, 146, 150, 0, 1, 2, 255, 254, 0, 7]).unwrap();
    let missing = dir.path().join("missing.csv");

    for file in [&empty, &header_only, &garbage, &missing] {
        let run = run(command(&["--dry-run", file.to_str().unwrap()])).await;
        assert_eq!(run.code, 2, "{file:?}: {run:?}");
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(errors.len(), 1, "{file:?}: {}", run.stderr);
        assert!(
            errors[0].contains(file.file_name().unwrap().to_str().unwrap()),
            "{}",
            errors[0]
        );
    }
}

/// Every encoding and shape Excel saves is read by the real binary, and the
/// Windows-1251 file's Cyrillic names come out right.
#[tokio::test(flavor = "multi_thread")]
async fn every_valid_fixture_passes_the_dry_run() {
    for name in [
        "utf8.csv",
        "utf8-bom.csv",
        "utf16le-bom.txt",
        "utf16be-bom.csv",
        "windows-1251.csv",
        "crlf.csv",
        "excel-true-false.csv",
        "quoted.csv",
        "comma.csv",
        "agents.xlsx",
    ] {
        let path = fixture(name);
        let run = run(command(&["--dry-run", path.to_str().unwrap()])).await;
        assert_eq!(run.code, 0, "{name}: {run:?}");
        assert!(run.stdout.contains(" 0 invalid"), "{name}: {}", run.stdout);
    }
    let cyrillic = run(command(&[
        "--dry-run",
        fixture("windows-1251.csv").to_str().unwrap(),
    ]))
    .await;
    assert!(
        cyrillic.stderr.contains("1251"),
        "says which encoding: {}",
        cyrillic.stderr
    );
}

/// Each rule's fixture fails with exit 2, naming its column.
#[tokio::test(flavor = "multi_thread")]
async fn every_invalid_fixture_fails_the_dry_run() {
    for (name, column) in [
        ("uses-sp.csv", "column usesSP"),
        ("name-empty.csv", "column name"),
        ("name-too-long.csv", "column name"),
        ("email.csv", "column email"),
        ("email-duplicate.csv", "column email"),
        ("password-short.csv", "column password"),
        ("role.csv", "column role"),
        ("groups-in.csv", "column groupsIn"),
        ("groups-man.csv", "column groupsMan"),
        ("sip-too-long.csv", "column sip"),
        ("sip-multiline.csv", "column sip"),
    ] {
        let path = fixture(&format!("invalid/{name}"));
        let run = run(command(&["--dry-run", path.to_str().unwrap()])).await;
        assert_eq!(run.code, 2, "{name}: {run:?}");
        assert!(run.stdout.contains(column), "{name}: {}", run.stdout);
    }
}
