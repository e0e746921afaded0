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
    // NOTE: no colours on Windows: tracing-subscriber does not switch the
    // console into colour mode (tokio-rs/tracing#3068, open), so a Windows 10
    // console would show the escape codes as text.
    let colours = std::io::stderr().is_terminal() && !cfg!(windows);
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_ansi(colours)
        .with_target(false)
        .without_time()
        .init();
}
