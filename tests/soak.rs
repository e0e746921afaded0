//! The long run of the fault matrix, ignored by `cargo test` and run by
//! `scripts/soak.sh`: every scenario of `matrix.rs` with more rows, more
//! seeds, more concurrencies and more kills, its figures printed at the end.
//!
//! Sized by environment variables (defaults in brackets): `SOAK_ROWS`
//! [200], `SOAK_SEEDS` [3], `SOAK_CONCURRENCIES` [1,4,16,32], `SOAK_KILLS`
//! kills per kill scenario [5], `SOAK_PARALLEL` scenarios at once [2].
//! Even seeds print JSON Lines, odd ones text.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::StreamExt;
use provision::sandbox::Faults;

use crate::audit::Tally;
use crate::matrix::{self, Plan};

/// A scenario waiting to run, with its name.
type Scenario = (String, Pin<Box<dyn Future<Output = Tally> + Send>>);

/// `name` from the environment, or `default`.
fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not valid")),
        Err(_) => default,
    }
}

/// Every scenario for one seed and concurrency.
fn scenarios(plan: Plan, kills: usize) -> Vec<Scenario> {
    let mut all: Vec<Scenario> = Vec::new();
    for (name, faults) in matrix::faults() {
        let label = format!("{name:<10} {plan:?}");
        all.push((label, Box::pin(matrix::fault_scenario(name, faults, plan))));
    }
    all.push((
        format!("restart    {plan:?}"),
        Box::pin(matrix::restart_scenario(plan)),
    ));
    all.push((
        format!("revoke     {plan:?}"),
        Box::pin(matrix::revoke_scenario(plan)),
    ));
    #[cfg(unix)]
    {
        // Kills on top of lost answers and 503s: the worst a rerun meets.
        let faults = Faults {
            latency: Duration::from_millis(5),
            save_drop_rate: 0.1,
            save_error_rate: 0.1,
            ..Faults::default()
        };
        all.push((
            format!("{kills} kills    {plan:?}"),
            Box::pin(matrix::kill_scenario(faults, plan, kills)),
        ));
    }
    all
}

/// The soak: prints one line per scenario as it ends, then the totals;
/// fails if anything was violated.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "minutes long: run by scripts/soak.sh"]
async fn soak() {
    let rows = setting("SOAK_ROWS", 200usize);
    let seeds = setting("SOAK_SEEDS", 3u64);
    let kills = setting("SOAK_KILLS", 5usize);
    let parallel = setting("SOAK_PARALLEL", 2usize);
    let concurrencies: Vec<usize> = setting("SOAK_CONCURRENCIES", "1,4,16,32".to_string())
        .split(',')
        .map(|c| c.trim().parse().expect("a concurrency"))
        .collect();
    let mut all = Vec::new();
    for seed in 1..=seeds {
        for &concurrency in &concurrencies {
            let plan = Plan {
                rows,
                concurrency,
                seed,
                json: seed % 2 == 0,
            };
            all.extend(scenarios(plan, kills));
        }
    }
    println!(
        "soak: {} scenarios, {rows} rows each, seeds 1..={seeds}, concurrencies {concurrencies:?}, {parallel} at once",
        all.len()
    );
    let started = Instant::now();

    let mut total = Tally::default();
    let mut finished = futures::stream::iter(all.into_iter().map(|(name, scenario)| async move {
        let started = Instant::now();
        let tally = tokio::spawn(scenario).await.expect("the scenario ran");
        (name, tally, started.elapsed())
    }))
    .buffer_unordered(parallel);
    while let Some((name, tally, took)) = finished.next().await {
        println!(
            "{name}: {} runs, {} faults, {} violations, {:.1} s",
            tally.runs,
            tally.faults,
            tally.violations(),
            took.as_secs_f64()
        );
        total.add(&tally);
    }

    println!(
        "\nsoak totals ({:.0} s):\n{total}",
        started.elapsed().as_secs_f64()
    );
    total.assert_clean();
}
