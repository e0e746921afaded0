//! Tests of the whole roster module against the files in `fixtures/`
//! (written by `fixtures/make-fixtures.py`). Every rule has a test that
//! asserts the exact message line, located by row and physical line.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::*;

/// Reads `file` to the end; panics (failing the test) on a fatal error.
fn read(file: &str) -> (Rows, Vec<CheckedRow>) {
    let mut rows = match open(Path::new(file), &ReadOptions::default()) {
        Ok(rows) => rows,
        Err(error) => panic!("{file}: {error}"),
    };
    let checked = rows.by_ref().collect::<Result<Vec<_>, _>>();
    match checked {
        Ok(checked) => (rows, checked),
        Err(error) => panic!("{file}: {error}"),
    }
}

/// Every problem of `file` (header first) as the lines a user sees.
fn problem_lines(file: &str) -> Vec<String> {
    let (rows, checked) = read(file);
    let header = rows.header_problems().iter();
    let row_problems = checked.iter().flat_map(|row| row.problems.iter());
    header
        .chain(row_problems)
        .map(|p| p.display_in(file).to_string())
        .collect()
}

/// The fatal error of opening `file`, as text.
fn open_error(file: &str, options: &ReadOptions) -> String {
    match open(Path::new(file), options) {
        Ok(_) => panic!("{file} opened without an error"),
        Err(error) => error.to_string(),
    }
}

const NAMES: [&str; 4] = ["Иван", "Anna", "Ольга", "John"];
const EMAILS: [&str; 4] = [
    "ivan.petrov@example.com",
    "anna.smith@example.com",
    "olga@example.ru",
    "john@example.org",
];

/// Every valid fixture gives the same four valid agents, and says how it
/// was read when that was not plain `;`-separated UTF-8.
#[test]
fn valid_files_give_the_same_agents() {
    let files: [(&str, &[&str]); 10] = [
        ("fixtures/utf8.csv", &[]),
        ("fixtures/utf8-bom.csv", &[]),
        (
            "fixtures/utf16le-bom.txt",
            &[
                "read as UTF-16LE (the file starts with its byte-order mark)",
                "separator is a tab (the header has no ';')",
            ],
        ),
        (
            "fixtures/utf16be-bom.csv",
            &["read as UTF-16BE (the file starts with its byte-order mark)"],
        ),
        (
            "fixtures/windows-1251.csv",
            &["read as Windows-1251 (the file is not valid UTF-8, first at line 2)"],
        ),
        ("fixtures/crlf.csv", &[]),
        ("fixtures/excel-true-false.csv", &[]),
        ("fixtures/quoted.csv", &[]),
        (
            "fixtures/comma.csv",
            &["separator is ',' (the header has no ';')"],
        ),
        ("fixtures/agents.xlsx", &[]),
    ];
    for (file, notices) in files {
        let (rows, checked) = read(file);
        assert_eq!(rows.notices(), notices, "{file}");
        let agents: Vec<&Agent> = checked
            .iter()
            .filter_map(|row| row.agent.as_ref())
            .collect();
        let names: Vec<&str> = agents.iter().map(|a| a.name.as_str()).collect();
        let emails: Vec<&str> = agents.iter().map(|a| a.email.as_str()).collect();
        let errors = checked
            .iter()
            .flat_map(|r| &r.problems)
            .filter(|p| p.is_error())
            .count();
        assert_eq!((emails.as_slice(), errors), (&EMAILS[..], 0), "{file}");
        if file != "fixtures/quoted.csv" {
            assert_eq!(names, NAMES, "{file}");
        }
        let sip: Vec<&str> = agents.iter().map(|a| a.sip_password.expose()).collect();
        assert_eq!(sip, ["sipPass1", "sipPass2", "", "x9y8z7w6"], "{file}");
        let exts: Vec<&str> = agents.iter().map(|a| a.ext.as_str()).collect();
        assert_eq!(exts, ["101", "102", "", "104"], "{file}");
        let groups: Vec<&[u64]> = agents.iter().map(|a| a.groups.as_slice()).collect();
        assert_eq!(groups, [&[2, 4][..], &[2], &[3, 5], &[7]], "{file}");
        assert_eq!(rows.columns()[..3], ["usessp", "name", "surname"], "{file}");
    }
}

/// Every cell of a row lands in its field: trimmed, typed, passwords kept.
#[test]
fn agent_fields_are_filled() {
    let (_, checked) = read("fixtures/utf8.csv");
    let [first, second, third, fourth] = &checked[..] else {
        panic!("expected 4 rows")
    };
    let Some(anna) = &second.agent else {
        panic!("row 2 is invalid")
    };
    assert_eq!((anna.row, anna.line, anna.uses_softphone), (2, 3, false));
    assert_eq!((anna.surname.as_str(), anna.role), ("Smith", Role::Manager));
    assert_eq!(
        (anna.password.expose(), anna.sip_password.expose()),
        ("hunter22", "sipPass2")
    );
    assert_eq!(anna.manage_groups, [4, 7]);
    let sip = [
        &anna.sip_login,
        &anna.sip_display_name,
        &anna.sip_auth_name,
        &anna.ext,
    ];
    assert_eq!(sip, ["1002", "Anna Smith", "1002", "102"]);
    assert!(anna.extra.is_empty());
    assert_eq!(
        fourth.agent.as_ref().map(|a| a.password.expose()),
        Some("pass word")
    );
    assert_eq!(
        third.agent.as_ref().map(|a| a.role),
        Some(Role::RestrictedAdmin)
    );
    let summary = RowSummary {
        email: EMAILS[0].into(),
        name: "Иван".into(),
        surname: "Петров".into(),
        role: "EMPLOYEE".into(),
    };
    assert_eq!(first.summary, summary);
}

/// Quoted fields keep separators and quotes; a line break inside one moves
/// the later rows' line numbers; the unknown column is a warning and extra.
#[test]
fn quoted_fields_and_line_numbers() {
    let file = "fixtures/quoted.csv";
    let (rows, checked) = read(file);
    let lines: Vec<(usize, u64)> = checked.iter().map(|r| (r.row, r.line)).collect();
    assert_eq!(lines, [(1, 2), (2, 4), (3, 5), (4, 6)]);
    let anna = checked[1]
        .agent
        .as_ref()
        .map(|a| (a.name.as_str(), a.surname.as_str()));
    assert_eq!(anna, Some(("Anna; Maria", "Smith \"Jr\"")));
    let notes = checked[0].agent.as_ref().map(|a| a.extra.clone());
    assert_eq!(
        notes,
        Some(vec![("notes".into(), "first line\nsecond line".into())])
    );
    assert_eq!(
        problem_lines(file),
        [
            "warning: fixtures/quoted.csv: line 1, column notes: unknown column; its values are passed on only as extra fields for the config template"
        ]
    );
    assert_eq!(rows.columns().last().map(String::as_str), Some("notes"));
}

/// A row of separators only is skipped and not numbered, and CRLF line
/// ends give the right line numbers (rust-csv#395 is worked around).
#[test]
fn blank_rows_are_skipped() {
    let (_, checked) = read("fixtures/excel-true-false.csv");
    let lines: Vec<(usize, u64)> = checked.iter().map(|r| (r.row, r.line)).collect();
    assert_eq!(lines, [(1, 2), (2, 3), (3, 5), (4, 6)]);
}

/// Asserts that `file` has exactly the problem lines `expected`.
fn assert_problems(file: &str, expected: &[&str]) {
    assert_eq!(problem_lines(file), expected, "{file}");
}

/// usesSP must be a boolean.
#[test]
fn uses_sp_rule() {
    assert_problems(
        "fixtures/invalid/uses-sp.csv",
        &[
            r#"error: fixtures/invalid/uses-sp.csv: row #2 (line 3), column usesSP: must be true or false, found "yes""#,
        ],
    );
}

/// A name of spaces only is empty.
#[test]
fn name_empty_rule() {
    assert_problems(
        "fixtures/invalid/name-empty.csv",
        &[
            "error: fixtures/invalid/name-empty.csv: row #2 (line 3), column name: must not be empty",
        ],
    );
}

/// 256 Cyrillic letters pass, 257 fail: lengths count characters.
#[test]
fn name_too_long_rule() {
    let file = "fixtures/invalid/name-too-long.csv";
    assert_problems(
        file,
        &[
            "error: fixtures/invalid/name-too-long.csv: row #2 (line 3), column name: is 257 characters long, at most 256 allowed: \"ЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖЖ…\"",
        ],
    );
    let (_, checked) = read(file);
    assert_eq!(
        checked[0].agent.as_ref().map(|a| a.name.chars().count()),
        Some(256)
    );
}

/// A malformed email is quoted in the message.
#[test]
fn email_rule() {
    assert_problems(
        "fixtures/invalid/email.csv",
        &[
            r#"error: fixtures/invalid/email.csv: row #2 (line 3), column email: is not a valid email address: "john@@x""#,
        ],
    );
}

/// The later of two emails differing only in case is the error.
#[test]
fn email_duplicate_rule() {
    assert_problems(
        "fixtures/invalid/email-duplicate.csv",
        &[
            r#"error: fixtures/invalid/email-duplicate.csv: row #2 (line 3), column email: "Ivan.Petrov@EXAMPLE.com" is already used by row #1 (emails must be unique, ignoring case)"#,
        ],
    );
}

/// A short password is reported without its value.
#[test]
fn password_short_rule() {
    let file = "fixtures/invalid/password-short.csv";
    let lines = problem_lines(file);
    assert_eq!(
        lines,
        [
            "error: fixtures/invalid/password-short.csv: row #2 (line 3), column password: must be 6 to 256 characters, found 5 (the value is not shown)"
        ]
    );
    assert!(lines.iter().all(|line| !line.contains("abcde")));
    let (_, checked) = read(file);
    assert!(
        !format!("{checked:?}").contains("abcde"),
        "Debug shows a password"
    );
}

/// The message lists the allowed roles.
#[test]
fn role_rule() {
    assert_problems(
        "fixtures/invalid/role.csv",
        &[
            r#"error: fixtures/invalid/role.csv: row #2 (line 3), column role: must be one of EMPLOYEE, MANAGER, RESTRICTED_ADMIN, ADMIN, found "boss""#,
        ],
    );
}

/// groupsIn must be comma-separated IDs.
#[test]
fn groups_in_rule() {
    assert_problems(
        "fixtures/invalid/groups-in.csv",
        &[
            r#"error: fixtures/invalid/groups-in.csv: row #2 (line 3), column groupsIn: must be team IDs separated by commas, such as 2,4,7, found "2;x""#,
        ],
    );
}

/// Team IDs must be positive.
#[test]
fn groups_man_rule() {
    assert_problems(
        "fixtures/invalid/groups-man.csv",
        &[
            r#"error: fixtures/invalid/groups-man.csv: row #2 (line 3), column groupsMan: must be team IDs separated by commas, such as 2,4,7, found "4,0""#,
        ],
    );
}

/// SIP fields have the same length limit as names.
#[test]
fn sip_too_long_rule() {
    assert_problems(
        "fixtures/invalid/sip-too-long.csv",
        &[
            "error: fixtures/invalid/sip-too-long.csv: row #2 (line 3), column siplogin: is 257 characters long, at most 256 allowed: \"1111111111111111111111111111111111111111…\"",
        ],
    );
}

/// A line break can't go into a config line; the next row's line number
/// counts it.
#[test]
fn sip_multiline_rule() {
    let file = "fixtures/invalid/sip-multiline.csv";
    assert_problems(
        file,
        &[
            r#"error: fixtures/invalid/sip-multiline.csv: row #2 (line 3), column sipdisplayname: must be on one line, found a line break in "Anna\nSmith""#,
        ],
    );
    let (_, checked) = read(file);
    assert_eq!(checked.last().map(|r| (r.row, r.line)), Some((3, 5)));
}

/// A short row is one error, and the rows after it are still checked.
#[test]
fn field_count_rule() {
    let file = "fixtures/invalid/field-count.csv";
    assert_problems(
        file,
        &["error: fixtures/invalid/field-count.csv: row #2 (line 3): expected 13 fields, found 12"],
    );
    let (_, checked) = read(file);
    let valid: Vec<bool> = checked.iter().map(|r| r.agent.is_some()).collect();
    assert_eq!(valid, [true, false, true]);
    assert_eq!(checked[1].summary.email, "anna.smith@example.com");
}

/// A missing required column is fatal, with a guess for the typo.
#[test]
fn missing_column_is_fatal() {
    assert_eq!(
        open_error(
            "fixtures/invalid/missing-column.csv",
            &ReadOptions::default()
        ),
        "fixtures/invalid/missing-column.csv: the header lacks required column `email` (found `emial`: did you mean `email`?); the first row must name usesSP, name, surname, email, password, role and groupsIn"
    );
}

/// Empty and binary files are fatal; a header alone gives zero rows.
#[test]
fn bad_files() {
    let options = ReadOptions::default();
    assert_eq!(
        open_error("fixtures/bad/empty.csv", &options),
        "fixtures/bad/empty.csv is empty; the first row must name the columns (usesSP;name;surname;email;password;role;groupsIn, ...)"
    );
    assert_eq!(
        open_error("fixtures/bad/garbage.bin", &options),
        "fixtures/bad/garbage.bin looks like a binary file, not a CSV or .xlsx (it contains NUL bytes); save it from Excel as \"CSV UTF-8\" or .xlsx, or if it is UTF-16 text without a byte-order mark, name that encoding"
    );
    let (rows, checked) = read("fixtures/bad/header-only.csv");
    assert!(checked.is_empty() && rows.header_problems().is_empty());
}

/// Forcing UTF-8 on a Windows-1251 file is an error; forcing the right
/// encoding reads it with a notice.
#[test]
fn forced_encoding() {
    let file = "fixtures/windows-1251.csv";
    let utf8 = ReadOptions {
        encoding: Some(encoding_rs::UTF_8),
        delimiter: None,
    };
    assert_eq!(
        open_error(file, &utf8),
        "fixtures/windows-1251.csv is not valid UTF-8 (first at line 2); name its real encoding, such as windows-1251, or let it be detected"
    );
    let cp1251 = ReadOptions {
        encoding: Some(encoding_rs::WINDOWS_1251),
        delimiter: None,
    };
    let rows = open(Path::new(file), &cp1251)
        .map(|rows| rows.notices().to_vec())
        .ok();
    assert_eq!(
        rows,
        Some(vec![
            "read as Windows-1251 (the encoding was given)".to_string()
        ])
    );
}

/// In a workbook, `line` is the spreadsheet row and typed cells read as
/// text (usesSP is a real boolean, groupsIn a number there).
#[test]
fn xlsx_lines_and_cells() {
    let (_, checked) = read("fixtures/agents.xlsx");
    let lines: Vec<(usize, u64)> = checked.iter().map(|r| (r.row, r.line)).collect();
    assert_eq!(lines, [(1, 2), (2, 3), (3, 4), (4, 5)]);
    let first = checked[0]
        .agent
        .as_ref()
        .map(|a| (a.uses_softphone, a.sip_login.clone()));
    assert_eq!(first, Some((true, "1001".to_string())));
}

/// A file named .xlsx that is not a workbook is a clear fatal error.
#[test]
fn broken_xlsx_is_fatal() {
    let mut file = tempfile::Builder::new()
        .suffix(".xlsx")
        .tempfile()
        .expect("temp file");
    file.write_all(b"usesSP;name\n").expect("write temp file");
    let path = file.path().to_string_lossy().to_string();
    let error = open_error(&path, &ReadOptions::default());
    assert!(
        error.starts_with(&format!("failed to read {path} as an .xlsx workbook: ")),
        "{error}"
    );
    assert!(
        error.ends_with("; save it again from Excel, or as CSV"),
        "{error}"
    );
}

/// Writes `text` to a temporary CSV file.
fn temp_csv(text: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".csv")
        .tempfile()
        .expect("temp file");
    file.write_all(text).expect("write temp file");
    file
}

const HEADER: &str = "usesSP;name;surname;email;password;role;groupsIn;groupsMan;siplogin;sippassword;sipdisplayname;sipauthname;ext\n";

/// All problems of a row are reported together, and managing teams is
/// only a warning for a role that can't.
#[test]
fn all_problems_of_a_row() {
    let text = format!(
        "{HEADER}maybe;;Doe;x@y;123;boss;0;;;;;;\ntrue;A;B;a@b.c;secret1;employee;1;2;;;;;\n"
    );
    let file = temp_csv(text.as_bytes());
    let lines = problem_lines(&file.path().to_string_lossy());
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once(": row #").map(|(_, m)| m))
        .collect();
    assert_eq!(
        messages,
        [
            r#"1 (line 2), column usesSP: must be true or false, found "maybe""#,
            "1 (line 2), column name: must not be empty",
            r#"1 (line 2), column email: is not a valid email address: "x@y""#,
            "1 (line 2), column password: must be 6 to 256 characters, found 3 (the value is not shown)",
            r#"1 (line 2), column role: must be one of EMPLOYEE, MANAGER, RESTRICTED_ADMIN, ADMIN, found "boss""#,
            r#"1 (line 2), column groupsIn: must be team IDs separated by commas, such as 2,4,7, found "0""#,
            "2 (line 3), column groupsMan: is ignored and not sent for role EMPLOYEE: only MANAGER and RESTRICTED_ADMIN supervise teams",
        ]
    );
}

/// An untrimmed password in the last column of a CRLF file loses the `\r`
/// of the line end and nothing else.
#[test]
fn crlf_password_in_last_column() {
    let header = "usesSP;name;surname;email;role;groupsIn;password\r\n";
    let file = temp_csv(format!("{header}true;A;B;a@b.c;ADMIN;1; secret1 \r\n").as_bytes());
    let (_, checked) = read(&file.path().to_string_lossy());
    let password = checked[0]
        .agent
        .as_ref()
        .map(|a| a.password.expose().to_string());
    assert_eq!(password.as_deref(), Some(" secret1 "));
    assert_eq!(checked[0].problems.len(), 1, "the space warning");
}

/// A 1 MiB field gives one short message, quoting only the value's start.
#[test]
fn huge_field_is_not_echoed() {
    let huge = "я".repeat(512 * 1024);
    let text = format!("{HEADER}true;{huge};Doe;{huge}@x.ru;secret1;ADMIN;1;;;;;;\n");
    let file = temp_csv(text.as_bytes());
    let lines = problem_lines(&file.path().to_string_lossy());
    assert_eq!(lines.len(), 2, "{:.300?}", lines);
    let start = format!("\"{}…\"", "я".repeat(40));
    assert!(lines[0].ends_with(&format!(
        "column name: is 524288 characters long, at most 256 allowed: {start}"
    )));
    assert!(lines[1].ends_with(&format!(
        "column email: is 524293 characters long, at most 256 allowed: {start}"
    )));
    assert!(lines.iter().all(|line| line.len() < 400), "{:.300?}", lines);
}

/// A 10 MB field makes its line longer than any agents file's: the file
/// is refused before it is parsed, naming the line.
#[test]
fn ten_mb_field_is_refused_with_its_line() {
    let huge = "a".repeat(10_000_000);
    let text = format!(
        "{HEADER}true;A;B;a@b.c;secret1;ADMIN;1;;;;;;\ntrue;{huge};B;c@d.e;secret1;ADMIN;1;;;;;;\n"
    );
    let file = temp_csv(text.as_bytes());
    let error = open_error(&file.path().to_string_lossy(), &ReadOptions::default());
    assert!(
        error.ends_with(": line 3 is longer than 4 MiB, which no agents file needs (a row is a few KB); check that this is the right file, saved from Excel as \"CSV UTF-8\" or .xlsx"),
        "{error}"
    );
}

/// Long bad values are cut to 40 characters.
#[test]
fn shown_values_are_cut() {
    let value = "x".repeat(50);
    assert_eq!(rules::shown(&value), format!("\"{}…\"", "x".repeat(40)));
    assert_eq!(rules::shown("a\"b\nc"), r#""a\"b\nc""#);
}

/// A column named twice is fatal.
#[test]
fn duplicate_column_is_fatal() {
    let file = temp_csv(format!("Email;{HEADER}").as_bytes());
    let path = file.path().to_string_lossy().to_string();
    assert_eq!(
        open_error(&path, &ReadOptions::default()),
        format!(
            "{path}: column `email` appears twice in the header (columns 1 and 5); remove or rename one"
        )
    );
}

/// A NUL part way through a text file still marks it as binary.
#[test]
fn late_nul_is_binary() {
    let file = temp_csv(format!("{HEADER}true;A;B;a@b.c;secret1;ADMIN;1;;\0;;;;\n").as_bytes());
    let path = file.path().to_string_lossy().to_string();
    assert!(open_error(&path, &ReadOptions::default()).contains("looks like a binary file"));
}

/// A UTF-8 file of Cyrillic names: `rows` valid rows (over a megabyte,
/// past what the first pass reads to settle the encoding for 20,000),
/// then `tail`.
fn long_utf8_file(rows: usize, tail: &[u8]) -> tempfile::NamedTempFile {
    let mut text = HEADER.as_bytes().to_vec();
    for row in 1..=rows {
        let line =
            format!("true;Сергей;Иванов-Петров;agent{row}@example.com;secret1;EMPLOYEE;1;;;;;;\n");
        text.extend_from_slice(line.as_bytes());
    }
    text.extend_from_slice(tail);
    temp_csv(&text)
}

/// Reads `file` to its end: the rows before the fatal error, and the error.
fn read_until_error(file: &tempfile::NamedTempFile, options: &ReadOptions) -> (usize, String) {
    let mut rows = open(file.path(), options).expect("the start of the file is fine");
    let mut good = 0;
    while let Some(row) = rows.next_row() {
        match row {
            Ok(_) => good += 1,
            Err(error) => return (good, error.to_string()),
        }
    }
    panic!("read {good} rows and no error");
}

/// A file that starts as UTF-8 and has Windows-1251 bytes further on is
/// refused at the line where they are, not read all as Windows-1251,
/// which would garble the names before.
#[test]
fn later_bytes_of_another_encoding_are_refused_at_their_line() {
    let file = long_utf8_file(
        20_000,
        b"true;\xC8\xE2\xE0\xED;B;x@example.com;secret1;ADMIN;1;;;;;;\n",
    );
    let (good, error) = read_until_error(&file, &ReadOptions::default());
    assert_eq!(good, 20_000);
    assert_eq!(
        error,
        format!(
            "{}: line 20002 is not valid UTF-8 (in field 2), though the file before it is: it mixes two encodings, perhaps rows pasted from another file; save it again from Excel as \"CSV UTF-8\", or if all of it is in one encoding, name it with --encoding",
            file.path().display()
        )
    );

    let utf8 = ReadOptions {
        encoding: Some(encoding_rs::UTF_8),
        delimiter: None,
    };
    let (_, error) = read_until_error(&file, &utf8);
    assert!(error.ends_with("is not valid UTF-8 (first at line 20002); name its real encoding, such as windows-1251, or let it be detected"), "{error}");
}

/// A NUL or an overlong line past the first pass ends the reading there,
/// with the same errors as when the first pass finds them.
#[test]
fn late_nul_and_long_line_are_refused_while_reading() {
    let file = long_utf8_file(20_000, b"true;A;B;x@example.com;secret1;\0;1;;;;;;\n");
    let (good, error) = read_until_error(&file, &ReadOptions::default());
    assert!(good <= 20_000, "{good}");
    assert!(error.contains("looks like a binary file"), "{error}");

    let mut long = b"true;".to_vec();
    long.resize(5 * 1024 * 1024, b'a');
    let file = long_utf8_file(20_000, &long);
    let (good, error) = read_until_error(&file, &ReadOptions::default());
    assert!(good <= 20_000, "{good}");
    assert_eq!(
        error,
        format!(
            "{}: line 20002 is longer than 4 MiB, which no agents file needs (a row is a few KB); check that this is the right file, saved from Excel as \"CSV UTF-8\" or .xlsx",
            file.path().display()
        )
    );
}

/// The rows can move to another thread (the sender runs on tokio).
#[test]
fn rows_are_send() {
    fn assert_send<T: Send>() {}
    assert_send::<Rows>();
}

/// Regenerates `fixtures/agents.xlsx` with typed cells: booleans, numbers.
#[test]
#[ignore = "writes fixtures/agents.xlsx; run only when the fixture must change"]
fn write_xlsx_fixture() -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (column, name) in (0..).zip(HEADER.trim_end().split(';')) {
        sheet.write_string(0, column, name)?;
    }
    let text = std::fs::read_to_string("fixtures/utf8.csv")
        .map_err(rust_xlsxwriter::XlsxError::IoError)?;
    for (row, line) in (0..).zip(text.lines()).skip(1) {
        for (column, cell) in (0..).zip(line.split(';')) {
            if let Ok(flag) = cell.to_lowercase().parse::<bool>() {
                sheet.write_boolean(row, column, flag)?;
            } else if let Ok(number) = cell.parse::<f64>() {
                sheet.write_number(row, column, number)?;
            } else if !cell.is_empty() {
                sheet.write_string(row, column, cell)?;
            }
        }
    }
    book.save("fixtures/agents.xlsx")
}

/// The file the timing tests read: `ROSTER_BENCH_FILE`, or the path that
/// `scripts/gen-agents.py --rows 1000000 /tmp/agents-1m.csv` writes.
fn bench_file() -> String {
    std::env::var("ROSTER_BENCH_FILE").unwrap_or_else(|_| "/tmp/agents-1m.csv".to_string())
}

/// Checking every row costs at most twice plain csv reading (the budget).
/// Prints wall time and this thread's CPU time, which a busy machine
/// disturbs less. Run in release:
/// `cargo test --release --lib roster::tests::bench -- --ignored --nocapture`.
#[test]
#[ignore = "needs a generated 1M-row file; a timing run, not a check of behaviour"]
fn bench_check_time_against_plain_csv() {
    let path = bench_file();
    for _ in 0..3 {
        let (plain, records) = timed(|| plain_csv_records(&path));
        let (ours, (_, valid)) = timed(|| read_counting(&path));
        println!(
            "{records} records: plain csv {:.2?} (cpu {:.2?}), roster {:.2?} (cpu {:.2?}, {valid} valid), cpu ratio {:.2}",
            plain.0,
            plain.1,
            ours.0,
            ours.1,
            ours.1.as_secs_f64() / plain.1.as_secs_f64()
        );
    }
}

/// Reads `path` into `csv::StringRecord`s and nothing else: the baseline.
fn plain_csv_records(path: &str) -> u64 {
    let mut plain = csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_path(path)
        .expect("open the bench file");
    let mut record = csv::StringRecord::new();
    let mut records = 0;
    while plain.read_record(&mut record).expect("read") {
        records += 1;
    }
    records
}

/// Runs `work`, returning (wall time, this thread's CPU time) and its value.
fn timed<T>(work: impl FnOnce() -> T) -> ((Duration, Duration), T) {
    let (wall, cpu) = (std::time::Instant::now(), thread_cpu());
    let value = work();
    ((wall.elapsed(), thread_cpu().saturating_sub(cpu)), value)
}

/// CPU time of this thread so far (Linux `schedstat`; zero elsewhere).
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let nanos = stat
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(nanos)
}

/// Peak memory of checking the whole file (the budget is 150 MB). Run it
/// alone, as its own process: the high-water mark is process-wide.
#[test]
#[ignore = "needs a generated 1M-row file; reads the process's peak memory"]
fn bench_peak_memory() {
    let (rows, valid) = read_counting(&bench_file());
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM unknown");
    println!("{rows} rows, {valid} valid; {peak}");
}

/// Reads `path` through [`open`], keeping nothing; (rows, valid rows).
fn read_counting(path: &str) -> (usize, usize) {
    let rows = open(Path::new(path), &ReadOptions::default()).expect("open");
    let (mut all, mut valid) = (0, 0);
    for row in rows {
        let row = row.expect("read");
        all += 1;
        valid += usize::from(row.agent.is_some());
    }
    (all, valid)
}

/// A password of nothing but spaces is long enough but empty to the
/// dashboard: an error, not a warning, and still without its value.
#[test]
fn password_of_spaces_is_an_error() {
    let text = format!("{HEADER}true;Anna;Smirnova;a@b.c;        ;employee;1;;;;;;\n");
    let file = temp_csv(text.as_bytes());
    let lines = problem_lines(&file.path().to_string_lossy());
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].ends_with(
            "row #1 (line 2), column password: is only spaces: give the agent a real password"
        ),
        "{lines:?}"
    );
}

/// The typo guess of a missing column quotes a header cell with a line
/// break, so the error stays on one line.
#[test]
fn missing_column_typo_guess_stays_on_one_line() {
    let text = "usesSP;name;surname;email;\"pass\rword\";role;groupsIn\n";
    let file = temp_csv(text.as_bytes());
    let Err(error) = open(file.path(), &ReadOptions::default()) else {
        panic!("a missing column is an error");
    };
    let error = error.to_string();
    assert!(!error.contains(['\r', '\n']), "{error:?}");
    assert!(
        error.contains(r#"(found `"pass\rword"`: did you mean `password`?)"#),
        "{error}"
    );
}
