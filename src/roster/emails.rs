//! The emails seen so far in a file, to find a repeated one.
//!
//! Emails are compared ignoring letter case. To stay small on a
//! million-row file the set keeps a 128-bit hash of each lower-cased email
//! and the row it was first seen on, not the email itself: about 20 bytes an
//! entry instead of 50 or more.
//!
//! NOTE: two different emails could in principle share a 128-bit hash, and
//! then the later one would be reported as a repeat by mistake. With a
//! million emails the chance is about 1 in 10^26, far below the chance of a
//! memory error; a file that hit it could still be fixed by hand.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher, RandomState};

/// The emails seen so far and where.
#[derive(Debug)]
pub(super) struct SeenEmails {
    first_row: HashMap<EmailKey, u32, BuildHasherDefault<TakeHasher>>,
    /// Two independently keyed SipHash states, giving 64 bits each.
    keys: (RandomState, RandomState),
    /// Reused buffer for the lower-cased email.
    lowered: String,
}

impl SeenEmails {
    pub(super) fn new() -> SeenEmails {
        SeenEmails {
            first_row: HashMap::default(),
            keys: (RandomState::new(), RandomState::new()),
            lowered: String::new(),
        }
    }

    /// Records `email` as used by `row`; if it was already used, returns
    /// the earlier row and keeps that one.
    ///
    /// NOTE: rows past `u32::MAX` (four billion) are remembered as
    /// `u32::MAX`; such a file would not fit the dashboard anyway.
    pub(super) fn insert(&mut self, email: &str, row: usize) -> Result<(), usize> {
        self.lowered.clear();
        self.lowered
            .extend(email.chars().flat_map(char::to_lowercase));
        let key = EmailKey::new(&self.keys, &self.lowered);
        let row = u32::try_from(row).unwrap_or(u32::MAX);
        match self.first_row.entry(key) {
            Entry::Occupied(seen) => Err(*seen.get() as usize),
            Entry::Vacant(slot) => {
                slot.insert(row);
                Ok(())
            }
        }
    }
}

/// 128 bits of hash, as four `u32`s so an entry packs into 20 bytes
/// (a `u128` would be aligned to 16 and take 32).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EmailKey([u32; 4]);

impl EmailKey {
    fn new(keys: &(RandomState, RandomState), lowered: &str) -> EmailKey {
        let (a, b) = (keys.0.hash_one(lowered), keys.1.hash_one(lowered));
        // The casts keep the low and high halves of each 64-bit hash.
        EmailKey([a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32])
    }
}

impl Hash for EmailKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The key already is a good hash: pass 64 bits of it straight on.
        state.write_u64(u64::from(self.0[0]) | (u64::from(self.0[1]) << 32));
    }
}

/// A hasher for keys that are hashes already: it keeps the last `u64`.
#[derive(Debug, Default)]
struct TakeHasher(u64);

impl Hasher for TakeHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached if `EmailKey::hash` changes; stay correct anyway.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Case is ignored, including in Cyrillic, and the first row is kept.
    #[test]
    fn repeats_are_found_ignoring_case() {
        let mut seen = SeenEmails::new();
        assert_eq!(seen.insert("Anna@Example.com", 1), Ok(()));
        assert_eq!(seen.insert("иван@пример.рф", 2), Ok(()));
        assert_eq!(seen.insert("anna@example.COM", 3), Err(1));
        assert_eq!(seen.insert("ИВАН@пример.рф", 4), Err(2));
        assert_eq!(seen.insert("anna@example.COM", 5), Err(1));
    }
}
