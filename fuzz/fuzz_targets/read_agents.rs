//! Any bytes as an agents file: reading it, checking every row, building
//! each valid row's payload and printing every problem must never panic,
//! and every message must stay on one line (see `fuzz/oracles.rs`).

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

#[path = "../oracles.rs"]
#[allow(dead_code, reason = "each target uses one of the checks")]
mod oracles;

static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    // The reader takes a path (it seeks, and opens .xlsx by name), so each
    // input is written to the same file in one temporary folder, in memory
    // where there is a /dev/shm.
    let dir = DIR.get_or_init(|| {
        tempfile::tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("a temporary folder")
    });
    let path = dir.path().join("agents.csv");
    std::fs::write(&path, data).expect("the file is written");
    oracles::check_agents_file(&path);
});
