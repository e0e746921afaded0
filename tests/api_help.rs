//! Every command's `--help` ends with an example.

use crate::util::*;

/// Each command and subcommand shows at least one example line starting
/// with `provision`.
#[tokio::test(flavor = "multi_thread")]
async fn every_command_help_shows_an_example() {
    let commands: [&[&str]; 13] = [
        &[],
        &["login"],
        &["users"],
        &["users", "list"],
        &["users", "delete"],
        &["reports"],
        &["reports", "status-log"],
        &["reports", "call-log"],
        &["asterisk"],
        &["asterisk", "upload"],
        &["asterisk", "clear"],
        &["demo"],
        &["sandbox"],
    ];
    for words in commands {
        let mut args = words.to_vec();
        args.push("--help");
        let run = run(command(&args)).await;
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        assert!(
            run.stdout.contains("Example"),
            "{args:?} has no example:\n{}",
            run.stdout
        );
        let shown = run
            .stdout
            .lines()
            .any(|line| line.trim_start().starts_with("provision "));
        assert!(shown, "{args:?} shows no command line:\n{}", run.stdout);
    }
}

/// Each command's `--help` lists the connection options it takes, and
/// `login`, which gets a token, lists no token options.
#[tokio::test(flavor = "multi_thread")]
async fn help_lists_the_connection_options_each_command_takes() {
    let talkers: [&[&str]; 7] = [
        &["login"],
        &["users", "list"],
        &["users", "delete"],
        &["reports", "status-log"],
        &["reports", "call-log"],
        &["asterisk", "upload"],
        &["asterisk", "clear"],
    ];
    for words in talkers {
        let run = run(command(&[words, &["--help"]].concat())).await;
        assert_eq!(run.code, 0, "{words:?}: {run:?}");
        let listed = |option: &str| {
            run.stdout
                .lines()
                .any(|line| line.split_whitespace().next() == Some(option))
        };
        for option in [
            "--dashboard",
            "--email",
            "--timeout",
            "--insecure",
            "--allow-http",
        ] {
            assert!(listed(option), "{words:?} lacks {option}:\n{}", run.stdout);
        }
        let takes_token = words != ["login"];
        for option in ["--token", "--token-file"] {
            assert_eq!(
                listed(option),
                takes_token,
                "{words:?}, {option}:\n{}",
                run.stdout
            );
        }
    }
}
