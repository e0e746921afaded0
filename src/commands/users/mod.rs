//! `provision users list|delete`, and how users are shown.

pub mod delete;
pub mod list;

use crate::dashboard::User;

/// A JSON value as text: a string as it is, nothing as empty.
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Text safe to show on a terminal: control characters (which could move
/// the cursor or recolour it) become spaces.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `#7 Ivan Petrov <ivan@example.com>`, for messages.
fn describe(user: &User) -> String {
    printable(&format!(
        "#{} {} {} <{}>",
        user.id, user.name, user.surname, user.email
    ))
}
