//! Turning a valid [`Agent`] into the body of `POST /api/settings/users/save`.
//!
//! The one field that needs thought is `config`: a Softphone.Pro INI file
//! that the dashboard expands. We build it from a [`ConfigTemplate`] whose
//! `${column}` placeholders take the row's values. The default template is
//! the API page's eight includes with the SIP account lines after
//! `_Account1` (see `shared/reference/api-notes.md`).
//!
//! A value can never add a line to the INI or a tag to the dashboard's
//! template language: such a row is refused, never "cleaned".

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::roster::{Agent, Col, Problem};
use crate::secret::{self, Secret};

/// The config the API page shows, with SIP credentials after `_Account1`.
/// A line whose placeholders are all empty is left out, so agents without
/// SIP fields get exactly the page's eight includes.
pub const DEFAULT_TEMPLATE: &str = "\
{% include \"_Restrictions\" %}
{% include \"_SipSettings\" %}
{% include \"_Account1\" %}
Username=${siplogin}
Password=${sippassword}
DisplayName=${sipdisplayname}
AuthId=${sipauthname}
{% include \"_ACW\" %}
{% include \"_Statuses\" %}
{% include \"_Camera\" %}
{% include \"_ScreenRecording\" %}
{% include \"Default\" %}";

/// The column of the vendor's format that a placeholder names, if any; a
/// template may always name one, even when the file leaves it out.
fn known_column(key: &str) -> Option<Col> {
    Col::ALL.into_iter().find(|col| col.key() == key)
}

/// What is wrong with a config template; found before any row is read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    #[error("config template line {line}: `${{` is not closed by `}}`")]
    Unclosed { line: usize },
    #[error(
        "config template line {line}: `${{{name}}}` is not a valid placeholder \
         (use letters, digits and `_`, such as `${{siplogin}}`)"
    )]
    BadName { line: usize, name: String },
    #[error(
        "config template line {line}: `${{{name}}}` names no column of the agents file \
         (columns: {columns})"
    )]
    UnknownColumn {
        line: usize,
        name: String,
        columns: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// A column of the vendor's format, resolved once here rather than by
    /// name for every row.
    Field(Col),
    /// Any other column of the file, by lower-case name.
    Column(String),
}

/// One line of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    pieces: Vec<Piece>,
    /// Whether the line is a `{% ... %}` tag (such as an include), which
    /// the text preview leaves out.
    tag: bool,
    /// Whether the line has placeholders.
    values: bool,
}

/// A parsed config template: lines of literal text and `${column}` values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigTemplate {
    lines: Vec<Line>,
    /// About how long a rendered config is, to size its buffer once.
    size_hint: usize,
}

/// How the rendered lines of a config are put together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// The INI file: every line, one after another.
    Config,
    /// The text preview: the lines that are not tags, joined by spaces.
    Settings,
}

impl Default for ConfigTemplate {
    fn default() -> ConfigTemplate {
        ConfigTemplate::parse(DEFAULT_TEMPLATE).expect("the default template is valid")
    }
}

impl ConfigTemplate {
    /// Parses a template. Line endings may be CRLF; a final line break is
    /// ignored. Placeholder names are matched ignoring case.
    pub fn parse(text: &str) -> Result<ConfigTemplate, TemplateError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let lines = text
            .trim_end_matches(['\r', '\n'])
            .split('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .enumerate()
            .map(|(index, line)| parse_line(index + 1, line))
            .collect::<Result<Vec<_>, _>>()?;
        let size_hint = lines
            .iter()
            .flat_map(|line| &line.pieces)
            .map(Piece::len_hint)
            .sum();
        Ok(ConfigTemplate { lines, size_hint })
    }

    /// Checks that every placeholder names a column: one of the vendor's
    /// format or one of `columns` (the file's header, lower case).
    pub fn check_columns(&self, columns: &[String]) -> Result<(), TemplateError> {
        for (index, line) in self.lines.iter().enumerate() {
            for piece in &line.pieces {
                let Piece::Column(name) = piece else {
                    continue;
                };
                if !columns.contains(name) {
                    return Err(TemplateError::UnknownColumn {
                        line: index + 1,
                        name: name.to_string(),
                        columns: known_columns(columns),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether any placeholder names `column`.
    pub fn uses(&self, column: &str) -> bool {
        self.lines
            .iter()
            .flat_map(|line| &line.pieces)
            .filter_map(Piece::value_name)
            .any(|name| name == column)
    }

    /// The config for one agent, or the problem that makes the row invalid.
    pub fn render(&self, agent: &Agent) -> Result<Secret, Problem> {
        let mut config = String::new();
        self.render_into(agent, false, Layout::Config, &mut config)?;
        Ok(Secret::new(config))
    }

    /// Writes the rendered lines into `out` as `layout` puts them, leaving
    /// out the lines whose placeholders are all empty. `mask` replaces the
    /// secret values with `******`.
    fn render_into(
        &self,
        agent: &Agent,
        mask: bool,
        layout: Layout,
        out: &mut String,
    ) -> Result<(), Problem> {
        out.reserve(self.size_hint);
        let separator = match layout {
            Layout::Config => '\n',
            Layout::Settings => ' ',
        };
        let mut first = true;
        for (index, line) in self.lines.iter().enumerate() {
            let shown = layout == Layout::Config || !line.tag;
            if !shown && !line.values {
                continue;
            }
            let start = out.len();
            if shown && !first {
                out.push(separator);
            }
            // A tag line that is not shown is still rendered when it has
            // values: they must pass the same checks as when sent.
            let kept = render_line(&line.pieces, index + 1, agent, mask, out)?;
            if kept && shown {
                first = false;
            } else {
                out.truncate(start);
            }
        }
        Ok(())
    }
}

impl Piece {
    fn value_name(&self) -> Option<&str> {
        match self {
            Piece::Field(field) => Some(field.key()),
            Piece::Column(name) => Some(name),
            Piece::Text(_) => None,
        }
    }

    /// About how long the piece is once rendered, to size the buffer.
    fn len_hint(&self) -> usize {
        match self {
            Piece::Text(text) => text.len(),
            Piece::Field(_) | Piece::Column(_) => 16,
        }
    }
}

fn parse_line(line_number: usize, line: &str) -> Result<Line, TemplateError> {
    let mut pieces = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        if start > 0 {
            pieces.push(Piece::Text(rest[..start].to_string()));
        }
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or(TemplateError::Unclosed { line: line_number })?;
        let name = &after[..end];
        let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(TemplateError::BadName {
                line: line_number,
                name: name.to_string(),
            });
        }
        let name = name.to_ascii_lowercase();
        pieces.push(match known_column(&name) {
            Some(field) => Piece::Field(field),
            None => Piece::Column(name),
        });
        rest = &after[end + 1..];
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    // A value can't make a line start with `{%`: see `render_line`.
    let tag = matches!(pieces.first(), Some(Piece::Text(text)) if text.starts_with("{%"));
    let values = pieces.iter().any(|piece| piece.value_name().is_some());
    Ok(Line {
        pieces,
        tag,
        values,
    })
}

fn known_columns(columns: &[String]) -> String {
    let mut all: Vec<&str> = Col::ALL.map(Col::key).to_vec();
    all.extend(
        columns
            .iter()
            .map(String::as_str)
            .filter(|c| known_column(c).is_none()),
    );
    all.join(", ")
}

/// Appends one template line for one agent to `out`; false when the line
/// has placeholders and all of them are empty (an agent without SIP
/// fields), and so is to be left out.
fn render_line(
    line: &[Piece],
    line_number: usize,
    agent: &Agent,
    mask: bool,
    out: &mut String,
) -> Result<bool, Problem> {
    let mut values = 0;
    let mut empty = 0;
    // The last byte of the line so far as it is sent (not as masked), and
    // the value it belongs to, if any: a tag may also form across the edge
    // of a value, such as `{` at its end before `%` in the template.
    let mut last: Option<(u8, Option<&str>)> = None;
    for piece in line {
        let (value, name, secret) = match piece {
            Piece::Text(literal) => {
                if let (Some((before, Some(name))), Some(&after)) =
                    (last, literal.as_bytes().first())
                    && forms_tag(before, after)
                {
                    return Err(value_problem(agent, name, Breaker::Tag, line_number));
                }
                out.push_str(literal);
                last = literal.as_bytes().last().map(|&b| (b, None)).or(last);
                continue;
            }
            Piece::Field(field) => (field_value(agent, *field), field.key(), field.is_secret()),
            Piece::Column(name) => (
                Cow::Borrowed(column_value(agent, name)),
                name.as_str(),
                false,
            ),
        };
        let edge = match (last, value.as_bytes().first()) {
            (Some((before, _)), Some(&after)) => forms_tag(before, after),
            _ => false,
        };
        if let Some(breaker) = ini_breaker(&value).or(edge.then_some(Breaker::Tag)) {
            return Err(value_problem(agent, name, breaker, line_number));
        }
        values += 1;
        if value.is_empty() {
            empty += 1;
        } else if mask && secret {
            out.push_str("******");
        } else {
            out.push_str(&value);
        }
        last = value.as_bytes().last().map(|&b| (b, Some(name))).or(last);
    }
    Ok(values == 0 || empty < values)
}

/// Whether two bytes side by side make a template tag: `{%`, `%}`, `{{`,
/// `}}`, `{#` or `#}`.
fn forms_tag(first: u8, second: u8) -> bool {
    matches!(
        (first, second),
        (b'{', b'%' | b'{' | b'#') | (b'%' | b'}' | b'#', b'}')
    )
}

/// The problem of a value that would change the INI's shape: a line break
/// would add a line, and `{%`/`{{` would be expanded by the dashboard.
fn value_problem(agent: &Agent, column: &str, breaker: Breaker, line: usize) -> Problem {
    let reason = match breaker {
        Breaker::LineBreak => "contains a line break",
        Breaker::Tag => {
            "contains, or forms with the text beside it, a template tag such as `{%` or \
             `{{`, which the dashboard would expand"
        }
    };
    Problem::error(
        agent.row,
        agent.line,
        column,
        format!("{reason}, so it cannot go into line {line} of the config template"),
    )
}

/// What in a value would change the INI around it.
enum Breaker {
    LineBreak,
    /// `{%`, `%}`, `{{`, `}}`, `{#` or `#}`.
    Tag,
}

/// The bytes that may start a line break or a tag, as a table: one load a
/// byte instead of six comparisons.
static SUSPECT: [bool; 256] = {
    let mut table = [false; 256];
    let suspects = *b"\r\n{}%#";
    let mut at = 0;
    while at < suspects.len() {
        table[suspects[at] as usize] = true;
        at += 1;
    }
    table
};

/// A line break wins over a tag wherever each is. This runs for every
/// value of every row, so the common case, a value with none of the bytes
/// involved, takes one quick pass: without a branch for each byte, which
/// took twice as long.
fn ini_breaker(value: &str) -> Option<Breaker> {
    let bytes = value.as_bytes();
    if !bytes
        .iter()
        .fold(false, |any, &b| any | SUSPECT[usize::from(b)])
    {
        return None;
    }
    if bytes.iter().any(|&b| b == b'\r' || b == b'\n') {
        return Some(Breaker::LineBreak);
    }
    let tag = |pair: &[u8]| forms_tag(pair[0], pair[1]);
    bytes.windows(2).any(tag).then_some(Breaker::Tag)
}

/// A row's value of a column of the vendor's format; empty when the file
/// leaves an optional column out.
fn field_value(agent: &Agent, field: Col) -> Cow<'_, str> {
    let text = match field {
        Col::UsesSp => {
            if agent.uses_softphone {
                "true"
            } else {
                "false"
            }
        }
        Col::Name => &agent.name,
        Col::Surname => &agent.surname,
        Col::Email => &agent.email,
        Col::Password => agent.password.expose(),
        Col::Role => agent.role.as_str(),
        Col::GroupsIn => return Cow::Owned(ids_text(&agent.groups)),
        Col::GroupsMan => return Cow::Owned(ids_text(&agent.manage_groups)),
        Col::SipLogin => &agent.sip_login,
        Col::SipPassword => agent.sip_password.expose(),
        Col::SipDisplayName => &agent.sip_display_name,
        Col::SipAuthName => &agent.sip_auth_name,
        Col::Ext => &agent.ext,
    };
    Cow::Borrowed(text)
}

/// A row's value of another column of its file (lower-case `name`).
fn column_value<'a>(agent: &'a Agent, name: &str) -> &'a str {
    agent
        .extra
        .iter()
        .find(|(column, _)| column == name)
        .map_or("", |(_, value)| value.as_str())
}

/// Team IDs as the file writes them: `2,4,7`.
fn ids_text(ids: &[u64]) -> String {
    let mut text = String::new();
    push_ids(&mut text, ids);
    text
}

/// The JSON body of `users/save`, as the API page documents it.
///
/// `Debug` is safe to log: the password and the config (which may hold a
/// SIP password) are [`Secret`]s.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveUser {
    pub uses_softphone: bool,
    pub name: String,
    pub surname: String,
    pub email: String,
    #[serde(serialize_with = "secret::expose_for_serde")]
    pub password: Secret,
    pub role: &'static str,
    pub groups: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manage_groups: Vec<u64>,
    #[serde(serialize_with = "secret::expose_for_serde")]
    pub config: Secret,
}

/// Builds the payload for one agent; the problem makes its row invalid.
pub fn build(agent: &Agent, template: &ConfigTemplate) -> Result<SaveUser, Problem> {
    Ok(SaveUser {
        uses_softphone: agent.uses_softphone,
        name: agent.name.clone(),
        surname: agent.surname.clone(),
        email: agent.email.clone(),
        password: agent.password.clone(),
        role: agent.role.as_str(),
        groups: agent.groups.clone(),
        manage_groups: agent.manage_groups.clone(),
        config: template.render(agent)?,
    })
}

/// What a dry run shows of a payload: every field, secrets masked.
///
/// [`Preview::full`] holds the whole config, for JSON; [`Preview::line`]
/// only what its `Display` shows, which is cheaper on a big file. Both
/// render into a buffer the caller keeps from row to row.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview<'a> {
    pub uses_softphone: bool,
    pub name: &'a str,
    pub surname: &'a str,
    pub email: &'a str,
    pub password: &'static str,
    pub role: &'static str,
    pub groups: &'a [u64],
    #[serde(skip_serializing_if = "<[u64]>::is_empty")]
    pub manage_groups: &'a [u64],
    /// The config, masked; `None` in a [`Preview::line`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<&'a str>,
    /// The config's lines that are not `{% ... %}` tags (the SIP settings,
    /// by default), joined by spaces; `None` in a [`Preview::full`].
    #[serde(skip)]
    pub settings: Option<&'a str>,
}

impl Preview<'_> {
    /// The masked view of everything [`build`] sends for `agent`; the
    /// config is rendered into `buffer`.
    pub fn full<'a>(
        agent: &'a Agent,
        template: &ConfigTemplate,
        buffer: &'a mut String,
    ) -> Result<Preview<'a>, Problem> {
        buffer.clear();
        template.render_into(agent, true, Layout::Config, buffer)?;
        Ok(Preview {
            config: Some(buffer),
            ..Preview::fields(agent)
        })
    }

    /// The masked view that one line of text shows; the config's values
    /// are checked as for sending, and what is shown of them rendered into
    /// `buffer`.
    pub fn line<'a>(
        agent: &'a Agent,
        template: &ConfigTemplate,
        buffer: &'a mut String,
    ) -> Result<Preview<'a>, Problem> {
        buffer.clear();
        template.render_into(agent, true, Layout::Settings, buffer)?;
        Ok(Preview {
            settings: Some(buffer),
            ..Preview::fields(agent)
        })
    }

    fn fields(agent: &Agent) -> Preview<'_> {
        Preview {
            uses_softphone: agent.uses_softphone,
            name: &agent.name,
            surname: &agent.surname,
            email: &agent.email,
            password: "******",
            role: agent.role.as_str(),
            groups: &agent.groups,
            manage_groups: &agent.manage_groups,
            config: None,
            settings: None,
        }
    }
}

impl Preview<'_> {
    /// Appends the one readable line to `out`:
    /// `John Doe <john@x.com>, EMPLOYEE, teams 1,2, ...`.
    ///
    /// A dry run prints this for every row, so it is built by appending
    /// to a buffer, not through the formatting machinery, which took half
    /// of a dry run's main thread.
    pub fn write_line(&self, out: &mut String) {
        for piece in [self.name, " ", self.surname, " <", self.email, ">, "] {
            out.push_str(piece);
        }
        out.push_str(self.role);
        out.push_str(", teams ");
        push_ids(out, self.groups);
        if !self.manage_groups.is_empty() {
            out.push_str(", supervises ");
            push_ids(out, self.manage_groups);
        }
        out.push_str(if self.uses_softphone {
            ", softphone yes"
        } else {
            ", softphone no"
        });
        out.push_str(", password ");
        out.push_str(self.password);
        let settings = match (self.settings, self.config) {
            (Some(settings), _) => Cow::Borrowed(settings),
            (None, Some(config)) => Cow::Owned(
                config
                    .lines()
                    .filter(|line| !line.starts_with("{%"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            (None, None) => Cow::Borrowed(""),
        };
        if !settings.is_empty() {
            out.push_str(", config ");
            out.push_str(&settings);
        }
    }
}

impl fmt::Display for Preview<'_> {
    /// The line of [`Preview::write_line`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = String::new();
        self.write_line(&mut line);
        f.write_str(&line)
    }
}

/// Appends team IDs as the file writes them: `2,4,7`.
pub(crate) fn push_ids(out: &mut String, ids: &[u64]) {
    let mut digits = itoa::Buffer::new();
    for (index, &id) in ids.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(digits.format(id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roster::Role;

    fn agent() -> Agent {
        Agent {
            row: 1,
            line: 2,
            uses_softphone: true,
            name: "Иван".into(),
            surname: "Петров".into(),
            email: "ivan@example.com".into(),
            password: Secret::new("secret-1"),
            role: Role::Manager,
            groups: vec![1, 2],
            manage_groups: vec![],
            sip_login: "sip101".into(),
            sip_password: Secret::new("sip-pass"),
            sip_display_name: String::new(),
            sip_auth_name: String::new(),
            ext: "101".into(),
            extra: vec![("server".into(), "pbx.example.com".into())],
        }
    }

    const EIGHT_INCLUDES: &str = "{% include \"_Restrictions\" %}\n{% include \"_SipSettings\" %}\n{% include \"_Account1\" %}\n{% include \"_ACW\" %}\n{% include \"_Statuses\" %}\n{% include \"_Camera\" %}\n{% include \"_ScreenRecording\" %}\n{% include \"Default\" %}";

    #[test]
    fn agent_without_sip_fields_gets_the_api_pages_config() {
        let mut agent = agent();
        agent.sip_login.clear();
        agent.sip_password = Secret::default();
        let config = ConfigTemplate::default().render(&agent).unwrap();
        assert_eq!(config.expose(), EIGHT_INCLUDES);
    }

    #[test]
    fn sip_lines_follow_account1_and_empty_ones_are_left_out() {
        let config = ConfigTemplate::default().render(&agent()).unwrap();
        let lines: Vec<&str> = config.expose().lines().collect();
        assert_eq!(lines[2], "{% include \"_Account1\" %}");
        assert_eq!(lines[3], "Username=sip101");
        assert_eq!(lines[4], "Password=sip-pass");
        assert_eq!(lines[5], "{% include \"_ACW\" %}");
        assert_eq!(lines.len(), 10);
    }

    #[test]
    fn payload_json_matches_the_api_page() {
        let mut agent = agent();
        agent.sip_login.clear();
        agent.sip_password = Secret::default();
        let json =
            serde_json::to_value(build(&agent, &ConfigTemplate::default()).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "usesSoftphone": true, "name": "Иван", "surname": "Петров",
                "email": "ivan@example.com", "password": "secret-1", "role": "MANAGER",
                "groups": [1, 2], "config": EIGHT_INCLUDES,
            })
        );
    }

    #[test]
    fn manage_groups_are_sent_when_present() {
        let mut agent = agent();
        agent.manage_groups = vec![4, 7];
        let json =
            serde_json::to_value(build(&agent, &ConfigTemplate::default()).unwrap()).unwrap();
        assert_eq!(json["manageGroups"], serde_json::json!([4, 7]));
    }

    #[test]
    fn custom_template_uses_any_column_ignoring_case() {
        let template =
            ConfigTemplate::parse("[SipAccount1]\r\nServer=${SERVER}\r\nExt=${ext}\r\n").unwrap();
        template.check_columns(&["server".into()]).unwrap();
        let config = template.render(&agent()).unwrap();
        assert_eq!(
            config.expose(),
            "[SipAccount1]\nServer=pbx.example.com\nExt=101"
        );
    }

    #[test]
    fn unknown_placeholder_is_an_error_naming_the_line() {
        let template = ConfigTemplate::parse("a\nX=${sipuser}").unwrap();
        let error = template.check_columns(&[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "config template line 2: `${{sipuser}}` names no column of the agents file (columns: {})",
                Col::ALL.map(Col::key).join(", ")
            )
        );
    }

    #[test]
    fn malformed_placeholders_are_errors() {
        assert_eq!(
            ConfigTemplate::parse("X=${siplogin").unwrap_err(),
            TemplateError::Unclosed { line: 1 }
        );
        assert_eq!(
            ConfigTemplate::parse("\nX=${sip login}")
                .unwrap_err()
                .to_string(),
            "config template line 2: `${sip login}` is not a valid placeholder (use letters, digits and `_`, such as `${siplogin}`)"
        );
    }

    #[test]
    fn a_value_can_never_add_a_line_or_a_tag() {
        let template = ConfigTemplate::parse("Name=${notes}").unwrap();
        for bad in ["a\nb", "a\rb", "{% include \"x\" %}", "{{ secret }}"] {
            let mut agent = agent();
            agent.extra = vec![("notes".into(), bad.into())];
            let problem = template.render(&agent).unwrap_err();
            assert_eq!(problem.column.as_deref(), Some("notes"));
            assert_eq!(problem.row, Some(1));
        }
    }

    /// Both previews mask both passwords, and show the same line.
    #[test]
    fn preview_masks_both_passwords() {
        let agent = agent();
        let template = ConfigTemplate::default();
        let (mut full_buffer, mut line_buffer) = (String::new(), String::new());
        let (full, line) = (
            Preview::full(&agent, &template, &mut full_buffer).unwrap(),
            Preview::line(&agent, &template, &mut line_buffer).unwrap(),
        );
        let json = serde_json::to_string(&full).unwrap();
        let shown = format!("{full} {line} {json}");
        assert!(!shown.contains("secret-1"));
        assert!(!shown.contains("sip-pass"));
        let expected = "Иван Петров <ivan@example.com>, MANAGER, teams 1,2, softphone yes, password ******, config Username=sip101 Password=******";
        assert_eq!(full.to_string(), expected);
        assert_eq!(line.to_string(), expected);
        assert!(json.contains(r#""config":"{% include \"_Restrictions\" %}\n"#));
    }

    /// A value that forms a tag with the template text beside it is
    /// refused, as one that holds a tag is.
    #[test]
    fn a_value_can_not_form_a_tag_with_its_neighbours() {
        let template =
            ConfigTemplate::parse("A={${notes}\nB=${notes}}\nC=${notes}${other}").unwrap();
        for (notes, other, line) in [("%x", "", 1), ("x%", "", 2), ("a{", "%b", 3)] {
            let mut agent = agent();
            agent.extra = vec![
                ("notes".into(), notes.into()),
                ("other".into(), other.into()),
            ];
            let problem = template.render(&agent).unwrap_err();
            assert!(
                problem
                    .message
                    .ends_with(&format!("line {line} of the config template"))
            );
        }
        let mut agent = agent();
        agent.extra = vec![
            ("notes".into(), "50% {ok} x".into()),
            ("other".into(), "x".into()),
        ];
        assert!(template.render(&agent).is_ok());
    }

    #[test]
    fn debug_of_a_payload_hides_secrets() {
        let payload = build(&agent(), &ConfigTemplate::default()).unwrap();
        let debug = format!("{payload:?}");
        assert!(!debug.contains("secret-1") && !debug.contains("sip-pass"));
    }
}
