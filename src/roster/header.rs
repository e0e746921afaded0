//! The header row: which separator the file uses, and which column holds
//! which field of the vendor's format.
//!
//! Column names are matched ignoring letter case and surrounding spaces.
//! Missing required columns and a column named twice are fatal; unknown
//! columns only get a warning, and their values travel as extra fields. This
//! module does not look at data rows beyond telling where their cells are.

use std::path::Path;

use super::record::Record;
use super::{Problem, RosterError, Severity, rules};

/// A column of the vendor's format; the payload's templates name them too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Col {
    UsesSp,
    Name,
    Surname,
    Email,
    Password,
    Role,
    GroupsIn,
    GroupsMan,
    SipLogin,
    SipPassword,
    SipDisplayName,
    SipAuthName,
    Ext,
}

impl Col {
    /// Every column, required ones first, in the vendor's order.
    pub(crate) const ALL: [Col; 13] = [
        Col::UsesSp,
        Col::Name,
        Col::Surname,
        Col::Email,
        Col::Password,
        Col::Role,
        Col::GroupsIn,
        Col::GroupsMan,
        Col::SipLogin,
        Col::SipPassword,
        Col::SipDisplayName,
        Col::SipAuthName,
        Col::Ext,
    ];

    /// The name as the vendor's README spells it; messages use this.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Col::UsesSp => "usesSP",
            Col::Name => "name",
            Col::Surname => "surname",
            Col::Email => "email",
            Col::Password => "password",
            Col::Role => "role",
            Col::GroupsIn => "groupsIn",
            Col::GroupsMan => "groupsMan",
            Col::SipLogin => "siplogin",
            Col::SipPassword => "sippassword",
            Col::SipDisplayName => "sipdisplayname",
            Col::SipAuthName => "sipauthname",
            Col::Ext => "ext",
        }
    }

    /// The name in lower case, as a config template's placeholder names it.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Col::UsesSp => "usessp",
            Col::GroupsIn => "groupsin",
            Col::GroupsMan => "groupsman",
            // The others are written in lower case already.
            col => col.name(),
        }
    }

    /// Whether the value is a secret, masked in every preview.
    pub(crate) fn is_secret(self) -> bool {
        matches!(self, Col::Password | Col::SipPassword)
    }

    fn is_required(self) -> bool {
        (self as usize) <= Col::GroupsIn as usize
    }

    fn find(name: &str) -> Option<Col> {
        Col::ALL
            .into_iter()
            .find(|col| col.name().eq_ignore_ascii_case(name))
    }
}

/// Where each column is in a record, worked out once from the header.
#[derive(Debug)]
pub(super) struct Columns {
    /// Position of each [`Col`] (indexed by `Col as usize`), if present.
    index: [Option<usize>; Col::ALL.len()],
    /// Header names, trimmed and lower-cased, in order.
    names: Vec<String>,
    /// Positions of named columns the vendor's format does not know.
    extra: Vec<usize>,
}

impl Columns {
    /// The cell of `col` as written (untrimmed); empty when the column is
    /// absent or the record is short.
    ///
    /// The last cell of a record loses one trailing `\r`: the csv reader
    /// splits lines at `\n` only (see `rows::csv_source`), so a CRLF line
    /// leaves its `\r` there, which matters for an untrimmed password.
    pub(super) fn get<'r>(&self, record: &'r Record, col: Col) -> &'r str {
        let Some(at) = self.index[col as usize] else {
            return "";
        };
        match record.get(at) {
            Some(cell) if at + 1 == record.len() => cell.strip_suffix('\r').unwrap_or(cell),
            Some(cell) => cell,
            None => "",
        }
    }

    /// How many fields every record must have.
    pub(super) fn width(&self) -> usize {
        self.names.len()
    }

    pub(super) fn names(&self) -> &[String] {
        &self.names
    }

    /// The unknown columns as (lower-case name, trimmed value), into
    /// `extra`, reusing its strings.
    pub(super) fn extra_into(&self, record: &Record, extra: &mut Vec<(String, String)>) {
        extra.resize_with(self.extra.len(), Default::default);
        for (&at, (name, value)) in self.extra.iter().zip(extra.iter_mut()) {
            if *name != self.names[at] {
                name.clone_from(&self.names[at]);
            }
            value.clear();
            value.push_str(record.get(at).unwrap_or("").trim());
        }
    }
}

/// Reads the header record found at physical `line`.
///
/// Returns the column map and warnings about unknown or unnamed columns.
/// Fails when a required column is missing (one error naming all of them,
/// with a guess for typos) or when a name appears twice.
pub(super) fn parse(
    record: &Record,
    line: u64,
    path: &Path,
) -> Result<(Columns, Vec<Problem>), RosterError> {
    let names: Vec<String> = record.iter().map(|n| n.trim().to_lowercase()).collect();
    check_duplicates(&names, path)?;

    let mut index = [None; Col::ALL.len()];
    let mut extra = Vec::new();
    let mut unknown = Vec::new();
    for (at, written) in record.iter().map(str::trim).enumerate() {
        match Col::find(written) {
            Some(col) => index[col as usize] = Some(at),
            None if written.is_empty() => {}
            None => {
                extra.push(at);
                unknown.push(written);
            }
        }
    }

    let missing: Vec<Col> = Col::ALL
        .into_iter()
        .filter(|col| col.is_required() && index[*col as usize].is_none())
        .collect();
    if !missing.is_empty() {
        // One column means the separator was not found: the header has
        // none of `;`, `,` or tab.
        let hint = if record.len() == 1 {
            "; the header is a single column, so if the file separates its values with \
             another character, name it with --delimiter"
        } else {
            ""
        };
        return Err(RosterError::MissingColumns {
            path: path.to_path_buf(),
            missing: describe_missing(&missing, &unknown),
            hint,
        });
    }

    let problems = header_warnings(record, line);
    Ok((
        Columns {
            index,
            names,
            extra,
        },
        problems,
    ))
}

/// A column named twice is an error. A map, not a scan of the names
/// before each one: a 100,000-column header must not take seconds.
fn check_duplicates(names: &[String], path: &Path) -> Result<(), RosterError> {
    let mut seen = std::collections::HashMap::with_capacity(names.len());
    for (second, name) in names.iter().enumerate().filter(|(_, n)| !n.is_empty()) {
        if let Some(first) = seen.insert(name.as_str(), second) {
            return Err(RosterError::DuplicateColumn {
                path: path.to_path_buf(),
                name: rules::one_line(name).into_owned(),
                first: first + 1,
                second: second + 1,
            });
        }
    }
    Ok(())
}

/// `column `email` (found `emial`: did you mean `email`?) and `role``.
fn describe_missing(missing: &[Col], unknown: &[&str]) -> String {
    let words: Vec<String> = missing
        .iter()
        .map(|col| match closest(col.name(), unknown) {
            Some(typo) => format!(
                "`{}` (found `{}`: did you mean `{}`?)",
                col.name(),
                rules::one_line(typo),
                col.name()
            ),
            None => format!("`{}`", col.name()),
        })
        .collect();
    let plural = if words.len() == 1 {
        "column"
    } else {
        "columns"
    };
    match words.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            format!("{plural} {} and {last}", rest.join(", "))
        }
        _ => format!("{plural} {}", words.concat()),
    }
}

/// Warnings for unknown columns (with a typo guess) and unnamed ones.
fn header_warnings(record: &Record, line: u64) -> Vec<Problem> {
    let known: Vec<&str> = Col::ALL.iter().map(|col| col.name()).collect();
    let mut problems = Vec::new();
    for (at, written) in record.iter().map(str::trim).enumerate() {
        if Col::find(written).is_some() {
            continue;
        }
        let (column, message) = if written.is_empty() {
            (
                None,
                format!("column {} has no name, so its values are ignored", at + 1),
            )
        } else {
            (Some(written.to_string()), unknown_message(written, &known))
        };
        problems.push(Problem {
            severity: Severity::Warning,
            row: None,
            line: Some(line),
            column,
            message,
        });
    }
    problems
}

fn unknown_message(written: &str, known: &[&str]) -> String {
    let kept = "its values are passed on only as extra fields for the config template";
    match closest(written, known) {
        Some(guess) => format!("unknown column (did you mean `{guess}`?); {kept}"),
        None => format!("unknown column; {kept}"),
    }
}

/// The candidate within edit distance 2 of `target` (ignoring case), if
/// any, and never one so short that two edits would make any word fit.
fn closest<'c>(target: &str, candidates: &[&'c str]) -> Option<&'c str> {
    // Lengths more than two apart can't be two edits apart. Checking that
    // first also spares the distance to a name of a million characters,
    // which would take time and memory in proportion.
    let length = target.chars().count();
    let mut near = candidates
        .iter()
        .filter(|c| c.chars().count().abs_diff(length) <= 2)
        .peekable();
    near.peek()?;
    let target = target.to_lowercase();
    near.map(|c| (levenshtein(&target, &c.to_lowercase()), *c))
        .filter(|(distance, c)| {
            *distance <= 2 && *distance < c.chars().count().min(target.chars().count())
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// The edit distance between `a` and `b`, counted in characters.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The separator: `;` unless the header line has none but has tabs or
/// commas (whichever is more common; a tab on a tie). Returns a notice when
/// it is not `;`.
///
/// `prefix` is the start of the decoded file; only its first line counts.
pub(super) fn sniff_delimiter(prefix: &[u8]) -> (u8, Option<String>) {
    let line = prefix.split(|&b| b == b'\n').next().unwrap_or_default();
    let count = |wanted: u8| line.iter().filter(|&&b| b == wanted).count();
    if count(b';') > 0 {
        return (b';', None);
    }
    let (tabs, commas) = (count(b'\t'), count(b','));
    if tabs == 0 && commas == 0 {
        (b';', None)
    } else if tabs >= commas {
        (
            b'\t',
            Some("separator is a tab (the header has no ';')".to_string()),
        )
    } else {
        (
            b',',
            Some("separator is ',' (the header has no ';')".to_string()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A placeholder's key is the column's name in lower case.
    #[test]
    fn keys_are_lower_case_names() {
        for col in Col::ALL {
            assert_eq!(col.key(), col.name().to_ascii_lowercase());
        }
    }

    /// Transposed letters are two edits, as in `emial`.
    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("emial", "email"), 2);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("имя", "имена"), 3);
        assert_eq!(closest("emial", &["usessp", "emial", "x"]), Some("emial"));
        assert_eq!(closest("ext", &["e"]), None);
    }

    /// Comma and tab headers are recognised only without a `;`.
    #[test]
    fn delimiter_sniffing() {
        assert_eq!(sniff_delimiter(b"a;b,c\n1,2,3").0, b';');
        assert_eq!(sniff_delimiter(b"a,b,c\n").0, b',');
        assert_eq!(sniff_delimiter(b"a\tb\tc").0, b'\t');
        assert_eq!(sniff_delimiter(b"abc\n1;2").0, b';');
    }
}
