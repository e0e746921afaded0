//! `provision [--dry-run] FILE`: check the agents file, then (unless it is
//! a dry run) create every valid row on the dashboard.
//!
//! The phases, in order: read and check the whole file; stop if any row is
//! invalid (unless `--skip-invalid`); connect and read the users the
//! dashboard already has; open the results file; send; sum up.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::cli::{InputArgs, RunArgs, SendArgs};
use crate::connect::{self, Connected};
use crate::exit::Exit;
use crate::payload::{self, ConfigTemplate, Preview};
use crate::provision::{self, DEFAULT_RETRIES, Engine, Job, Outcome, RowResult, Settings};
use crate::report::{Check, OutputFormat, Printer, ResultsFile, Summary};
use crate::roster::{self, CheckedRow, ReadOptions, Rows};

/// The agents file and how to read it.
#[derive(Debug)]
pub struct Input {
    pub path: PathBuf,
    /// The file as named in messages.
    pub label: String,
    pub options: ReadOptions,
    pub template: ConfigTemplate,
}

impl Input {
    /// Checks the reading options and loads the config template.
    pub fn new(path: &Path, args: &InputArgs) -> anyhow::Result<Input> {
        let template = match &args.config_template {
            None => ConfigTemplate::default(),
            Some(template) => {
                let text = std::fs::read_to_string(template).with_context(|| {
                    format!("failed to read the config template {}", template.display())
                })?;
                ConfigTemplate::parse(&text)
                    .with_context(|| format!("in {}", template.display()))?
            }
        };
        Ok(Input {
            path: path.to_path_buf(),
            label: path.display().to_string(),
            options: read_options(args)?,
            template,
        })
    }

    /// Opens the file, checks the template against its header, and prints
    /// (and counts) the header's warnings. A file with no rows is an error.
    fn open(&self, printer: &mut Printer, summary: &mut Summary) -> anyhow::Result<Rows> {
        let mut rows = roster::open(&self.path, &self.options)?;
        for notice in rows.notices() {
            tracing::info!("{}: {notice}", self.label);
        }
        self.template
            .check_columns(rows.columns())
            .with_context(|| format!("the config template does not fit {}", self.label))?;
        if !rows.has_rows() {
            bail!(
                "{} has a header but no rows, so there is nothing to do; add one row per agent \
                 below the header",
                self.label
            );
        }
        let unsent_ext = (rows.columns().iter().any(|c| c == "ext") && !self.template.uses("ext"))
            .then(unsent_ext);
        for problem in rows.header_problems().iter().chain(&unsent_ext) {
            printer.problem(&self.label, problem)?;
            summary.warnings += 1;
        }
        Ok(rows)
    }
}

/// The warning for an `ext` column that goes nowhere.
fn unsent_ext() -> roster::Problem {
    roster::Problem {
        severity: roster::Severity::Warning,
        row: None,
        line: None,
        column: Some("ext".to_string()),
        message: "is not sent: the API has no field for it and the config template does not \
                  use ${ext} (see --config-template)"
            .to_string(),
    }
}

fn read_options(args: &InputArgs) -> anyhow::Result<ReadOptions> {
    let encoding = match &args.encoding {
        None => None,
        Some(name) => Some(
            encoding_rs::Encoding::for_label(name.trim().as_bytes()).with_context(|| {
                format!("unknown encoding `{name}`: try utf-8, windows-1251, utf-16le or utf-16be")
            })?,
        ),
    };
    let delimiter = match args.delimiter.as_deref() {
        None => None,
        Some("tab" | "\\t" | "\t") => Some(b'\t'),
        Some(text) if text.len() == 1 && text.is_ascii() => Some(text.as_bytes()[0]),
        Some(text) => bail!("--delimiter must be one ASCII character or `tab`, not `{text}`"),
    };
    Ok(ReadOptions {
        encoding,
        delimiter,
    })
}

/// The default job: dry run or send.
pub async fn run(args: &RunArgs) -> anyhow::Result<Exit> {
    let Some(file) = args.file.as_deref() else {
        bail!(
            "no agents file given: try `provision --dry-run agents.csv`, or see `provision --help`"
        );
    };
    let input = Input::new(file, &args.input)?;
    if args.dry_run {
        let connected = if connect::has_dashboard(&args.connection) {
            Some(connect::connect(&args.connection).await?)
        } else {
            None
        };
        return dry_run(&input, connected.as_ref(), args.output).await;
    }
    send(
        &input,
        &args.sending,
        args.output,
        connect::connect(&args.connection),
    )
    .await
}

/// Checks every row and shows what would be sent; writes nothing anywhere.
pub async fn dry_run(
    input: &Input,
    connected: Option<&Connected>,
    format: OutputFormat,
) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let existing = match connected {
        Some(connected) => {
            let requests = AtomicU64::new(0);
            let users = provision::existing_users(&connected.dashboard, DEFAULT_RETRIES, &requests);
            Some(
                users
                    .await
                    .context("reading the users the dashboard already has")?,
            )
        }
        None => None,
    };
    let mut printer = Printer::new(format, false);
    let mut summary = Summary::default();
    let mut rows = input.open(&mut printer, &mut summary)?;
    let mut config = String::new();
    while let Some(row) = rows.next_row() {
        let row = row?;
        let preview =
            report_problems(input, row, &mut printer, &mut summary)?.map(|agent| match format {
                OutputFormat::Text => Preview::line(agent, &input.template, &mut config),
                OutputFormat::Json => Preview::full(agent, &input.template, &mut config),
            });
        summary.rows += 1;
        let check = match &preview {
            Some(Ok(preview)) => {
                summary.valid += 1;
                let known = existing
                    .as_ref()
                    .and_then(|e| e.get(&preview.email.to_lowercase()));
                match known {
                    Some(id) => {
                        summary.exists += 1;
                        Check::Exists(*id)
                    }
                    None => Check::Valid(preview),
                }
            }
            Some(Err(problem)) => {
                printer.problem(&input.label, problem)?;
                summary.invalid += 1;
                Check::Invalid
            }
            None => {
                summary.invalid += 1;
                Check::Invalid
            }
        };
        printer.checked(row.row, row.line, &row.summary, check)?;
    }
    summary.elapsed = started.elapsed();
    finish_check(&mut printer, &summary)
}

fn finish_check(printer: &mut Printer, summary: &Summary) -> anyhow::Result<Exit> {
    printer.summary(summary, &summary.check_text())?;
    Ok(if summary.invalid > 0 {
        Exit::Invalid
    } else {
        Exit::Success
    })
}

/// Prints a row's problems; the agent if the row is valid.
fn report_problems<'a>(
    input: &Input,
    row: &'a CheckedRow,
    printer: &mut Printer,
    summary: &mut Summary,
) -> anyhow::Result<Option<&'a roster::Agent>> {
    for problem in &row.problems {
        printer.problem(&input.label, problem)?;
        if !problem.is_error() {
            summary.warnings += 1;
        }
    }
    Ok(row.agent.as_ref())
}

/// Every row of the file, checked: what to send and what is invalid.
#[derive(Debug, Default)]
struct Checked {
    jobs: Vec<Job>,
    invalid: Vec<RowResult>,
    warnings: usize,
}

fn check_all(input: &Input, printer: &mut Printer) -> anyhow::Result<Checked> {
    let mut checked = Checked::default();
    let mut summary = Summary::default();
    let mut rows = input.open(printer, &mut summary)?;
    while let Some(row) = rows.next_row() {
        let row = row?;
        let built = report_problems(input, row, printer, &mut summary)?
            .map(|agent| payload::build(agent, &input.template));
        let payload = match built {
            Some(Ok(payload)) => payload,
            Some(Err(problem)) => {
                printer.problem(&input.label, &problem)?;
                checked.invalid.push(invalid(row, &[problem]));
                continue;
            }
            None => {
                checked.invalid.push(invalid(row, &row.problems));
                continue;
            }
        };
        checked.jobs.push(Job {
            row: row.row,
            line: row.line,
            payload,
        });
    }
    checked.warnings = summary.warnings;
    Ok(checked)
}

fn invalid(row: &CheckedRow, problems: &[roster::Problem]) -> RowResult {
    let message = problems
        .iter()
        .filter(|p| p.is_error())
        .map(|p| match &p.column {
            Some(column) => format!("{column}: {}", p.message),
            None => p.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ");
    RowResult {
        row: row.row,
        line: row.line,
        summary: row.summary.clone(),
        outcome: Outcome::Invalid { message },
    }
}

/// Checks the whole file, then creates every valid row.
pub async fn send(
    input: &Input,
    args: &SendArgs,
    format: OutputFormat,
    connect: impl Future<Output = anyhow::Result<Connected>>,
) -> anyhow::Result<Exit> {
    let started = Instant::now();
    let mut printer = Printer::new(format, true);

    // Phase 1: the whole file is checked before anything is sent.
    let checked = check_all(input, &mut printer)?;
    let total = checked.jobs.len() + checked.invalid.len();
    if !checked.invalid.is_empty() && !args.skip_invalid {
        let mut summary = Summary {
            rows: total,
            valid: checked.jobs.len(),
            invalid: checked.invalid.len(),
            warnings: checked.warnings,
            elapsed: started.elapsed(),
            ..Summary::default()
        };
        summary.elapsed = started.elapsed();
        printer.summary(&summary, &summary.check_text())?;
        eprintln!(
            "error: {} of {total} rows are invalid, so nothing was sent; fix them and run \
             again, or pass --skip-invalid to send the valid rows only",
            checked.invalid.len()
        );
        return Ok(Exit::Invalid);
    }

    // Phase 2: connect, and skip the users the dashboard already has.
    let connected = connect.await?;
    let listing = AtomicU64::new(0);
    let existing = provision::existing_users(&connected.dashboard, args.retries, &listing)
        .await
        .context("reading the users the dashboard already has")?;
    let (known, todo) = provision::plan(checked.jobs, &existing);
    tracing::info!(
        to_send = todo.len(),
        already_there = known.len(),
        invalid = checked.invalid.len(),
        "sending to {}",
        connected.dashboard.base()
    );

    // Phase 3: the results file, and the rows that need no request.
    let path = args
        .report
        .clone()
        .unwrap_or_else(|| ResultsFile::default_path(&input.path));
    let mut results = ResultsFile::create(&path)
        .with_context(|| format!("failed to create the results file {}", path.display()))?;
    let mut summary = Summary::default();
    for result in checked.invalid.iter().chain(&known) {
        record(result, &mut printer, &mut results, &mut summary)?;
    }

    // Phase 4: send, until done or stopped.
    let run = Sending::new(args, connected);
    let engine = Arc::clone(&run.engine);
    run.drive(todo, &mut printer, &mut results, &mut summary)
        .await?;

    // Phase 5: sum up.
    summary.elapsed = started.elapsed();
    summary.requests = engine.requests() + listing.load(Ordering::Relaxed);
    printer.summary(&summary, &summary.run_text())?;
    if format == OutputFormat::Text {
        eprintln!("Results written to {}", results.path().display());
    }
    Ok(exit_code(
        &summary,
        engine.auth_rejected(),
        run.interrupted(),
    ))
}

fn record(
    result: &RowResult,
    printer: &mut Printer,
    results: &mut ResultsFile,
    summary: &mut Summary,
) -> anyhow::Result<()> {
    summary.count(&result.outcome);
    results
        .write(result)
        .with_context(|| format!("failed to write to {}", results.path().display()))?;
    printer.result(result)?;
    Ok(())
}

fn exit_code(summary: &Summary, auth_rejected: bool, interrupted: bool) -> Exit {
    if interrupted {
        Exit::Interrupted
    } else if auth_rejected {
        eprintln!(
            "error: the dashboard rejected the token, so the remaining rows were not sent\n\
             hint: get a new token with `provision login`, or pass --email to log in for \
             this run; rerunning the same file is safe"
        );
        Exit::Auth
    } else if summary.failed + summary.invalid + summary.not_sent > 0 {
        Exit::RowsFailed
    } else {
        Exit::Success
    }
}

/// One sending phase: the engine, and the two stops Ctrl-C gives.
struct Sending {
    engine: Arc<Engine>,
    /// Cancelled by the first Ctrl-C (or an auth failure): no new rows.
    stop: CancellationToken,
    /// Cancelled by the second Ctrl-C: stop waiting for rows in flight.
    abort: CancellationToken,
    interrupted: Arc<AtomicBool>,
}

impl Sending {
    fn new(args: &SendArgs, connected: Connected) -> Sending {
        let stop = CancellationToken::new();
        let settings = Settings {
            concurrency: args.concurrency,
            retries: args.retries,
        };
        let engine = Engine::new(
            connected.dashboard,
            settings,
            connected.credentials,
            stop.clone(),
        );
        Sending {
            engine,
            stop,
            abort: CancellationToken::new(),
            interrupted: Arc::new(AtomicBool::new(false)),
        }
    }

    fn interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    async fn drive(
        &self,
        todo: Vec<Job>,
        printer: &mut Printer,
        results: &mut ResultsFile,
        summary: &mut Summary,
    ) -> anyhow::Result<()> {
        let watcher = self.watch_signals();
        let todo: Arc<[Job]> = todo.into();
        let mut finished = HashSet::with_capacity(todo.len());
        printer.start_progress(todo.len() as u64, !tracing::enabled!(tracing::Level::DEBUG));
        let stream = self.engine.run(Arc::clone(&todo));
        futures::pin_mut!(stream);
        loop {
            let next = tokio::select! {
                biased;
                () = self.abort.cancelled() => break,
                next = stream.next() => next,
            };
            let Some(result) = next else { break };
            finished.insert(result.row);
            record(&result, printer, results, summary)?;
        }
        watcher.abort();
        // WARNING: rows not finished were in flight when the second Ctrl-C
        // came; they may or may not exist now, and say so.
        for job in todo.iter().filter(|job| !finished.contains(&job.row)) {
            record(
                &RowResult::of(job, in_flight_when_aborted()),
                printer,
                results,
                summary,
            )?;
        }
        Ok(())
    }

    fn watch_signals(&self) -> tokio::task::JoinHandle<()> {
        let stop = self.stop.clone();
        let abort = self.abort.clone();
        let interrupted = Arc::clone(&self.interrupted);
        tokio::spawn(async move {
            crate::signal::interrupted().await;
            interrupted.store(true, Ordering::SeqCst);
            stop.cancel();
            tracing::warn!(
                "interrupted: no new rows will be sent; waiting for the rows in flight \
                 (press Ctrl-C again to stop waiting)"
            );
            crate::signal::interrupted().await;
            abort.cancel();
        })
    }
}

fn in_flight_when_aborted() -> Outcome {
    Outcome::NotSent {
        reason: "stopped while in flight: the user may exist; rerun the same file to settle it"
            .into(),
    }
}
