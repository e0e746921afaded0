//! The state file: created users and the next ID as JSON, so a restarted
//! sandbox answers as if it had never stopped.
//!
//! Writes go to a temporary file in the same directory, which is then renamed
//! over the old one: a crash mid-write leaves the previous state intact.
//! Tokens, recorded requests and uploads are deliberately not kept.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

use super::SandboxError;
use super::store::{ADMIN_ID, StoredUser, UserTable};

/// Bumped when the layout changes incompatibly.
const STATE_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateFile {
    version: u32,
    next_id: u64,
    users: Vec<UserRecord>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UserRecord {
    id: u64,
    uses_softphone: bool,
    name: String,
    surname: String,
    email: String,
    password: String,
    role: String,
    groups: Vec<u64>,
    manage_groups: Option<Vec<u64>>,
    config: String,
}

/// Reads the state file, or an empty table if it does not exist yet.
pub fn load(path: &Path) -> Result<UserTable, SandboxError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(UserTable::new()),
        Err(source) => return Err(state_error(path, source)),
    };
    let file: StateFile =
        serde_json::from_str(&text).map_err(|err| state_error(path, std::io::Error::other(err)))?;
    if file.version != STATE_VERSION {
        let message = format!("unsupported state version {}", file.version);
        return Err(state_error(path, std::io::Error::other(message)));
    }

    let mut table = UserTable::new();
    for record in file.users {
        table.insert(user_from_record(record));
    }
    // Never hand out an ID again, even if the file was edited by hand.
    let highest = table.users.keys().max().copied().unwrap_or(ADMIN_ID);
    table.next_id = file.next_id.max(highest + 1);
    Ok(table)
}

/// Writes `table` to `path` atomically.
pub fn save(path: &Path, table: &UserTable) -> Result<(), SandboxError> {
    let file = StateFile {
        version: STATE_VERSION,
        next_id: table.next_id,
        users: table.users.values().map(record_from_user).collect(),
    };
    let json = serde_json::to_vec_pretty(&file).expect("the state serializes to JSON");

    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(|err| state_error(path, err))?;
    temp.write_all(&json)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(|err| state_error(path, err))?;
    temp.persist(path)
        .map_err(|err| state_error(path, err.error))?;
    Ok(())
}

fn state_error(path: &Path, source: std::io::Error) -> SandboxError {
    SandboxError::State {
        path: path.to_path_buf(),
        source,
    }
}

fn user_from_record(record: UserRecord) -> StoredUser {
    StoredUser {
        id: record.id,
        uses_softphone: record.uses_softphone,
        name: record.name,
        surname: record.surname,
        email: record.email,
        password: Secret::new(record.password),
        role: record.role,
        groups: record.groups,
        manage_groups: record.manage_groups,
        config: record.config,
    }
}

fn record_from_user(user: &StoredUser) -> UserRecord {
    UserRecord {
        id: user.id,
        uses_softphone: user.uses_softphone,
        name: user.name.clone(),
        surname: user.surname.clone(),
        email: user.email.clone(),
        password: user.password.expose().to_string(),
        role: user.role.clone(),
        groups: user.groups.clone(),
        manage_groups: user.manage_groups.clone(),
        config: user.config.clone(),
    }
}
