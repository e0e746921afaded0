//! Hostile input: the Big List of Naughty Strings and the csv-spectrum
//! cases (see fixtures/hostile/README.md) as names, surnames and SIP
//! fields. No panic; a valid string arrives byte-for-byte (after the
//! documented trim); an invalid one gets a located error.

use provision::sandbox::Faults;

use crate::util::*;

/// Every naughty string, and every csv-spectrum value.
fn hostile_strings() -> Vec<String> {
    let blns = std::fs::read_to_string(fixture("hostile/blns.json")).unwrap();
    let mut strings: Vec<String> = serde_json::from_str(&blns).unwrap();
    let spectrum = fixture("hostile/csv-spectrum/json");
    for entry in std::fs::read_dir(spectrum).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let rows = match serde_json::from_str(&text).unwrap() {
            serde_json::Value::Array(rows) => rows,
            single => vec![single],
        };
        for row in rows.into_iter().filter_map(|row| row.as_object().cloned()) {
            strings.extend(
                row.into_iter()
                    .flat_map(|(k, v)| [k, v.as_str().unwrap_or_default().to_string()]),
            );
        }
    }
    strings
}

/// Writes one agent per string, the string as name, surname and SIP
/// display name, quoted as a CSV writer (Excel) would.
fn write_hostile_agents(dir: &std::path::Path, strings: &[String]) -> std::path::PathBuf {
    let path = dir.join("hostile.csv");
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_path(&path)
        .unwrap();
    writer.write_record(HEADER.split(';')).unwrap();
    for (index, text) in strings.iter().enumerate() {
        let n = index + 1;
        let email = format!("hostile{n}@example.com");
        let password = password_of(n);
        let record = [
            "true", text, text, &email, &password, "EMPLOYEE", "1", "", "sip", "", text, "", "",
        ];
        writer.write_record(record).unwrap();
    }
    writer.flush().unwrap();
    path
}

/// Each string either arrives intact or its row is refused with a located
/// error; nothing panics, nothing is half-created.
#[tokio::test(flavor = "multi_thread")]
async fn naughty_strings_arrive_intact_or_are_refused_with_a_location() {
    let strings = hostile_strings();
    let sandbox = sandbox_with(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write_hostile_agents(dir.path(), &strings);

    let run = provision_into(
        &sandbox,
        &[
            "--skip-invalid",
            "--concurrency",
            "16",
            file.to_str().unwrap(),
        ],
    )
    .await;

    assert!(run.code == 0 || run.code == 1, "{:?}", run.stderr);
    let users = sandbox.users();
    let mut created = 0;
    for (index, text) in strings.iter().enumerate() {
        let n = index + 1;
        let email = format!("hostile{n}@example.com");
        match users.iter().find(|u| u.email == email) {
            Some(user) => {
                created += 1;
                assert_eq!(user.name, text.trim(), "row {n}: name changed on the way");
                assert_eq!(
                    user.surname,
                    text.trim(),
                    "row {n}: surname changed on the way"
                );
                let display = format!("\nDisplayName={}\n", text.trim());
                assert!(
                    user.config.contains(&display),
                    "row {n}: SIP display name changed"
                );
            }
            None => {
                let located = format!(": row #{n} (line ");
                assert!(
                    run.stdout.lines().any(|l| l.starts_with("error: ")
                        && l.contains(&located)
                        && l.contains(", column ")),
                    "row {n} ({text:?}) was neither created nor refused with a location"
                );
            }
        }
    }
    assert!(
        created > strings.len() / 2,
        "most naughty strings are valid names: {created}"
    );
    // Shown with --nocapture; RELIABILITY.md quotes it.
    println!(
        "{created} of {} hostile strings created intact, the rest refused with a location",
        strings.len()
    );
    assert_no_secrets(&run.stdout, &sandbox, strings.len());
}

/// Each raw csv-spectrum file is no agents file: one clear error, exit 2.
#[tokio::test(flavor = "multi_thread")]
async fn csv_spectrum_files_get_one_clear_error() {
    for entry in std::fs::read_dir(fixture("hostile/csv-spectrum/csvs")).unwrap() {
        let path = entry.unwrap().path();
        let run = run(command(&[
            "--dry-run",
            "--delimiter",
            ",",
            path.to_str().unwrap(),
        ]))
        .await;
        assert_eq!(run.code, 2, "{path:?}: {run:?}");
        let errors = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .count();
        assert_eq!(errors, 1, "{path:?}: {}", run.stderr);
    }
}

/// Files that are not text, or not well-formed text, get a clear error and
/// never a panic.
#[tokio::test(flavor = "multi_thread")]
async fn broken_encodings_get_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let header_utf16 = |mut body: Vec<u16>| {
        let mut units: Vec<u16> = HEADER.replace(';', "\t").encode_utf16().collect();
        units.push('\n' as u16);
        units.append(&mut body);
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(units.iter().flat_map(|u| u.to_le_bytes()));
        bytes
    };
    let lone_surrogate = header_utf16(vec![0xD800, 'x' as u16, '\n' as u16]);
    let mut nul = format!("{HEADER}\n").into_bytes();
    nul.extend(b"true;A\0n;B;a@b.c;secret1;EMPLOYEE;1;;;;;;\n");
    let mut wide = HEADER.to_string();
    for n in 0..100_000 {
        wide.push_str(&format!(";extra{n}"));
    }
    wide.push('\n');
    let cases: [(&str, Vec<u8>); 3] = [
        ("lone-surrogate.txt", lone_surrogate),
        ("nul.csv", nul),
        ("wide.csv", wide.into_bytes()),
    ];
    for (name, bytes) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let run = run(command(&["--dry-run", path.to_str().unwrap()])).await;
        assert!(run.code == 2, "{name}: {run:?}");
        assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        assert_eq!(error_lines(&run).len(), 1, "{name}: one clear error");
    }
}

/// The `error: ` lines of a run, stdout and stderr together.
fn error_lines(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .chain(run.stderr.lines())
        .filter(|l| l.starts_with("error: "))
        .collect()
}

/// How long the long line of the CI test is. The 100 MB line of the issue
/// is tried by `scripts/soak.sh` with the release binary; this one keeps
/// the debug run to about a second.
const LONG_LINE: usize = 16 * 1024 * 1024;

/// The most memory a long-line run may take, in KiB. A line past 4 MiB is
/// refused by the first pass over the file, which reads it in chunks, so
/// the peak does not grow with the line (before, the csv reader held the
/// whole record: 231 MB for a 100 MB line; see RELIABILITY.md).
const LONG_LINE_PEAK_KIB: u64 = 32 * 1024;

/// A single 16 MiB line with a cell in it: one clear error naming the
/// line, exit 2, memory independent of the line.
#[tokio::test(flavor = "multi_thread")]
async fn a_very_long_line_gets_one_clear_error_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.csv");
    let mut bytes = format!("{HEADER}\ntrue;").into_bytes();
    bytes.resize(bytes.len() + LONG_LINE, b'a');
    bytes.extend_from_slice(b";B;a@example.com;secret1;EMPLOYEE;1;;;;;;\n");
    std::fs::write(&path, bytes).unwrap();

    let (run, peak) = run_measured(command(&["--dry-run", path.to_str().unwrap()])).await;

    assert_eq!(run.code, 2, "{:?}", run.stderr);
    let errors = error_lines(&run);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("long.csv: line 2 is longer than 4 MiB"),
        "{errors:?}"
    );
    if let Some(peak) = peak {
        assert!(peak < LONG_LINE_PEAK_KIB, "peak {peak} KiB");
    }
}

/// A file that is one long line (no line break: all header) gets one clear
/// error, quickly and in memory independent of the line.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_header_cell_gets_one_clear_error_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-line.csv");
    std::fs::write(&path, vec![b'a'; LONG_LINE]).unwrap();

    let (run, peak) = run_measured(command(&["--dry-run", path.to_str().unwrap()])).await;

    assert_eq!(run.code, 2, "{:?}", run.stderr);
    let errors = error_lines(&run);
    assert!(
        errors.len() == 1 && errors[0].contains("one-line.csv: line 1 is longer than 4 MiB"),
        "{errors:?}"
    );
    if let Some(peak) = peak {
        assert!(peak < LONG_LINE_PEAK_KIB, "peak {peak} KiB");
    }
}

/// Windows-1251 leaves byte 0x98 undefined: a file that holds it is not
/// Windows-1251 text, and gets a located error instead of a name with an
/// invisible control character (U+0098) in it.
#[tokio::test(flavor = "multi_thread")]
async fn undefined_windows_1251_byte_gets_a_located_error() {
    assert_one_error_on_line_2("fuzz/read_agents/windows-1251-undefined-0x98.csv").await;
}

/// A lone surrogate in UTF-16 text is not text: a located error, not a
/// name with U+FFFD in place of the character.
#[tokio::test(flavor = "multi_thread")]
async fn lone_utf16_surrogate_in_a_cell_gets_a_located_error() {
    assert_one_error_on_line_2("fuzz/read_agents/utf16le-lone-surrogate.txt").await;
}

/// A dry run of the fixture `name` exits 2 with one error, naming line 2.
async fn assert_one_error_on_line_2(name: &str) {
    let path = fixture(name);

    let run = run(command(&["--dry-run", path.to_str().unwrap()])).await;

    assert_eq!(run.code, 2, "{run:?}");
    let errors = error_lines(&run);
    assert!(
        errors.len() == 1 && errors[0].contains("line 2"),
        "{errors:?}"
    );
}

/// A header cell with a line break cannot print a line of its own: the
/// warning about the unknown column must stay on one line.
#[tokio::test(flavor = "multi_thread")]
async fn a_header_cell_cannot_forge_an_output_line() {
    let path = fixture("fuzz/read_agents/header-line-break.csv");

    let run = run(command(&["--dry-run", path.to_str().unwrap()])).await;

    assert_eq!(run.code, 0, "{run:?}");
    let forged = run
        .stdout
        .lines()
        .chain(run.stderr.lines())
        .filter(|l| l.starts_with("Successfully added user"))
        .count();
    assert_eq!(forged, 0, "{}", run.stdout);
}
