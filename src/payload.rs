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
use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::roster::{Agent, Problem};
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

/// A column of the vendor's format, which a template may always name even
/// when the file leaves the optional ones out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
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

impl Field {
    const ALL: [Field; 13] = [
        Field::UsesSp,
        Field::Name,
        Field::Surname,
        Field::Email,
        Field::Password,
        Field::Role,
        Field::GroupsIn,
        Field::GroupsMan,
        Field::SipLogin,
        Field::SipPassword,
        Field::SipDisplayName,
        Field::SipAuthName,
        Field::Ext,
    ];

    /// The placeholder's name, in lower case.
    fn name(self) -> &'static str {
        match self {
            Field::UsesSp => "usessp",
            Field::Name => "name",
            Field::Surname => "surname",
            Field::Email => "email",
            Field::Password => "password",
            Field::Role => "role",
            Field::GroupsIn => "groupsin",
            Field::GroupsMan => "groupsman",
            Field::SipLogin => "siplogin",
            Field::SipPassword => "sippassword",
            Field::SipDisplayName => "sipdisplayname",
            Field::SipAuthName => "sipauthname",
            Field::Ext => "ext",
        }
    }

    fn find(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.name() == name)
    }

    /// Whether the value is masked in every preview.
    fn is_secret(self) -> bool {
        matches!(self, Field::Password | Field::SipPassword)
    }
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
    Field(Field),
    /// Any other column of the file, by lower-case name.
    Column(String),
}

/// A parsed config template: lines of literal text and `${column}` values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigTemplate {
    lines: Vec<Vec<Piece>>,
    /// About how long a rendered config is, to size its buffer once.
    size_hint: usize,
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
        let size_hint = lines.iter().flatten().map(Piece::len_hint).sum();
        Ok(ConfigTemplate { lines, size_hint })
    }

    /// Checks that every placeholder names a column: one of the vendor's
    /// format or one of `columns` (the file's header, lower case).
    pub fn check_columns(&self, columns: &[String]) -> Result<(), TemplateError> {
        for (index, line) in self.lines.iter().enumerate() {
            for piece in line {
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
            .flatten()
            .filter_map(Piece::value_name)
            .any(|name| name == column)
    }

    /// The config for one agent, or the problem that makes the row invalid.
    pub fn render(&self, agent: &Agent) -> Result<Secret, Problem> {
        let mut config = String::new();
        self.render_into(agent, false, &mut config, None)?;
        Ok(Secret::new(config))
    }

    /// Writes the config into `out`, one template line after another,
    /// leaving out the lines whose placeholders are all empty. The lines
    /// that are not `{% ... %}` tags also go into `settings`, separated by
    /// spaces, when it is given.
    fn render_into(
        &self,
        agent: &Agent,
        mask: bool,
        out: &mut String,
        mut settings: Option<&mut String>,
    ) -> Result<(), Problem> {
        out.reserve(self.size_hint);
        let mut first = true;
        for (index, line) in self.lines.iter().enumerate() {
            let start = out.len();
            if !first {
                out.push('\n');
            }
            let text_start = out.len();
            if !render_line(line, index + 1, agent, mask, out)? {
                out.truncate(start);
                continue;
            }
            first = false;
            let text = &out[text_start..];
            if let Some(settings) = settings.as_deref_mut().filter(|_| !text.starts_with("{%")) {
                if !settings.is_empty() {
                    settings.push(' ');
                }
                settings.push_str(text);
            }
        }
        Ok(())
    }
}

impl Piece {
    fn value_name(&self) -> Option<&str> {
        match self {
            Piece::Field(field) => Some(field.name()),
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

fn parse_line(line_number: usize, line: &str) -> Result<Vec<Piece>, TemplateError> {
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
        pieces.push(match Field::find(&name) {
            Some(field) => Piece::Field(field),
            None => Piece::Column(name),
        });
        rest = &after[end + 1..];
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Ok(pieces)
}

fn known_columns(columns: &[String]) -> String {
    let mut all: Vec<&str> = Field::ALL.map(Field::name).to_vec();
    all.extend(
        columns
            .iter()
            .map(String::as_str)
            .filter(|c| Field::find(c).is_none()),
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
    for piece in line {
        let (value, name, secret) = match piece {
            Piece::Text(literal) => {
                out.push_str(literal);
                continue;
            }
            Piece::Field(field) => (field_value(agent, *field), field.name(), field.is_secret()),
            Piece::Column(name) => (
                Cow::Borrowed(column_value(agent, name)),
                name.as_str(),
                false,
            ),
        };
        check_value(agent, name, &value, line_number)?;
        values += 1;
        if value.is_empty() {
            empty += 1;
        } else if mask && secret {
            out.push_str("******");
        } else {
            out.push_str(&value);
        }
    }
    Ok(values == 0 || empty < values)
}

/// Refuses a value that would change the INI's shape: a line break would
/// add a line, and `{%`/`{{` would be expanded by the dashboard.
fn check_value(agent: &Agent, column: &str, value: &str, line: usize) -> Result<(), Problem> {
    let reason = match ini_breaker(value) {
        Some(Breaker::LineBreak) => "contains a line break",
        Some(Breaker::Tag) => {
            "contains a template tag such as `{%` or `{{`, which the dashboard would expand"
        }
        None => return Ok(()),
    };
    Err(Problem::error(
        agent.row,
        agent.line,
        column,
        format!("{reason}, so it cannot go into line {line} of the config template"),
    ))
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
/// involved, takes one quick pass.
fn ini_breaker(value: &str) -> Option<Breaker> {
    let bytes = value.as_bytes();
    if !bytes.iter().any(|&b| SUSPECT[usize::from(b)]) {
        return None;
    }
    if bytes.iter().any(|&b| b == b'\r' || b == b'\n') {
        return Some(Breaker::LineBreak);
    }
    let tag = |pair: &[u8]| matches!(pair, b"{%" | b"%}" | b"{{" | b"}}" | b"{#" | b"#}");
    bytes.windows(2).any(tag).then_some(Breaker::Tag)
}

/// A row's value of a column of the vendor's format; empty when the file
/// leaves an optional column out.
fn field_value(agent: &Agent, field: Field) -> Cow<'_, str> {
    let text = match field {
        Field::UsesSp => {
            if agent.uses_softphone {
                "true"
            } else {
                "false"
            }
        }
        Field::Name => &agent.name,
        Field::Surname => &agent.surname,
        Field::Email => &agent.email,
        Field::Password => agent.password.expose(),
        Field::Role => agent.role.as_str(),
        Field::GroupsIn => return Cow::Owned(ids_text(&agent.groups)),
        Field::GroupsMan => return Cow::Owned(ids_text(&agent.manage_groups)),
        Field::SipLogin => &agent.sip_login,
        Field::SipPassword => agent.sip_password.expose(),
        Field::SipDisplayName => &agent.sip_display_name,
        Field::SipAuthName => &agent.sip_auth_name,
        Field::Ext => &agent.ext,
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
    for (index, id) in ids.iter().enumerate() {
        let separator = if index > 0 { "," } else { "" };
        // Writing to a String can't fail.
        let _ = write!(text, "{separator}{id}");
    }
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
    pub config: String,
    /// The lines of `config` that are not `{% ... %}` tags (the SIP
    /// settings, by default), joined by spaces: what the text preview shows.
    #[serde(skip)]
    pub settings: String,
}

impl Preview<'_> {
    /// The masked view of what [`build`] sends for `agent`.
    pub fn of<'a>(agent: &'a Agent, template: &ConfigTemplate) -> Result<Preview<'a>, Problem> {
        let (mut config, mut settings) = (String::new(), String::with_capacity(128));
        template.render_into(agent, true, &mut config, Some(&mut settings))?;
        Ok(Preview {
            uses_softphone: agent.uses_softphone,
            name: &agent.name,
            surname: &agent.surname,
            email: &agent.email,
            password: "******",
            role: agent.role.as_str(),
            groups: &agent.groups,
            manage_groups: &agent.manage_groups,
            config,
            settings,
        })
    }
}

impl fmt::Display for Preview<'_> {
    /// One readable line: `John Doe <john@x.com>, EMPLOYEE, teams 1,2, ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Pieces are written one by one rather than through one `write!`
        // with many arguments: a dry run prints this for every row.
        for piece in [self.name, " ", self.surname, " <", self.email, ">, "] {
            f.write_str(piece)?;
        }
        f.write_str(self.role)?;
        f.write_str(", teams ")?;
        write_ids(f, self.groups)?;
        if !self.manage_groups.is_empty() {
            f.write_str(", supervises ")?;
            write_ids(f, self.manage_groups)?;
        }
        f.write_str(if self.uses_softphone {
            ", softphone yes"
        } else {
            ", softphone no"
        })?;
        f.write_str(", password ")?;
        f.write_str(self.password)?;
        if !self.settings.is_empty() {
            f.write_str(", config ")?;
            f.write_str(&self.settings)?;
        }
        Ok(())
    }
}

fn write_ids(f: &mut fmt::Formatter<'_>, ids: &[u64]) -> fmt::Result {
    for (index, id) in ids.iter().enumerate() {
        if index > 0 {
            f.write_str(",")?;
        }
        write!(f, "{id}")?;
    }
    Ok(())
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
                Field::ALL.map(Field::name).join(", ")
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

    #[test]
    fn preview_masks_both_passwords() {
        let agent = agent();
        let preview = Preview::of(&agent, &ConfigTemplate::default()).unwrap();
        let shown = format!("{preview} {}", serde_json::to_string(&preview).unwrap());
        assert!(!shown.contains("secret-1"));
        assert!(!shown.contains("sip-pass"));
        assert_eq!(
            preview.to_string(),
            "Иван Петров <ivan@example.com>, MANAGER, teams 1,2, softphone yes, password ******, config Username=sip101 Password=******"
        );
    }

    #[test]
    fn debug_of_a_payload_hides_secrets() {
        let payload = build(&agent(), &ConfigTemplate::default()).unwrap();
        let debug = format!("{payload:?}");
        assert!(!debug.contains("secret-1") && !debug.contains("sip-pass"));
    }
}
