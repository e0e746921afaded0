//! The command line, as clap types. These hold only what the user typed;
//! the commands turn them into real objects (a client, a template, paths).

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::provision::{DEFAULT_CONCURRENCY, DEFAULT_RETRIES};
use crate::report::OutputFormat;

const EXAMPLES: &str = "\
Examples:
  provision --dry-run agents.csv
      check every row and show what would be sent; sends nothing
  SOFTPHONE_TOKEN=... provision --dashboard company agents.csv
      create the agents on https://company.softphone.pro
  provision --dashboard company --email admin@company.com agents.xlsx
      log in first (the password is asked for, or read from SOFTPHONE_PASSWORD)
  provision demo
      try it all on a built-in simulated dashboard";

/// Bulk-provision call-centre agents into a Softphone.Pro Team Dashboard.
///
/// Reads a `;`-separated CSV (or .xlsx) of agents, checks every row, and
/// creates the users with a few requests in flight at a time. A second run
/// of the same file creates nothing twice. Exit codes: 0 every row created
/// or already there, 1 some rows failed at the dashboard, 2 invalid input
/// or usage (nothing sent), 3 the dashboard rejected the token or login,
/// 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "provision", version, after_help = EXAMPLES, subcommand_precedence_over_arg = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub run: RunArgs,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

/// The other jobs besides provisioning a file.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a simulated Team Dashboard on this machine, for trying things out.
    Sandbox(crate::sandbox::SandboxArgs),
    /// Provision a file into a simulated dashboard started just for this run.
    #[command(after_help = "Example:\n  provision demo agents.example.csv")]
    Demo(DemoArgs),
}

/// `-v`/`-q`: how much the tool logs on stderr.
#[derive(Clone, Copy, Debug, Args)]
pub struct Verbosity {
    /// Log more on stderr: -v shows requests, -vv every detail. RUST_LOG
    /// overrides both. Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Log less: -q only warnings and errors, -qq only errors.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,
}

/// Provisioning a file (the default job).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The agents file: `;`-separated CSV (as Excel saves it, any common
    /// encoding) or .xlsx (first sheet).
    pub file: Option<PathBuf>,

    /// Check every row and show what would be sent, without sending
    /// anything. With --dashboard and a token, also says which users
    /// already exist.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub sending: SendArgs,

    /// How results are printed on stdout: text (the vendor script's lines)
    /// or json (JSON Lines, one object per row plus a summary).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

/// How the agents file is read.
#[derive(Clone, Debug, Default, Args)]
pub struct InputArgs {
    /// The file's text encoding, such as utf-8, windows-1251 or utf-16le
    /// [default: detected: UTF-8 or UTF-16 by their byte-order mark,
    /// UTF-8, else Windows-1251]
    #[arg(long, value_name = "NAME")]
    pub encoding: Option<String>,

    /// The field separator, one character such as ';' ',' or 'tab'
    /// [default: ';', or ',' or tab when the header has no ';']
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,

    /// A file whose text becomes each user's `config`; `${column}` takes
    /// the row's value of that column [default: the API page's eight
    /// includes, with the SIP lines after _Account1]
    #[arg(long, value_name = "FILE")]
    pub config_template: Option<PathBuf>,
}

/// Where the dashboard is and how we prove who we are.
#[derive(Clone, Debug, Default, Args)]
pub struct ConnectionArgs {
    /// The dashboard: a tenant name (`company` means
    /// https://company.softphone.pro) or a full address.
    #[arg(long, env = "SOFTPHONE_DASHBOARD", value_name = "URL|TENANT")]
    pub dashboard: Option<String>,

    /// The token on the command line. Other local users can see command
    /// lines: prefer SOFTPHONE_TOKEN or --token-file.
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Read the token from this file (as written by `provision login
    /// --save-token`). Without --token or --token-file, the token comes
    /// from SOFTPHONE_TOKEN.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// Log in as this administrator instead of giving a token; the
    /// password is asked for, or read from SOFTPHONE_PASSWORD.
    #[arg(long, env = "SOFTPHONE_EMAIL", value_name = "EMAIL")]
    pub email: Option<String>,

    /// Seconds one request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,

    /// Do not check the dashboard's certificate (like curl -k). Anyone on
    /// the network path could then read the token.
    #[arg(long)]
    pub insecure: bool,

    /// Allow sending the token over plain http to a host that is not this
    /// machine.
    #[arg(long)]
    pub allow_http: bool,
}

/// How rows are sent.
#[derive(Clone, Debug, Args)]
pub struct SendArgs {
    /// Rows in flight at once; lowered for a while when the dashboard
    /// answers 429.
    #[arg(long, value_name = "N", default_value_t = NonZeroUsize::new(DEFAULT_CONCURRENCY).expect("non-zero"))]
    pub concurrency: NonZeroUsize,

    /// Retries of a row after network errors, timeouts, 429, 502, 503 and
    /// 504, with growing waits.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RETRIES)]
    pub retries: u32,

    /// Where to write the results file [default: <file>.results.csv beside
    /// the agents file]
    #[arg(long, value_name = "PATH")]
    pub report: Option<PathBuf>,

    /// Send the valid rows even when some rows are invalid (the invalid
    /// ones are reported and count as failed).
    #[arg(long)]
    pub skip_invalid: bool,
}

/// `provision demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The agents file to provision into the simulated dashboard.
    #[arg(default_value = "agents.example.csv")]
    pub file: PathBuf,

    #[command(flatten)]
    pub input: InputArgs,

    #[command(flatten)]
    pub sending: SendArgs,

    /// How results are printed on stdout: text or json.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn a_file_and_subcommands_do_not_mix_up() {
        let cli = Cli::try_parse_from(["provision", "--dry-run", "agents.csv"]).unwrap();
        assert!(cli.command.is_none());
        assert!(cli.run.dry_run);
        let cli = Cli::try_parse_from(["provision", "demo"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Demo(_))));
        assert!(Cli::try_parse_from(["provision", "--concurrency", "0", "a.csv"]).is_err());
        let cli = Cli::try_parse_from(["provision", "-q", "sandbox", "--port", "0"]).unwrap();
        assert!(matches!(cli.command, Some(Command::Sandbox(_))));
        assert_eq!(cli.verbosity.quiet, 1);
    }
}
