//! The fault matrix: each fault the sandbox can inject, and each disruption
//! a run can meet (the dashboard restarted, the token revoked, the process
//! killed), at several concurrencies, checked against the invariants of
//! `audit::audit_run`: every valid row exists exactly once, every row has
//! exactly one final outcome in the output and in the results file, the
//! exit code matches the table, and nothing secret is printed.
//!
//! The scenarios take a [`Plan`] so the soak (`tests/soak.rs`) can run
//! them with more rows, seeds and concurrencies; here they are kept small
//! enough for CI.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use provision::sandbox::{self, Faults, RateLimit, Sandbox, SandboxOptions};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::audit::{self, Tally};
use crate::util::*;

const ROWS: usize = 30;
const CONCURRENCIES: [usize; 3] = [1, 4, 16];

/// The size of one scenario.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub rows: usize,
    pub concurrency: usize,
    /// Seeds the sandbox's fault draws and the kill points.
    pub seed: u64,
    /// `--output json` instead of text.
    pub json: bool,
}

/// The faults of the matrix, by name. Each keeps its rate high enough that
/// every run meets it several times.
pub fn faults() -> Vec<(&'static str, Faults)> {
    let status = |code| Faults {
        save_error_rate: 0.3,
        save_error_status: code,
        ..Faults::default()
    };
    vec![
        ("500", status(500)),
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

/// Where a scenario disrupts a run: a generator seeded by the plan, so the
/// same plan disrupts at the same points.
fn points(plan: Plan) -> SmallRng {
    SmallRng::seed_from_u64(plan.seed ^ (plan.concurrency as u64).rotate_left(32))
}

/// A sandbox with `faults`, its draws seeded by `seed`.
async fn seeded_sandbox(faults: Faults, seed: u64) -> Sandbox {
    sandbox::start(SandboxOptions {
        faults,
        seed,
        ..SandboxOptions::default()
    })
    .await
    .expect("the sandbox starts")
}

/// The arguments of every matrix run: the most verbose logging, so that
/// the secrets check sees every log line, and enough retries to ride out
/// each fault.
fn run_args(plan: Plan, file: &Path) -> Vec<String> {
    let concurrency = plan.concurrency.to_string();
    let output = if plan.json { "json" } else { "text" };
    [
        "-vv",
        "--output",
        output,
        "--concurrency",
        &concurrency,
        "--timeout",
        "1",
        "--retries",
        "12",
        file.to_str().unwrap(),
    ]
    .map(str::to_string)
    .to_vec()
}

/// A command running the file in `dir` into `sandbox` with its token.
fn provision_command(sandbox: &Sandbox, plan: Plan, file: &Path) -> std::process::Command {
    let args = run_args(plan, file);
    let mut command = command(&args.iter().map(String::as_str).collect::<Vec<_>>());
    command
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_TOKEN", sandbox.admin_token().expose());
    command
}

/// The results file beside `agents.csv` in `dir`; empty if none was written.
fn results_in(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("agents.results.csv")).unwrap_or_default()
}

/// One run through `faults`. Exit 0 with every row created, except under
/// injected 500s, which fail their rows for good (exit 1).
pub async fn fault_scenario(name: &str, faults: Faults, plan: Plan) -> Tally {
    let permanent = faults.save_error_rate > 0.0 && faults.save_error_status == 500;
    let sandbox = seeded_sandbox(faults, plan.seed).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), plan.rows);

    let run = run(provision_command(&sandbox, plan, &file)).await;

    let results = results_in(dir.path());
    let what = format!("{name}, {plan:?}");
    let expected = if !permanent {
        0
    } else if results.contains(";failed;") {
        1
    } else {
        0
    };
    let mut tally = Tally::default();
    audit::audit_run(
        &mut tally,
        &what,
        &run,
        &results,
        &sandbox,
        plan.rows,
        &[expected],
    );
    if !permanent {
        audit::audit_complete(&mut tally, &what, &sandbox, plan.rows);
    }
    tally.count_sandbox(&what, &sandbox);
    tally
}

/// The dashboard restarted after a seeded number of requests, keeping its
/// users in a state file (`provision sandbox --state`): the run rides out
/// the outage and creates every row once.
pub async fn restart_scenario(plan: Plan) -> Tally {
    let dir = tempfile::tempdir().unwrap();
    let mut options = SandboxOptions {
        state_file: Some(dir.path().join("state.json")),
        faults: Faults {
            latency: Duration::from_millis(20),
            ..Faults::default()
        },
        seed: plan.seed,
        ..SandboxOptions::default()
    };
    let first = sandbox::start(options.clone()).await.unwrap();
    options.listen = SocketAddr::from(([127, 0, 0, 1], first.url().port().unwrap()));
    let file = write_agents(dir.path(), plan.rows);
    let point = points(plan).random_range(2..plan.rows.max(3));

    let running = tokio::spawn(run(provision_command(&first, plan, &file)));
    first.wait_for_requests(point).await;
    let mut tally = Tally::default();
    tally.count_sandbox("restart, first dashboard", &first);
    first.shutdown().await;
    // The same seed gives the same admin token, as a real dashboard's
    // tokens outlive a restart.
    let second = sandbox::start(options).await.unwrap();
    let run = running.await.unwrap();

    let what = format!("restart after {point} requests, {plan:?}");
    tally.restarts += 1;
    audit::audit_run(
        &mut tally,
        &what,
        &run,
        &results_in(dir.path()),
        &second,
        plan.rows,
        &[0],
    );
    audit::audit_complete(&mut tally, &what, &second, plan.rows);
    tally.count_sandbox(&what, &second);
    tally
}

/// The token revoked after a seeded number of requests: new rows stop, the
/// rest are reported not sent, exit 3. A rerun that logs in creates the
/// rest, each once.
pub async fn revoke_scenario(plan: Plan) -> Tally {
    let sandbox = seeded_sandbox(
        Faults {
            latency: Duration::from_millis(20),
            ..Faults::default()
        },
        plan.seed,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), plan.rows);
    let point = points(plan).random_range(2..plan.rows / 2 + 3);

    let running = tokio::spawn(run(provision_command(&sandbox, plan, &file)));
    sandbox.wait_for_requests(point).await;
    sandbox.revoke_tokens();
    let revoked = running.await.unwrap();

    let what = format!("token revoked after {point} requests, {plan:?}");
    let mut tally = Tally::default();
    tally.revocations += 1;
    audit::audit_run(
        &mut tally,
        &format!("{what}, first run"),
        &revoked,
        &results_in(dir.path()),
        &sandbox,
        plan.rows,
        &[3],
    );

    let mut args = vec!["--email", "admin@sandbox.test"];
    let rest = run_args(plan, &file);
    args.extend(rest.iter().map(String::as_str));
    let mut login = command(&args);
    login
        .env("SOFTPHONE_DASHBOARD", sandbox.url().as_str())
        .env("SOFTPHONE_PASSWORD", sandbox::DEFAULT_ADMIN_PASSWORD);
    let rerun = run(login).await;

    audit::audit_run(
        &mut tally,
        &format!("{what}, rerun"),
        &rerun,
        &results_in(dir.path()),
        &sandbox,
        plan.rows,
        &[0],
    );
    audit::audit_complete(&mut tally, &what, &sandbox, plan.rows);
    tally.count_sandbox(&what, &sandbox);
    tally
}

/// Checks a results file written before later runs changed the dashboard:
/// every row it reports created or already there does exist. Rows it
/// reports otherwise may exist now, created by the later run.
fn check_claims(tally: &mut Tally, what: &str, results: &str, sandbox: &Sandbox) {
    let users = sandbox.users();
    for (row, outcomes) in audit::results_outcomes(tally, what, results) {
        let email = format!("agent{row}@example.com");
        let claims = outcomes.iter().any(|o| o == "created" || o == "exists");
        if claims && !users.iter().any(|u| u.email == email) {
            tally.lost += 1;
            tally.problems.push(format!(
                "{what}: row {row} filed {outcomes:?} but does not exist"
            ));
        }
    }
}

/// SIGKILL at `kills` seeded points, a rerun after each, then a final
/// rerun to the end: every row exists once, every finished row of a killed
/// run's results file is true, and the last run accounts for every row.
#[cfg(unix)]
pub async fn kill_scenario(faults: Faults, plan: Plan, kills: usize) -> Tally {
    let sandbox = seeded_sandbox(faults, plan.seed).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_agents(dir.path(), plan.rows);
    let mut rng = points(plan);
    let mut tally = Tally::default();

    for kill in 1..=kills {
        // Within what is left to do, so that later kills still land
        // mid-run rather than after the run has ended.
        let left = plan.rows.saturating_sub(sandbox.users().len());
        let point = rng.random_range(1..left.max(2));
        let seen = sandbox.requests().len();
        let mut command = provision_command(&sandbox, plan, &file);
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        let child = command.spawn().unwrap();
        let pid = child.id().to_string();
        let mut waiting = tokio::task::spawn_blocking(move || {
            let mut child = child;
            child.wait()
        });
        let what = format!("kill {kill} after {point} requests, {plan:?}");
        tokio::select! {
            () = sandbox.wait_for_requests(seen + point) => {
                let killed = std::process::Command::new("kill")
                    .args(["-KILL", &pid])
                    .status()
                    .unwrap();
                assert!(killed.success(), "{what}: kill failed");
                let status = (&mut waiting).await.unwrap().unwrap();
                // It may have finished on its own just before the kill.
                match status.code() {
                    None => tally.kills += 1,
                    Some(code) => assert!(code <= 1, "{what}: exit {code}"),
                }
            }
            status = &mut waiting => {
                // The rest of the file took fewer requests than the point.
                let status = status.unwrap().unwrap();
                assert!(status.code().is_some_and(|c| c <= 1), "{what}: {status:?}");
            }
        }
        check_claims(&mut tally, &what, &results_in(dir.path()), &sandbox);
    }
    let rerun = run(provision_command(&sandbox, plan, &file)).await;

    let what = format!("rerun after {kills} kills, {plan:?}");
    audit::audit_run(
        &mut tally,
        &what,
        &rerun,
        &results_in(dir.path()),
        &sandbox,
        plan.rows,
        &[0],
    );
    audit::audit_complete(&mut tally, &what, &sandbox, plan.rows);
    tally.count_sandbox(&what, &sandbox);
    tally
}

/// Runs `scenarios` concurrently and adds up their tallies.
async fn all<F>(scenarios: Vec<F>) -> Tally
where
    F: std::future::Future<Output = Tally> + Send + 'static,
{
    let handles: Vec<_> = scenarios.into_iter().map(tokio::spawn).collect();
    let mut total = Tally::default();
    for handle in handles {
        total.add(&handle.await.unwrap());
    }
    total
}

/// The CI plan at `concurrency`. Seed 0 keeps the run at concurrency 1
/// (whose order of requests, and so of faults, is fixed) short: some seeds
/// give one row nine 503s in a row, and a minute of backoff. The highest
/// concurrency prints JSON Lines, so both output formats are audited.
fn plan(concurrency: usize) -> Plan {
    Plan {
        rows: ROWS,
        concurrency,
        seed: 0,
        json: concurrency == 16,
    }
}

/// Every injected fault (500, 502, 503, 504, dropped, hang, 429) at every
/// concurrency: 21 runs, all invariants hold.
#[tokio::test(flavor = "multi_thread")]
async fn every_fault_at_every_concurrency() {
    let mut cases = Vec::new();
    for (name, faults) in faults() {
        for concurrency in CONCURRENCIES {
            cases.push(fault_scenario(name, faults.clone(), plan(concurrency)));
        }
    }

    let tally = all(cases).await;

    // Shown with --nocapture; RELIABILITY.md quotes the figures.
    println!("{tally}");
    tally.assert_clean();
    assert!(tally.faults > 21, "every run met its fault: {tally}");
    assert!(tally.outcomes.get("failed").is_some_and(|n| *n > 0));
}

/// The dashboard restarted mid-run at every concurrency: every row
/// created once, exit 0.
#[tokio::test(flavor = "multi_thread")]
async fn dashboard_restarted_mid_run() {
    let tally = all(CONCURRENCIES
        .into_iter()
        .map(|c| restart_scenario(plan(c)))
        .collect())
    .await;

    // Shown with --nocapture; RELIABILITY.md quotes the figures.
    println!("{tally}");
    tally.assert_clean();
    assert_eq!(tally.restarts, 3);
}

/// The token revoked mid-run at every concurrency: exit 3 with every row
/// accounted for, then a rerun with a login finishes the file.
#[tokio::test(flavor = "multi_thread")]
async fn token_revoked_mid_run() {
    let tally = all(CONCURRENCIES
        .into_iter()
        .map(|c| revoke_scenario(plan(c)))
        .collect())
    .await;

    // Shown with --nocapture; RELIABILITY.md quotes the figures.
    println!("{tally}");
    tally.assert_clean();
    assert!(tally.outcomes.get("not_sent").is_some_and(|n| *n > 0));
}

/// SIGKILL at seeded random points, twice per seed, then a rerun: every
/// row exists once and every claim of a killed run's results file holds.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn killed_at_random_points_then_rerun() {
    let faults = Faults {
        latency: Duration::from_millis(20),
        save_drop_rate: 0.1,
        ..Faults::default()
    };
    let scenarios = (1..=4u64)
        .map(|seed| {
            let plan = Plan {
                rows: 120,
                concurrency: 8,
                seed,
                json: seed % 2 == 0,
            };
            kill_scenario(faults.clone(), plan, 2)
        })
        .collect();

    let tally = all(scenarios).await;

    // Shown with --nocapture; RELIABILITY.md quotes the figures.
    println!("{tally}");
    tally.assert_clean();
    assert!(tally.kills >= 4, "{tally}");
}
