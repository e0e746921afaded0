//! Logs go to stderr through `tracing`; stdout is for results only.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::cli::Verbosity;

/// Sets up logging: our crate at info by default (`-v` debug, `-vv` trace,
/// `-q` warn, `-qq` error), other crates at warn; `RUST_LOG` overrides.
pub fn init(verbosity: Verbosity) {
    let level = match (verbosity.verbose, verbosity.quiet) {
        (0, 0) => "info",
        (1, _) => "debug",
        (v, _) if v >= 2 => "trace",
        (_, 1) => "warn",
        _ => "error",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("warn,provision={level}")));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
}
