//! The cache: short-lived values with a time to live (gallery state, dedupe marks, rate limits,
//! cached stats). In-process by default; Redis when `REDIS_URL` is set.

mod memory;
mod redis;

pub use self::memory::MemoryCache;
pub use self::redis::RedisCache;

use std::time::Duration;

/// A budget: `count` requests per `per`, all of them at once if they come at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per: Duration,
}

impl Rate {
    /// The time one request's token takes to come back.
    fn interval(self) -> Duration {
        self.per / self.count.max(1)
    }

    /// How far ahead of now a bucket's schedule may run: a full burst less one.
    fn tolerance(self) -> Duration {
        self.per.saturating_sub(self.interval())
    }
}

#[async_trait::async_trait]
pub trait Cache: Send + Sync {
    async fn get(&self, key: &str) -> anyhow::Result<Option<String>>;
    async fn set(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()>;
    /// Sets the key only if it is absent; true when this call set it (a dedupe mark).
    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool>;
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Takes one request from the token bucket `key` (`rate.count` per `rate.per`, a burst of
    /// `rate.count`): `None` when it is allowed, or how long until it would be.
    async fn take(&self, key: &str, rate: Rate) -> anyhow::Result<Option<Duration>>;
    /// Readiness: can the cache be reached now?
    async fn ping(&self) -> anyhow::Result<()>;
}
