//! Provisioning a file into a healthy dashboard.

use provision::sandbox::Faults;

use crate::util::*;

/// The example file is created exactly as the vendor's script would have,
/// with the IDs the dashboard assigned, and every field arrives intact.
#[tokio::test(flavor = "multi_thread")]
async fn example_file_creates_every_agent_with_its_fields() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agents.csv");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/agents.example.csv"),
        &file,
    )
    .unwrap();

    let run = provision_into(&sandbox, &[file.to_str().unwrap()]).await;

    assert_eq!(run.code, 0, "{run:?}");
    let users = sandbox.users();
    let id_of = |email: &str| users.iter().find(|u| u.email == email).unwrap().id;
    let lines = run.lines();
    for (row, email) in [
        (1, "john.doe@example.com"),
        (2, "ivan.petrov@example.com"),
        (3, "anna.smirnova@example.com"),
        (4, "maria.garcia@example.com"),
    ] {
        let expected = format!(
            "Successfully added user #{row} from csv with ID {}",
            id_of(email)
        );
        assert!(
            lines.contains(&expected.as_str()),
            "missing {expected:?} in {lines:?}"
        );
    }
    let anna = users
        .iter()
        .find(|u| u.email == "anna.smirnova@example.com")
        .unwrap();
    assert_eq!(anna.name, "Анна");
    assert_eq!(anna.role, "MANAGER");
    assert_eq!(anna.groups, vec![1]);
    assert_eq!(anna.manage_groups, Some(vec![1, 2]));
    assert_eq!(anna.password.expose(), "Supervisor-1");
    assert!(
        anna.config
            .contains("{% include \"_Account1\" %}\nUsername=sip103\nPassword=SipPass-103\n")
    );
    let john = users
        .iter()
        .find(|u| u.email == "john.doe@example.com")
        .unwrap();
    assert_eq!(john.manage_groups, None, "an empty groupsMan is left out");
    assert!(!run.stdout.contains("Supervisor-1") && !run.stderr.contains("Supervisor-1"));
}

/// A second run of the same file creates nothing and says who exists.
#[tokio::test(flavor = "multi_thread")]
async fn second_run_creates_nothing() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 20);
    let path = file.to_str().unwrap();

    let first = provision_into(&sandbox, &[path]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let before = sandbox.users();
    let second = provision_into(&sandbox, &[path]).await;

    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(sandbox.users(), before);
    for n in 1..=20 {
        let id = before
            .iter()
            .find(|u| u.email == format!("agent{n}@example.com"))
            .unwrap()
            .id;
        let line = format!("User #{n} from csv already exists with ID {id}");
        assert!(second.lines().contains(&line.as_str()), "missing {line:?}");
    }
    let saves = sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/users/save"))
        .count();
    assert_eq!(saves, 20, "the second run sent no save");
}

/// The results file has one row per input row, no secrets, and Excel's BOM.
#[tokio::test(flavor = "multi_thread")]
async fn results_file_accounts_for_every_row() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 12);

    let run = provision_into(&sandbox, &[file.to_str().unwrap()]).await;

    assert_eq!(run.code, 0, "{run:?}");
    let text = std::fs::read_to_string(dir.path().join("agents.results.csv")).unwrap();
    assert!(
        text.starts_with(
            "\u{feff}row;line;email;name;surname;role;outcome;id;http_status;message\n"
        )
    );
    let mut rows: Vec<usize> = text
        .lines()
        .skip(1)
        .map(|l| l.split(';').next().unwrap().parse().unwrap())
        .collect();
    rows.sort_unstable();
    assert_eq!(rows, (1..=12).collect::<Vec<_>>());
    assert!(text.lines().skip(1).all(|l| l.contains(";created;")));
    assert_no_secrets(&text, &sandbox, 12);
}

/// A wrong token stops the run: exit 3, nothing created, every row accounted
/// for, and a message that says what to do.
#[tokio::test(flavor = "multi_thread")]
async fn rejected_token_exits_3() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 5);
    let mut command = command(&[file.to_str().unwrap()]);
    command
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_TOKEN", "not-a-valid-token");

    let run = run(command).await;

    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("provision login"), "{}", run.stderr);
    assert!(sandbox.users().is_empty());
}

/// A token revoked mid-run stops new rows; with --email the tool logs in
/// again once and finishes.
#[tokio::test(flavor = "multi_thread")]
async fn token_revoked_mid_run_logs_in_again_with_email() {
    let sandbox = sandbox_with(Faults {
        latency: std::time::Duration::from_millis(20),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 30);
    let mut command = command(&["--email", "admin@sandbox.test", file.to_str().unwrap()]);
    command
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_PASSWORD", "sandbox-admin");

    let running = tokio::spawn(run(command));
    sandbox.wait_for_requests(10).await;
    sandbox.revoke_tokens();
    let run = running.await.unwrap();

    assert_eq!(run.code, 0, "{run:?}");
    assert_each_once(&sandbox, 30);
    let logins = sandbox
        .requests()
        .iter()
        .filter(|r| r.path == "/login/api/auth")
        .count();
    assert_eq!(logins, 2);
}

/// With a token only, a revoked token ends the run with exit 3 and the
/// unsent rows reported as not sent.
#[tokio::test(flavor = "multi_thread")]
async fn token_revoked_mid_run_without_credentials_reports_unsent_rows() {
    let sandbox = sandbox_with(Faults {
        latency: std::time::Duration::from_millis(20),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 40);
    let mut command = command(&["--concurrency", "2", file.to_str().unwrap()]);
    command
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_TOKEN", sandbox.admin_token().expose());

    let running = tokio::spawn(run(command));
    sandbox.wait_for_requests(6).await;
    sandbox.revoke_tokens();
    let run = running.await.unwrap();

    assert_eq!(run.code, 3, "{run:?}");
    let created = sandbox.users().len();
    let results = std::fs::read_to_string(dir.path().join("agents.results.csv")).unwrap();
    assert_eq!(results.lines().count(), 41, "one results row per input row");
    assert_eq!(results.matches(";created;").count(), created);
    assert!(results.contains(";not_sent;"));
    assert_eq!(
        run.lines()
            .iter()
            .filter(|l| l.contains("was not sent"))
            .count(),
        results.matches(";not_sent;").count()
    );
}

/// One row refused for good (a 500 for a user that does not exist) fails
/// alone; the others are created; exit 1.
#[tokio::test(flavor = "multi_thread")]
async fn permanent_500_fails_only_its_row() {
    let sandbox = sandbox_with(Faults {
        save_error_rate: 0.3,
        save_error_status: 500,
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 20);

    let run = provision_into(&sandbox, &["--concurrency", "1", file.to_str().unwrap()]).await;

    assert_eq!(run.code, 1, "{run:?}");
    let failed: Vec<&str> = run
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("Error adding user #"))
        .collect();
    assert!(!failed.is_empty(), "the seed gives some 500s");
    assert!(
        failed
            .iter()
            .all(|l| l.contains("got error 500 from Team Dashboard."))
    );
    assert_eq!(sandbox.users().len() + failed.len(), 20);
    let faulted = sandbox
        .requests()
        .iter()
        .filter(|r| r.status == Some(500))
        .count();
    assert_eq!(faulted, failed.len(), "a 500 is not retried");
}

/// `-vv` logs every request, and still never the token or a password.
#[tokio::test(flavor = "multi_thread")]
async fn very_verbose_output_has_no_secrets() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 5);

    let text_run = provision_into(&sandbox, &["-vv", file.to_str().unwrap()]).await;
    let json_run = provision_into(
        &sandbox,
        &["-vv", "--output", "json", file.to_str().unwrap()],
    )
    .await;

    assert_eq!(text_run.code, 0, "{text_run:?}");
    assert!(
        text_run.stderr.contains("saving user"),
        "-vv shows requests"
    );
    for run in [&text_run, &json_run] {
        assert_no_secrets(&run.stdout, &sandbox, 5);
        assert_no_secrets(&run.stderr, &sandbox, 5);
    }
}

/// `--output json` gives one parseable object per row and a summary.
#[tokio::test(flavor = "multi_thread")]
async fn json_output_is_one_object_per_row() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 3);

    let run = provision_into(&sandbox, &["--output", "json", file.to_str().unwrap()]).await;

    assert_eq!(run.code, 0, "{run:?}");
    let objects: Vec<serde_json::Value> = run
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 5);
    // The file has an `ext` column, which the default config leaves out.
    assert_eq!(objects[0]["type"], "problem");
    assert_eq!(objects[0]["severity"], "warning");
    assert_eq!(objects[0]["column"], "ext");
    assert!(
        objects[1..4]
            .iter()
            .all(|o| o["type"] == "row" && o["outcome"] == "created" && o["id"].is_u64())
    );
    assert_eq!(objects[4]["type"], "summary");
    assert_eq!(objects[4]["created"], 3);
}

/// The demo provisions the example file into its own sandbox.
#[tokio::test(flavor = "multi_thread")]
async fn demo_prints_a_line_per_example_row() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agents.example.csv");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/agents.example.csv"),
        &file,
    )
    .unwrap();

    let run = run(command(&["demo", file.to_str().unwrap()])).await;

    assert_eq!(run.code, 0, "{run:?}");
    for row in 1..=4 {
        let prefix = format!("Successfully added user #{row} from csv with ID ");
        assert!(
            run.lines().iter().any(|l| l.starts_with(&prefix)),
            "{run:?}"
        );
    }
}

/// The first Ctrl-C stops new rows and waits for those in flight: exit
/// 130, and every row has its final line in the output and results file.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_finishes_rows_in_flight_and_accounts_for_the_rest() {
    let sandbox = sandbox_with(Faults {
        latency: std::time::Duration::from_millis(100),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 200);
    let mut command = command(&["--concurrency", "4", file.to_str().unwrap()]);
    command
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_TOKEN", sandbox.admin_token().expose())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().unwrap();

    sandbox.wait_for_requests(10).await;
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(output.status.code(), Some(130));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let created = sandbox.users().len();
    assert!(created < 200, "stopped early");
    let successes = stdout
        .lines()
        .filter(|l| l.starts_with("Successfully added user #"))
        .count();
    assert_eq!(successes, created, "every created user was reported");
    let unsent = stdout
        .lines()
        .filter(|l| l.contains("was not sent"))
        .count();
    assert_eq!(successes + unsent, 200, "{stdout}");
    let results = std::fs::read_to_string(dir.path().join("agents.results.csv")).unwrap();
    assert_eq!(results.lines().count(), 201);
    assert_eq!(results.matches(";created;").count(), created);
}
