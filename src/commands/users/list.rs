//! `provision users list`: every user (or one page), as a table, a CSV
//! that Excel opens, or the dashboard's JSON.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use anyhow::Context;

use super::{printable, value_text};
use crate::cli::{ListFormat, UsersListArgs};
use crate::connect;
use crate::dashboard::{Direction, ListQuery, Page, User, UserPage};
use crate::exit::Exit;
use crate::output;
use crate::report::excel_safe;

/// The page size when only `--page` is given: the dashboard's default.
const DEFAULT_PAGE_SIZE: u32 = 20;

/// The CSV columns, in order.
const CSV_HEADER: [&str; 8] = [
    "id",
    "name",
    "surname",
    "email",
    "role",
    "state",
    "groups",
    "sfversion",
];

/// Lists, then prints to stdout or writes the file.
pub async fn run(args: &UsersListArgs) -> anyhow::Result<Exit> {
    let file = args
        .output
        .as_deref()
        .filter(|path| *path != Path::new("-"));
    let format = args.format.unwrap_or_else(|| {
        if file.is_none() && io::stdout().is_terminal() {
            ListFormat::Table
        } else {
            ListFormat::Csv
        }
    });
    let connected = connect::connect(&args.connection).await?;
    let page = connected
        .dashboard
        .list_users(&query(args))
        .await
        .context("listing the users")?;

    let text = match format {
        ListFormat::Table => table(&page.users).into_bytes(),
        ListFormat::Csv => csv(&page.users)?,
        ListFormat::Json => json(&page)?,
    };
    match file {
        Some(path) => {
            output::write_atomically(path, &text)
                .with_context(|| format!("failed to write {}", path.display()))?;
            eprintln!("{} users written to {}", page.users.len(), path.display());
        }
        None => io::stdout().lock().write_all(&text)?,
    }
    if args.page.is_some() || args.page_size.is_some() {
        eprintln!("{} of {} users", page.users.len(), page.total_count);
    }
    Ok(Exit::Success)
}

/// The query the flags ask for: paged if either paging flag is given.
fn query(args: &UsersListArgs) -> ListQuery {
    let direction = match (args.asc, args.desc) {
        (true, _) => Some(Direction::Asc),
        (_, true) => Some(Direction::Desc),
        _ => None,
    };
    let page = (args.page.is_some() || args.page_size.is_some()).then(|| Page {
        number: args.page.unwrap_or(1),
        size: args.page_size.unwrap_or(DEFAULT_PAGE_SIZE),
    });
    ListQuery {
        sort_column: args.sort,
        direction,
        page,
    }
}

/// The cells of one user, in [`CSV_HEADER`] order.
fn cells(user: &User) -> [String; 8] {
    let groups: Vec<String> = user.groups.iter().map(value_text).collect();
    [
        user.id.to_string(),
        user.name.clone(),
        user.surname.clone(),
        user.email.clone(),
        value_text(&user.role),
        value_text(&user.state),
        groups.join(", "),
        user.sfversion.clone().unwrap_or_default(),
    ]
}

/// `;`-separated UTF-8 with a byte-order mark, every cell defused for Excel.
fn csv(users: &[User]) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer("\u{feff}".as_bytes().to_vec());
    writer.write_record(CSV_HEADER)?;
    for user in users {
        writer.write_record(cells(user).iter().map(|cell| excel_safe(cell)))?;
    }
    writer
        .into_inner()
        .map_err(|error| anyhow::anyhow!("failed to build the CSV: {}", error.error()))
}

/// The dashboard's answer as it came, pretty-printed.
fn json(page: &UserPage) -> anyhow::Result<Vec<u8>> {
    let mut text = serde_json::to_vec_pretty(page)?;
    text.push(b'\n');
    Ok(text)
}

/// Aligned columns under an upper-case header, for a terminal.
fn table(users: &[User]) -> String {
    let header = CSV_HEADER.map(str::to_uppercase);
    let rows: Vec<[String; 8]> = users
        .iter()
        .map(|user| cells(user).map(|cell| printable(&cell)))
        .collect();
    let mut widths = header.clone().map(|name| name.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:width$}"))
            .collect();
        text.push_str(line.join("  ").trim_end());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u64, name: &str) -> User {
        User {
            id,
            name: name.into(),
            surname: "Петров".into(),
            email: format!("u{id}@example.com"),
            state: serde_json::json!("OFFLINE"),
            role: serde_json::json!("EMPLOYEE"),
            groups: vec![serde_json::json!("Team 1"), serde_json::json!("Team 2")],
            sfversion: None,
        }
    }

    #[test]
    fn csv_has_a_bom_and_defused_cells() {
        let text = String::from_utf8(csv(&[user(2, "=HYPERLINK(1)")]).unwrap()).unwrap();
        assert_eq!(
            text,
            "\u{feff}id;name;surname;email;role;state;groups;sfversion\n\
             2;'=HYPERLINK(1);Петров;u2@example.com;EMPLOYEE;OFFLINE;Team 1, Team 2;\n"
        );
    }

    #[test]
    fn table_columns_line_up_and_controls_are_blanked() {
        let text = table(&[user(2, "Ivan"), user(10, "A\u{1b}[2J")]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("ID  NAME   SURNAME  EMAIL "), "{text}");
        assert!(lines[1].starts_with("2   Ivan   Петров   u2@"), "{text}");
        assert!(lines[2].starts_with("10  A [2J  Петров   u10@"), "{text}");
        assert!(!text.contains('\u{1b}'));
    }
}
