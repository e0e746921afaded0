//! Property tests of the row reader and the payload builder.

use proptest::prelude::*;
use provision::payload::{self, ConfigTemplate};
use provision::roster::{self, ReadOptions};

use crate::util::HEADER;

/// Text as people type it into a spreadsheet cell, hostile bits included.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Zа-яА-Я0-9 .'-]{0,40}",
        any::<String>(),
        "[ \\t\\r\\n;\",{}%#=+@-]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A row that validates round-trips every field into its payload, as
    /// written after the documented trim (passwords untrimmed), and its
    /// config has exactly the template's lines.
    #[test]
    fn valid_rows_round_trip_into_the_payload(
        name in cell(), surname in cell(), password in cell(),
        login in cell(), display in cell(), groups in prop::collection::vec(1u64..10_000, 1..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agents.csv");
        let mut writer = csv::WriterBuilder::new().delimiter(b';').from_path(&path).unwrap();
        writer.write_record(HEADER.split(';')).unwrap();
        let groups_text = groups.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        writer.write_record([
            "TRUE", &name, &surname, "a@example.com", &password, "manager", &groups_text, "",
            &login, "", &display, "", "",
        ]).unwrap();
        writer.flush().unwrap();

        let mut rows = roster::open(&path, &ReadOptions::default()).unwrap();
        let row = rows.next().unwrap().unwrap();
        prop_assert!(rows.next().is_none());
        let Some(agent) = row.agent else { return Ok(()) };
        let template = ConfigTemplate::default();
        let Ok(payload) = payload::build(&agent, &template) else { return Ok(()) };

        prop_assert_eq!(&payload.name, name.trim());
        prop_assert_eq!(&payload.surname, surname.trim());
        prop_assert_eq!(payload.password.expose(), password.as_str());
        prop_assert_eq!(&payload.groups, &groups);
        prop_assert_eq!(payload.role, "MANAGER");
        let config = payload.config.expose();
        let expected_lines = 8 + usize::from(!login.trim().is_empty()) + usize::from(!display.trim().is_empty());
        prop_assert_eq!(config.split('\n').count(), expected_lines);
        prop_assert!(!config.contains('\r'));
    }

    /// Whatever a value holds, the rendered config never gains a line.
    #[test]
    fn a_template_value_never_adds_a_line(value in any::<String>()) {
        let template = ConfigTemplate::parse("[SipAccount1]\nName=${notes}\nEnd=1").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agents.csv");
        let mut writer = csv::WriterBuilder::new().delimiter(b';').from_path(&path).unwrap();
        let mut header: Vec<&str> = HEADER.split(';').collect();
        header.push("notes");
        writer.write_record(&header).unwrap();
        writer.write_record([
            "true", "A", "B", "a@example.com", "secret1", "EMPLOYEE", "1", "", "", "", "", "", "", &value,
        ]).unwrap();
        writer.flush().unwrap();

        let row = roster::open(&path, &ReadOptions::default()).unwrap().next().unwrap().unwrap();
        let agent = row.agent.expect("the fixed cells are valid");
        if let Ok(config) = template.render(&agent) {
            let lines = config.expose().split('\n').count();
            prop_assert!(lines == 3 || lines == 2, "{lines} lines from {value:?}");
            prop_assert!(!config.expose().contains('\r'));
        }
    }
}
