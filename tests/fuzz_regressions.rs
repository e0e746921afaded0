//! The inputs the fuzz targets found interesting or crashing
//! (`fixtures/fuzz/`), replayed through the same checks as the targets
//! (`fuzz/oracles.rs`), so a fixed crash stays fixed without a fuzzer.

use std::path::PathBuf;

use crate::fuzz_oracles;
use crate::util::fixture;

/// The files of `fixtures/fuzz/FOLDER`, sorted; README files excluded.
fn saved_inputs(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture(&format!("fuzz/{folder}")))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| !path.ends_with("README.md"))
        .collect();
    files.sort();
    files
}

/// Every saved agents-file input reads, checks and builds without a panic
/// and with one-line messages.
#[test]
fn saved_agents_file_inputs_pass_the_fuzz_checks() {
    let inputs = saved_inputs("read_agents");
    for path in &inputs {
        let replay = std::panic::catch_unwind(|| fuzz_oracles::check_agents_file(path));
        assert!(replay.is_ok(), "{} fails the fuzz checks", path.display());
    }
    assert!(!inputs.is_empty(), "the saved inputs are there");
}

/// Every saved config-template input parses and renders without a panic.
#[test]
fn saved_config_template_inputs_pass_the_fuzz_checks() {
    let inputs = saved_inputs("config_template");
    for path in &inputs {
        // libFuzzer hands the target only valid UTF-8 for a `&str` input.
        let bytes = std::fs::read(path).unwrap();
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let replay = std::panic::catch_unwind(|| fuzz_oracles::check_template(&text));
        assert!(replay.is_ok(), "{} fails the fuzz checks", path.display());
    }
    assert!(!inputs.is_empty(), "the saved inputs are there");
}
