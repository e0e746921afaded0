//! A string that must never be shown: the dashboard token and every password.
//!
//! `Secret` has no `Display`, and its `Debug` prints a placeholder, so logging
//! a struct that holds one at any level cannot leak it. The only way to read
//! the value is [`Secret::expose`], which is called where a request is built
//! and nowhere else.

use std::fmt;

/// A secret value whose `Debug` output is redacted.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value that must not be printed.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// Replaces the value, keeping the allocation.
    pub fn set(&mut self, value: &str) {
        self.0.clear();
        self.0.push_str(value);
    }

    /// The value itself, for building a request or a payload.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The length in characters (not bytes), which is what the dashboard's
    /// length rules count.
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

/// Serializes the secret's value; for the one payload field that must carry
/// it (`serialize_with = "secret::expose_for_serde"`).
pub fn expose_for_serde<S: serde::Serializer>(
    secret: &Secret,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter22");
        assert_eq!(format!("{secret:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret(***))");
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(Secret::new("пароль").char_count(), 6);
    }
}
