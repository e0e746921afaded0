//! Telling the user what happened to every row: the per-row lines, the
//! results file, the summary, and JSON Lines for pipelines.
//!
//! Everything here goes to stdout or the results file; logs and the
//! progress bar go to stderr. No secret reaches this module: rows arrive as
//! [`RowSummary`]s and payload previews are already masked.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use crate::payload::Preview;
use crate::provision::{Outcome, RowResult};
use crate::roster::{Problem, RowSummary, Severity};

/// How results are printed on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// The vendor script's lines, then a summary.
    #[default]
    Text,
    /// JSON Lines: one object per row or problem, then a summary object.
    Json,
}

/// The line the vendor's script printed (or ours, for outcomes it did not
/// have).
pub fn row_line(result: &RowResult) -> String {
    let row = result.row;
    match &result.outcome {
        Outcome::Created { id } => format!("Successfully added user #{row} from csv with ID {id}"),
        Outcome::Exists { id } => format!("User #{row} from csv already exists with ID {id}"),
        Outcome::Failed { error, message, .. } => {
            let mut line = format!(
                "Error adding user #{row} from csv, got error {error} from Team Dashboard."
            );
            if let Some(message) = message {
                line.push_str(&format!(" ({message})"));
            }
            line
        }
        Outcome::Invalid { .. } => format!("Skipped user #{row} from csv: the row is invalid"),
        Outcome::NotSent { reason } => format!("User #{row} from csv was not sent: {reason}"),
    }
}

/// Counts for the closing summary.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub rows: usize,
    /// Dry run: rows that pass every rule.
    pub valid: usize,
    pub created: usize,
    pub exists: usize,
    pub failed: usize,
    pub invalid: usize,
    pub not_sent: usize,
    pub warnings: usize,
    #[serde(skip)]
    pub elapsed: Duration,
    pub requests: u64,
}

impl Summary {
    /// Counts one row's outcome.
    pub fn count(&mut self, outcome: &Outcome) {
        self.rows += 1;
        match outcome {
            Outcome::Created { .. } => self.created += 1,
            Outcome::Exists { .. } => self.exists += 1,
            Outcome::Failed { .. } => self.failed += 1,
            Outcome::Invalid { .. } => self.invalid += 1,
            Outcome::NotSent { .. } => self.not_sent += 1,
        }
    }

    fn requests_per_second(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.requests as f64 / seconds
        } else {
            0.0
        }
    }

    /// The closing line of a provisioning run.
    pub fn run_text(&self) -> String {
        format!(
            "Summary: {}: {} created, {} already there, {} failed, {} invalid, \
             {} not sent; {} in {:.1} s ({:.1} requests/s)",
            counted(self.rows, "row"),
            self.created,
            self.exists,
            self.failed,
            self.invalid,
            self.not_sent,
            counted(self.requests as usize, "request"),
            self.elapsed.as_secs_f64(),
            self.requests_per_second()
        )
    }

    /// The closing line of a dry run.
    pub fn check_text(&self) -> String {
        let mut text = format!(
            "Summary: {}: {} valid, {} invalid, {}",
            counted(self.rows, "row"),
            self.valid,
            self.invalid,
            counted(self.warnings, "warning")
        );
        if self.exists > 0 {
            text.push_str(&format!("; {} already on the dashboard", self.exists));
        }
        text.push_str("; nothing was sent");
        text
    }
}

/// `1 row`, `2 rows`.
fn counted(count: usize, noun: &str) -> String {
    let s = if count == 1 { "" } else { "s" };
    format!("{count} {noun}{s}")
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum JsonLine<'a> {
    Row {
        row: usize,
        line: u64,
        #[serde(flatten)]
        summary: &'a RowSummary,
        outcome: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        payload: Option<&'a Preview<'a>>,
    },
    Problem {
        severity: &'a str,
        file: &'a str,
        row: Option<usize>,
        line: Option<u64>,
        column: Option<&'a str>,
        message: &'a str,
    },
    Summary {
        #[serde(flatten)]
        summary: &'a Summary,
        elapsed_seconds: f64,
    },
}

impl Serialize for RowSummary {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("email", &self.email)?;
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("surname", &self.surname)?;
        map.serialize_entry("role", &self.role)?;
        map.end()
    }
}

/// Where results are printed: stdout in one of the two formats, with a
/// progress bar on stderr kept out of the way of the lines.
#[derive(Debug)]
pub struct Printer {
    format: OutputFormat,
    out: BufWriter<io::Stdout>,
    /// Flush after every line, so rows show as they finish; a dry run of a
    /// big file flushes only at the end, for speed.
    flush_each: bool,
    progress: Progress,
    /// Reused for building a line, of text or JSON.
    line: String,
    json: Vec<u8>,
}

impl Printer {
    /// A printer for `format`; `flush_each` shows each line at once.
    pub fn new(format: OutputFormat, flush_each: bool) -> Printer {
        Printer {
            format,
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
            flush_each,
            progress: Progress::hidden(),
            line: String::new(),
            json: Vec::new(),
        }
    }

    /// Shows a progress bar of `total` rows, if stderr is a terminal.
    pub fn start_progress(&mut self, total: u64, wanted: bool) {
        self.progress = Progress::start(total, wanted);
    }

    /// The output format.
    pub fn format(&self) -> OutputFormat {
        self.format
    }

    /// Writes one line of text (a `Display`, so it is formatted straight
    /// into the buffer).
    /// Writes one line of text.
    fn emit(&mut self, line: &str) -> io::Result<()> {
        self.emit_bytes(line.as_bytes())
    }

    fn emit_bytes(&mut self, line: &[u8]) -> io::Result<()> {
        let out = &mut self.out;
        let flush_each = self.flush_each;
        self.progress.suspend(|| {
            out.write_all(line)?;
            out.write_all(b"\n")?;
            if flush_each { out.flush() } else { Ok(()) }
        })
    }

    fn emit_json(&mut self, line: &JsonLine<'_>) -> io::Result<()> {
        // Serialized into a buffer first, so that a line is written whole
        // or not at all, and in one call rather than one for each run of
        // characters between those that JSON escapes.
        let mut json = std::mem::take(&mut self.json);
        json.clear();
        serde_json::to_writer(&mut json, line)?;
        let written = self.emit_bytes(&json);
        self.json = json;
        written
    }

    /// A problem of the file, located in `file`.
    pub fn problem(&mut self, file: &str, problem: &Problem) -> io::Result<()> {
        match self.format {
            OutputFormat::Text => self.emit(&problem.display_in(file).to_string()),
            OutputFormat::Json => self.emit_json(&JsonLine::Problem {
                severity: match problem.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                file,
                row: problem.row,
                line: problem.line,
                column: problem.column.as_deref(),
                message: &problem.message,
            }),
        }
    }

    /// A finished row of a provisioning run.
    pub fn result(&mut self, result: &RowResult) -> io::Result<()> {
        self.progress.inc();
        match self.format {
            OutputFormat::Text => self.emit(&row_line(result)),
            OutputFormat::Json => {
                let (id, status, message) = outcome_fields(&result.outcome);
                self.emit_json(&JsonLine::Row {
                    row: result.row,
                    line: result.line,
                    summary: &result.summary,
                    outcome: result.outcome.label(),
                    id,
                    status,
                    message,
                    payload: None,
                })
            }
        }
    }

    /// A row of a dry run: valid (with what would be sent), already on the
    /// dashboard, or invalid (its problems were printed before).
    pub fn checked(
        &mut self,
        row: usize,
        line: u64,
        summary: &RowSummary,
        check: Check<'_>,
    ) -> io::Result<()> {
        match self.format {
            OutputFormat::Text => match check {
                Check::Valid(preview) => {
                    // The line is built in a buffer kept for the next row.
                    let mut text = std::mem::take(&mut self.line);
                    text.clear();
                    text.push_str("Row #");
                    text.push_str(itoa::Buffer::new().format(row));
                    text.push_str(" is valid and would be sent: ");
                    preview.write_line(&mut text);
                    let written = self.emit(&text);
                    self.line = text;
                    written
                }
                Check::Exists(id) => self.emit(&format!(
                    "User #{row} from csv already exists with ID {id}; it would be skipped"
                )),
                Check::Invalid => Ok(()),
            },
            OutputFormat::Json => {
                let (outcome, id, payload) = match check {
                    Check::Valid(preview) => ("valid", None, Some(preview)),
                    Check::Exists(id) => ("exists", Some(id), None),
                    Check::Invalid => ("invalid", None, None),
                };
                self.emit_json(&JsonLine::Row {
                    row,
                    line,
                    summary,
                    outcome,
                    id,
                    status: None,
                    message: None,
                    payload,
                })
            }
        }
    }

    /// A note for the person running the tool (text output only).
    pub fn note(&mut self, text: &str) -> io::Result<()> {
        match self.format {
            OutputFormat::Text => self.emit(text),
            OutputFormat::Json => Ok(()),
        }
    }

    /// The closing summary; `text` is its text form.
    pub fn summary(&mut self, summary: &Summary, text: &str) -> io::Result<()> {
        self.progress.finish();
        match self.format {
            OutputFormat::Text => self.emit(text)?,
            OutputFormat::Json => self.emit_json(&JsonLine::Summary {
                summary,
                elapsed_seconds: summary.elapsed.as_secs_f64(),
            })?,
        }
        self.out.flush()
    }
}

/// What a dry run says of one row.
#[derive(Debug)]
pub enum Check<'a> {
    Valid(&'a Preview<'a>),
    Exists(u64),
    Invalid,
}

fn outcome_fields(outcome: &Outcome) -> (Option<u64>, Option<u16>, Option<&str>) {
    match outcome {
        Outcome::Created { id } | Outcome::Exists { id } => (Some(*id), None, None),
        Outcome::Failed {
            status, message, ..
        } => (None, *status, message.as_deref()),
        Outcome::Invalid { message } | Outcome::NotSent { reason: message } => {
            (None, None, Some(message))
        }
    }
}

/// A progress bar on stderr, or nothing.
#[derive(Debug)]
struct Progress(Option<ProgressBar>);

impl Progress {
    fn hidden() -> Progress {
        Progress(None)
    }

    /// A bar only when a person watches stderr and logs will not fight it.
    fn start(total: u64, wanted: bool) -> Progress {
        if !wanted || !io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{bar:40} {pos}/{len} rows, {per_sec}, {eta} left")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Progress(Some(bar))
    }

    fn inc(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    fn suspend<T>(&self, f: impl FnOnce() -> T) -> T {
        match &self.0 {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// The results file: `;`-separated UTF-8 with a byte-order mark so Excel
/// opens it right, one row per finished row, flushed as it is written.
#[derive(Debug)]
pub struct ResultsFile {
    path: PathBuf,
    writer: csv::Writer<File>,
}

/// The columns of the results file.
pub const RESULTS_HEADER: [&str; 10] = [
    "row",
    "line",
    "email",
    "name",
    "surname",
    "role",
    "outcome",
    "id",
    "http_status",
    "message",
];

impl ResultsFile {
    /// `<input stem>.results.csv` beside the input.
    pub fn default_path(input: &Path) -> PathBuf {
        let stem = input
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        input.with_file_name(format!("{stem}.results.csv"))
    }

    /// Creates (or replaces) the file and writes its header.
    pub fn create(path: &Path) -> io::Result<ResultsFile> {
        let mut file = File::create(path)?;
        file.write_all("\u{feff}".as_bytes())?;
        let mut writer = csv::WriterBuilder::new().delimiter(b';').from_writer(file);
        writer.write_record(RESULTS_HEADER)?;
        writer.flush()?;
        Ok(ResultsFile {
            path: path.to_path_buf(),
            writer,
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one row and flushes it to the file.
    pub fn write(&mut self, result: &RowResult) -> io::Result<()> {
        let (id, status, message) = outcome_fields(&result.outcome);
        let text = |value: Option<u64>| value.map(|v| v.to_string()).unwrap_or_default();
        let record = [
            result.row.to_string(),
            result.line.to_string(),
            excel_safe(&result.summary.email),
            excel_safe(&result.summary.name),
            excel_safe(&result.summary.surname),
            excel_safe(&result.summary.role),
            result.outcome.label().to_string(),
            text(id),
            text(status.map(u64::from)),
            excel_safe(message.unwrap_or_default()),
        ];
        self.writer.write_record(&record)?;
        self.writer.flush()
    }
}

/// A results file that cannot be read back.
///
/// The messages include their cause, so no variant marks it `#[source]`:
/// printing the chain would show it twice.
#[derive(Debug, thiserror::Error)]
pub enum ResultsFileError {
    #[error(
        "{}: cannot read the results file: {reason}; name the one a provisioning run wrote \
         (<agents>.results.csv beside the agents file, or its --report path)",
        path.display()
    )]
    Read { path: PathBuf, reason: csv::Error },
    #[error(
        "{} is not the results file of a provisioning run: it has no `{column}` column",
        path.display()
    )]
    NotResults { path: PathBuf, column: &'static str },
    #[error("{}: line {line}: a created row has no valid user ID: {value:?}", path.display())]
    BadId {
        path: PathBuf,
        line: u64,
        value: String,
    },
}

/// The IDs of the users a provisioning run created (rows whose outcome is
/// `created`), read back from its results file, in file order. Rows with
/// other outcomes are skipped: `exists` users were there before the run.
pub fn created_ids(path: &Path) -> Result<Vec<u64>, ResultsFileError> {
    let read_error = |reason: csv::Error| ResultsFileError::Read {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|e| read_error(e.into()))?;
    let mut input = BufReader::new(file);
    let bom = "\u{feff}".as_bytes();
    if input
        .fill_buf()
        .map_err(|e| read_error(e.into()))?
        .starts_with(bom)
    {
        input.consume(bom.len());
    }
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(input);
    let headers = reader.headers().map_err(read_error)?.clone();
    let column = |name: &'static str| {
        headers
            .iter()
            .position(|header| header.trim() == name)
            .ok_or_else(|| ResultsFileError::NotResults {
                path: path.to_path_buf(),
                column: name,
            })
    };
    let (outcome, id) = (column("outcome")?, column("id")?);

    let mut ids = Vec::new();
    for record in reader.records() {
        let record = record.map_err(read_error)?;
        if record.get(outcome).map(str::trim) != Some("created") {
            continue;
        }
        let value = record.get(id).unwrap_or_default().trim();
        let parsed = value.parse().map_err(|_| ResultsFileError::BadId {
            path: path.to_path_buf(),
            line: record.position().map_or(0, csv::Position::line),
            value: value.to_string(),
        })?;
        ids.push(parsed);
    }
    Ok(ids)
}

/// Keeps Excel from running a cell as a formula: cells that start with
/// `=`, `+`, `-`, `@` (or a tab or carriage return, which Excel skips) get
/// a leading apostrophe, which Excel shows as text.
pub fn excel_safe(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(outcome: Outcome) -> RowResult {
        RowResult {
            row: 2,
            line: 3,
            summary: RowSummary {
                email: "a@b.c".into(),
                name: "=HYPERLINK(\"x\")".into(),
                surname: "Doe".into(),
                role: "EMPLOYEE".into(),
            },
            outcome,
        }
    }

    #[test]
    fn lines_are_the_vendor_scripts() {
        assert_eq!(
            row_line(&result(Outcome::Created { id: 17 })),
            "Successfully added user #2 from csv with ID 17"
        );
        let failed = Outcome::Failed {
            error: "500".into(),
            status: Some(500),
            message: None,
        };
        assert_eq!(
            row_line(&result(failed)),
            "Error adding user #2 from csv, got error 500 from Team Dashboard."
        );
        let timeout = Outcome::Failed {
            error: "timeout".into(),
            status: None,
            message: Some("no answer within 1s".into()),
        };
        assert_eq!(
            row_line(&result(timeout)),
            "Error adding user #2 from csv, got error timeout from Team Dashboard. (no answer within 1s)"
        );
    }

    #[test]
    fn formula_cells_are_defused() {
        assert_eq!(excel_safe("=1+1"), "'=1+1");
        assert_eq!(excel_safe("+7 900"), "'+7 900");
        assert_eq!(excel_safe("@x"), "'@x");
        assert_eq!(excel_safe("-2"), "'-2");
        assert_eq!(excel_safe("Anna"), "Anna");
    }

    #[test]
    fn results_file_has_bom_header_and_safe_cells() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agents.results.csv");
        let mut file = ResultsFile::create(&path).unwrap();
        file.write(&result(Outcome::Created { id: 9 })).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "\u{feff}row;line;email;name;surname;role;outcome;id;http_status;message\n\
             2;3;a@b.c;\"'=HYPERLINK(\"\"x\"\")\";Doe;EMPLOYEE;created;9;;\n"
        );
    }

    #[test]
    fn created_ids_are_read_back_from_a_results_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agents.results.csv");
        let mut file = ResultsFile::create(&path).unwrap();
        file.write(&result(Outcome::Created { id: 9 })).unwrap();
        file.write(&result(Outcome::Exists { id: 4 })).unwrap();
        file.write(&result(Outcome::Created { id: 12 })).unwrap();
        drop(file);
        assert_eq!(created_ids(&path).unwrap(), vec![9, 12]);

        std::fs::write(&path, "row;line;email;outcome;id\n1;2;a@b.c;created;x\n").unwrap();
        let error = created_ids(&path).unwrap_err().to_string();
        assert!(
            error.ends_with("line 2: a created row has no valid user ID: \"x\""),
            "{error}"
        );
        std::fs::write(&path, "usesSP;name;email\n").unwrap();
        let error = created_ids(&path).unwrap_err().to_string();
        assert!(error.ends_with("has no `outcome` column"), "{error}");
    }

    #[test]
    fn a_missing_results_file_is_named_with_its_cause_once() {
        let path = Path::new("no-such-dir/agents.results.csv");
        let error = anyhow::Error::new(created_ids(path).unwrap_err());
        let shown = format!("{error:#}");
        assert!(
            shown.starts_with("no-such-dir/agents.results.csv: cannot read the results file: "),
            "{shown}"
        );
        assert_eq!(shown.matches("(os error").count(), 1, "{shown}");
        assert!(shown.ends_with("or its --report path)"), "{shown}");
    }

    #[test]
    fn default_results_path_sits_beside_the_input() {
        assert_eq!(
            ResultsFile::default_path(Path::new("/data/agents.csv")),
            PathBuf::from("/data/agents.results.csv")
        );
    }
}
