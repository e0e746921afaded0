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

use std::fmt;

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

/// The columns of the vendor's format, which a template may always name even
/// when the file leaves the optional ones out.
pub const KNOWN_COLUMNS: [&str; 13] = [
    "usessp",
    "name",
    "surname",
    "email",
    "password",
    "role",
    "groupsin",
    "groupsman",
    "siplogin",
    "sippassword",
    "sipdisplayname",
    "sipauthname",
    "ext",
];

/// Columns whose values are secrets: masked in every preview.
const SECRET_COLUMNS: [&str; 2] = ["password", "sippassword"];

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
    Value(String),
}

/// A parsed config template: lines of literal text and `${column}` values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigTemplate {
    lines: Vec<Vec<Piece>>,
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
            .collect::<Result<_, _>>()?;
        Ok(ConfigTemplate { lines })
    }

    /// Checks that every placeholder names a column: one of the vendor's
    /// format or one of `columns` (the file's header, lower case).
    pub fn check_columns(&self, columns: &[String]) -> Result<(), TemplateError> {
        for (index, line) in self.lines.iter().enumerate() {
            for name in line.iter().filter_map(Piece::value_name) {
                let known = KNOWN_COLUMNS.contains(&name) || columns.iter().any(|c| c == name);
                if !known {
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
        self.render_with(agent, false).map(Secret::new)
    }

    /// The config with secret values replaced by `******`, for previews.
    pub fn render_masked(&self, agent: &Agent) -> Result<String, Problem> {
        self.render_with(agent, true)
    }

    fn render_with(&self, agent: &Agent, mask: bool) -> Result<String, Problem> {
        let mut out = Vec::with_capacity(self.lines.len());
        for (index, line) in self.lines.iter().enumerate() {
            if let Some(text) = render_line(line, index + 1, agent, mask)? {
                out.push(text);
            }
        }
        Ok(out.join("\n"))
    }
}

impl Piece {
    fn value_name(&self) -> Option<&str> {
        match self {
            Piece::Value(name) => Some(name),
            Piece::Text(_) => None,
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
        pieces.push(Piece::Value(name.to_ascii_lowercase()));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    Ok(pieces)
}

fn known_columns(columns: &[String]) -> String {
    let mut all: Vec<&str> = KNOWN_COLUMNS.to_vec();
    all.extend(
        columns
            .iter()
            .map(String::as_str)
            .filter(|c| !KNOWN_COLUMNS.contains(c)),
    );
    all.join(", ")
}

/// One template line for one agent; `None` when the line has placeholders
/// and all of them are empty (an agent without SIP fields).
fn render_line(
    line: &[Piece],
    line_number: usize,
    agent: &Agent,
    mask: bool,
) -> Result<Option<String>, Problem> {
    let mut text = String::new();
    let mut values = 0;
    let mut empty = 0;
    for piece in line {
        match piece {
            Piece::Text(literal) => text.push_str(literal),
            Piece::Value(name) => {
                let value = column_value(agent, name);
                check_value(agent, name, &value, line_number)?;
                values += 1;
                if value.is_empty() {
                    empty += 1;
                } else if mask && SECRET_COLUMNS.contains(&name.as_str()) {
                    text.push_str("******");
                } else {
                    text.push_str(&value);
                }
            }
        }
    }
    Ok((values == 0 || empty < values).then_some(text))
}

/// Refuses a value that would change the INI's shape: a line break would
/// add a line, and `{%`/`{{` would be expanded by the dashboard.
fn check_value(agent: &Agent, column: &str, value: &str, line: usize) -> Result<(), Problem> {
    let reason = if value.contains(['\r', '\n']) {
        "contains a line break"
    } else if ["{%", "%}", "{{", "}}", "{#", "#}"]
        .iter()
        .any(|tag| value.contains(tag))
    {
        "contains a template tag such as `{%` or `{{`, which the dashboard would expand"
    } else {
        return Ok(());
    };
    Err(Problem::error(
        agent.row,
        agent.line,
        column,
        format!("{reason}, so it cannot go into line {line} of the config template"),
    ))
}

/// A row's value for a placeholder. Names are lower case; an optional
/// column the file does not have is empty.
fn column_value(agent: &Agent, name: &str) -> String {
    let join = |ids: &[u64]| ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    match name {
        "usessp" => agent.uses_softphone.to_string(),
        "name" => agent.name.clone(),
        "surname" => agent.surname.clone(),
        "email" => agent.email.clone(),
        "password" => agent.password.expose().to_string(),
        "role" => agent.role.as_str().to_string(),
        "groupsin" => join(&agent.groups),
        "groupsman" => join(&agent.manage_groups),
        "siplogin" => agent.sip_login.clone(),
        "sippassword" => agent.sip_password.expose().to_string(),
        "sipdisplayname" => agent.sip_display_name.clone(),
        "sipauthname" => agent.sip_auth_name.clone(),
        "ext" => agent.ext.clone(),
        other => agent
            .extra
            .iter()
            .find(|(column, _)| column == other)
            .map(|(_, value)| value.clone())
            .unwrap_or_default(),
    }
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
pub struct Preview {
    pub uses_softphone: bool,
    pub name: String,
    pub surname: String,
    pub email: String,
    pub password: &'static str,
    pub role: &'static str,
    pub groups: Vec<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manage_groups: Vec<u64>,
    pub config: String,
}

impl Preview {
    /// The masked view of what [`build`] sends for `agent`.
    pub fn of(agent: &Agent, template: &ConfigTemplate) -> Result<Preview, Problem> {
        Ok(Preview {
            uses_softphone: agent.uses_softphone,
            name: agent.name.clone(),
            surname: agent.surname.clone(),
            email: agent.email.clone(),
            password: "******",
            role: agent.role.as_str(),
            groups: agent.groups.clone(),
            manage_groups: agent.manage_groups.clone(),
            config: template.render_masked(agent)?,
        })
    }
}

impl fmt::Display for Preview {
    /// One readable line: `John Doe <john@x.com>, EMPLOYEE, teams 1,2, ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids = |ids: &[u64]| ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
        write!(
            f,
            "{} {} <{}>, {}, teams {}",
            self.name,
            self.surname,
            self.email,
            self.role,
            ids(&self.groups)
        )?;
        if !self.manage_groups.is_empty() {
            write!(f, ", supervises {}", ids(&self.manage_groups))?;
        }
        let softphone = if self.uses_softphone { "yes" } else { "no" };
        write!(f, ", softphone {softphone}, password {}", self.password)?;
        let sip: Vec<&str> = self
            .config
            .lines()
            .filter(|line| !line.starts_with("{%"))
            .collect();
        if !sip.is_empty() {
            write!(f, ", config {}", sip.join(" "))?;
        }
        Ok(())
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
                KNOWN_COLUMNS.join(", ")
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
        let preview = Preview::of(&agent(), &ConfigTemplate::default()).unwrap();
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
