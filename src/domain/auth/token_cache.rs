//! Resolved bearer tokens, kept in the cache for a few minutes so that a request costs no
//! database round trip to find out who is asking. The cache is Redis when `REDIS_URL` is set, so
//! every instance reads the same entries: revoking a token writes a tombstone that outlives any
//! entry, and entries are only ever added where absent, so a request on another instance that
//! races the revocation cannot put the token back. The next request anywhere is refused.

use std::{sync::Arc, time::Duration};

use crate::adapters::cache::Cache;

const TTL: Duration = Duration::from_secs(300);
const REVOKED: &str = "revoked";

/// What the cache knows of a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Cached {
    User(i64),
    Revoked,
    Unknown,
}

pub struct TokenCache {
    cache: Arc<dyn Cache>,
}

impl TokenCache {
    pub fn new(cache: Arc<dyn Cache>) -> Self {
        TokenCache { cache }
    }

    /// What is remembered under a key (a token hash, or a Telegram account). A cache that
    /// cannot be reached knows nothing: the caller asks the database.
    pub async fn lookup(&self, key: &str) -> Cached {
        match self.cache.get(&cache_key(key)).await {
            Ok(Some(value)) if value == REVOKED => Cached::Revoked,
            Ok(Some(value)) => value.parse().map_or(Cached::Unknown, Cached::User),
            Ok(None) => Cached::Unknown,
            Err(error) => {
                tracing::warn!(error = format!("{error:#}"), "the token cache cannot be read; asking the database");
                Cached::Unknown
            }
        }
    }

    /// Remembers for `valid_for` at most (a token about to expire is not kept past its end),
    /// unless the key is already there (a tombstone among others).
    pub async fn remember(&self, key: &str, user_id: i64, valid_for: Duration) {
        let ttl = valid_for.min(TTL);
        if let Err(error) = self.cache.set_if_absent(&cache_key(key), &user_id.to_string(), ttl).await {
            tracing::warn!(error = format!("{error:#}"), "could not remember a resolved token");
        }
    }

    /// Refuses the key everywhere for longer than any entry lives.
    pub async fn revoke(&self, key: &str) {
        if let Err(error) = self.cache.set(&cache_key(key), REVOKED, TTL).await {
            // The database refuses it already; an entry cached before this lives out its TTL.
            tracing::error!(error = format!("{error:#}"), "could not write a revoked token's tombstone");
        }
    }
}

fn cache_key(key: &str) -> String {
    format!("auth:{key}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::cache::MemoryCache;

    #[tokio::test]
    async fn a_tombstone_is_not_overwritten_by_a_racing_lookup() {
        let tokens = TokenCache::new(Arc::new(MemoryCache::default()));
        assert_eq!(tokens.lookup("t").await, Cached::Unknown);
        tokens.remember("t", 7, Duration::from_secs(60)).await;
        assert_eq!(tokens.lookup("t").await, Cached::User(7));
        tokens.revoke("t").await;
        // A request that read the database before the revocation comes back late.
        tokens.remember("t", 7, Duration::from_secs(60)).await;
        assert_eq!(tokens.lookup("t").await, Cached::Revoked);
    }
}
