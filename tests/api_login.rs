//! `provision login`: the token from the `jwt` cookie, printed or saved.

use provision::sandbox::{DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, Faults};

use crate::util::*;

/// `provision login` for the sandbox's administrator, plus `extra`.
fn login(sandbox: &provision::sandbox::Sandbox, extra: &[&str]) -> std::process::Command {
    let url = sandbox.url().to_string();
    let mut args = vec!["login", "--dashboard", &url, "--email", DEFAULT_ADMIN_EMAIL];
    args.extend_from_slice(extra);
    command(&args)
}

/// The printed token is the cookie's and works for the next command; the
/// login itself carries no token.
#[tokio::test(flavor = "multi_thread")]
async fn login_prints_a_token_that_works() {
    let sandbox = sandbox_with(Faults::default()).await;
    let mut command = login(&sandbox, &[]);
    command.env("SOFTPHONE_PASSWORD", DEFAULT_ADMIN_PASSWORD);

    let run = run(command).await;

    assert_eq!(run.code, 0, "{run:?}");
    let token = run.stdout.trim().to_string();
    assert!(token.starts_with("eyJ") && !token.contains(' '), "{token}");
    let logins = requests_to(&sandbox, "/login/api/auth");
    assert_eq!(logins.len(), 1);
    assert!(!logins[0].sent_bearer && !logins[0].sent_cookie);
    let dir = tempfile::tempdir().unwrap();
    let list = provision_in(&sandbox, dir.path(), &token, &["users", "list"]).await;
    assert_eq!(list.code, 0, "{list:?}");
    assert!(!run.stderr.contains(DEFAULT_ADMIN_PASSWORD));
}

/// `--password-stdin --save-token` writes the token alone to a file only
/// its owner can read (an older, wider file is narrowed) and prints only
/// where it went.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn login_saves_the_token_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("token");
    let older = dir.path().join("old-token");
    std::fs::write(&older, "stale\n").unwrap();
    std::fs::set_permissions(&older, std::fs::Permissions::from_mode(0o644)).unwrap();

    for path in [&fresh, &older] {
        let command = login(
            &sandbox,
            &["--password-stdin", "--save-token", path.to_str().unwrap()],
        );
        let run = run_with_stdin(command, &format!("{DEFAULT_ADMIN_PASSWORD}\n")).await;

        assert_eq!(run.code, 0, "{run:?}");
        assert_eq!(run.stdout, format!("Token saved to {}\n", path.display()));
        let mode = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
        let text = std::fs::read_to_string(path).unwrap();
        let token = text.strip_suffix('\n').expect("one line");
        assert!(!run.stdout.contains(token) && !run.stderr.contains(token));
        let list = provision_in(&sandbox, dir.path(), token, &["users", "list"]).await;
        assert_eq!(list.code, 0, "the saved token works: {list:?}");
    }
}

/// A wrong password: exit 3, a message that says what to check, and the
/// password is not echoed.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_password_exits_3() {
    let sandbox = sandbox_with(Faults::default()).await;
    let mut command = login(&sandbox, &[]);
    command.env("SOFTPHONE_PASSWORD", "Wrong-Horse-9");

    let run = run(command).await;

    assert_eq!(run.code, 3, "{run:?}");
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.contains("the dashboard refused the login of admin@sandbox.test: check the email and the password"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Wrong-Horse-9"));
    assert_eq!(
        requests_to(&sandbox, "/login/api/auth")[0].status,
        Some(401)
    );
}

/// With no password source and no terminal to ask on: exit 2, nothing sent.
#[tokio::test(flavor = "multi_thread")]
async fn login_without_a_password_exits_2_before_sending() {
    let sandbox = sandbox_with(Faults::default()).await;

    let run = run(login(&sandbox, &[])).await;

    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("set SOFTPHONE_PASSWORD"),
        "{}",
        run.stderr
    );
    assert!(sandbox.requests().is_empty());
}

/// An empty stdin with --password-stdin is refused, not sent as "".
#[tokio::test(flavor = "multi_thread")]
async fn empty_password_stdin_exits_2() {
    let sandbox = sandbox_with(Faults::default()).await;

    let run = run_with_stdin(login(&sandbox, &["--password-stdin"]), "").await;

    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("stdin held no password"),
        "{}",
        run.stderr
    );
    assert!(sandbox.requests().is_empty());
}

/// `--save-token` into a folder that does not exist, or onto a folder, is
/// refused before logging in (nothing sent, no token issued for nothing);
/// `--token` and `--token-file`, which login would ignore, are refused too,
/// after `login` or before it.
#[tokio::test(flavor = "multi_thread")]
async fn login_refuses_what_it_cannot_do_before_sending() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-folder").join("token");
    let folder = dir.path().to_str().unwrap().to_string();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--save-token", missing.to_str().unwrap()],
            "no-such-folder does not exist; create it or name a file elsewhere",
        ),
        (&["--save-token", &folder], "is a folder; name a file in it"),
        (&["--token", "t"], "unexpected argument '--token'"),
        (&["--token-file", "t"], "unexpected argument '--token-file'"),
    ];
    let mut commands: Vec<(std::process::Command, String)> = cases
        .iter()
        .map(|(extra, message)| (login(&sandbox, extra), message.to_string()))
        .collect();
    let url = sandbox.url().to_string();
    for option in ["--token", "--token-file"] {
        let args = [option, "t", "login", "--dashboard", &url];
        let message =
            format!("'{option}' (typed before 'login'): 'provision login' does not take it");
        commands.push((
            command(&[&args[..], &["--email", DEFAULT_ADMIN_EMAIL]].concat()),
            message,
        ));
    }
    for (mut command, message) in commands {
        command.env("SOFTPHONE_PASSWORD", DEFAULT_ADMIN_PASSWORD);
        let args: Vec<_> = command.get_args().map(|a| a.to_owned()).collect();

        let run = run(command).await;

        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(run.stderr.contains(&message), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
    }
    assert!(sandbox.requests().is_empty());
    assert_eq!(file_names(dir.path()), Vec::<String>::new());
}
