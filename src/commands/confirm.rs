//! Asking before a change that cannot be undone (deleting users, clearing
//! the Asterisk data).
//!
//! The question goes to stderr and the answer comes from stdin, so it is
//! only asked when stdin is a terminal. Without one (a script, a pipe, cron)
//! the command refuses unless `--yes` was given: a missing confirmation must
//! never be read as a yes.

use std::io::{self, BufRead, IsTerminal, Write};

use anyhow::{Context, bail};

/// Fails unless `--yes` was given or a person can be asked on the terminal;
/// `what` completes "refusing to ...". Call it before anything is sent.
pub fn require_terminal_or_yes(yes: bool, what: &str) -> anyhow::Result<()> {
    if yes || io::stdin().is_terminal() {
        return Ok(());
    }
    bail!(
        "refusing to {what} without confirmation: stdin is not a terminal, so nobody can be \
         asked; pass --yes to confirm in advance"
    )
}

/// Asks `question` on the terminal; only `y` or `yes` (any case) is a yes.
pub fn ask(question: &str) -> anyhow::Result<bool> {
    let mut stderr = io::stderr();
    write!(stderr, "{question} [y/N] ").context("failed to ask on the terminal")?;
    stderr.flush().context("failed to ask on the terminal")?;
    let mut answer = String::new();
    io::stdin()
        .lock()
        .read_line(&mut answer)
        .context("failed to read the answer from the terminal")?;
    Ok(is_yes(&answer))
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_explicit_yes_counts() {
        for yes in ["y", "Y\n", " yes\r\n", "YES"] {
            assert!(is_yes(yes), "{yes:?}");
        }
        for no in ["", "\n", "n", "no", "yep", "да"] {
            assert!(!is_yes(no), "{no:?}");
        }
    }
}
