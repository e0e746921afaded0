//! Opening an agents file and streaming its checked rows.
//!
//! [`open`] detects the format, encoding and separator, reads the header and
//! returns [`Rows`], an iterator that reads and checks one record at a time:
//! a CSV file is never held in memory as a whole. It prints nothing; the
//! notices and problems are for the caller to show.

use std::fmt;
use std::io::{self, Cursor, Read};
use std::path::{Path, PathBuf};

use csv::StringRecord;

use super::decode::{self, Input};
use super::header;
use super::rules::RowChecker;
use super::xlsx::Sheet;
use super::{CheckedRow, Problem, ReadOptions, RosterError};

/// How much of the decoded text is looked at to find the separator.
const PEEK_BYTES: usize = 64 * 1024;
/// The csv reader's buffer; larger than its default to cut read calls.
const CSV_BUFFER: usize = 64 * 1024;

/// Opens the agents file at `path` (CSV or `.xlsx`) and reads its header.
///
/// Fails with a [`RosterError`] when the file can't be read, is empty,
/// binary, or its header lacks required columns or repeats one. A header
/// with no data rows is not an error: the iterator then yields nothing.
pub fn open(path: &Path, options: &ReadOptions) -> Result<Rows, RosterError> {
    let (source, notices) = match decode::open_input(path, options.encoding)? {
        Input::Xlsx => (Source::Sheet(Sheet::open(path)?), Vec::new()),
        Input::Text { reader, notice } => {
            let (source, separator_notice) = csv_source(reader, options.delimiter, path)?;
            (source, notice.into_iter().chain(separator_notice).collect())
        }
    };
    Rows::start(path, source, notices)
}

/// Builds the csv reader, choosing the separator from the first line unless
/// `delimiter` is given.
fn csv_source(
    mut reader: Box<dyn Read + Send>,
    delimiter: Option<u8>,
    path: &Path,
) -> Result<(Source, Option<String>), RosterError> {
    let prefix = peek_first_line(&mut reader).map_err(|reason| RosterError::Open {
        path: path.to_path_buf(),
        reason,
    })?;
    let (delimiter, notice) = match delimiter {
        Some(given) => (given, None),
        None => header::sniff_delimiter(prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&prefix)),
    };
    // NOTE: with CRLF line ends the csv crate reports each record one line
    // too early (https://github.com/BurntSushi/rust-csv/issues/395, open).
    // Splitting at `\n` alone keeps its line numbers right; the `\r` left in
    // the last cell is trimmed, or removed by `Columns::get`. Old Mac files
    // that end lines with `\r` alone keep the default, and all their rows
    // then report line 1.
    let terminator = if prefix.contains(&b'\r') && !prefix.contains(&b'\n') {
        csv::Terminator::CRLF
    } else {
        csv::Terminator::Any(b'\n')
    };
    let whole: Box<dyn Read + Send> = Box::new(Cursor::new(prefix).chain(reader));
    let csv = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .terminator(terminator)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(CSV_BUFFER)
        .from_reader(whole);
    Ok((Source::Csv(Box::new(csv)), notice))
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
enum Source {
    Csv(Box<csv::Reader<Box<dyn Read + Send>>>),
    Sheet(Sheet),
}

impl Source {
    /// Fills `record` with the next record; returns the physical line where
    /// it starts, `None` at the end, or the reading error as text.
    fn next_record(&mut self, record: &mut StringRecord) -> Result<Option<u64>, String> {
        match self {
            Source::Csv(csv) => match csv.read_record(record) {
                Ok(true) => Ok(Some(record.position().map_or(0, csv::Position::line))),
                Ok(false) => Ok(None),
                Err(error) => Err(csv_error_text(&error)),
            },
            Source::Sheet(sheet) => Ok(sheet.next_record(record)),
        }
    }
}

/// The csv error without the position, which the caller words itself.
fn csv_error_text(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => error.to_string(),
    }
}

/// The checked rows of an agents file, read one at a time.
///
/// Yields `Ok` for every data row, valid or not; records whose cells are
/// all blank are skipped and not numbered. An `Err` means the rest of the
/// file could not be read (an I/O error part way, or a file that changed
/// while being read); nothing follows it.
pub struct Rows {
    path: PathBuf,
    source: Source,
    /// Reused for every record, so reading allocates nothing per row.
    record: StringRecord,
    checker: RowChecker,
    notices: Vec<String>,
    header_problems: Vec<Problem>,
    /// The number of the last data row yielded.
    row: usize,
    /// The line of the last record read, for a later error's message.
    line: u64,
    done: bool,
}

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("path", &self.path)
            .field("columns", self.checker.columns())
            .field("row", &self.row)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl Rows {
    /// Reads the header (the first record with anything in it).
    fn start(path: &Path, mut source: Source, notices: Vec<String>) -> Result<Rows, RosterError> {
        let mut record = StringRecord::new();
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
        Ok(Rows {
            path: path.to_path_buf(),
            source,
            record,
            checker: RowChecker::new(columns),
            notices,
            header_problems,
            row: 0,
            line,
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
        self.checker.columns().names()
    }
}

impl Iterator for Rows {
    type Item = Result<CheckedRow, RosterError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            match self.source.next_record(&mut self.record) {
                Ok(Some(line)) => {
                    self.line = line;
                    if is_blank(&self.record) {
                        continue;
                    }
                    self.row += 1;
                    return Some(Ok(self.checker.check(&self.record, self.row, line)));
                }
                Ok(None) => self.done = true,
                Err(reason) => {
                    self.done = true;
                    return Some(Err(read_error(&self.path, self.line, reason)));
                }
            }
        }
        None
    }
}

fn read_error(path: &Path, line: u64, reason: String) -> RosterError {
    RosterError::Read {
        path: path.to_path_buf(),
        line,
        reason,
    }
}

/// Whether every cell is empty or spaces: Excel writes such rows for
/// formatted but empty lines.
fn is_blank(record: &StringRecord) -> bool {
    record.iter().all(|field| field.trim().is_empty())
}
