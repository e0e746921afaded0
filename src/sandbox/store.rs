//! What the sandbox remembers: users, valid tokens, every request it
//! answered, and uploaded Asterisk logs.
//!
//! Each collection sits behind its own `std::sync::Mutex`, held only for a
//! copy or an insert and never across an `.await`, so a slow request cannot
//! block another.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use crate::secret::Secret;

/// The administrator's user ID; created users get IDs from 2 up.
pub const ADMIN_ID: u64 = 1;

/// The administrator's first name and surname, as lists and reports show them.
pub const ADMIN_NAME: (&str, &str) = ("Sandbox", "Administrator");

/// A user created through `POST /api/settings/users/save`, with every field
/// of the payload as received (the password too, for round-trip checks).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredUser {
    /// The ID the save answered with.
    pub id: u64,
    /// `usesSoftphone`.
    pub uses_softphone: bool,
    /// `name`.
    pub name: String,
    /// `surname`.
    pub surname: String,
    /// `email`, as sent (duplicates are found ignoring case).
    pub email: String,
    /// `password`.
    pub password: Secret,
    /// `role`, one of EMPLOYEE, MANAGER, RESTRICTED_ADMIN, ADMIN.
    pub role: String,
    /// `groups`: team IDs.
    pub groups: Vec<u64>,
    /// `manageGroups`, `None` when the field was absent.
    pub manage_groups: Option<Vec<u64>>,
    /// `config`, the Softphone.Pro configuration text.
    pub config: String,
}

/// A fault that changed how a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppliedFault {
    /// The fixed latency was waited before answering.
    Latency,
    /// Over the rate limit: answered 429.
    RateLimited,
    /// Waited `hang_for` before being processed.
    Hang,
    /// A save answered with `save_error_status`, nothing stored.
    SaveError,
    /// A save processed, then its connection dropped with no answer.
    SaveDrop,
}

/// One request as the sandbox saw it. Bodies are not kept (the login body
/// holds a password; saved users are in [`StoredUser`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query pairs, percent- and `+`-decoded as a server sees them.
    pub query: Vec<(String, String)>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// Whether an `Authorization: Bearer ...` header was sent.
    pub sent_bearer: bool,
    /// Whether a `jwt` cookie was sent.
    pub sent_cookie: bool,
    /// The status answered; `None` when the connection was dropped instead.
    pub status: Option<u16>,
    /// The faults applied, in the order they happened.
    pub faults: Vec<AppliedFault>,
}

/// One Asterisk queue_log upload (the file itself is not kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The file name given in the multipart part, if any.
    pub file_name: Option<String>,
    /// How many bytes the `logs` part had.
    pub bytes: u64,
    /// SHA-256 of those bytes, lower-case hex.
    pub sha256: String,
    /// Lines whose event field is `ENTERQUEUE`: the answer sent.
    pub calls: u64,
}

/// Users and the next ID: the part of the state that a state file keeps.
#[derive(Debug, Clone, Default)]
pub struct UserTable {
    pub users: BTreeMap<u64, StoredUser>,
    pub next_id: u64,
    /// Lower-case emails of `users`, so that the duplicate check of a save
    /// stays constant-time with 100,000 users (a scan made a large
    /// rehearsal quadratic). Kept in step by [`UserTable::insert`] and
    /// [`UserTable::remove`].
    emails: HashSet<String>,
}

impl UserTable {
    /// A table with no created users; the next ID is 2.
    pub fn new() -> UserTable {
        UserTable {
            users: BTreeMap::new(),
            next_id: ADMIN_ID + 1,
            emails: HashSet::new(),
        }
    }

    /// Whether a user has this email, ignoring case.
    pub fn has_email(&self, email: &str) -> bool {
        self.emails.contains(&email.to_lowercase())
    }

    /// Stores a user under its ID.
    pub fn insert(&mut self, user: StoredUser) {
        self.emails.insert(user.email.to_lowercase());
        if let Some(old) = self.users.insert(user.id, user) {
            self.emails.remove(&old.email.to_lowercase());
        }
    }

    /// Removes a user; false when there was none with that ID.
    pub fn remove(&mut self, id: u64) -> bool {
        match self.users.remove(&id) {
            Some(user) => {
                self.emails.remove(&user.email.to_lowercase());
                true
            }
            None => false,
        }
    }
}

/// The sandbox's memory, shared by every request.
#[derive(Debug)]
pub struct Store {
    pub users: Mutex<UserTable>,
    tokens: Mutex<HashSet<String>>,
    token_rng: Mutex<SmallRng>,
    requests: Mutex<Vec<RecordedRequest>>,
    answered: watch::Sender<usize>,
    pub uploads: Mutex<Vec<Upload>>,
    pub ignored_deletes: Mutex<Vec<u64>>,
}

/// Separates the token generator's seed from the fault generator's, so
/// logging in does not shift which requests get faults.
const TOKEN_SEED_SALT: u64 = 0x746f_6b65_6e73_0001;

impl Store {
    /// An empty store holding `users`.
    pub fn new(users: UserTable, seed: u64) -> Store {
        Store {
            users: Mutex::new(users),
            tokens: Mutex::new(HashSet::new()),
            token_rng: Mutex::new(SmallRng::seed_from_u64(seed ^ TOKEN_SEED_SALT)),
            requests: Mutex::new(Vec::new()),
            answered: watch::channel(0).0,
            uploads: Mutex::new(Vec::new()),
            ignored_deletes: Mutex::new(Vec::new()),
        }
    }

    /// Makes and remembers a new token. It looks like a JWT (three
    /// base64url parts joined by dots) so a client's cookie parsing meets
    /// the characters a real one carries, but it is opaque.
    pub fn issue_token(&self) -> Secret {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut rng = lock(&self.token_rng);
        let mut part = |len: usize| -> String {
            (0..len)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect()
        };
        let token = format!("eyJhbGciOiJIUzI1NiJ9.{}.{}", part(48), part(43));
        drop(rng);
        lock(&self.tokens).insert(token.clone());
        Secret::new(token)
    }

    /// Whether `token` was issued and not revoked.
    pub fn token_is_valid(&self, token: &str) -> bool {
        lock(&self.tokens).contains(token)
    }

    /// Forgets every token, as an expiry would.
    pub fn revoke_tokens(&self) {
        lock(&self.tokens).clear();
    }

    /// Appends a request and wakes [`Store::wait_for_requests`].
    pub fn record(&self, request: RecordedRequest) {
        let count = {
            let mut requests = lock(&self.requests);
            requests.push(request);
            requests.len()
        };
        self.answered.send_replace(count);
    }

    /// A copy of every request recorded so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    /// Resolves once at least `count` requests are recorded.
    pub async fn wait_for_requests(&self, count: usize) {
        let mut answered = self.answered.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = answered.wait_for(|recorded| *recorded >= count).await;
    }
}

/// Locks `mutex`, ignoring poisoning: every critical section here leaves the
/// data consistent, and a panicking handler must not wedge the sandbox.
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
