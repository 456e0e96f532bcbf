//! Resolved bearer tokens, kept in memory for a few minutes so that a request costs no database
//! round trip to find out who is asking. Revoking a token evicts it here at once, and on every
//! other instance through the event bus (`Event::TokenRevoked`).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::service::Principal;

const TTL: Duration = Duration::from_secs(300);
const MAX_ENTRIES: usize = 100_000;

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<String, (i64, Instant)>>,
}

impl TokenCache {
    /// The user behind a token hash, if resolved recently.
    pub fn get(&self, token_hash: &str) -> Option<Principal> {
        self.user(token_hash).map(Principal::User)
    }

    /// The user id remembered under a key (a token hash, or a Telegram account).
    pub fn user(&self, key: &str) -> Option<i64> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((user, expires)) if *expires > Instant::now() => Some(*user),
            _ => None,
        }
    }

    pub fn put(&self, token_hash: &str, user_id: i64) {
        self.put_for(token_hash, user_id, TTL);
    }

    /// Remembers for `valid_for` at most (a token about to expire is not kept past its end).
    pub fn put_for(&self, token_hash: &str, user_id: i64, valid_for: Duration) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, (_, expires)| *expires > now);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(token_hash.to_owned(), (user_id, now + valid_for.min(TTL)));
    }

    pub fn evict(&self, token_hash: &str) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).remove(token_hash);
    }
}
