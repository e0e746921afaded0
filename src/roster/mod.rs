//! Reading the agents file: encoding, separator, `.xlsx`, header and the row
//! rules. The result is a stream of checked rows, each either a valid
//! [`Agent`] or a list of located [`Problem`]s.
//!
//! Nothing here talks to the network or prints: the caller decides whether
//! the problems block sending and how they are shown.

use std::fmt;

use crate::secret::Secret;

mod decode;
mod emails;
mod error;
mod header;
mod pipeline;
mod record;
mod rows;
mod rules;
mod xlsx;

pub use error::RosterError;
pub(crate) use header::Col;
pub use rows::{Rows, open};

/// How the file is to be read; `None` means "detect it".
#[derive(Clone, Debug, Default)]
pub struct ReadOptions {
    /// Forces the text encoding (`--encoding`).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// Forces the field separator (`--delimiter`).
    pub delimiter: Option<u8>,
}

/// A dashboard role. The API page lost its list of roles; see
/// `shared/reference/api-notes.md` for where these four come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Employee,
    Manager,
    RestrictedAdmin,
    Admin,
}

impl Role {
    /// Every role, in the order the README lists them.
    pub const ALL: [Role; 4] = [
        Role::Employee,
        Role::Manager,
        Role::RestrictedAdmin,
        Role::Admin,
    ];

    /// The value the dashboard expects, in upper case.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employee => "EMPLOYEE",
            Role::Manager => "MANAGER",
            Role::RestrictedAdmin => "RESTRICTED_ADMIN",
            Role::Admin => "ADMIN",
        }
    }

    /// Parses a role in any letter case, ignoring surrounding spaces.
    pub fn parse(text: &str) -> Option<Role> {
        let text = text.trim();
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(text))
    }

    /// Whether `manageGroups` means anything for this role (the API page
    /// names MANAGER and RESTRICTED_ADMIN).
    pub fn can_supervise(self) -> bool {
        matches!(self, Role::Manager | Role::RestrictedAdmin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One valid row of the agents file, ready to become a `users/save` payload.
///
/// Text fields are trimmed; the two passwords are kept exactly as written.
/// Optional columns that are absent or empty hold the empty string.
#[derive(Clone, Debug)]
pub struct Agent {
    /// The row number, from 1, header not counted (as the vendor's script).
    pub row: usize,
    /// The physical line (from 1) where the row starts in a text file; for
    /// `.xlsx` files the spreadsheet row number.
    pub line: u64,
    pub uses_softphone: bool,
    pub name: String,
    pub surname: String,
    pub email: String,
    pub password: Secret,
    pub role: Role,
    /// `groupsIn`: one or more positive team IDs.
    pub groups: Vec<u64>,
    /// `groupsMan`: zero or more positive team IDs.
    pub manage_groups: Vec<u64>,
    pub sip_login: String,
    pub sip_password: Secret,
    pub sip_display_name: String,
    pub sip_auth_name: String,
    pub ext: String,
    /// Columns the vendor's format does not know, as (lower-case header
    /// name, trimmed value), in header order. A config template may use them.
    pub extra: Vec<(String, String)>,
}

/// How serious a problem is: errors make a row invalid, warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found in the agents file, with where it is.
///
/// `row` is `None` for problems of the header or the file as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// Row number from 1, header not counted.
    pub row: Option<usize>,
    /// Physical line from 1 where the row starts.
    pub line: Option<u64>,
    /// The column as the README names it (`email`, `groupsIn`...).
    pub column: Option<String>,
    /// What is wrong, naming the rule and the bad value (never a password).
    pub message: String,
}

impl Problem {
    /// An error in one cell.
    pub fn error(row: usize, line: u64, column: &str, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Error,
            row: Some(row),
            line: Some(line),
            column: Some(column.to_string()),
            message: message.into(),
        }
    }

    /// A warning about one cell.
    pub fn warning(row: usize, line: u64, column: &str, message: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(row, line, column, message)
        }
    }

    /// Whether this problem makes its row invalid.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The problem as one line, located in `file`:
    /// `error: agents.csv: row #3 (line 4), column email: ...`.
    pub fn display_in<'a>(&'a self, file: &'a str) -> impl fmt::Display + 'a {
        ProblemLine {
            problem: self,
            file,
        }
    }
}

struct ProblemLine<'a> {
    problem: &'a Problem,
    file: &'a str,
}

impl fmt::Display for ProblemLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.problem;
        let level = match p.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}", self.file)?;
        match (p.row, p.line) {
            (Some(row), Some(line)) => write!(f, ": row #{row} (line {line})")?,
            (Some(row), None) => write!(f, ": row #{row}")?,
            (None, Some(line)) => write!(f, ": line {line}")?,
            (None, None) => {}
        }
        if let Some(column) = &p.column {
            // The name of an unknown column comes from the file.
            write!(f, ", column {}", rules::one_line(column))?;
        }
        write!(f, ": {}", p.message)
    }
}

/// The identifying cells of a row as written (trimmed), kept for invalid
/// rows too so the results file can say whose row it was.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowSummary {
    pub email: String,
    pub name: String,
    pub surname: String,
    pub role: String,
}

/// One data row after the rules were applied.
#[derive(Clone, Debug, Default)]
pub struct CheckedRow {
    /// Row number from 1, header not counted.
    pub row: usize,
    /// Physical line from 1 where the row starts.
    pub line: u64,
    pub summary: RowSummary,
    /// The agent, when no problem is an error.
    pub agent: Option<Agent>,
    /// Every error and warning of this row.
    pub problems: Vec<Problem>,
    /// Set when the email is well-formed: where in `problems` an error for
    /// repeating an earlier row's email belongs.
    email_at: Option<usize>,
}

#[cfg(test)]
mod tests;
