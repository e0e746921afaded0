//! The secrets audit: at the highest verbosity and in every output format,
//! neither the token, the admin's password, nor any password of the input
//! appears in stdout, stderr or the results file.

use provision::sandbox::Faults;

use crate::util::*;

const ADMIN_PASSWORD: &str = "sandbox-admin";

fn assert_clean(what: &str, text: &str, sandbox: &provision::sandbox::Sandbox, rows: usize) {
    assert_no_secrets(text, sandbox, rows);
    assert!(
        !text.contains(ADMIN_PASSWORD),
        "{what}: the admin password leaked"
    );
}

/// Every mode of the main job, with -vv, token or login, text or JSON.
#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_any_output_at_any_verbosity() {
    let sandbox = sandbox_with(Faults {
        save_drop_rate: 0.2,
        save_error_rate: 0.1,
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let rows = 8;
    let file = write_agents(dir.path(), rows);
    let path = file.to_str().unwrap();
    let results = dir.path().join("agents.results.csv");

    for output in ["text", "json"] {
        for dry in [true, false] {
            let mut args = vec!["-vv", "--output", output, "--email", "admin@sandbox.test"];
            if dry {
                args.push("--dry-run");
            }
            args.push(path);
            let mut command = command(&args);
            command
                .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
                .env("SOFTPHONE_PASSWORD", ADMIN_PASSWORD);
            let run = run(command).await;
            let what = format!("{output}, dry run {dry}");
            assert!(run.code <= 1, "{what}: {run:?}");
            assert_clean(&what, &run.stdout, &sandbox, rows);
            assert_clean(&what, &run.stderr, &sandbox, rows);
        }
        let token_run = provision_into(&sandbox, &["-vv", "--output", output, path]).await;
        assert_clean(output, &token_run.stdout, &sandbox, rows);
        assert_clean(output, &token_run.stderr, &sandbox, rows);
    }
    assert_clean(
        "results file",
        &std::fs::read_to_string(results).unwrap(),
        &sandbox,
        rows,
    );
}

/// Error paths too: a short password, a rejected login.
#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_error_messages() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("agents.csv");
    std::fs::write(
        &file,
        format!("{HEADER}\ntrue;A;B;a@example.com;Pw-7;EMPLOYEE;1;;;Sp-9;;;\n"),
    )
    .unwrap();

    let invalid = run(command(&["-vv", "--dry-run", file.to_str().unwrap()])).await;
    let mut login = command(&[
        "-vv",
        "--email",
        "admin@sandbox.test",
        file.to_str().unwrap(),
    ]);
    login
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_PASSWORD", "wrong-Secret-42");
    let rejected = run(login).await;

    assert_eq!(invalid.code, 2, "{invalid:?}");
    assert!(!invalid.stdout.contains("Pw-7") && !invalid.stderr.contains("Pw-7"));
    assert!(!invalid.stdout.contains("Sp-9") && !invalid.stderr.contains("Sp-9"));
    assert_eq!(
        rejected.code, 2,
        "the short password stops the run first: {rejected:?}"
    );
    let valid = write_agents(dir.path(), 2);
    let mut login = command(&[
        "-vv",
        "--email",
        "admin@sandbox.test",
        valid.to_str().unwrap(),
    ]);
    login
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_PASSWORD", "wrong-Secret-42");
    let rejected = run(login).await;
    assert_eq!(rejected.code, 3, "{rejected:?}");
    assert!(
        !rejected.stderr.contains("wrong-Secret-42")
            && !rejected.stdout.contains("wrong-Secret-42")
    );
}

/// The other commands that print dashboard data: `users list` in every
/// format, with -vv, by token and by login, never shows the token or the
/// admin's password (any sandbox token starts with the same JWT header).
#[tokio::test(flavor = "multi_thread")]
async fn no_secret_in_users_list_output() {
    let sandbox = sandbox_with(Faults::default()).await;
    seed_users(&sandbox, &[("Anna", "Berg", "anna@example.com")]).await;
    let dir = tempfile::tempdir().unwrap();

    for format in ["table", "csv", "json"] {
        let by_token = provision_in(
            &sandbox,
            dir.path(),
            sandbox.admin_token().expose(),
            &["-vv", "users", "list", "--format", format],
        )
        .await;
        let mut login = command(&[
            "-vv",
            "users",
            "list",
            "--format",
            format,
            "--email",
            "admin@sandbox.test",
        ]);
        login
            .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
            .env("SOFTPHONE_PASSWORD", ADMIN_PASSWORD);
        let by_login = run(login).await;

        for (how, run) in [("token", &by_token), ("login", &by_login)] {
            let what = format!("users list --format {format} by {how}");
            assert_eq!(run.code, 0, "{what}: {run:?}");
            assert!(run.stdout.contains("anna@example.com"), "{what}");
            for text in [&run.stdout, &run.stderr] {
                assert_clean(&what, text, &sandbox, 0);
                assert!(!text.contains("eyJhbGciOiJIUzI1NiJ9."), "{what}: a token");
            }
        }
    }
}
