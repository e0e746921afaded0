//! `provision users delete`: delete users named by ID, by the results file
//! of a provisioning run (an undo), or by the emails of an agents file.
//!
//! The users are looked up first, so that how many and who can be shown
//! before asking, and so that IDs or emails that are not on the dashboard
//! are reported instead of sent (the API ignores unknown IDs without a
//! word). The deletion is one request; the list is then read again to
//! report what is really gone.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, bail};

use super::describe;
use crate::cli::UsersDeleteArgs;
use crate::commands::confirm;
use crate::connect;
use crate::dashboard::{Dashboard, ListQuery, User};
use crate::exit::Exit;
use crate::report;
use crate::roster::{self, ReadOptions};

/// How many users are named before asking; the rest are only counted.
const SHOWN: usize = 5;

/// The users named on the command line, in the order named, without
/// repeats.
#[derive(Debug, PartialEq, Eq)]
enum Wanted {
    Ids(Vec<u64>),
    Emails(Vec<String>),
}

impl Wanted {
    fn is_empty(&self) -> bool {
        match self {
            Wanted::Ids(ids) => ids.is_empty(),
            Wanted::Emails(emails) => emails.is_empty(),
        }
    }
}

/// The users to delete, and what was named but is not on the dashboard.
#[derive(Debug, Default)]
struct Plan {
    found: Vec<User>,
    missing: Vec<String>,
}

/// Resolves, shows, asks, deletes, checks. Exit 1 when some named user was
/// not on the dashboard or is still there afterwards.
pub async fn run(args: &UsersDeleteArgs) -> anyhow::Result<Exit> {
    confirm::require_terminal_or_yes(args.yes, "delete users")?;
    let (wanted, source) = wanted(args)?;
    if wanted.is_empty() {
        eprintln!("{source} names no users: nothing to delete");
        return Ok(Exit::Success);
    }
    let connected = connect::connect(&args.connection).await?;
    let dashboard = &connected.dashboard;
    let users = dashboard
        .list_users(&ListQuery::all())
        .await
        .context("listing the users to find the ones to delete")?
        .users;

    let plan = resolve(&wanted, users);
    for missing in &plan.missing {
        eprintln!("warning: {missing} is not on the dashboard: not deleted");
    }
    if plan.found.is_empty() {
        eprintln!("none of the users named is on the dashboard: nothing to delete");
        return Ok(Exit::RowsFailed);
    }
    show(&plan.found, dashboard);
    if !args.yes && !confirm::ask("Delete them?")? {
        bail!("not confirmed: nothing was deleted");
    }

    let ids: Vec<u64> = plan.found.iter().map(|user| user.id).collect();
    dashboard
        .delete_users(&ids)
        .await
        .with_context(|| format!("deleting {}", n_users(ids.len())))?;
    let all_gone = check_gone(dashboard, &plan.found).await;
    Ok(if all_gone && plan.missing.is_empty() {
        Exit::Success
    } else {
        Exit::RowsFailed
    })
}

/// What the flags name, and how to name that source in messages.
fn wanted(args: &UsersDeleteArgs) -> anyhow::Result<(Wanted, String)> {
    if let Some(path) = &args.from_report {
        let ids = report::created_ids(path)?;
        return Ok((Wanted::Ids(unique(ids)), path.display().to_string()));
    }
    if let Some(path) = &args.from_csv {
        return Ok((Wanted::Emails(emails_of(path)?), path.display().to_string()));
    }
    Ok((
        Wanted::Ids(unique(args.ids.clone())),
        "the command line".into(),
    ))
}

fn unique(ids: Vec<u64>) -> Vec<u64> {
    let mut seen = HashSet::new();
    ids.into_iter().filter(|id| seen.insert(*id)).collect()
}

/// The emails of an agents file, read as provisioning reads it (any
/// encoding, CSV or .xlsx); a row without one is reported and skipped.
fn emails_of(path: &Path) -> anyhow::Result<Vec<String>> {
    let label = path.display();
    let rows = roster::open(path, &ReadOptions::default())?;
    let mut seen = HashSet::new();
    let mut emails = Vec::new();
    for row in rows {
        // The roster's errors name the file already.
        let row = row?;
        let email = row.summary.email.trim();
        if email.is_empty() {
            eprintln!("warning: {label}: row #{} has no email: skipped", row.row);
        } else if seen.insert(email.to_lowercase()) {
            emails.push(email.to_string());
        }
    }
    Ok(emails)
}

/// Finds the named users in the list; emails match ignoring case.
fn resolve(wanted: &Wanted, users: Vec<User>) -> Plan {
    let mut plan = Plan::default();
    match wanted {
        Wanted::Ids(ids) => {
            let mut by_id: HashMap<u64, User> = users.into_iter().map(|u| (u.id, u)).collect();
            for id in ids {
                match by_id.remove(id) {
                    Some(user) => plan.found.push(user),
                    None => plan.missing.push(format!("user ID {id}")),
                }
            }
        }
        Wanted::Emails(emails) => {
            let mut by_email: HashMap<String, User> = users
                .into_iter()
                .map(|u| (u.email.to_lowercase(), u))
                .collect();
            for email in emails {
                match by_email.remove(&email.to_lowercase()) {
                    Some(user) => plan.found.push(user),
                    None => plan.missing.push(email.clone()),
                }
            }
        }
    }
    plan
}

/// `1 user`, `3 users`.
fn n_users(count: usize) -> String {
    match count {
        1 => "1 user".to_string(),
        n => format!("{n} users"),
    }
}

/// How many, and the first few, on stderr.
fn show(found: &[User], dashboard: &Dashboard) {
    eprintln!(
        "About to delete {} from {}:",
        n_users(found.len()),
        dashboard.base()
    );
    for user in found.iter().take(SHOWN) {
        eprintln!("  {}", describe(user));
    }
    if found.len() > SHOWN {
        eprintln!("  ... and {} more", found.len() - SHOWN);
    }
}

/// Reads the list again and prints each user that is gone; whether all
/// are. If the list cannot be read, the dashboard's OK is taken for it.
async fn check_gone(dashboard: &Dashboard, deleted: &[User]) -> bool {
    let remaining: HashSet<u64> = match dashboard.list_users(&ListQuery::all()).await {
        Ok(page) => page.users.iter().map(|user| user.id).collect(),
        Err(error) => {
            eprintln!("warning: the dashboard accepted the delete, but the check failed: {error}");
            HashSet::new()
        }
    };
    let mut gone = 0;
    for user in deleted {
        if remaining.contains(&user.id) {
            eprintln!("error: {} is still on the dashboard", describe(user));
        } else {
            println!("Deleted user {}", describe(user));
            gone += 1;
        }
    }
    if gone == deleted.len() {
        eprintln!("Deleted {}", n_users(gone));
    } else {
        eprintln!(
            "Deleted {gone} of {}; {} still there",
            n_users(deleted.len()),
            deleted.len() - gone
        );
    }
    gone == deleted.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u64, email: &str) -> User {
        User {
            id,
            name: "N".into(),
            surname: "S".into(),
            email: email.into(),
            state: serde_json::Value::Null,
            role: serde_json::Value::Null,
            groups: Vec::new(),
            sfversion: None,
        }
    }

    #[test]
    fn unknown_ids_and_emails_are_reported_not_dropped() {
        let users = || vec![user(2, "a@x.com"), user(3, "B@x.com")];
        let plan = resolve(&Wanted::Ids(vec![3, 9]), users());
        assert_eq!(plan.found.iter().map(|u| u.id).collect::<Vec<_>>(), vec![3]);
        assert_eq!(plan.missing, vec!["user ID 9"]);

        let emails = Wanted::Emails(vec!["b@X.com".into(), "c@x.com".into()]);
        let plan = resolve(&emails, users());
        assert_eq!(plan.found.iter().map(|u| u.id).collect::<Vec<_>>(), vec![3]);
        assert_eq!(plan.missing, vec!["c@x.com"]);
    }

    #[test]
    fn repeated_ids_count_once() {
        assert_eq!(unique(vec![4, 2, 4, 7, 2]), vec![4, 2, 7]);
    }
}
