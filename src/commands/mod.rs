//! One module per job the tool does; [`run`] picks the one asked for.

pub mod asterisk;
pub mod confirm;
pub mod demo;
pub mod login;
pub mod provisioning;
pub mod reports;
pub mod users;

use crate::cli::{AsteriskCommand, Cli, Command, ReportsCommand, UsersCommand};
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
        Some(Command::Login(args)) => login::run(&args).await,
        Some(Command::Users(UsersCommand::List(args))) => users::list::run(&args).await,
        Some(Command::Users(UsersCommand::Delete(args))) => users::delete::run(&args).await,
        Some(Command::Reports(ReportsCommand::StatusLog(args))) => {
            reports::status_log::run(&args).await
        }
        Some(Command::Reports(ReportsCommand::CallLog(args))) => {
            reports::call_log::run(&args).await
        }
        Some(Command::Asterisk(AsteriskCommand::Upload(args))) => {
            asterisk::upload::run(&args).await
        }
        Some(Command::Asterisk(AsteriskCommand::Clear(args))) => asterisk::clear::run(&args).await,
    }
}
