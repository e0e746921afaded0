//! What must hold for any input, shared by the fuzz targets
//! (`fuzz/fuzz_targets/`) and the test that replays the inputs they found
//! (`tests/fuzz_regressions.rs`), so both check exactly the same things.

use std::path::Path;

use provision::payload::{self, ConfigTemplate, DEFAULT_TEMPLATE};
use provision::roster::{self, Agent, ReadOptions, Role};
use provision::secret::Secret;

/// Reads the agents file at `path` as `provision` does and checks, whatever
/// the bytes: nothing panics; every error, notice and problem prints as one
/// line (a cell must not be able to forge a line of output); a valid row
/// has no error and its payload carries its fields, with a config of no
/// more lines than the template and no carriage return.
pub fn check_agents_file(path: &Path) {
    let rows = match roster::open(path, &ReadOptions::default()) {
        Ok(rows) => rows,
        Err(error) => return assert_one_line("the open error", &error.to_string()),
    };
    for notice in rows.notices() {
        assert_one_line("a notice", notice);
    }
    for problem in rows.header_problems() {
        assert_one_line(
            "a header problem",
            &problem.display_in("agents.csv").to_string(),
        );
    }
    let template = ConfigTemplate::default();
    for row in rows {
        let row = match row {
            Ok(row) => row,
            Err(error) => return assert_one_line("the read error", &error.to_string()),
        };
        for problem in &row.problems {
            assert_one_line(
                "a row problem",
                &problem.display_in("agents.csv").to_string(),
            );
        }
        if let Some(agent) = &row.agent {
            assert!(
                !row.problems.iter().any(|p| p.is_error()),
                "row {} is valid but has errors: {:?}",
                row.row,
                row.problems
            );
            check_payload(agent, &template, DEFAULT_TEMPLATE);
        }
    }
}

/// Parses `text` as a config template and, if it parses, checks it against
/// a header and renders it for a plain agent: nothing panics, and the
/// config has no more lines than the template and no carriage return.
pub fn check_template(text: &str) {
    let Ok(template) = ConfigTemplate::parse(text) else {
        return;
    };
    let _ = template.check_columns(&["notes".to_string(), String::new()]);
    let _ = template.uses("ext");
    check_payload(&plain_agent(), &template, text);
}

/// The payload of a valid agent carries its fields unchanged, and its
/// config has no more lines than the template and no carriage return the
/// template's own text did not hold (a lone `\r` inside a template line is
/// the template writer's, and kept).
fn check_payload(agent: &Agent, template: &ConfigTemplate, template_text: &str) {
    let Ok(user) = payload::build(agent, template) else {
        return;
    };
    assert_eq!(user.name, agent.name);
    assert_eq!(user.surname, agent.surname);
    assert_eq!(user.email, agent.email);
    assert_eq!(user.password.expose(), agent.password.expose());
    assert_eq!(user.role, agent.role.as_str());
    assert_eq!(user.groups, agent.groups);
    assert_eq!(user.manage_groups, agent.manage_groups);
    let config = user.config.expose();
    let template_text = template_text.trim_end_matches(['\r', '\n']);
    let template_crs = template_text
        .split('\n')
        .map(|line| {
            line.strip_suffix('\r')
                .unwrap_or(line)
                .matches('\r')
                .count()
        })
        .sum::<usize>();
    assert!(
        config.matches('\r').count() <= template_crs,
        "a carriage return from a value in {config:?}"
    );
    let template_lines = template_text.split('\n').count();
    assert!(
        config.split('\n').count() <= template_lines,
        "the config {config:?} has more lines than its template"
    );
}

/// An agent whose every value is plain text.
fn plain_agent() -> Agent {
    Agent {
        row: 1,
        line: 2,
        uses_softphone: true,
        name: "Anna".to_string(),
        surname: "Smirnova".to_string(),
        email: "anna@example.com".to_string(),
        password: Secret::new("secret1"),
        role: Role::Manager,
        groups: vec![1, 2],
        manage_groups: vec![2],
        sip_login: "sip101".to_string(),
        sip_password: Secret::new("sip-secret"),
        sip_display_name: "Anna S".to_string(),
        sip_auth_name: String::new(),
        ext: "101".to_string(),
        extra: vec![("notes".to_string(), "on call".to_string())],
    }
}

/// Panics unless `text` is one line: output is read line by line, by people
/// and by scripts, so a line break in a message forges a line.
fn assert_one_line(what: &str, text: &str) {
    assert!(
        !text.contains(['\n', '\r']),
        "{what} spans several lines: {text:?}"
    );
}
