//! One module per job the tool does; [`run`] picks the one asked for.

pub mod demo;
pub mod provisioning;

use crate::cli::{Cli, Command};
use crate::exit::Exit;

/// Runs what the command line asks for.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        None => provisioning::run(&cli.run).await,
        Some(Command::Demo(args)) => demo::run(&args).await,
        Some(Command::Sandbox(args)) => {
            crate::sandbox::serve_until_signal(args.options()).await?;
            Ok(Exit::Success)
        }
    }
}
