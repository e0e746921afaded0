//! Opening an agents file and streaming its checked rows.
//!
//! [`open`] detects the format, encoding and separator, reads the header and
//! returns [`Rows`], an iterator that reads and checks one record at a time:
//! a CSV file is never held in memory as a whole. It prints nothing; the
//! notices and problems are for the caller to show.

use std::fmt;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use super::decode::{self, Input, Refusal};
use super::emails::{self, SeenEmails};
use super::header::{self, Col};
use super::pipeline::{BATCH_ROWS, Batch, Pipeline};
use super::record::{ReadError, Reader, Record};
use super::rules::{self, RowChecker};
use super::xlsx::Sheet;
use super::{CheckedRow, Problem, ReadOptions, RosterError};

/// How much of the decoded text is looked at to find the separator.
const PEEK_BYTES: usize = 64 * 1024;

/// Opens the agents file at `path` (CSV or `.xlsx`) and reads its header.
///
/// Fails with a [`RosterError`] when the file can't be read, is empty,
/// binary, or its header lacks required columns or repeats one. A header
/// with no data rows is not an error: the iterator then yields nothing.
pub fn open(path: &Path, options: &ReadOptions) -> Result<Rows, RosterError> {
    let (source, notices) = match decode::open_input(path, options.encoding)? {
        Input::Xlsx => (Source::Sheet(Sheet::open(path)?), Vec::new()),
        Input::Text {
            reader,
            notice,
            utf8_given,
        } => {
            let (csv, separator_notice) = csv_source(reader, options.delimiter, path)?;
            let source = Source::Csv { csv, utf8_given };
            (source, notice.into_iter().chain(separator_notice).collect())
        }
    };
    Rows::start(path, source, notices)
}

/// Builds the record reader, choosing the separator from the first line unless
/// `delimiter` is given.
fn csv_source(
    mut reader: Box<dyn Read + Send>,
    delimiter: Option<u8>,
    path: &Path,
) -> Result<(Box<Reader>, Option<String>), RosterError> {
    let prefix = peek_first_line(&mut reader).map_err(|reason| match decode::refusal(&reason) {
        Some(refusal) => read_error(path, 0, Failure::Refused(refusal.clone())),
        None => RosterError::Open {
            path: path.to_path_buf(),
            reason,
        },
    })?;
    let (delimiter, notice) = match delimiter {
        Some(given) => (given, None),
        None => header::sniff_delimiter(prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&prefix)),
    };
    // NOTE: records end at `\n` alone, which keeps line numbers right (the
    // csv crate's CRLF mode reports each record one line too early,
    // https://github.com/BurntSushi/rust-csv/issues/395, open); the `\r`
    // left in the last cell is trimmed, or removed by `Columns::get`. Old
    // Mac files that end lines with `\r` alone need CRLF mode, and all
    // their rows then report line 1.
    let terminator = if prefix.contains(&b'\r') && !prefix.contains(&b'\n') {
        csv_core::Terminator::CRLF
    } else {
        csv_core::Terminator::Any(b'\n')
    };
    let whole: Box<dyn Read + Send> = Box::new(Cursor::new(prefix).chain(reader));
    Ok((Box::new(Reader::new(whole, delimiter, terminator)), notice))
}

/// Reads from `reader` until the first line break, [`PEEK_BYTES`] or the end.
fn peek_first_line(reader: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut prefix = Vec::new();
    let mut chunk = [0; 4096];
    while prefix.len() < PEEK_BYTES && !prefix.contains(&b'\n') {
        match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => prefix.extend_from_slice(&chunk[..read]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(prefix)
}

/// Where records come from.
pub(super) enum Source {
    Csv {
        csv: Box<Reader>,
        /// See [`Input::Text`].
        utf8_given: bool,
    },
    Sheet(Sheet),
}

impl Source {
    /// Fills `record` with the next record; returns the physical line where
    /// it starts, `None` at the end, or the reading error as text.
    pub(super) fn next_record(&mut self, record: &mut Record) -> Result<Option<u64>, Failure> {
        match self {
            Source::Csv { csv, utf8_given } => match csv.read(record) {
                Ok(line) => Ok(line),
                Err(ReadError::Io(error)) => Err(failure(&error)),
                Err(ReadError::NotUtf8(error)) => Err(Failure::NotUtf8 {
                    line: error.line,
                    field: error.cell + 1,
                    given: *utf8_given,
                }),
            },
            Source::Sheet(sheet) => Ok(sheet.next_record(record)),
        }
    }
}

/// Why reading stopped part way.
pub(super) enum Failure {
    /// Reading failed; the text says why, without a position.
    Read(String),
    /// What the file's reader refused: see [`decode::Refusal`].
    Refused(decode::Refusal),
    /// A record, starting on `line`, that is not UTF-8 in `field` (from
    /// 1), in a file read as UTF-8; `given` when `--encoding` said so.
    NotUtf8 {
        line: u64,
        field: usize,
        given: bool,
    },
}

/// A reading error as a [`Failure`].
fn failure(error: &io::Error) -> Failure {
    match decode::refusal(error) {
        Some(refusal) => Failure::Refused(refusal.clone()),
        None => Failure::Read(error.to_string()),
    }
}

/// The checked rows of an agents file, read one at a time.
///
/// [`Rows::next_row`] lends each row, reusing its buffers; the
/// [`Iterator`] impl hands out owned copies. Every data row is yielded,
/// valid or not; records whose cells are all blank are skipped and not
/// numbered. An `Err` means the rest of the file could not be read (an I/O
/// error part way, or a file that changed while being read); nothing
/// follows it.
///
/// NOTE: the records are parsed and their cells checked on threads of
/// their own (see [`super::pipeline`]). The one rule that needs the rows in
/// order, unique emails, is applied here, a batch at a time.
pub struct Rows {
    path: PathBuf,
    columns: Vec<String>,
    notices: Vec<String>,
    header_problems: Vec<Problem>,
    emails: Emails,
    pipeline: Pipeline,
    /// The batch being handed out, and the index of its next row.
    current: Option<Batch>,
    next: usize,
    done: bool,
}

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("path", &self.path)
            .field("columns", &self.columns)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Rows {
    /// Reads the header (the first record with anything in it), then
    /// starts the thread that reads the rest.
    fn start(path: &Path, mut source: Source, notices: Vec<String>) -> Result<Rows, RosterError> {
        let mut record = Record::default();
        let mut line = 0;
        loop {
            line = match source.next_record(&mut record) {
                Ok(Some(line)) => line,
                Ok(None) => {
                    return Err(RosterError::Empty {
                        path: path.to_path_buf(),
                    });
                }
                Err(reason) => return Err(read_error(path, line, reason)),
            };
            if !is_blank(&record) {
                break;
            }
        }
        let (columns, header_problems) = header::parse(&record, line, path)?;
        let names = columns.names().to_vec();
        let pipeline =
            Pipeline::start(path, source, RowChecker::new(columns), line).map_err(|reason| {
                RosterError::Open {
                    path: path.to_path_buf(),
                    reason,
                }
            })?;
        Ok(Rows {
            path: path.to_path_buf(),
            columns: names,
            notices,
            header_problems,
            emails: Emails::new(expected_rows(path)),
            pipeline,
            current: None,
            next: 0,
            done: false,
        })
    }

    /// Human notes on how the file was read, such as
    /// `read as Windows-1251 (the file is not valid UTF-8, first at line 3)`
    /// or `separator is ',' (the header has no ';')`.
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Warnings about the header: unknown or unnamed columns. Each has the
    /// header's line and no row.
    pub fn header_problems(&self) -> &[Problem] {
        &self.header_problems
    }

    /// The header names, trimmed and lower-cased, in file order (an unnamed
    /// column is the empty string).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The next row, lent until the next call: rows are checked into
    /// buffers that are reused, so reading allocates next to nothing.
    pub fn next_row(&mut self) -> Option<Result<&CheckedRow, RosterError>> {
        let at = match self.advance()? {
            Ok(at) => at,
            Err(error) => return Some(Err(error)),
        };
        Some(Ok(&self.current.as_ref()?.rows[at]))
    }

    /// Whether the file has any data row, not only a header and blank
    /// lines (a read error counts as a row: [`Rows::next_row`] yields it).
    /// Waits for the first rows to be read; call it before reading.
    pub fn has_rows(&mut self) -> bool {
        if self.current.is_none() && !self.done {
            self.next_batch();
        }
        self.current
            .as_ref()
            .is_some_and(|batch| batch.len > 0 || matches!(batch.end, Some(Err(_))))
    }

    /// Moves to the next row; its index in the current batch.
    fn advance(&mut self) -> Option<Result<usize, RosterError>> {
        while !self.done {
            if let Some(batch) = &mut self.current {
                if self.next < batch.len {
                    self.next += 1;
                    return Some(Ok(self.next - 1));
                }
                if let Some(end) = batch.end.take() {
                    self.done = true;
                    return end.err().map(Err);
                }
            }
            self.next_batch();
        }
        None
    }

    /// Gives the current batch back and takes the next one, placing its
    /// emails.
    fn next_batch(&mut self) {
        if let Some(used) = self.current.take() {
            self.pipeline.give_back(used);
        }
        match self.pipeline.next() {
            Some(mut batch) => {
                self.emails.check(&mut batch.rows[..batch.len]);
                self.current = Some(batch);
                self.next = 0;
            }
            None => self.done = true,
        }
    }
}

impl Iterator for Rows {
    type Item = Result<CheckedRow, RosterError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_row().map(|row| row.cloned())
    }
}

/// About how many rows the file at `path` has, from its size; at most
/// [`MAX_EXPECTED_ROWS`], so that a huge file does not reserve memory for
/// rows it may not have.
fn expected_rows(path: &Path) -> usize {
    let bytes = std::fs::metadata(path).map_or(0, |meta| meta.len());
    usize::try_from(bytes / BYTES_PER_ROW)
        .map_or(MAX_EXPECTED_ROWS, |rows| rows.min(MAX_EXPECTED_ROWS))
}

/// A row of the vendor's format is rarely shorter than this.
const BYTES_PER_ROW: u64 = 100;
/// The most rows [`expected_rows`] expects: 16 MB of email table, and 24
/// MB reserved for the emails.
const MAX_EXPECTED_ROWS: usize = 1 << 20;

/// The rule that spans rows: an email may appear once in the file,
/// ignoring case. The later row is the error, naming the earlier one.
struct Emails {
    seen: SeenEmails,
    /// The batch's emails in lower case, one after another, reused.
    lowered: String,
    /// For each of them: the row's index in the batch, where its email
    /// ends in `lowered`, and its hash.
    batch: Vec<(usize, usize, u64)>,
}

impl Emails {
    fn new(expected: usize) -> Emails {
        Emails {
            seen: SeenEmails::with_capacity(expected),
            lowered: String::new(),
            batch: Vec::with_capacity(BATCH_ROWS),
        }
    }

    /// Applies the rule to a batch, in file order. All the hashes are
    /// worked out first and their slots then warmed in one go, so that
    /// their cache misses overlap instead of coming one after another.
    fn check(&mut self, rows: &mut [CheckedRow]) {
        self.lowered.clear();
        self.batch.clear();
        for (index, row) in rows.iter().enumerate() {
            if row.email_at.is_some() {
                let start = self.lowered.len();
                emails::push_lowered(&row.summary.email, &mut self.lowered);
                let hash = self.seen.hash(&self.lowered[start..]);
                self.batch.push((index, self.lowered.len(), hash));
            }
        }
        self.seen.warm(self.batch.iter().map(|&(_, _, hash)| hash));
        let mut start = 0;
        for &(index, end, hash) in &self.batch {
            let lowered = &self.lowered[start..end];
            start = end;
            let row = &mut rows[index];
            let Some(at) = row.email_at else { continue };
            if let Err(earlier) = self.seen.insert(lowered, hash, row.row) {
                let message = rules::repeated_email(&row.summary.email, earlier);
                let problem = Problem::error(row.row, row.line, Col::Email.name(), message);
                row.problems.insert(at, problem);
                row.agent = None;
            }
        }
    }
}

pub(super) fn read_error(path: &Path, line: u64, failure: Failure) -> RosterError {
    match failure {
        Failure::Read(reason) => RosterError::Read {
            path: path.to_path_buf(),
            line,
            reason,
        },
        Failure::Refused(Refusal::Undecodable { line, encoding }) => RosterError::Undecodable {
            path: path.to_path_buf(),
            line,
            encoding,
        },
        Failure::Refused(Refusal::Nul) => RosterError::Binary {
            path: path.to_path_buf(),
        },
        Failure::Refused(Refusal::LongLine { line }) => RosterError::LongLine {
            path: path.to_path_buf(),
            line,
        },
        Failure::NotUtf8 {
            line, given: true, ..
        } => RosterError::NotUtf8 {
            path: path.to_path_buf(),
            line,
        },
        Failure::NotUtf8 {
            line,
            field,
            given: false,
        } => RosterError::MixedEncoding {
            path: path.to_path_buf(),
            line,
            field,
        },
    }
}

/// Whether every cell is empty or spaces: Excel writes such rows for
/// formatted but empty lines.
pub(super) fn is_blank(record: &Record) -> bool {
    record.iter().all(|field| field.trim().is_empty())
}
