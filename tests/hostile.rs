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
    }
}
