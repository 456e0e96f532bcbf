use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use super::{Cache, Rate};

/// In-process cache; expired entries are dropped when read and swept when the map grows.
#[derive(Default)]
pub struct MemoryCache {
    entries: Mutex<HashMap<String, (String, Instant)>>,
    /// Token buckets, as the time their schedule has reached (GCRA).
    buckets: Mutex<HashMap<String, Instant>>,
}

const SWEEP_ABOVE: usize = 100_000;

impl MemoryCache {
    fn with_entries<T>(&self, f: impl FnOnce(&mut HashMap<String, (String, Instant)>) -> T) -> T {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut entries)
    }
}

fn insert(entries: &mut HashMap<String, (String, Instant)>, key: &str, value: &str, ttl: Duration) {
    let now = Instant::now();
    if entries.len() >= SWEEP_ABOVE {
        entries.retain(|_, (_, expires)| *expires > now);
    }
    entries.insert(key.to_owned(), (value.to_owned(), now + ttl));
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(self.with_entries(|entries| match entries.get(key) {
            Some((value, expires)) if *expires > Instant::now() => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }))
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()> {
        self.with_entries(|entries| insert(entries, key, value, ttl));
        Ok(())
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool> {
        Ok(self.with_entries(|entries| {
            let live = entries.get(key).is_some_and(|(_, expires)| *expires > Instant::now());
            if !live {
                insert(entries, key, value, ttl);
            }
            !live
        }))
    }

    async fn take(&self, key: &str, rate: Rate) -> anyhow::Result<Option<Duration>> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() >= SWEEP_ABOVE {
            buckets.retain(|_, reached| *reached > now);
        }
        let reached = buckets.get(key).copied().unwrap_or(now).max(now);
        let ahead = reached - now;
        if ahead > rate.tolerance() {
            return Ok(Some(ahead - rate.tolerance()));
        }
        buckets.insert(key.to_owned(), reached + rate.interval());
        Ok(None)
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        self.with_entries(|entries| entries.remove(key));
        Ok(())
    }

    async fn ping(&self) -> anyhow::Result<()> {
        Ok(())
    }
}
