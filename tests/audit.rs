//! Checking finished runs against the invariants of a provisioning run, and
//! counting what was tried: the fault matrix asserts the counts are clean,
//! the soak (`tests/soak.rs`, `scripts/soak.sh`) prints them.
//!
//! Violations are counted, not asserted one by one, so that a long soak
//! reports every kind of failure it met rather than only the first.

use std::collections::BTreeMap;
use std::fmt;

use provision::sandbox::{AppliedFault, DEFAULT_ADMIN_PASSWORD, Sandbox};

use crate::util::*;

/// How every sandbox token begins (`src/sandbox/store.rs`).
const TOKEN_PREFIX: &str = "eyJhbGciOiJIUzI1NiJ9.";

/// The final outcomes a row can have, as the results file names them.
pub const OUTCOMES: [&str; 5] = ["created", "exists", "failed", "invalid", "not_sent"];

/// What a batch of runs tried and what it found.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Runs of the binary checked.
    pub runs: usize,
    /// Rows in the files of those runs (a rerun counts its rows again).
    pub rows: usize,
    /// Faults the sandboxes applied to requests: 429s, hangs, injected
    /// save errors, answers dropped after a save. Latency is not counted.
    pub faults: usize,
    /// Runs killed with SIGKILL mid-run (a run that finished before its
    /// kill point is not counted).
    pub kills: usize,
    /// Restarts of the dashboard mid-run.
    pub restarts: usize,
    /// Revocations of the token mid-run.
    pub revocations: usize,
    /// Users that exist more than once with the same email.
    pub duplicates: usize,
    /// Saves the dashboard refused because the email already existed: a
    /// second attempt to create a user, which the dashboard (real or
    /// simulated) turns away. Not a violation; counted to show the lookup
    /// before each resend works.
    pub second_saves: usize,
    /// Rows with no final outcome in the output or in the results file.
    pub unaccounted: usize,
    /// Rows reported created (or already there) but absent from the
    /// dashboard: the worst failure, a row the admin believes is done.
    pub lost: usize,
    /// Rows still absent after the last run of a scenario that should have
    /// created every row.
    pub missing: usize,
    /// Rows with more than one final outcome in the output or the file.
    pub doubled: usize,
    /// Rows whose outcome in the output and in the results file differ, or
    /// reported as not created although the dashboard has them.
    pub mismatched: usize,
    /// Runs that ended with an exit code other than the expected one.
    pub wrong_exits: usize,
    /// Runs that panicked, and sandboxes whose handlers panicked.
    pub panics: usize,
    /// Occurrences of the token, the admin password or a row's password
    /// in stdout, stderr or the results file.
    pub leaks: usize,
    /// Lines of a killed run's results file that could not be parsed.
    pub torn_lines: usize,
    /// How many rows ended with each outcome.
    pub outcomes: BTreeMap<&'static str, usize>,
    /// What each violation was, for the assertion message.
    pub problems: Vec<String>,
}

impl Tally {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &Tally) {
        self.runs += other.runs;
        self.rows += other.rows;
        self.faults += other.faults;
        self.kills += other.kills;
        self.restarts += other.restarts;
        self.revocations += other.revocations;
        self.duplicates += other.duplicates;
        self.second_saves += other.second_saves;
        self.unaccounted += other.unaccounted;
        self.lost += other.lost;
        self.missing += other.missing;
        self.doubled += other.doubled;
        self.mismatched += other.mismatched;
        self.wrong_exits += other.wrong_exits;
        self.panics += other.panics;
        self.leaks += other.leaks;
        self.torn_lines += other.torn_lines;
        for (outcome, count) in &other.outcomes {
            *self.outcomes.entry(outcome).or_default() += count;
        }
        self.problems.extend(other.problems.iter().cloned());
    }

    /// The number of violations of any kind.
    pub fn violations(&self) -> usize {
        self.duplicates
            + self.unaccounted
            + self.lost
            + self.missing
            + self.doubled
            + self.mismatched
            + self.wrong_exits
            + self.panics
            + self.leaks
            + self.torn_lines
    }

    /// Fails the test, listing the first problems, unless nothing was
    /// violated.
    pub fn assert_clean(&self) {
        let first: Vec<&String> = self.problems.iter().take(20).collect();
        assert_eq!(self.violations(), 0, "{self}\nfirst problems: {first:#?}");
    }

    fn problem(&mut self, text: String) {
        self.problems.push(text);
    }

    /// Counts the faults `sandbox` applied and whether a handler panicked.
    /// Call it once per sandbox, after its last run.
    pub fn count_sandbox(&mut self, what: &str, sandbox: &Sandbox) {
        for request in sandbox.requests() {
            self.faults += request
                .faults
                .iter()
                .filter(|f| **f != AppliedFault::Latency)
                .count();
            let refused_as_existing = request.path == "/api/settings/users/save"
                && request.status == Some(500)
                && !request.faults.contains(&AppliedFault::SaveError);
            self.second_saves += usize::from(refused_as_existing);
        }
        if sandbox.panicked() {
            self.panics += 1;
            self.problem(format!("{what}: a sandbox handler panicked"));
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "runs of the binary:       {}", self.runs)?;
        writeln!(f, "rows provisioned:         {}", self.rows)?;
        writeln!(f, "faults injected:          {}", self.faults)?;
        writeln!(f, "SIGKILLs mid-run:         {}", self.kills)?;
        writeln!(f, "dashboard restarts:       {}", self.restarts)?;
        writeln!(f, "tokens revoked:           {}", self.revocations)?;
        writeln!(f, "duplicate users:          {}", self.duplicates)?;
        writeln!(f, "second saves refused:     {}", self.second_saves)?;
        writeln!(f, "rows with no outcome:     {}", self.unaccounted)?;
        writeln!(f, "rows lost:                {}", self.lost)?;
        writeln!(f, "rows never created:       {}", self.missing)?;
        writeln!(f, "rows reported twice:      {}", self.doubled)?;
        writeln!(f, "outcomes contradicted:    {}", self.mismatched)?;
        writeln!(f, "wrong exit codes:         {}", self.wrong_exits)?;
        writeln!(f, "panics:                   {}", self.panics)?;
        writeln!(f, "secrets leaked:           {}", self.leaks)?;
        writeln!(f, "torn results lines:       {}", self.torn_lines)?;
        write!(f, "final outcomes:           {:?}", self.outcomes)
    }
}

/// The first words of a row's final line in text output, for each outcome
/// (see `src/report.rs`); `#N from csv` follows the first or second word.
const FINAL_LINES: [(&str, &str, &str); 5] = [
    ("created", "Successfully added user #", " from csv with ID "),
    ("exists", "User #", " from csv already exists with ID "),
    ("failed", "Error adding user #", " from csv, "),
    ("invalid", "Skipped user #", " from csv: "),
    ("not_sent", "User #", " from csv was not sent: "),
];

/// The final outcomes printed for each row (index 0 unused), from text
/// lines or JSON Lines (`{"type":"row","row":N,"outcome":...}`).
fn printed_outcomes(run: &Run, rows: usize) -> Vec<Vec<&'static str>> {
    let mut printed = vec![Vec::new(); rows + 1];
    for line in run.stdout.lines() {
        let found = if line.starts_with('{') {
            json_outcome(line)
        } else {
            FINAL_LINES.iter().find_map(|(outcome, before, after)| {
                let rest = line.strip_prefix(before)?;
                let digits = rest.find(|c: char| !c.is_ascii_digit())?;
                let row = rest[..digits].parse().ok()?;
                rest[digits..].starts_with(after).then_some((row, *outcome))
            })
        };
        if let Some((row, outcome)) = found.filter(|(row, _)| (1..=rows).contains(row)) {
            printed[row].push(outcome);
        }
    }
    printed
}

/// The row and outcome of a JSON Lines row object.
fn json_outcome(line: &str) -> Option<(usize, &'static str)> {
    let object: serde_json::Value = serde_json::from_str(line).ok()?;
    if object["type"] != "row" {
        return None;
    }
    let row = usize::try_from(object["row"].as_u64()?).ok()?;
    let outcome = OUTCOMES.iter().find(|o| object["outcome"] == **o)?;
    Some((row, outcome))
}

/// The outcome of each row in a results file: row number to the outcomes
/// found for it (one, if all is well). Counts unparseable lines as torn.
pub fn results_outcomes(
    tally: &mut Tally,
    what: &str,
    results: &str,
) -> BTreeMap<usize, Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_reader(results.as_bytes());
    let mut outcomes: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for record in reader.records() {
        let parsed = record.ok().and_then(|record| {
            let row = record.get(0)?.parse::<usize>().ok()?;
            let outcome = record.get(6)?;
            (record.len() == 10 && OUTCOMES.contains(&outcome)).then(|| (row, outcome.to_string()))
        });
        match parsed {
            Some((row, outcome)) => outcomes.entry(row).or_default().push(outcome),
            None => {
                tally.torn_lines += 1;
                tally.problem(format!("{what}: unparseable results line"));
            }
        }
    }
    outcomes
}

/// Checks one finished run of `write_agents(_, rows)` against `sandbox`:
/// the exit code is one of `codes`; every row has exactly one final line
/// on stdout and one row in `results`, with the same outcome; a row
/// reported created or already there exists exactly once, and any other
/// row does not exist; no secret appears anywhere.
pub fn audit_run(
    tally: &mut Tally,
    what: &str,
    run: &Run,
    results: &str,
    sandbox: &Sandbox,
    rows: usize,
    codes: &[i32],
) {
    tally.runs += 1;
    tally.rows += rows;
    if !codes.contains(&run.code) {
        tally.wrong_exits += 1;
        let stderr: String = run.stderr.chars().take(2000).collect();
        tally.problem(format!(
            "{what}: exit {} not in {codes:?}; stderr: {stderr}",
            run.code
        ));
    }
    if run.code == 101 || run.stderr.contains("panicked") {
        tally.panics += 1;
        tally.problem(format!("{what}: the binary panicked"));
    }

    let in_file = results_outcomes(tally, what, results);
    let users = sandbox.users();
    let mut stored: BTreeMap<String, usize> = BTreeMap::new();
    for user in &users {
        *stored.entry(user.email.to_lowercase()).or_default() += 1;
    }
    let printed = printed_outcomes(run, rows);
    for (n, printed) in printed.iter().enumerate().skip(1) {
        let filed = in_file.get(&n).cloned().unwrap_or_default();
        let copies = stored
            .get(&format!("agent{n}@example.com"))
            .copied()
            .unwrap_or(0);
        check_row(tally, what, n, printed, &filed, copies);
    }

    for (stream, text) in [
        ("stdout", run.stdout.as_str()),
        ("stderr", &run.stderr),
        ("results file", results),
    ] {
        count_leaks(tally, &format!("{what}, {stream}"), text, sandbox, rows);
    }
}

/// The invariants of one row, given its final lines, its results-file
/// outcomes and how many users have its email.
fn check_row(
    tally: &mut Tally,
    what: &str,
    n: usize,
    printed: &[&str],
    filed: &[String],
    copies: usize,
) {
    if copies > 1 {
        tally.duplicates += copies - 1;
        tally.problem(format!("{what}: row {n} exists {copies} times"));
    }
    if printed.is_empty() || filed.is_empty() {
        tally.unaccounted += 1;
        tally.problem(format!(
            "{what}: row {n} has {} final lines and {} results rows",
            printed.len(),
            filed.len()
        ));
        return;
    }
    if printed.len() > 1 || filed.len() > 1 {
        tally.doubled += 1;
        tally.problem(format!(
            "{what}: row {n} reported {printed:?} and filed {filed:?}"
        ));
        return;
    }
    let (printed, filed) = (printed[0], filed[0].as_str());
    *tally
        .outcomes
        .entry(OUTCOMES.iter().find(|o| **o == filed).unwrap())
        .or_default() += 1;
    let claims_user = matches!(filed, "created" | "exists");
    if printed != filed {
        tally.mismatched += 1;
        tally.problem(format!("{what}: row {n} printed {printed}, filed {filed}"));
    } else if claims_user && copies == 0 {
        tally.lost += 1;
        tally.problem(format!(
            "{what}: row {n} reported {filed} but does not exist"
        ));
    } else if !claims_user && copies > 0 {
        tally.mismatched += 1;
        tally.problem(format!("{what}: row {n} reported {filed} but exists"));
    }
}

/// Counts the token, the sandbox admin's password and the generated rows'
/// passwords found in `text`.
pub fn count_leaks(tally: &mut Tally, what: &str, text: &str, sandbox: &Sandbox, rows: usize) {
    let mut secrets = vec![
        sandbox.admin_token().expose().to_string(),
        DEFAULT_ADMIN_PASSWORD.to_string(),
    ];
    for n in 1..=rows {
        secrets.push(password_of(n));
        secrets.push(sip_password_of(n));
    }
    // Every token the sandbox issues starts so, including those the
    // binary got by logging in, which the test never sees.
    secrets.push(TOKEN_PREFIX.to_string());
    for secret in &secrets {
        let found = text.matches(secret.as_str()).count();
        if found > 0 {
            tally.leaks += found;
            tally.problem(format!("{what}: a secret appears {found} times"));
        }
    }
}

/// Checks that after the last run of a scenario every generated row
/// exists exactly once (nothing lost across kills, restarts and reruns).
pub fn audit_complete(tally: &mut Tally, what: &str, sandbox: &Sandbox, rows: usize) {
    let users = sandbox.users();
    for n in 1..=rows {
        let email = format!("agent{n}@example.com");
        if !users.iter().any(|u| u.email == email) {
            tally.missing += 1;
            tally.problem(format!("{what}: row {n} never created"));
        }
    }
    let strangers = users
        .iter()
        .filter(|u| {
            u.email
                .strip_prefix("agent")
                .and_then(|rest| rest.strip_suffix("@example.com"))
                .and_then(|n| n.parse::<usize>().ok())
                .is_none_or(|n| n == 0 || n > rows)
        })
        .count();
    if strangers > 0 {
        tally.duplicates += strangers;
        tally.problem(format!("{what}: {strangers} users not from the file"));
    }
}
