use std::time::Duration;

use redis::AsyncCommands;

use super::{Cache, Rate};

/// GCRA on Redis's clock, so every instance shares one bucket: the key holds the time (µs) the
/// bucket's schedule has reached. Returns 0 when the request is allowed, else µs to wait.
const TAKE: &str = r"
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local reached = tonumber(redis.call('GET', KEYS[1]) or now)
if reached < now then reached = now end
if reached - now > tolerance then return reached - now - tolerance end
local next = reached + interval
redis.call('SET', KEYS[1], string.format('%d', next), 'PX', math.floor((next - now) / 1000) + 1)
return 0
";

/// Redis cache; keys are prefixed so that one Redis can serve other programs too.
pub struct RedisCache {
    conn: redis::aio::ConnectionManager,
    prefix: String,
}

impl RedisCache {
    pub fn new(conn: redis::aio::ConnectionManager, prefix: &str) -> Self {
        RedisCache { conn, prefix: format!("{prefix}:") }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }
}

fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(self.conn.clone().get(self.key(key)).await?)
    }

    async fn set(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<()> {
        let options = redis::SetOptions::default().with_expiration(redis::SetExpiry::PX(ttl_millis(ttl)));
        let _: () = self.conn.clone().set_options(self.key(key), value, options).await?;
        Ok(())
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Duration) -> anyhow::Result<bool> {
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(ttl_millis(ttl)));
        let set: Option<String> = self.conn.clone().set_options(self.key(key), value, options).await?;
        Ok(set.is_some())
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let _: i64 = self.conn.clone().del(self.key(key)).await?;
        Ok(())
    }

    async fn take(&self, key: &str, rate: Rate) -> anyhow::Result<Option<Duration>> {
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| redis::Script::new(TAKE));
        let wait: u64 = SCRIPT
            .key(self.key(key))
            .arg(micros(rate.interval()))
            .arg(micros(rate.tolerance()))
            .invoke_async(&mut self.conn.clone())
            .await?;
        Ok((wait > 0).then(|| Duration::from_micros(wait)))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let _: String = redis::cmd("PING").query_async(&mut self.conn.clone()).await?;
        Ok(())
    }
}
