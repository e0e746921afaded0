//! `provision login`: trade an administrator's email and password for a
//! token, and print it or save it to a file only its owner can read.
//!
//! The password is never echoed, logged or saved; the token is printed only
//! when no file is named, since printing it is then the point.

use std::fs::OpenOptions;
use std::io::{self, BufRead, Write};
use std::path::Path;

use anyhow::{Context, bail};

use crate::cli::LoginArgs;
use crate::connect;
use crate::exit::Exit;
use crate::secret::Secret;

/// Logs in; prints the token, or saves it and says where.
pub async fn run(args: &LoginArgs) -> anyhow::Result<Exit> {
    let Some(email) = args.site.email.as_deref() else {
        bail!("no email given: pass --email ADMIN_EMAIL (or set SOFTPHONE_EMAIL)");
    };
    if let Some(path) = &args.save_token {
        check_folder(path)?;
    }
    let dashboard = connect::dashboard_without_token(&args.site)?;
    let password = if args.password_stdin {
        password_from_stdin()?
    } else {
        connect::password(email)?
    };

    let token = connect::log_in(&dashboard, email, &password).await?;
    match &args.save_token {
        Some(path) => {
            save_token(path, &token).with_context(|| {
                format!(
                    "{}: the login worked but the token could not be saved; name a file you \
                     can write, or leave out --save-token to print the token",
                    path.display()
                )
            })?;
            println!("Token saved to {}", path.display());
        }
        None => println!("{}", token.expose()),
    }
    Ok(Exit::Success)
}

/// Fails before logging in when the token file could not be created
/// anyway: its folder is missing, or the path is a folder.
fn check_folder(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!(
            "--save-token {}: is a folder; name a file in it, such as {}",
            path.display(),
            path.join("softphone-token").display()
        );
    }
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        bail!(
            "--save-token {}: the folder {} does not exist; create it or name a file elsewhere",
            path.display(),
            folder.display()
        );
    }
    Ok(())
}

/// The first line of stdin, without its line ending; the rest of the line
/// is kept exactly, spaces included, as passwords are.
fn password_from_stdin() -> anyhow::Result<Secret> {
    let mut line = String::new();
    io::stdin()
        .lock()
        .read_line(&mut line)
        .context("failed to read the password from stdin")?;
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        bail!("--password-stdin: stdin held no password; pipe it in, one line");
    }
    Ok(Secret::new(password))
}

/// Writes the token and a line break to `path`, readable and writable by
/// its owner only on Unix. An existing file is narrowed to that mode before
/// the token goes in.
fn save_token(path: &Path, token: &Secret) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    // `mode` applies only when the file is created; an older token file
    // may have been readable by others.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    // NOTE: on Windows the file gets the folder's default ACL; keep it in
    // your profile folder, which others cannot read by default.
    writeln!(file, "{}", token.expose())?;
    file.sync_all()
}
