//! The benchmark's yardstick: read a `;`-separated file with the csv crate
//! into `StringRecord`s and do nothing else. `scripts/bench-dry-run.sh`
//! times `provision --dry-run` against this on the same file.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: csv_parse_only FILE");
        return ExitCode::from(2);
    };
    let mut reader = match csv::ReaderBuilder::new()
        .delimiter(b';')
        .flexible(true)
        .from_path(&path)
    {
        Ok(reader) => reader,
        Err(error) => {
            eprintln!("error: {path}: {error}");
            return ExitCode::from(2);
        }
    };
    let mut record = csv::StringRecord::new();
    let mut rows = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => rows += 1,
            Ok(false) => break,
            Err(error) => {
                eprintln!("error: {path}: {error}");
                return ExitCode::from(2);
            }
        }
    }
    println!("{rows} rows");
    ExitCode::SUCCESS
}
