//! The `provision` binary: parse, set up logging, run, exit with a code
//! from the documented table.

use std::process::ExitCode;

use provision::cli::{Cli, Command};
use provision::exit::Exit;

fn main() -> ExitCode {
    let cli = Cli::from_command_line();
    provision::logging::init(cli.verbosity);
    let runtime = match runtime_for(&cli).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: failed to start the async runtime: {error}");
            return ExitCode::from(Exit::Invalid.code());
        }
    };
    let exit = match runtime.block_on(provision::commands::run(cli)) {
        Ok(exit) => exit,
        Err(error) => report(&error),
    };
    ExitCode::from(exit.code())
}

/// The simulated dashboard serves on every core. A client waits on the
/// network; on one thread its requests need no hand-over between threads,
/// which on two cores shared with a local dashboard made it send about a
/// third more rows a second. (Reading the agents file has threads of its
/// own.)
fn runtime_for(cli: &Cli) -> tokio::runtime::Builder {
    match cli.command {
        Some(Command::Sandbox(_)) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    }
}

/// Prints an error chain on one line, plus a hint when we have one.
fn report(error: &anyhow::Error) -> Exit {
    // A closed pipe (`provision ... | head`) is the reader's choice, not
    // our failure.
    let broken_pipe = error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return Exit::Success;
    }
    eprintln!("error: {error:#}");
    if let Some(hint) = Exit::hint(error) {
        eprintln!("hint: {hint}");
    }
    Exit::for_error(error)
}
