//! The row rules: what a valid cell looks like in each column, and turning
//! a record into a [`CheckedRow`].
//!
//! Every rule of every cell is applied, so a row reports all its problems at
//! once. Values shown in messages are quoted and cut to
//! [`SHOWN_CHARS`] characters; passwords are never shown. This module does
//! not decide whether problems block sending, and it reads no files.

use super::header::{Col, Columns};
use super::record::Record;
use super::{Agent, CheckedRow, Problem, Role, Secret, Severity};

/// The longest a text field may be, in characters (the dashboard's rule).
pub(super) const MAX_CHARS: usize = 256;
/// The shortest password the dashboard accepts, in characters.
pub(super) const MIN_PASSWORD: usize = 6;
/// How much of a bad value a message quotes, in characters.
pub(super) const SHOWN_CHARS: usize = 40;

/// Applies the rules of single cells to the records of one file.
///
/// Rules that span rows (unique emails) are not here: records may be
/// checked on another thread than the one that sees them in order, see
/// [`super::rows`].
#[derive(Debug)]
pub(super) struct RowChecker {
    columns: Columns,
}

impl RowChecker {
    pub(super) fn new(columns: Columns) -> RowChecker {
        RowChecker { columns }
    }

    /// Checks data row `row` (from 1) that starts on physical `line`, into
    /// `out`, whose strings are reused: checking a row allocates nothing
    /// once the buffers have grown.
    pub(super) fn check(&mut self, record: &Record, row: usize, line: u64, out: &mut CheckedRow) {
        let cells = Cells::new(&self.columns, record);
        out.row = row;
        out.line = line;
        out.problems.clear();
        set(&mut out.summary.email, cells.trimmed(Col::Email));
        set(&mut out.summary.name, cells.trimmed(Col::Name));
        set(&mut out.summary.surname, cells.trimmed(Col::Surname));
        set(&mut out.summary.role, cells.trimmed(Col::Role));

        let mut found = Found::new(row, line, &mut out.problems);
        let width = self.columns.width();
        let agent = out.agent.get_or_insert_with(blank_agent);
        let valid = if record.len() == width {
            check_cells(&cells, &mut found, agent)
        } else {
            // The cells can't be trusted to be in their columns, so no other
            // rule is applied: they would only add noise.
            found.push(Severity::Error, None, field_count(width, record));
            false
        };
        out.email_at = found.email_at;
        if !valid {
            out.agent = None;
        }
    }
}

/// Replaces `target` with `value`, keeping its allocation.
fn set(target: &mut String, value: &str) {
    target.clear();
    target.push_str(value);
}

/// An agent to be filled in by [`check_cells`].
fn blank_agent() -> Agent {
    Agent {
        row: 0,
        line: 0,
        uses_softphone: false,
        name: String::new(),
        surname: String::new(),
        email: String::new(),
        password: Secret::default(),
        role: Role::Employee,
        groups: Vec::new(),
        manage_groups: Vec::new(),
        sip_login: String::new(),
        sip_password: Secret::default(),
        sip_display_name: String::new(),
        sip_auth_name: String::new(),
        ext: String::new(),
        extra: Vec::new(),
    }
}

/// The cells of one record, each trimmed once.
struct Cells<'r> {
    columns: &'r Columns,
    record: &'r Record,
    raw: [&'r str; Col::ALL.len()],
    trimmed: [&'r str; Col::ALL.len()],
    /// Whether any cell holds a line break; nearly none does, and one look
    /// at the whole record spares looking in every cell.
    line_break: bool,
}

impl<'r> Cells<'r> {
    fn new(columns: &'r Columns, record: &'r Record) -> Cells<'r> {
        // The last cell of a CRLF line keeps its `\r` (see `Columns::get`).
        let text = record.as_str().as_bytes();
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let mut cells = Cells {
            columns,
            record,
            raw: [""; Col::ALL.len()],
            trimmed: [""; Col::ALL.len()],
            line_break: memchr::memchr2(b'\n', b'\r', text).is_some(),
        };
        // Filled in place: building the two arrays with `map` and moving
        // them in cost a tenth of checking a row.
        for col in Col::ALL {
            let raw = columns.get(record, col);
            cells.raw[col as usize] = raw;
            cells.trimmed[col as usize] = trim(raw);
        }
        cells
    }

    fn trimmed(&self, col: Col) -> &'r str {
        self.trimmed[col as usize]
    }

    /// The cell as written, for the passwords, which are kept untrimmed.
    fn raw(&self, col: Col) -> &'r str {
        self.raw[col as usize]
    }
}

/// `str::trim`, with a shortcut for the usual cell, which starts and ends
/// with a character that plainly is not whitespace: decoding characters
/// from both ends to test them as Unicode whitespace costs more than the
/// rest of most cells' checks.
fn trim(cell: &str) -> &str {
    let bytes = cell.as_bytes();
    // A visible ASCII character, or one encoded in two bytes whose first is
    // 0xC3 to 0xDF: U+00C0 to U+07FF (Latin letters with accents, Greek,
    // Cyrillic...), where Unicode has no whitespace.
    let plain_lead = |b: u8| b.is_ascii_graphic() || (0xC3..=0xDF).contains(&b);
    if bytes.is_empty() {
        return cell;
    }
    let starts_plain = plain_lead(bytes[0]);
    let ends_plain = match bytes {
        [.., last] if last.is_ascii_graphic() => true,
        [.., lead, 0x80..=0xBF] => (0xC3..=0xDF).contains(lead),
        _ => false,
    };
    if starts_plain && ends_plain {
        cell
    } else {
        cell.trim()
    }
}

/// Applies every cell rule, filling `agent` as far as the cells allow;
/// whether none failed (the agent is then complete).
fn check_cells(cells: &Cells<'_>, found: &mut Found<'_>, agent: &mut Agent) -> bool {
    let uses = found.take(Col::UsesSp, parse_bool(cells.trimmed(Col::UsesSp)));
    let name = found.take(Col::Name, check_name(cells.trimmed(Col::Name)));
    let surname = found.take(Col::Surname, check_name(cells.trimmed(Col::Surname)));
    let email = found.take(Col::Email, check_email(cells.trimmed(Col::Email)));
    if email.is_some() {
        // Whether the email repeats an earlier row is decided later, in
        // file order; its problem goes here, after the email's own.
        found.email_at = Some(found.problems.len());
    }
    let password = cells.raw(Col::Password);
    check_password(password, found);
    let role = found.take(Col::Role, parse_role(cells.trimmed(Col::Role)));
    let groups = parse_groups(cells.trimmed(Col::GroupsIn), true, &mut agent.groups);
    let groups = found.take(Col::GroupsIn, groups);
    let manage = parse_groups(
        cells.trimmed(Col::GroupsMan),
        false,
        &mut agent.manage_groups,
    );
    let manage = found.take(Col::GroupsMan, manage);
    if let (Some(role), Some(())) = (role, manage) {
        drop_unused_manage(role, &mut agent.manage_groups, found);
    }
    let [
        sip_login,
        sip_password,
        sip_display_name,
        sip_auth_name,
        ext,
    ] = check_sip(cells, found);

    // The password and one-line rules leave no value behind, only errors.
    let (Some(uses), Some(name), Some(surname), Some(email), Some(role)) =
        (uses, name, surname, email, role)
    else {
        return false;
    };
    if groups.is_none() || manage.is_none() || found.has_errors() {
        return false;
    }
    agent.row = found.row;
    agent.line = found.line;
    agent.uses_softphone = uses;
    set(&mut agent.name, name);
    set(&mut agent.surname, surname);
    set(&mut agent.email, email);
    agent.password.set(password);
    agent.role = role;
    set(&mut agent.sip_login, sip_login);
    agent.sip_password.set(sip_password);
    set(&mut agent.sip_display_name, sip_display_name);
    set(&mut agent.sip_auth_name, sip_auth_name);
    set(&mut agent.ext, ext);
    cells.columns.extra_into(cells.record, &mut agent.extra);
    true
}

/// The message for an email that row `earlier` used already.
pub(super) fn repeated_email(email: &str, earlier: usize) -> String {
    format!(
        "{} is already used by row #{earlier} (emails must be unique, ignoring case)",
        shown(email)
    )
}

/// The SIP cells and `ext`, in that order, each checked by
/// [`check_one_line`]; the SIP password untrimmed.
fn check_sip<'r>(cells: &Cells<'r>, found: &mut Found<'_>) -> [&'r str; 5] {
    [
        Col::SipLogin,
        Col::SipPassword,
        Col::SipDisplayName,
        Col::SipAuthName,
        Col::Ext,
    ]
    .map(|col| {
        let value = if col == Col::SipPassword {
            cells.raw(col)
        } else {
            cells.trimmed(col)
        };
        check_one_line(col, value, cells.line_break, found)
    })
}

/// The problems of one row as they are found.
struct Found<'p> {
    row: usize,
    line: u64,
    problems: &'p mut Vec<Problem>,
    /// Where the unique-email problem would go, once the email is known to
    /// be well-formed.
    email_at: Option<usize>,
}

impl<'p> Found<'p> {
    fn new(row: usize, line: u64, problems: &'p mut Vec<Problem>) -> Found<'p> {
        Found {
            row,
            line,
            problems,
            email_at: None,
        }
    }

    fn push(&mut self, severity: Severity, col: Option<Col>, message: String) {
        self.problems.push(Problem {
            severity,
            row: Some(self.row),
            line: Some(self.line),
            column: col.map(|col| col.name().to_string()),
            message,
        });
    }

    fn error(&mut self, col: Col, message: String) {
        self.push(Severity::Error, Some(col), message);
    }

    fn warning(&mut self, col: Col, message: String) {
        self.push(Severity::Warning, Some(col), message);
    }

    /// The value of a rule that passed, or `None` after recording its error.
    fn take<T>(&mut self, col: Col, checked: Result<T, String>) -> Option<T> {
        checked.map_err(|message| self.error(col, message)).ok()
    }

    fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }
}

/// Says how many fields were found; when a field spans lines in a short
/// record, a quote was most likely left open and swallowed what followed.
fn field_count(expected: usize, record: &Record) -> String {
    let found = record.len();
    let mut message = format!("expected {expected} fields, found {found}");
    let spans_lines = record.iter().position(|field| field.contains('\n'));
    if let Some(at) = spans_lines.filter(|_| found < expected) {
        message.push_str(&format!(
            " (field {} runs over several lines: is a quote left open?)",
            at + 1
        ));
    }
    message
}

/// A name as written, or quoted with its line breaks and other controls
/// escaped if it has any, so that a message stays on one line and nothing
/// in a file can print a line of its own.
pub(super) fn one_line(name: &str) -> std::borrow::Cow<'_, str> {
    if name.chars().any(char::is_control) {
        format!("{name:?}").into()
    } else {
        name.into()
    }
}

/// `value` quoted for a message, cut to [`SHOWN_CHARS`] characters with `…`.
/// Quotes, backslashes and control characters are escaped, so a line break
/// shows as `\n` and the message stays on one line.
pub(super) fn shown(value: &str) -> String {
    match value.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{:?}", format!("{}…", &value[..cut])),
        None => format!("{value:?}"),
    }
}

/// The length in characters when it is outside `min..=max`; `None` when
/// inside. Counts only when the byte length can't settle it (a character
/// is 1 to 4 bytes), which spares counting on almost every cell.
fn length_outside(value: &str, min: usize, max: usize) -> Option<usize> {
    if value.len() <= max && value.len() >= min.saturating_mul(4) {
        return None;
    }
    let chars = value.chars().count();
    (!(min..=max).contains(&chars)).then_some(chars)
}

/// The message for a value over [`MAX_CHARS`]; `value` is `None` for a
/// secret, which is never shown.
fn too_long(chars: usize, value: Option<&str>) -> String {
    let mut message = format!("is {chars} characters long, at most {MAX_CHARS} allowed");
    if let Some(value) = value {
        message.push_str(&format!(": {}", shown(value)));
    }
    message
}

/// Excel writes `TRUE`/`FALSE`; any letter case is accepted.
fn parse_bool(value: &str) -> Result<bool, String> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(format!("must be true or false, found {}", shown(value)))
    }
}

/// `name` and `surname`: present, and short enough.
fn check_name(value: &str) -> Result<&str, String> {
    if value.is_empty() {
        return Err("must not be empty".to_string());
    }
    match length_outside(value, 1, MAX_CHARS) {
        Some(chars) => Err(too_long(chars, Some(value))),
        None => Ok(value),
    }
}

/// A deliberately simple shape check: what a typo or a wrong column breaks,
/// not the full RFC 5321 grammar, which the dashboard checks again anyway.
fn check_email(value: &str) -> Result<&str, String> {
    if value.is_empty() {
        return Err("must not be empty".to_string());
    }
    if let Some(chars) = length_outside(value, 1, MAX_CHARS) {
        return Err(too_long(chars, Some(value)));
    }
    if !is_email(value) {
        return Err(format!("is not a valid email address: {}", shown(value)));
    }
    Ok(value)
}

fn is_email(value: &str) -> bool {
    // Bytes throughout: nearly every email is ASCII, and decoding
    // characters for the Unicode checks costs more than the rest of the row.
    let bytes = value.as_bytes();
    let bad_ascii = |&b: &u8| b <= b' ' || b == 0x7F;
    let bad_char = |c: char| c.is_whitespace() || c.is_control();
    if bytes.iter().any(bad_ascii) || (!value.is_ascii() && value.chars().any(bad_char)) {
        return false;
    }
    let Some(at) = bytes.iter().position(|&b| b == b'@') else {
        return false;
    };
    let (local, domain) = (&bytes[..at], &bytes[at + 1..]);
    !local.is_empty()
        && !domain.contains(&b'@')
        && domain.contains(&b'.')
        && domain.split(|&b| b == b'.').all(|label| !label.is_empty())
}

/// Checks the length of the untrimmed password, never showing it. Warns when
/// it starts or ends with a space, which Excel makes easy to do by mistake.
fn check_password(value: &str, found: &mut Found<'_>) {
    if let Some(chars) = length_outside(value, MIN_PASSWORD, MAX_CHARS) {
        found.error(Col::Password, format!("must be {MIN_PASSWORD} to {MAX_CHARS} characters, found {chars} (the value is not shown)"));
    } else if value.chars().all(char::is_whitespace) {
        // The dashboard counts such a password as empty and refuses it;
        // it is almost always a cell filled by mistake.
        found.error(
            Col::Password,
            "is only spaces: give the agent a real password".to_string(),
        );
    } else if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        found.warning(Col::Password, "starts or ends with a space, which is kept as part of the password (the value is not shown)".to_string());
    }
}

fn parse_role(value: &str) -> Result<Role, String> {
    Role::parse(value).ok_or_else(|| {
        let allowed: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
        format!(
            "must be one of {}, found {}",
            allowed.join(", "),
            shown(value)
        )
    })
}

/// Team IDs: positive integers separated by commas, spaces allowed around
/// them, into `ids`. An empty cell is an error only when `required`.
fn parse_groups(value: &str, required: bool, ids: &mut Vec<u64>) -> Result<(), String> {
    ids.clear();
    if value.is_empty() {
        return if required {
            Err("must not be empty: list team IDs separated by commas, such as 2,4,7".to_string())
        } else {
            Ok(())
        };
    }
    let parsed = if value.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        // The usual cell, `2,4,7`: read as bytes, without splitting text.
        value.as_bytes().split(|&b| b == b',').try_for_each(|id| {
            ids.push(parse_digits(id)?);
            Some(())
        })
    } else {
        value.split(',').try_for_each(|id| {
            let id = id.trim();
            ids.push(parse_digits(id.as_bytes())?);
            Some(())
        })
    };
    parsed.ok_or_else(|| {
        format!(
            "must be team IDs separated by commas, such as 2,4,7, found {}",
            shown(value)
        )
    })
}

/// A positive decimal integer, digits only (no sign, no spaces inside).
fn parse_digits(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let id = digits.iter().try_fold(0_u64, |id, &b| {
        let digit = b.checked_sub(b'0').filter(|&d| d <= 9)?;
        id.checked_mul(10)?.checked_add(u64::from(digit))
    })?;
    (id > 0).then_some(id)
}

/// Teams to supervise mean nothing for a role that supervises none: they
/// are not sent, and a warning says so.
fn drop_unused_manage(role: Role, manage: &mut Vec<u64>, found: &mut Found<'_>) {
    if !manage.is_empty() && !role.can_supervise() {
        manage.clear();
        found.warning(
            Col::GroupsMan,
            format!(
                "is ignored and not sent for role {role}: only MANAGER and RESTRICTED_ADMIN \
                 supervise teams"
            ),
        );
    }
}

/// SIP fields and `ext` go into INI lines of the config: short, one line.
/// Returns `value` (trimmed by the caller, except `sippassword`), or ""
/// after recording an error.
/// `line_break` says whether the record has one anywhere.
fn check_one_line<'v>(
    col: Col,
    value: &'v str,
    line_break: bool,
    found: &mut Found<'_>,
) -> &'v str {
    let secret = col == Col::SipPassword;
    let mut ok = true;
    if let Some(chars) = length_outside(value, 0, MAX_CHARS) {
        found.error(col, too_long(chars, (!secret).then_some(value)));
        ok = false;
    }
    if line_break && value.bytes().any(|b| b == b'\r' || b == b'\n') {
        let what = if secret {
            "(the value is not shown)".to_string()
        } else {
            format!("in {}", shown(value))
        };
        found.error(
            col,
            format!("must be on one line, found a line break {what}"),
        );
        ok = false;
    }
    if ok { value } else { "" }
}
