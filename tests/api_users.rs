//! `provision users list` and `provision users delete`.

use provision::sandbox::{Faults, Sandbox};

use crate::util::*;

const LIST: &str = "/api/settings/users";
const DELETE: &str = "/api/settings/users/delete";

/// Three users, one of whose names Excel would run as a formula.
async fn three_users(sandbox: &Sandbox) -> Vec<u64> {
    seed_users(
        sandbox,
        &[
            ("Иван", "Петров", "ivan@example.com"),
            ("=HYPERLINK(\"http://x\")", "Doe", "john@example.com"),
            ("Anna", "Berg", "anna@example.com"),
        ],
    )
    .await
}

/// By default every user (`allUsers=true` and nothing else), as `;` CSV
/// with a BOM when stdout is not a terminal, formulas defused.
#[tokio::test(flavor = "multi_thread")]
async fn list_defaults_to_every_user_as_csv() {
    let sandbox = sandbox_with(Faults::default()).await;
    three_users(&sandbox).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();

    let run = provision_in(&sandbox, dir.path(), token.expose(), &["users", "list"]).await;

    assert_eq!(run.code, 0, "{run:?}");
    let lines = run.lines();
    assert_eq!(
        lines[0],
        "\u{feff}id;name;surname;email;role;state;groups;sfversion"
    );
    assert_eq!(lines.len(), 5, "header, admin and three users: {lines:?}");
    assert!(lines.contains(
        &"3;\"'=HYPERLINK(\"\"http://x\"\")\";Doe;john@example.com;EMPLOYEE;OFFLINE;Team 1;"
    ));
    assert!(lines.contains(&"2;Иван;Петров;ivan@example.com;EMPLOYEE;OFFLINE;Team 1;"));
    let lists = requests_to(&sandbox, LIST);
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].query, pairs(&[("allUsers", "true")]));
    assert!(lists[0].sent_bearer);
}

/// Paging and sorting flags reach the dashboard exactly; JSON is the
/// dashboard's own answer.
#[tokio::test(flavor = "multi_thread")]
async fn list_pages_and_sorts_as_asked() {
    let sandbox = sandbox_with(Faults::default()).await;
    let ids = three_users(&sandbox).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    let args = [
        "users",
        "list",
        "--page",
        "2",
        "--page-size",
        "2",
        "--sort",
        "surname",
        "--asc",
        "--format",
        "json",
    ];

    let run = provision_in(&sandbox, dir.path(), token.expose(), &args).await;

    assert_eq!(run.code, 0, "{run:?}");
    let query = pairs(&[
        ("sortColumn", "surname"),
        ("sortDirection", "asc"),
        ("pageSize", "2"),
        ("pageNumber", "2"),
        ("allUsers", "false"),
    ]);
    assert_eq!(requests_to(&sandbox, LIST)[0].query, query);
    // By surname: Administrator, Berg | Doe, Петров.
    let page: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(page["totalCount"], 4);
    let listed: Vec<u64> = page["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_u64().unwrap())
        .collect();
    assert_eq!(listed, vec![ids[1], ids[0]]);
    assert_eq!(run.stderr.trim(), "2 of 4 users");

    let desc = [
        "users",
        "list",
        "--page-size",
        "3",
        "--sort",
        "email",
        "--desc",
    ];
    let run = provision_in(&sandbox, dir.path(), token.expose(), &desc).await;
    assert_eq!(run.code, 0, "{run:?}");
    let query = pairs(&[
        ("sortColumn", "email"),
        ("sortDirection", "desc"),
        ("pageSize", "3"),
        ("pageNumber", "1"),
        ("allUsers", "false"),
    ]);
    assert_eq!(requests_to(&sandbox, LIST)[1].query, query);
}

/// `--format table` aligns columns; `--output` writes the file whole and
/// leaves nothing else in its folder.
#[tokio::test(flavor = "multi_thread")]
async fn list_as_a_table_or_into_a_file() {
    let sandbox = sandbox_with(Faults::default()).await;
    three_users(&sandbox).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();

    let table = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["users", "list", "--format", "table"],
    )
    .await;
    assert_eq!(table.code, 0, "{table:?}");
    assert!(table.lines()[0].starts_with("ID  NAME"), "{}", table.stdout);
    assert!(table.stdout.contains("Иван"));

    let out = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["users", "list", "-o", "users.csv"],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout, "");
    assert_eq!(out.stderr.trim(), "4 users written to users.csv");
    let text = std::fs::read_to_string(dir.path().join("users.csv")).unwrap();
    assert!(text.starts_with("\u{feff}id;name;"));
    assert_eq!(text.lines().count(), 5);
    assert_eq!(file_names(dir.path()), vec!["users.csv"]);
}

/// A token the dashboard does not know: exit 3 with the login hint.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_token_exits_3() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();

    let run = provision_in(&sandbox, dir.path(), "not-a-token", &["users", "list"]).await;

    assert_eq!(run.code, 3, "{run:?}");
    assert!(run.stderr.contains("401"), "{}", run.stderr);
    assert!(run.stderr.contains("provision login"), "{}", run.stderr);
}

/// Connection options typed before `users` count as after it: with one
/// dashboard in the environment, `--dashboard OTHER --token T users ...`
/// lists and deletes on the other one, and a wrong `--token` there is
/// refused (exit 3) rather than swapped for the environment's good one.
/// Any other option typed there is refused (exit 2) before anything is sent.
#[tokio::test(flavor = "multi_thread")]
async fn connection_options_before_the_subcommand_are_used() {
    let from_env = sandbox_with(Faults::default()).await;
    let named = sandbox_with(Faults::default()).await;
    three_users(&from_env).await;
    let ids = seed_users(&named, &[("Only", "Here", "only@example.com")]).await;
    let before = from_env.users();
    let dir = tempfile::tempdir().unwrap();
    let (url, token) = (named.url().to_string(), named.admin_token());
    let id = ids[0].to_string();
    let url = url.as_str();

    let wrong = typed_before(&from_env, dir.path(), [url, "wrong"], &["users", "list"]).await;
    let list = typed_before(
        &from_env,
        dir.path(),
        [url, token.expose()],
        &["users", "list"],
    )
    .await;
    let dry_run = ["--dry-run", "users", "delete", &id, "--yes"];
    let dry = typed_before(&from_env, dir.path(), [url, token.expose()], &dry_run).await;
    let delete = ["users", "delete", &id, "--yes"];
    let delete = typed_before(&from_env, dir.path(), [url, token.expose()], &delete).await;

    assert_eq!(wrong.code, 3, "{wrong:?}");
    assert_eq!(list.code, 0, "{list:?}");
    assert!(
        list.stdout.contains(";only@example.com;"),
        "{}",
        list.stdout
    );
    assert!(!list.stdout.contains("ivan@example.com"), "{}", list.stdout);
    assert_eq!(dry.code, 2, "{dry:?}");
    assert!(
        dry.stderr
            .contains("'--dry-run' (typed before 'users delete')"),
        "{}",
        dry.stderr
    );
    assert_eq!(delete.code, 0, "{delete:?}");
    assert!(!named.users().iter().any(|u| u.id == ids[0]));
    assert_eq!(
        requests_to(&named, DELETE).len(),
        1,
        "the dry run sent nothing"
    );
    assert_eq!(from_env.users(), before);
    assert!(requests_to(&from_env, LIST).is_empty(), "never asked");
}

/// `provision --dashboard URL --token TOKEN ARGS` in `dir`, with `env`'s
/// address and token in the environment.
async fn typed_before(
    env: &Sandbox,
    dir: &std::path::Path,
    [url, token]: [&str; 2],
    args: &[&str],
) -> Run {
    let mut all = vec!["--dashboard", url, "--token", token];
    all.extend_from_slice(args);
    provision_in(env, dir, env.admin_token().expose(), &all).await
}

/// IDs as words or with commas; one delete request each, with every ID;
/// the users are gone and the others stay.
#[tokio::test(flavor = "multi_thread")]
async fn delete_by_ids_in_both_forms() {
    let sandbox = sandbox_with(Faults::default()).await;
    let ids = seed_users(
        &sandbox,
        &[
            ("A", "A", "a@example.com"),
            ("B", "B", "b@example.com"),
            ("C", "C", "c@example.com"),
            ("D", "D", "d@example.com"),
            ("E", "E", "e@example.com"),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    let (a, b) = (ids[0].to_string(), ids[1].to_string());
    let cd = format!("{},{}", ids[2], ids[3]);

    let words = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["users", "delete", &a, &b, "--yes"],
    )
    .await;
    let commas = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["users", "delete", &cd, "-y"],
    )
    .await;

    assert_eq!(words.code, 0, "{words:?}");
    assert_eq!(commas.code, 0, "{commas:?}");
    assert!(
        words
            .stdout
            .contains(&format!("Deleted user #{a} A A <a@example.com>")),
        "{}",
        words.stdout
    );
    let left: Vec<u64> = sandbox.users().iter().map(|u| u.id).collect();
    assert_eq!(left, vec![ids[4]]);
    let deletes = requests_to(&sandbox, DELETE);
    assert_eq!(deletes.len(), 2);
    assert!(
        deletes
            .iter()
            .all(|r| r.status == Some(200) && r.sent_bearer)
    );
}

/// An ID that is not on the dashboard is reported and not sent; the rest
/// are deleted; exit 1 says not everything named was there.
#[tokio::test(flavor = "multi_thread")]
async fn delete_reports_unknown_ids_and_deletes_the_rest() {
    let sandbox = sandbox_with(Faults::default()).await;
    let ids = three_users(&sandbox).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    let first = ids[0].to_string();

    let run = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["users", "delete", &first, "999", "--yes"],
    )
    .await;

    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("warning: user ID 999 is not on the dashboard: not deleted"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("About to delete 1 user from"),
        "{}",
        run.stderr
    );
    assert!(!sandbox.users().iter().any(|u| u.id == ids[0]));
    assert_eq!(sandbox.users().len(), 2);
    assert!(sandbox.ignored_deletes().is_empty(), "999 was never sent");
}

/// A delete the dashboard refuses for a reason of its own (400: the
/// administrator cannot be deleted) exits 1 with that reason, and without
/// the advice to check the network, which is not to blame.
#[tokio::test(flavor = "multi_thread")]
async fn a_refused_delete_gets_no_network_hint() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();

    let run = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["users", "delete", "1", "--yes"],
    )
    .await;

    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("400 Bad Request: the administrator cannot be deleted"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("your network"), "{}", run.stderr);
    let deletes = requests_to(&sandbox, DELETE);
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].status, Some(400));
}

/// A results file that is missing, or an agents file that breaks off part
/// way: exit 2, nothing sent, and the file and the cause each named once,
/// with what to do.
#[tokio::test(flavor = "multi_thread")]
async fn delete_names_an_unreadable_file_and_its_cause_once() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    // 0x98 is the one byte Windows-1251 leaves undefined.
    let mut agents = format!("{HEADER}\n").into_bytes();
    agents.extend(b"true;A\x98;B;a@example.com;Secret-1;EMPLOYEE;1;;;;;;\n");
    std::fs::write(dir.path().join("broken.csv"), agents).unwrap();

    let missing = ["users", "delete", "--from-report", "gone.csv", "--yes"];
    let missing = provision_in(&sandbox, dir.path(), token.expose(), &missing).await;
    let broken = ["users", "delete", "--from-csv", "broken.csv", "--yes"];
    let broken = provision_in(&sandbox, dir.path(), token.expose(), &broken).await;

    assert_eq!(missing.code, 2, "{missing:?}");
    assert!(
        missing
            .stderr
            .starts_with("error: gone.csv: cannot read the results file: "),
        "{}",
        missing.stderr
    );
    assert_eq!(
        missing.stderr.matches("(os error").count(),
        1,
        "{}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("--report path"),
        "{}",
        missing.stderr
    );
    assert_eq!(broken.code, 2, "{broken:?}");
    assert_eq!(
        broken.stderr.matches("broken.csv").count(),
        1,
        "{}",
        broken.stderr
    );
    assert!(sandbox.requests().is_empty());
}

/// Without a terminal to ask on and without --yes: exit 2, nothing sent.
#[tokio::test(flavor = "multi_thread")]
async fn delete_without_yes_or_terminal_refuses() {
    let sandbox = sandbox_with(Faults::default()).await;
    let ids = three_users(&sandbox).await;
    let dir = tempfile::tempdir().unwrap();
    let token = sandbox.admin_token();
    let before = sandbox.requests().len();

    let run = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["users", "delete", &ids[0].to_string()],
    )
    .await;

    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("pass --yes"), "{}", run.stderr);
    assert_eq!(sandbox.requests().len(), before, "nothing was sent");
    assert_eq!(sandbox.users().len(), 3);
}

/// `--from-report` after a provisioning run leaves the dashboard as it
/// was before the run: created users go, a user that was already there
/// (outcome `exists`) stays.
#[tokio::test(flavor = "multi_thread")]
async fn delete_from_report_undoes_a_provisioning_run() {
    let sandbox = sandbox_with(Faults::default()).await;
    seed_users(
        &sandbox,
        &[
            ("Old", "Timer", "agent3@example.com"),
            ("Other", "One", "other@example.com"),
        ],
    )
    .await;
    let before = sandbox.users();
    let dir = tempfile::tempdir().unwrap();
    let agents = write_agents(dir.path(), 6);
    let token = sandbox.admin_token();

    let run = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &[agents.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(sandbox.users().len(), before.len() + 5);
    let undo = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &[
            "users",
            "delete",
            "--from-report",
            "agents.results.csv",
            "--yes",
        ],
    )
    .await;

    assert_eq!(undo.code, 0, "{undo:?}");
    assert_eq!(sandbox.users(), before);
    assert_eq!(
        undo.stdout
            .lines()
            .filter(|l| l.starts_with("Deleted user #"))
            .count(),
        5
    );
    assert_eq!(requests_to(&sandbox, DELETE).len(), 1, "one call for all");
}

/// `--from-csv` deletes the users whose emails the agents file holds
/// (matched ignoring case); others stay.
#[tokio::test(flavor = "multi_thread")]
async fn delete_from_csv_resolves_emails() {
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let agents = write_agents(dir.path(), 3);
    let token = sandbox.admin_token();
    let run = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &[agents.to_str().unwrap()],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let keep = seed_users(&sandbox, &[("Keep", "Me", "keep@example.com")]).await;
    let text = std::fs::read_to_string(&agents)
        .unwrap()
        .replace("agent2@", "AGENT2@");
    std::fs::write(&agents, text).unwrap();

    let run = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &["users", "delete", "--from-csv", "agents.csv", "--yes"],
    )
    .await;

    assert_eq!(run.code, 0, "{run:?}");
    let left: Vec<u64> = sandbox.users().iter().map(|u| u.id).collect();
    assert_eq!(left, keep);
    assert!(
        run.stderr.contains("About to delete 3 users"),
        "{}",
        run.stderr
    );
}

/// `--from-csv` reads an agents file as provisioning does (here Excel's
/// Windows-1251); emails that are not on the dashboard are reported and
/// make the exit code 1, the others are deleted.
#[tokio::test(flavor = "multi_thread")]
async fn delete_from_a_windows_1251_file_reports_missing_emails() {
    let sandbox = sandbox_with(Faults::default()).await;
    seed_users(
        &sandbox,
        &[
            ("Иван", "Петров", "ivan.petrov@example.com"),
            ("Ольга", "Сидорова", "olga@example.ru"),
        ],
    )
    .await;
    let keep = seed_users(&sandbox, &[("Keep", "Me", "keep@example.com")]).await;
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("windows-1251.csv");
    let token = sandbox.admin_token();

    let run = provision_in(
        &sandbox,
        dir.path(),
        token.expose(),
        &[
            "users",
            "delete",
            "--from-csv",
            file.to_str().unwrap(),
            "--yes",
        ],
    )
    .await;

    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("warning: anna.smith@example.com is not on the dashboard: not deleted"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout
            .contains("Deleted user #2 Иван Петров <ivan.petrov@example.com>"),
        "{}",
        run.stdout
    );
    let left: Vec<u64> = sandbox.users().iter().map(|u| u.id).collect();
    assert_eq!(left, keep);
}
