//! The emails seen so far in a file, to find a repeated one.
//!
//! Emails are compared ignoring letter case. To stay small on a
//! million-row file the set keeps a 128-bit hash of each lower-cased email
//! and the row it was first seen on, not the email itself: 20 bytes a slot
//! instead of 50 or more for a `String`.
//!
//! The set is a flat open-addressing table (linear probing) rather than a
//! `HashMap`: on a million rows the hash map's scattered control bytes and
//! buckets made this check cost more than parsing the CSV (about 400 ns a
//! row, against under 100 ns here), because each insert missed the cache
//! twice.
//!
//! NOTE: two different emails could in principle share a 128-bit hash, and
//! then the later one would be reported as a repeat by mistake. With a
//! million emails the chance is about 1 in 10^26, far below the chance of a
//! memory error; a file that hit it could still be fixed by hand.

use std::hash::{BuildHasher, RandomState};

/// The smallest table, in slots (a power of two).
const MIN_SLOTS: usize = 1024;

/// An email's 128-bit hash, as four 32-bit parts.
pub(super) type Key = [u32; 4];

/// A slot: the key, then the row; row 0 marks an empty slot (rows count
/// from 1).
type Slot = [u32; 5];

/// Turns emails into keys for [`SeenEmails`].
#[derive(Debug)]
pub(super) struct EmailKeys {
    /// Two independently keyed SipHash states, giving 64 bits each.
    hashers: (RandomState, RandomState),
    /// Reused buffer for the lower-cased email.
    lowered: String,
}

impl EmailKeys {
    pub(super) fn new() -> EmailKeys {
        EmailKeys {
            hashers: (RandomState::new(), RandomState::new()),
            lowered: String::new(),
        }
    }

    /// The key of `email`, ignoring letter case.
    pub(super) fn key(&mut self, email: &str) -> Key {
        self.lowered.clear();
        if email.is_ascii() {
            self.lowered.push_str(email);
            self.lowered.make_ascii_lowercase();
        } else {
            self.lowered
                .extend(email.chars().flat_map(char::to_lowercase));
        }
        let (a, b) = (
            self.hashers.0.hash_one(&self.lowered),
            self.hashers.1.hash_one(&self.lowered),
        );
        // The casts keep the low and high halves of each 64-bit hash.
        [a as u32, (a >> 32) as u32, b as u32, (b >> 32) as u32]
    }
}

/// The emails seen so far and where, by key.
#[derive(Debug)]
pub(super) struct SeenEmails {
    /// A power-of-two number of slots, at most 70% full.
    slots: Vec<Slot>,
    len: usize,
}

impl SeenEmails {
    /// A table sized for about `emails` entries, so that it need not grow
    /// (each growth moves every entry, with the cache misses of a first
    /// insert) on the way there.
    pub(super) fn with_capacity(emails: usize) -> SeenEmails {
        let slots = (emails.saturating_mul(10) / 7 + 1)
            .next_power_of_two()
            .max(MIN_SLOTS);
        SeenEmails {
            slots: vec![[0; 5]; slots],
            len: 0,
        }
    }

    /// Reads the slot where `key` would go, so that an [`insert`] soon
    /// after finds it in the cache. Warming a batch of keys before inserting
    /// them lets the processor wait for their memory all at once instead of
    /// one key at a time.
    ///
    /// [`insert`]: SeenEmails::insert
    pub(super) fn warm(&self, key: &Key) {
        if !self.slots.is_empty() {
            let mask = self.slots.len() - 1;
            std::hint::black_box(self.slots[home(key, mask)][4]);
        }
    }

    /// Records `key` as used by `row` (from 1); if it was already used,
    /// returns the earlier row and keeps that one.
    ///
    /// NOTE: rows past `u32::MAX` (four billion) are remembered as
    /// `u32::MAX`; such a file would not fit the dashboard anyway.
    pub(super) fn insert(&mut self, key: Key, row: usize) -> Result<(), usize> {
        let row = u32::try_from(row).unwrap_or(u32::MAX).max(1);
        if (self.len + 1) * 10 > self.slots.len() * 7 {
            self.grow();
        }
        match place(&mut self.slots, key, row) {
            Some(earlier) => Err(earlier as usize),
            None => {
                self.len += 1;
                Ok(())
            }
        }
    }

    /// Doubles the table and puts every entry back.
    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(MIN_SLOTS);
        let old = std::mem::replace(&mut self.slots, vec![[0; 5]; size]);
        for [k0, k1, k2, k3, row] in old.into_iter().filter(|slot| slot[4] != 0) {
            place(&mut self.slots, [k0, k1, k2, k3], row);
        }
    }
}

/// The key's home slot: the key is a uniform hash already, so its low bits
/// pick the slot.
fn home(key: &Key, mask: usize) -> usize {
    (key[0] as usize) & mask
}

/// Puts `key` with `row` in the first free slot from the key's home slot;
/// if the key is there already, leaves it and returns its row instead.
/// `slots` must have a power-of-two length and a free slot.
fn place(slots: &mut [Slot], key: Key, row: u32) -> Option<u32> {
    let mask = slots.len() - 1;
    let mut at = home(&key, mask);
    loop {
        let slot = &mut slots[at];
        if slot[4] == 0 {
            *slot = [key[0], key[1], key[2], key[3], row];
            return None;
        }
        if slot[..4] == key {
            return Some(slot[4]);
        }
        at = (at + 1) & mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inserts `email` as `row` with keys from `keys`, warming first.
    fn insert(
        seen: &mut SeenEmails,
        keys: &mut EmailKeys,
        email: &str,
        row: usize,
    ) -> Result<(), usize> {
        let key = keys.key(email);
        seen.warm(&key);
        seen.insert(key, row)
    }

    /// Case is ignored, including in Cyrillic, and the first row is kept.
    #[test]
    fn repeats_are_found_ignoring_case() {
        let (mut seen, mut keys) = (SeenEmails::with_capacity(0), EmailKeys::new());
        assert_eq!(insert(&mut seen, &mut keys, "Anna@Example.com", 1), Ok(()));
        assert_eq!(insert(&mut seen, &mut keys, "иван@пример.рф", 2), Ok(()));
        assert_eq!(insert(&mut seen, &mut keys, "anna@example.COM", 3), Err(1));
        assert_eq!(insert(&mut seen, &mut keys, "ИВАН@пример.рф", 4), Err(2));
        assert_eq!(insert(&mut seen, &mut keys, "anna@example.COM", 5), Err(1));
    }

    /// Entries survive the table growing, many times over.
    #[test]
    fn growing_keeps_every_email() {
        let (mut seen, mut keys) = (SeenEmails::with_capacity(10), EmailKeys::new());
        for row in 1..=5000 {
            assert_eq!(
                insert(&mut seen, &mut keys, &format!("a{row}@x.ru"), row),
                Ok(())
            );
        }
        assert_eq!(insert(&mut seen, &mut keys, "A4321@X.RU", 6000), Err(4321));
        assert!(seen.slots.len() >= 5000 * 10 / 7 && seen.slots.len().is_power_of_two());
    }
}
