//! The fatal, file-level errors of reading an agents file.
//!
//! A [`RosterError`] stops the reading: the file can't be opened, decoded or
//! understood as a table of agents. Problems of single rows or unknown
//! columns are not errors here; they are [`Problem`](super::Problem)s and the
//! reading goes on.

use std::io;
use std::path::PathBuf;

/// Why an agents file can't be read at all.
///
/// Every message names the file and says what to do next. The message
/// includes the cause (an I/O error, a spreadsheet error), so no variant
/// also marks it as `#[source]`: a chain printer would show it twice.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// The file could not be opened or read from its start.
    #[error("failed to read {}: {reason}; check the path and that the file is readable", path.display())]
    Open { path: PathBuf, reason: io::Error },

    /// Reading failed part way through; the rows before were yielded.
    #[error(
        "failed to read {} after line {line}: {reason}; the rows up to there were read, the rest were not, so read the file again",
        path.display()
    )]
    Read {
        path: PathBuf,
        /// The last line read successfully (0 when none was).
        line: u64,
        reason: String,
    },

    /// The file has no bytes, or no row with anything in it.
    #[error(
        "{} is empty; the first row must name the columns (usesSP;name;surname;email;password;role;groupsIn, ...)",
        path.display()
    )]
    Empty { path: PathBuf },

    /// NUL bytes outside UTF-16: not a text file.
    #[error(
        "{} looks like a binary file, not a CSV or .xlsx (it contains NUL bytes); save it from Excel as \"CSV UTF-8\" or .xlsx, or if it is UTF-16 text without a byte-order mark, name that encoding",
        path.display()
    )]
    Binary { path: PathBuf },

    /// UTF-8 was asked for explicitly, but the bytes are not UTF-8.
    #[error(
        "{} is not valid UTF-8 (first at line {line}); name its real encoding, such as windows-1251, or let it be detected",
        path.display()
    )]
    NotUtf8 { path: PathBuf, line: u64 },

    /// The file starts as UTF-8 (its encoding was settled from its start)
    /// but a later line is not: most likely rows pasted in from a file of
    /// another encoding.
    #[error(
        "{}: line {line} is not valid UTF-8 (in field {field}), though the file before it is: it mixes two encodings, perhaps rows pasted from another file; save it again from Excel as \"CSV UTF-8\", or if all of it is in one encoding, name it with --encoding",
        path.display()
    )]
    MixedEncoding {
        path: PathBuf,
        line: u64,
        /// The field, from 1, where the bytes are.
        field: usize,
    },

    /// The text has bytes that its encoding does not define, such as a
    /// lone UTF-16 surrogate or Windows-1251's byte 0x98.
    #[error(
        "{}: line {line} is not valid {encoding} text (it has bytes that the encoding does not define); save the file again from Excel as \"CSV UTF-8\", or name its real encoding with --encoding",
        path.display()
    )]
    Undecodable {
        path: PathBuf,
        line: u64,
        encoding: String,
    },

    /// A line too long for any agents file.
    #[error(
        "{}: line {line} is longer than {} MiB, which no agents file needs (a row is a few KB); check that this is the right file, saved from Excel as \"CSV UTF-8\" or .xlsx",
        path.display(),
        super::decode::MAX_LINE_BYTES >> 20
    )]
    LongLine { path: PathBuf, line: u64 },

    /// The `.xlsx` workbook could not be read.
    #[error("failed to read {} as an .xlsx workbook: {reason}; save it again from Excel, or as CSV", path.display())]
    Xlsx { path: PathBuf, reason: String },

    /// Required columns are missing from the header.
    #[error(
        "{}: the header lacks required {}; the first row must name usesSP, name, surname, email, password, role and groupsIn{}",
        path.display(),
        missing,
        hint
    )]
    MissingColumns {
        path: PathBuf,
        /// The missing columns, already worded: `column email (did you mean ...)`.
        missing: String,
        /// More advice when the header gives a reason, with its `; `.
        hint: &'static str,
    },

    /// A column name appears twice in the header.
    #[error(
        "{}: column `{name}` appears twice in the header (columns {first} and {second}); remove or rename one",
        path.display()
    )]
    DuplicateColumn {
        path: PathBuf,
        name: String,
        /// 1-based positions of the two columns.
        first: usize,
        second: usize,
    },
}
