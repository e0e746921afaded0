//! The command line, as clap types. These hold only what the user typed;
//! the commands turn them into real objects (a client, a template, paths).

use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{
    ArgGroup, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum,
};

use crate::dashboard::{CallLogFormat, Lang, SortColumn, StatusLogFormat};
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

impl Cli {
    /// Parses this process's command line; on a usage error, prints it and
    /// exits 2, as clap does.
    pub fn from_command_line() -> Cli {
        Cli::try_from_words(std::env::args_os()).unwrap_or_else(|error| error.exit())
    }

    /// Parses `words`, the program's name first.
    ///
    /// The connection options (`--dashboard`, `--token`, `--token-file`,
    /// `--email`, `--timeout`, `--insecure`, `--allow-http`) mean the same
    /// before a subcommand's name as after it. Any other option typed
    /// before a subcommand's name is refused, since only a provisioning run
    /// reads it there.
    pub fn try_from_words<I, T>(words: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        // NOTE: clap's `global = true` would do the moving, but it would
        // also hand every connection option to `demo` and `sandbox`, and the
        // token options to `login`, which would list them in `--help` and
        // ignore them: the silent drop this is here to prevent.
        let mut command = Cli::command();
        let matches = command.try_get_matches_from_mut(words)?;
        let mut cli =
            Cli::from_arg_matches(&matches).map_err(|error| error.format(&mut command))?;
        cli.take_options_typed_before_the_subcommand(&matches, &mut command)?;
        Ok(cli)
    }

    /// Moves the connection options typed before the subcommand's name
    /// into the subcommand; refuses any other option typed there, and an
    /// option typed both before and after.
    fn take_options_typed_before_the_subcommand(
        &mut self,
        matches: &ArgMatches,
        command: &mut clap::Command,
    ) -> Result<(), clap::Error> {
        if matches.subcommand().is_none() {
            return Ok(());
        }
        // -v and -q are global: clap already hands them down.
        let typed_before: Vec<(String, String)> = command
            .get_arguments()
            .filter(|arg| !arg.is_global_set())
            .filter(|arg| {
                matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine)
            })
            .map(|arg| (arg.get_id().to_string(), shown(arg, matches)))
            .collect();
        if typed_before.is_empty() {
            return Ok(());
        }
        let (leaf, leaf_matches) = chosen_subcommand(command, matches);
        let leaf_name = leaf.get_bin_name().unwrap_or_default().to_string();
        let word = leaf_name
            .strip_prefix("provision ")
            .unwrap_or(&leaf_name)
            .to_string();

        for (id, shown) in typed_before {
            // Asking the matches about an argument their command lacks
            // panics, so the command is asked first.
            if !leaf.get_arguments().any(|arg| arg.get_id() == id.as_str()) {
                let message = format!(
                    "{shown} (typed before '{word}'): '{leaf_name}' does not take it; leave it \
                     out, or see '{leaf_name} --help'"
                );
                return Err(leaf.error(ErrorKind::UnknownArgument, message));
            }
            if leaf_matches.value_source(&id) == Some(ValueSource::CommandLine) {
                let message =
                    format!("{shown} is typed both before and after '{word}'; give it once");
                return Err(leaf.error(ErrorKind::ArgumentConflict, message));
            }
            let moved = self
                .command
                .as_mut()
                .and_then(Command::connection_mut)
                .is_some_and(|into| copy_option(&id, &self.run.connection, into));
            if !moved {
                let message = format!(
                    "{shown} (typed before '{word}'): only connection options count before a \
                     subcommand's name; give the options of '{leaf_name}' after it (see \
                     '{leaf_name} --help')"
                );
                return Err(leaf.error(ErrorKind::ArgumentConflict, message));
            }
        }
        Ok(())
    }
}

/// The innermost subcommand chosen (`list` of `users list`), and its
/// matches.
fn chosen_subcommand<'c, 'm>(
    mut command: &'c mut clap::Command,
    mut matches: &'m ArgMatches,
) -> (&'c mut clap::Command, &'m ArgMatches) {
    while let Some((name, sub_matches)) = matches.subcommand() {
        command = command
            .find_subcommand_mut(name)
            .expect("clap matched this subcommand");
        matches = sub_matches;
    }
    (command, matches)
}

/// An argument as the user typed it: `'--dry-run'`, or a file name.
fn shown(arg: &clap::Arg, matches: &ArgMatches) -> String {
    match arg.get_long() {
        Some(long) => format!("'--{long}'"),
        None => matches
            .get_raw(arg.get_id().as_str())
            .and_then(|mut values| values.next())
            .map_or_else(
                || format!("'{}'", arg.get_id()),
                |value| format!("'{}'", value.to_string_lossy()),
            ),
    }
}

/// Where a subcommand keeps its connection options.
#[derive(Debug)]
enum ConnectionMut<'a> {
    /// The dashboard and a token.
    Full(&'a mut ConnectionArgs),
    /// The dashboard only (`login`, which gets a token).
    Site(&'a mut SiteArgs),
}

/// Copies the option with clap id `id` from a provisioning run's options
/// into a subcommand's; false when `into` has no such option.
fn copy_option(id: &str, from: &ConnectionArgs, into: ConnectionMut<'_>) -> bool {
    let site = match into {
        ConnectionMut::Full(into) => match id {
            "token" => {
                into.token.clone_from(&from.token);
                return true;
            }
            "token_file" => {
                into.token_file.clone_from(&from.token_file);
                return true;
            }
            _ => &mut into.site,
        },
        ConnectionMut::Site(site) => site,
    };
    let from = &from.site;
    match id {
        "dashboard" => site.dashboard.clone_from(&from.dashboard),
        "email" => site.email.clone_from(&from.email),
        "timeout" => site.timeout = from.timeout,
        "insecure" => site.insecure = from.insecure,
        "allow_http" => site.allow_http = from.allow_http,
        _ => return false,
    }
    true
}

impl Command {
    /// The connection options of this subcommand, if it takes any.
    fn connection_mut(&mut self) -> Option<ConnectionMut<'_>> {
        let full = match self {
            Command::Sandbox(_) | Command::Demo(_) => return None,
            Command::Login(args) => return Some(ConnectionMut::Site(&mut args.site)),
            Command::Users(UsersCommand::List(args)) => &mut args.connection,
            Command::Users(UsersCommand::Delete(args)) => &mut args.connection,
            Command::Reports(ReportsCommand::StatusLog(args)) => &mut args.connection,
            Command::Reports(ReportsCommand::CallLog(args)) => &mut args.connection,
            Command::Asterisk(AsteriskCommand::Upload(args)) => &mut args.connection,
            Command::Asterisk(AsteriskCommand::Clear(args)) => &mut args.connection,
        };
        Some(ConnectionMut::Full(full))
    }
}

/// The other jobs besides provisioning a file.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a simulated Team Dashboard on this machine, for trying things out.
    #[command(after_help = SANDBOX_EXAMPLES)]
    Sandbox(crate::sandbox::SandboxArgs),
    /// Provision a file into a simulated dashboard started just for this run.
    #[command(after_help = "Example:\n  provision demo agents.example.csv")]
    Demo(DemoArgs),
    /// Log in as an administrator and print (or save) a token.
    #[command(after_help = LOGIN_EXAMPLES)]
    Login(LoginArgs),
    /// List the dashboard's users, or delete some.
    #[command(subcommand, after_help = USERS_EXAMPLES)]
    Users(UsersCommand),
    /// Download the agents' status log or the call log.
    #[command(subcommand, after_help = REPORTS_EXAMPLES)]
    Reports(ReportsCommand),
    /// Upload an Asterisk queue_log, or clear what was uploaded.
    #[command(subcommand, after_help = ASTERISK_EXAMPLES)]
    Asterisk(AsteriskCommand),
}

const SANDBOX_EXAMPLES: &str = "\
Example:
  provision sandbox --port 8080
      then, in another terminal, with the token it prints:
      SOFTPHONE_TOKEN=... provision --dashboard http://127.0.0.1:8080 agents.csv";

const LOGIN_EXAMPLES: &str = "\
Examples:
  provision login --dashboard company --email admin@company.com --save-token ~/.softphone-token
      ask for the password, save the token (readable by you only)
  provision --dashboard company --token-file ~/.softphone-token agents.csv
      then use it
  provision login --dashboard company --email admin@company.com --password-stdin < pass.txt
      in a script: the password from stdin, the token on stdout";

const USERS_EXAMPLES: &str = "\
Examples:
  provision users list --dashboard company --sort surname --asc
  provision users list --format csv -o users.csv
  provision users delete --from-report agents.results.csv
      undo a provisioning run: delete the users it created";

const USERS_LIST_EXAMPLES: &str = "\
Examples:
  provision users list --dashboard company
      every user, as a table on a terminal (CSV when piped)
  provision users list --page 2 --page-size 50 --sort email --asc
  provision users list --format csv -o users.csv
      a ;-separated file that Excel opens";

const USERS_DELETE_EXAMPLES: &str = "\
Examples:
  provision users delete 12 14 15
  provision users delete 12,14,15 --yes
      without asking (needed in scripts)
  provision users delete --from-report agents.results.csv
      undo a provisioning run: delete the users it created
  provision users delete --from-csv agents.csv
      delete the users whose emails are in an agents file";

const REPORTS_EXAMPLES: &str = "\
Examples:
  provision reports status-log --from 2024-01-01 --to 2024-02-01
  provision reports call-log --from 2024-01-01 --to 2024-02-01 --tz-offset +300 --format csv";

const STATUS_LOG_EXAMPLES: &str = "\
Examples:
  provision reports status-log --dashboard company --from 2024-01-01 --to 2024-02-01
      January (UTC) to status-log_2024-01-01_2024-02-01.csv
  provision reports status-log --from 2024-01-31T08:00 --to 2024-01-31T20:00 --format tsv -o -
      to stdout";

const CALL_LOG_EXAMPLES: &str = "\
Examples:
  provision reports call-log --dashboard company --from 2024-01-01 --to 2024-02-01 --tz-offset +300
      January in UTC+05:00, to call-log_2024-01-01_2024-02-01.xlsx
  provision reports call-log --from 2021-10-13T00:00:00+05:00 --to 2021-10-14T00:00:00+05:00 --format csv --lang ru -o calls.csv";

const ASTERISK_EXAMPLES: &str = "\
Examples:
  provision asterisk upload --dashboard company
      upload /var/log/asterisk/queue_log
  provision asterisk clear --yes";

const UPLOAD_EXAMPLES: &str = "\
Examples:
  provision asterisk upload --dashboard company
      upload /var/log/asterisk/queue_log
  provision asterisk upload /backup/queue_log.1";

const CLEAR_EXAMPLES: &str = "\
Examples:
  provision asterisk clear --dashboard company
      asks first; --yes does not (needed in scripts)";

/// `provision login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    #[command(flatten)]
    pub site: SiteArgs,

    /// Read the password from the first line of stdin instead of asking
    /// for it (or taking SOFTPHONE_PASSWORD).
    #[arg(long)]
    pub password_stdin: bool,

    /// Write the token to this file, readable by you only, instead of
    /// printing it; use it later with --token-file.
    #[arg(long, value_name = "PATH")]
    pub save_token: Option<PathBuf>,
}

/// `provision users ...`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List the users: all of them, or one page.
    #[command(after_help = USERS_LIST_EXAMPLES)]
    List(UsersListArgs),
    /// Delete users by ID, the ones a provisioning run created, or the ones
    /// in an agents file; asks first.
    #[command(after_help = USERS_DELETE_EXAMPLES)]
    Delete(UsersDeleteArgs),
}

/// How `users list` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// Aligned columns, for reading.
    Table,
    /// `;`-separated UTF-8 with a byte-order mark, as Excel opens it.
    Csv,
    /// The dashboard's answer: `totalCount` and `users`.
    Json,
}

/// `provision users list`.
#[derive(Debug, Args)]
pub struct UsersListArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Only this page (from 1) instead of every user.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub page: Option<u32>,

    /// Users per page; without --page it means page 1 [default: 20]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub page_size: Option<u32>,

    /// Sort by this column [default: the dashboard's, id]
    #[arg(long, value_enum, value_name = "COLUMN")]
    pub sort: Option<SortColumn>,

    /// Ascending order.
    #[arg(long, conflicts_with = "desc")]
    pub asc: bool,

    /// Descending order (the dashboard's default).
    #[arg(long)]
    pub desc: bool,

    /// The output format [default: table on a terminal, else csv]
    #[arg(long, value_enum)]
    pub format: Option<ListFormat>,

    /// Write to this file (replaced only once complete) instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `provision users delete`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["ids", "from_report", "from_csv"])))]
pub struct UsersDeleteArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// User IDs: `2 4 7` or `2,4,7`.
    #[arg(value_name = "ID", value_delimiter = ',')]
    pub ids: Vec<u64>,

    /// The results file of a provisioning run: delete the users that run
    /// created (outcome `created`), which undoes it.
    #[arg(long, value_name = "RESULTS.csv")]
    pub from_report: Option<PathBuf>,

    /// An agents file: delete the users with its emails.
    #[arg(long, value_name = "AGENTS.csv")]
    pub from_csv: Option<PathBuf>,

    /// Do not ask; needed when not run in a terminal.
    #[arg(short, long)]
    pub yes: bool,
}

/// `provision reports ...`.
#[derive(Debug, Subcommand)]
pub enum ReportsCommand {
    /// Download the agents' status log (times in UTC).
    #[command(after_help = STATUS_LOG_EXAMPLES)]
    StatusLog(StatusLogArgs),
    /// Download the call log.
    #[command(after_help = CALL_LOG_EXAMPLES)]
    CallLog(CallLogArgs),
}

/// The time range and destination every report takes.
#[derive(Debug, Args)]
pub struct RangeArgs {
    /// The start: 2024-01-31 (midnight), 2024-01-31T08:00[:00], or with an
    /// offset, 2024-01-31T08:00:00+05:00.
    #[arg(long, value_name = "DATE[TIME]")]
    pub from: String,

    /// The end, not included; same forms as --from.
    #[arg(long, value_name = "DATE[TIME]")]
    pub to: String,

    /// Where to write the report; `-` is stdout [default: a name with the
    /// report and the dates, in the current folder]
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `provision reports status-log`.
#[derive(Debug, Args)]
pub struct StatusLogArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub range: RangeArgs,

    /// The file format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: StatusLogFormat,
}

/// `provision reports call-log`.
#[derive(Debug, Args)]
pub struct CallLogArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    #[command(flatten)]
    pub range: RangeArgs,

    /// The time zone of the file's times, in minutes east of UTC (+300,
    /// -180) or as +05:00; also the offset of --from/--to when they have
    /// none [default: the offset written in --from, else UTC]
    #[arg(long, value_name = "OFFSET", allow_hyphen_values = true)]
    pub tz_offset: Option<String>,

    /// The language of the file [default: the dashboard's, English]
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,

    /// The file format.
    #[arg(long, value_enum, default_value = "xlsx")]
    pub format: CallLogFormat,
}

/// `provision asterisk ...`.
#[derive(Debug, Subcommand)]
pub enum AsteriskCommand {
    /// Upload a queue_log (streamed, any size) and print the calls counted.
    #[command(after_help = UPLOAD_EXAMPLES)]
    Upload(UploadArgs),
    /// Remove all uploaded Asterisk data from the dashboard; asks first.
    #[command(after_help = CLEAR_EXAMPLES)]
    Clear(ClearArgs),
}

/// `provision asterisk upload`.
#[derive(Debug, Args)]
pub struct UploadArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// The queue_log file.
    #[arg(default_value = "/var/log/asterisk/queue_log")]
    pub path: PathBuf,
}

/// `provision asterisk clear`.
#[derive(Debug, Args)]
pub struct ClearArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,

    /// Do not ask; needed when not run in a terminal.
    #[arg(short, long)]
    pub yes: bool,
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

/// Where the dashboard is and how we prove who we are: what every command
/// that talks to a dashboard takes, except `login`.
#[derive(Clone, Debug, Default, Args)]
pub struct ConnectionArgs {
    #[command(flatten)]
    pub site: SiteArgs,

    /// The token on the command line. Other local users can see command
    /// lines: prefer SOFTPHONE_TOKEN or --token-file.
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Read the token from this file (as written by `provision login
    /// --save-token`). Without --token or --token-file, the token comes
    /// from SOFTPHONE_TOKEN.
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
}

/// Where the dashboard is, how to reach it, and who logs in: what `login`
/// takes, which gets a token and so takes none.
#[derive(Clone, Debug, Default, Args)]
pub struct SiteArgs {
    /// The dashboard: a tenant name (`company` means
    /// https://company.softphone.pro) or a full address.
    #[arg(long, env = "SOFTPHONE_DASHBOARD", value_name = "URL|TENANT")]
    pub dashboard: Option<String>,

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

    /// The subcommands that talk to a dashboard, with what each requires.
    const TALKERS: [&[&str]; 7] = [
        &["login"],
        &["users", "list"],
        &["users", "delete", "7"],
        &[
            "reports",
            "status-log",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-02",
        ],
        &[
            "reports",
            "call-log",
            "--from",
            "2024-01-01",
            "--to",
            "2024-01-02",
        ],
        &["asterisk", "upload"],
        &["asterisk", "clear"],
    ];

    const CONNECTION_OPTIONS: [&[&str]; 7] = [
        &["--dashboard", "http://127.0.0.1:9"],
        &["--token", "t"],
        &["--token-file", "token.txt"],
        &["--email", "admin@example.com"],
        &["--timeout", "7"],
        &["--insecure"],
        &["--allow-http"],
    ];

    fn parse(words: &[&[&str]]) -> Result<Cli, clap::Error> {
        Cli::try_from_words(["provision"].iter().chain(words.iter().copied().flatten()))
    }

    /// The subcommand's connection options, as text to compare.
    fn connection_of(mut cli: Cli) -> String {
        let connection = cli.command.as_mut().and_then(Command::connection_mut);
        format!("{connection:?}")
    }

    #[test]
    fn connection_options_mean_the_same_before_and_after_the_subcommand() {
        for talker in TALKERS {
            let plain = connection_of(parse(&[talker]).unwrap());
            for option in CONNECTION_OPTIONS {
                let is_token = option[0].starts_with("--token");
                let after = parse(&[talker, option]);
                let before = parse(&[option, talker]);
                if is_token && talker == ["login"] {
                    assert!(after.is_err(), "{option:?} after {talker:?}");
                    let error = before.expect_err("login takes no token");
                    assert_eq!(error.kind(), ErrorKind::UnknownArgument);
                    continue;
                }
                let after = connection_of(after.unwrap());
                let before = connection_of(before.unwrap());
                assert_eq!(before, after, "{option:?} and {talker:?}");
                assert_ne!(before, plain, "{option:?} had no effect on {talker:?}");
            }
        }
    }

    #[test]
    fn other_options_before_a_subcommand_are_refused() {
        let list: &[&str] = &["users", "list"];
        let cases: [(&[&[&str]], ErrorKind); 6] = [
            (&[&["--dry-run"], list], ErrorKind::UnknownArgument),
            (&[&["agents.csv"], list], ErrorKind::UnknownArgument),
            (&[&["--output", "json"], list], ErrorKind::ArgumentConflict),
            (
                &[&["--concurrency", "2", "demo"]],
                ErrorKind::ArgumentConflict,
            ),
            (
                &[&["--dashboard", "x", "sandbox"]],
                ErrorKind::UnknownArgument,
            ),
            (
                &[&["--dashboard", "a"], list, &["--dashboard", "b"]],
                ErrorKind::ArgumentConflict,
            ),
        ];
        for (words, kind) in cases {
            let error = parse(words).expect_err("refused");
            assert_eq!(error.kind(), kind, "{words:?}: {error}");
        }
        let error = parse(&[&["--dry-run"], list]).unwrap_err().to_string();
        assert!(
            error.starts_with(
                "error: '--dry-run' (typed before 'users list'): 'provision users list' does \
                 not take it; leave it out, or see 'provision users list --help'"
            ),
            "{error}"
        );
    }

    #[test]
    fn a_provisioning_run_keeps_its_options() {
        let cli = parse(&[&["--dashboard", "company", "--token", "t", "a.csv"]]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(
            cli.run.connection.site.dashboard.as_deref(),
            Some("company")
        );
        assert_eq!(cli.run.connection.token.as_deref(), Some("t"));
    }

    #[test]
    fn ids_come_as_words_or_with_commas() {
        for args in [&["2", "4", "7"][..], &["2,4,7"], &["2,4", "7"]] {
            let cli =
                Cli::try_parse_from(["provision", "users", "delete"].iter().chain(args)).unwrap();
            let Some(Command::Users(UsersCommand::Delete(delete))) = cli.command else {
                panic!("not a delete: {args:?}");
            };
            assert_eq!(delete.ids, vec![2, 4, 7]);
        }
        let both = [
            "provision",
            "users",
            "delete",
            "2",
            "--from-report",
            "r.csv",
        ];
        assert!(Cli::try_parse_from(both).is_err());
        assert!(Cli::try_parse_from(["provision", "users", "delete"]).is_err());
    }

    #[test]
    fn negative_offsets_are_values_not_flags() {
        let args = ["provision", "reports", "call-log", "--from", "2024-01-01"];
        let cli =
            Cli::try_parse_from(
                args.iter()
                    .chain(&["--to", "2024-01-02", "--tz-offset", "-180"]),
            )
            .unwrap();
        let Some(Command::Reports(ReportsCommand::CallLog(call_log))) = cli.command else {
            panic!("not a call log");
        };
        assert_eq!(call_log.tz_offset.as_deref(), Some("-180"));
    }
}
