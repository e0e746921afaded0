//! The benchmark scripts in `scripts/`.

use std::path::Path;

/// Each benchmark runs the binaries from `${CARGO_TARGET_DIR:-target}`,
/// where its `cargo build` put them, never from a hardcoded `target/`,
/// which with CARGO_TARGET_DIR set holds a stale binary or none.
#[test]
fn bench_scripts_run_what_cargo_built() {
    for name in ["bench-dry-run.sh", "bench-send.sh", "bench-upload.sh"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scripts")
            .join(name);
        let text = std::fs::read_to_string(&path).expect("the script");
        assert!(
            text.contains("${CARGO_TARGET_DIR:-target}/release"),
            "{name} does not look in CARGO_TARGET_DIR"
        );
        assert!(
            !text.contains("target/release"),
            "{name} runs a binary from a fixed target/release"
        );
    }
}
