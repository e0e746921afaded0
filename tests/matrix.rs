//! The fault matrix: each fault the sandbox can inject, at several
//! concurrencies, with the invariants that make provisioning safe: every
//! valid row exists exactly once, every row has exactly one final outcome in
//! the output and in the results file, the exit code matches the table, and
//! nothing secret is printed.

use std::net::SocketAddr;
use std::time::Duration;

use provision::sandbox::{self, Faults, RateLimit, Sandbox, SandboxOptions};

use crate::util::*;

const ROWS: usize = 30;
const CONCURRENCIES: [&str; 3] = ["1", "4", "16"];

/// The faults of the matrix, by name.
fn faults() -> Vec<(&'static str, Faults)> {
    let status = |code| Faults {
        save_error_rate: 0.3,
        save_error_status: code,
        ..Faults::default()
    };
    vec![
        ("502", status(502)),
        ("503", status(503)),
        ("504", status(504)),
        (
            "dropped",
            Faults {
                save_drop_rate: 0.3,
                ..Faults::default()
            },
        ),
        (
            "hang",
            Faults {
                hang_rate: 0.1,
                hang_for: Duration::from_millis(1500),
                ..Faults::default()
            },
        ),
        (
            "429 storm",
            Faults {
                rate_limit: Some(RateLimit {
                    per_second: 10,
                    retry_after_secs: 1,
                }),
                ..Faults::default()
            },
        ),
    ]
}

/// Asserts the invariants of a run that should have created every row.
fn assert_invariants(name: &str, run: &Run, sandbox: &Sandbox, results: &str) {
    assert_eq!(run.code, 0, "{name}: {run:?}");
    assert_each_once(sandbox, ROWS);
    assert_eq!(
        sandbox.users().len(),
        ROWS,
        "{name}: nothing else was created"
    );
    for n in 1..=ROWS {
        let prefix = format!("Successfully added user #{n} from csv with ID ");
        let count = run
            .lines()
            .iter()
            .filter(|l| l.starts_with(&prefix))
            .count();
        assert_eq!(count, 1, "{name}: row {n} has {count} final lines");
        let in_results = results
            .lines()
            .filter(|l| l.starts_with(&format!("{n};")))
            .count();
        assert_eq!(
            in_results, 1,
            "{name}: row {n} has {in_results} results rows"
        );
    }
    assert_no_secrets(&run.stdout, sandbox, ROWS);
    assert_no_secrets(&run.stderr, sandbox, ROWS);
    assert_no_secrets(results, sandbox, ROWS);
}

/// Every fault at every concurrency (18 runs of the binary).
#[tokio::test(flavor = "multi_thread")]
async fn every_fault_at_every_concurrency() {
    let mut cases = Vec::new();
    for (name, faults) in faults() {
        for concurrency in CONCURRENCIES {
            cases.push(tokio::spawn(run_case(name, faults.clone(), concurrency)));
        }
    }
    for case in cases {
        case.await.unwrap();
    }
}

async fn run_case(name: &'static str, faults: Faults, concurrency: &'static str) {
    let sandbox = sandbox_with(faults).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), ROWS);
    let args = [
        "-vv",
        "--concurrency",
        concurrency,
        "--timeout",
        "1",
        "--retries",
        "12",
    ];
    let mut all = args.to_vec();
    all.push(file.to_str().unwrap());

    let run = provision_into(&sandbox, &all).await;

    let results = std::fs::read_to_string(dir.path().join("agents.results.csv")).unwrap();
    assert_invariants(
        &format!("{name} at concurrency {concurrency}"),
        &run,
        &sandbox,
        &results,
    );
}

/// The dashboard restarted mid-run, keeping its users in a state file: the
/// run rides out the outage and creates every row once.
#[tokio::test(flavor = "multi_thread")]
async fn dashboard_restarted_mid_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut options = SandboxOptions {
        state_file: Some(dir.path().join("state.json")),
        faults: Faults {
            latency: Duration::from_millis(20),
            ..Faults::default()
        },
        ..SandboxOptions::default()
    };
    let first = sandbox::start(options.clone()).await.unwrap();
    let port = first.url().port().unwrap();
    options.listen = SocketAddr::from(([127, 0, 0, 1], port));
    let file = write_agents(dir.path(), ROWS);
    let mut command = command(&[
        "--concurrency",
        "4",
        "--retries",
        "10",
        file.to_str().unwrap(),
    ]);
    command
        .env("SOFTPHONE_DASHBOARD", first.url().as_str())
        .env("SOFTPHONE_TOKEN", first.admin_token().expose());

    let running = tokio::spawn(run(command));
    first.wait_for_requests(8).await;
    first.shutdown().await;
    // The same seed gives the same admin token, as a real dashboard's
    // tokens outlive a restart.
    let second = sandbox::start(options).await.unwrap();
    let run = running.await.unwrap();

    let results = std::fs::read_to_string(dir.path().join("agents.results.csv")).unwrap();
    assert_invariants("restart", &run, &second, &results);
}

/// SIGKILL at seeded random points, then a rerun: every row exists once.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn killed_at_random_points_then_rerun() {
    for seed in 1..=4u64 {
        let sandbox = sandbox_with(Faults {
            latency: Duration::from_millis(20),
            save_drop_rate: 0.1,
            ..Faults::default()
        })
        .await;
        let dir = tempfile::tempdir().unwrap();
        let file = write_agents(dir.path(), 120);
        // A cheap, fixed "random" point between 5 and 100 requests in.
        let point = 5 + (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33) as usize % 95;
        let mut command = command(&["--concurrency", "8", file.to_str().unwrap()]);
        command
            .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
            .env("SOFTPHONE_TOKEN", sandbox.admin_token().expose())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let mut child = command.spawn().unwrap();

        sandbox.wait_for_requests(point).await;
        child.kill().unwrap();
        child.wait().unwrap();
        let rerun = provision_into(&sandbox, &["--concurrency", "8", file.to_str().unwrap()]).await;

        assert_eq!(
            rerun.code, 0,
            "seed {seed}, killed after {point} requests: {rerun:?}"
        );
        assert_each_once(&sandbox, 120);
        assert_eq!(sandbox.users().len(), 120);
    }
}
