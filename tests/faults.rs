//! Provisioning through the faults real networks and servers produce: every
//! valid row must end up existing exactly once, and every row must have one
//! final outcome in the output and in the results file.

use std::time::Duration;

use provision::sandbox::{Faults, RateLimit, Sandbox};

use crate::util::*;

/// Runs `rows` generated agents into `sandbox` and checks the invariants.
async fn provision_through(sandbox: &Sandbox, rows: usize, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), rows);
    let mut args = extra.to_vec();
    args.push(file.to_str().unwrap());

    let run = provision_into(sandbox, &args).await;

    assert_eq!(run.code, 0, "{run:?}");
    assert_each_once(sandbox, rows);
    let results = std::fs::read_to_string(dir.path().join("agents.results.csv")).unwrap();
    assert_eq!(results.lines().count(), rows + 1);
    assert_eq!(results.matches(";created;").count(), rows);
    let successes = run
        .lines()
        .iter()
        .filter(|l| l.starts_with("Successfully added user #"))
        .count();
    assert_eq!(successes, rows, "{run:?}");
    assert_no_secrets(&run.stdout, sandbox, rows);
    assert_no_secrets(&run.stderr, sandbox, rows);
    run
}

/// 30% of saves answered 503 before anything is stored.
#[tokio::test(flavor = "multi_thread")]
async fn saves_answered_503() {
    let sandbox = sandbox_with(Faults {
        save_error_rate: 0.3,
        save_error_status: 503,
        ..Faults::default()
    })
    .await;
    provision_through(&sandbox, 40, &["--concurrency", "8", "--retries", "10"]).await;
    assert!(sandbox.requests().iter().any(|r| r.status == Some(503)));
}

/// 20% of saves stored, then the connection dropped with no answer: the
/// lookup finds them, so nothing is created twice.
#[tokio::test(flavor = "multi_thread")]
async fn saves_stored_then_dropped() {
    let sandbox = sandbox_with(Faults {
        save_drop_rate: 0.2,
        ..Faults::default()
    })
    .await;
    provision_through(&sandbox, 40, &["--concurrency", "8"]).await;
    assert!(
        sandbox.requests().iter().any(|r| r.status.is_none()),
        "some were dropped"
    );
}

/// A rate limit answering 429 with Retry-After.
#[tokio::test(flavor = "multi_thread")]
async fn rate_limited_with_retry_after() {
    let sandbox = sandbox_with(Faults {
        rate_limit: Some(RateLimit {
            per_second: 15,
            retry_after_secs: 1,
        }),
        ..Faults::default()
    })
    .await;
    provision_through(&sandbox, 30, &["--concurrency", "8", "--retries", "10"]).await;
    assert!(sandbox.requests().iter().any(|r| r.status == Some(429)));
}

/// Requests that hang past --timeout, and are then carried out late.
#[tokio::test(flavor = "multi_thread")]
async fn hangs_longer_than_the_timeout() {
    let sandbox = sandbox_with(Faults {
        hang_rate: 0.1,
        hang_for: Duration::from_secs(2),
        ..Faults::default()
    })
    .await;
    provision_through(
        &sandbox,
        20,
        &["--concurrency", "4", "--timeout", "1", "--retries", "10"],
    )
    .await;
}

/// All of the above at once.
#[tokio::test(flavor = "multi_thread")]
async fn every_fault_together() {
    let sandbox = sandbox_with(Faults {
        save_error_rate: 0.2,
        save_error_status: 502,
        save_drop_rate: 0.15,
        hang_rate: 0.05,
        hang_for: Duration::from_secs(2),
        rate_limit: Some(RateLimit {
            per_second: 40,
            retry_after_secs: 1,
        }),
        ..Faults::default()
    })
    .await;
    provision_through(
        &sandbox,
        40,
        &["--concurrency", "16", "--timeout", "1", "--retries", "12"],
    )
    .await;
}

/// Killing the process mid-run and running again: every row exists once.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_run_then_rerun() {
    let sandbox = sandbox_with(Faults {
        latency: Duration::from_millis(100),
        ..Faults::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), 300);
    let mut command = command(&["--concurrency", "8", file.to_str().unwrap()]);
    command
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_TOKEN", sandbox.admin_token().expose())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().unwrap();

    sandbox.wait_for_requests(60).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let created_before = sandbox.users().len();
    let rerun = provision_into(&sandbox, &["--concurrency", "16", file.to_str().unwrap()]).await;

    assert!(
        created_before > 0 && created_before < 300,
        "killed mid-run: {created_before}"
    );
    assert_eq!(rerun.code, 0, "{rerun:?}");
    assert_each_once(&sandbox, 300);
}

/// The first request of a run, the list of the users already there, is
/// retried like any other after a timeout: seed 3 makes exactly that
/// request hang past --timeout, and the run still creates every row.
#[tokio::test(flavor = "multi_thread")]
async fn a_hung_first_listing_is_retried() {
    let sandbox = provision::sandbox::start(provision::sandbox::SandboxOptions {
        faults: Faults {
            hang_rate: 0.1,
            hang_for: Duration::from_millis(1500),
            ..Faults::default()
        },
        seed: 3,
        ..provision::sandbox::SandboxOptions::default()
    })
    .await
    .unwrap();

    provision_through(
        &sandbox,
        20,
        &["--concurrency", "1", "--timeout", "1", "--retries", "10"],
    )
    .await;

    // Requests are recorded as they finish, so the hung listing, answered
    // after the client gave up on it, comes after the retry that worked.
    let requests = sandbox.requests();
    let listing = |r: &&provision::sandbox::RecordedRequest| r.path == "/api/settings/users";
    let hung = provision::sandbox::AppliedFault::Hang;
    assert!(
        requests
            .iter()
            .filter(listing)
            .any(|r| r.faults.contains(&hung))
    );
    let first_save = requests.iter().position(|r| r.path.ends_with("/save"));
    let answered = requests[..first_save.unwrap()]
        .iter()
        .filter(listing)
        .any(|r| r.status == Some(200));
    assert!(answered, "a listing was answered before the first save");
}
