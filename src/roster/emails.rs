//! The emails seen so far in a file, to find a repeated one.
//!
//! Emails are compared ignoring letter case, and exactly: the lower-cased
//! emails are kept one after another in a single string, and a table of
//! 8-byte slots (32 bits of the email's hash and the entry's number) finds
//! them. A `HashMap<String, usize>` would take a separate allocation per
//! email and miss the cache twice per insert; on a million rows that check
//! cost more than parsing the CSV.
//!
//! The slots are small so that the table of a million emails (16 MB) stays
//! mostly in the processor's cache, and a batch of inserts reads its slots
//! first ([`SeenEmails::warm`]) so that the misses overlap.

use std::hash::BuildHasher;

use foldhash::fast::RandomState;

/// The smallest table, in slots (a power of two).
const MIN_SLOTS: usize = 1024;

/// A slot: the high half of the email's hash, and the entry's number plus
/// one; 0 marks an empty slot.
type Slot = [u32; 2];

/// The emails seen so far and where.
#[derive(Debug)]
pub(super) struct SeenEmails {
    /// A power-of-two number of slots, at most 70% full.
    slots: Vec<Slot>,
    hasher: RandomState,
    /// Every email recorded, lower-cased, one after another.
    text: String,
    /// Where each entry's email ends in `text`.
    ends: Vec<usize>,
    /// The row of each entry.
    rows: Vec<u32>,
}

/// About how long a lower-cased email is, to reserve `text` up front.
const EMAIL_BYTES: usize = 24;

impl SeenEmails {
    /// A table sized for about `emails` entries, so that it need not grow
    /// (each growth moves every entry, with the cache misses of a first
    /// insert) on the way there.
    pub(super) fn with_capacity(emails: usize) -> SeenEmails {
        SeenEmails {
            slots: vec![[0; 2]; slots_for(emails)],
            hasher: RandomState::default(),
            text: String::with_capacity(emails.saturating_mul(EMAIL_BYTES)),
            ends: Vec::with_capacity(emails),
            rows: Vec::with_capacity(emails),
        }
    }

    /// The hash of an email already in lower case.
    pub(super) fn hash(&self, lowered: &str) -> u64 {
        self.hasher.hash_one(lowered)
    }

    /// Reads the slots where emails of these hashes would go, so that
    /// inserting them soon after finds the slots in the cache. The reads
    /// depend on nothing but the hashes, so the processor has many of them
    /// waiting for memory at once; inserting alone would wait for one slot
    /// at a time.
    pub(super) fn warm(&self, hashes: impl Iterator<Item = u64>) {
        let mask = self.slots.len() - 1;
        let entries = hashes.fold(0, |seen, hash| seen ^ self.slots[home(hash, mask)][1]);
        std::hint::black_box(entries);
    }

    /// Records `lowered` (an email in lower case, of hash `hash`) as used
    /// by `row`; if it was already used, returns the earlier row and keeps
    /// that one.
    ///
    /// NOTE: past four billion entries (`u32::MAX`), emails are no longer
    /// recorded, so repeats among them would go unnoticed, and rows past
    /// that number are remembered as `u32::MAX`; such a file would not fit
    /// the dashboard anyway.
    pub(super) fn insert(&mut self, lowered: &str, hash: u64, row: usize) -> Result<(), usize> {
        let Ok(entry) = u32::try_from(self.rows.len() + 1) else {
            return Ok(());
        };
        if (self.rows.len() + 1) * 10 > self.slots.len() * 7 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let tag = tag(hash);
        let mut at = home(hash, mask);
        loop {
            let [slot_tag, slot_entry] = self.slots[at];
            if slot_entry == 0 {
                self.slots[at] = [tag, entry];
                self.text.push_str(lowered);
                self.ends.push(self.text.len());
                self.rows.push(u32::try_from(row).unwrap_or(u32::MAX));
                return Ok(());
            }
            let earlier = slot_entry as usize - 1;
            if slot_tag == tag && self.email(earlier) == lowered {
                return Err(self.rows[earlier] as usize);
            }
            at = (at + 1) & mask;
        }
    }

    /// The email of entry `entry`.
    fn email(&self, entry: usize) -> &str {
        let start = entry.checked_sub(1).map_or(0, |before| self.ends[before]);
        &self.text[start..self.ends[entry]]
    }

    /// Doubles the table and puts every entry back.
    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        self.slots = vec![[0; 2]; size];
        let mask = size - 1;
        for entry in 0..self.rows.len() {
            let hash = self.hash(self.email(entry));
            let mut at = home(hash, mask);
            while self.slots[at][1] != 0 {
                at = (at + 1) & mask;
            }
            // `entry + 1` fits: `insert` refuses entries past u32::MAX.
            self.slots[at] = [tag(hash), (entry + 1) as u32];
        }
    }
}

/// `email` in lower case, appended to `out`.
pub(super) fn push_lowered(email: &str, out: &mut String) {
    if email.is_ascii() {
        let start = out.len();
        out.push_str(email);
        out[start..].make_ascii_lowercase();
    } else {
        out.extend(email.chars().flat_map(char::to_lowercase));
    }
}

/// The number of slots for `emails` entries: a power of two, at most 70%
/// full.
fn slots_for(emails: usize) -> usize {
    (emails.saturating_mul(10) / 7 + 1)
        .next_power_of_two()
        .max(MIN_SLOTS)
}

/// The hash's home slot: its low bits (the hash is uniform already).
fn home(hash: u64, mask: usize) -> usize {
    // Truncation keeps the low bits, which is all the mask looks at.
    (hash as usize) & mask
}

/// The part of the hash a slot keeps, to skip most comparisons of text.
fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inserts `email` as `row`, warming first, as the caller does.
    fn insert(seen: &mut SeenEmails, email: &str, row: usize) -> Result<(), usize> {
        let mut lowered = String::new();
        push_lowered(email, &mut lowered);
        let hash = seen.hash(&lowered);
        seen.warm([hash].into_iter());
        seen.insert(&lowered, hash, row)
    }

    /// Case is ignored, including in Cyrillic, and the first row is kept.
    #[test]
    fn repeats_are_found_ignoring_case() {
        let mut seen = SeenEmails::with_capacity(0);
        assert_eq!(insert(&mut seen, "Anna@Example.com", 1), Ok(()));
        assert_eq!(insert(&mut seen, "иван@пример.рф", 2), Ok(()));
        assert_eq!(insert(&mut seen, "anna@example.COM", 3), Err(1));
        assert_eq!(insert(&mut seen, "ИВАН@пример.рф", 4), Err(2));
        assert_eq!(insert(&mut seen, "anna@example.COM", 5), Err(1));
    }

    /// Entries survive the table growing, many times over.
    #[test]
    fn growing_keeps_every_email() {
        let mut seen = SeenEmails::with_capacity(10);
        for row in 1..=5000 {
            assert_eq!(insert(&mut seen, &format!("a{row}@x.ru"), row), Ok(()));
        }
        assert_eq!(insert(&mut seen, "A4321@X.RU", 6000), Err(4321));
        assert!(seen.slots.len() >= 5000 * 10 / 7 && seen.slots.len().is_power_of_two());
    }

    /// Emails whose hashes share a slot, or even the whole tag, are told
    /// apart by their text: a repeat is never reported by mistake.
    #[test]
    fn equal_tags_are_told_apart_by_the_text() {
        let mut seen = SeenEmails::with_capacity(0);
        let same = seen.hash("a@x.ru");
        assert_eq!(seen.insert("a@x.ru", same, 1), Ok(()));
        assert_eq!(seen.insert("b@x.ru", same, 2), Ok(()));
        assert_eq!(seen.insert("b@x.ru", same, 3), Err(2));
        assert_eq!(seen.insert("a@x.ru", same, 4), Err(1));
    }
}
