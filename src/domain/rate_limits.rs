//! Rate limits: token buckets per user and per client address, in the cache (Redis when
//! configured, so every instance shares them). Separate budgets for reads, writes, paid actions
//! and sign-in attempts. Over a budget the action is refused with how long to wait, before it
//! changes anything. A cache that cannot be reached lets requests through (and says so in the
//! log): an outage of Redis must not take the studio down with it.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use super::{Error, Result};
use crate::adapters::cache::{Cache, Rate};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A query.
    Read,
    /// A mutation.
    Write,
    /// What costs credits: a generation, a training, an upload of photos.
    Paid,
    /// An attempt to sign in.
    SignIn,
}

impl Action {
    fn key(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Write => "write",
            Action::Paid => "paid",
            Action::SignIn => "sign_in",
        }
    }
}

/// Who a budget belongs to.
#[derive(Clone, Copy, Debug)]
pub enum Caller<'a> {
    User(i64),
    /// A bearer token not yet resolved to its user (hashed, never stored as it is).
    Token(&'a str),
    Address(IpAddr),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub read: Rate,
    pub write: Rate,
    pub paid: Rate,
    pub sign_in: Rate,
    /// An address may carry several users (a household, an office): its budgets are this many
    /// times a user's.
    pub address_factor: u32,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        let per_minute = |count| Rate { count, per: Duration::from_secs(60) };
        RateLimitSettings {
            read: per_minute(600),
            write: per_minute(120),
            paid: per_minute(20),
            sign_in: per_minute(10),
            address_factor: 5,
        }
    }
}

impl RateLimitSettings {
    /// `read=600/60,write=120/60,paid=20/60,sign_in=10/60` (requests / seconds); names left
    /// out keep their defaults.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let mut settings = RateLimitSettings::default();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, budget) =
                item.split_once('=').ok_or_else(|| format!("{item:?}: expected name=count/seconds"))?;
            let (count, seconds) = budget.split_once('/').ok_or_else(|| format!("{item:?}: expected count/seconds"))?;
            let count: u32 = count.trim().parse().map_err(|_| format!("{item:?}: the count is not a number"))?;
            let seconds: u64 = seconds.trim().parse().map_err(|_| format!("{item:?}: the seconds are not a number"))?;
            if count == 0 || seconds == 0 {
                return Err(format!("{item:?}: count and seconds must be at least 1"));
            }
            let rate = Rate { count, per: Duration::from_secs(seconds) };
            match name.trim() {
                "read" => settings.read = rate,
                "write" => settings.write = rate,
                "paid" => settings.paid = rate,
                "sign_in" => settings.sign_in = rate,
                other => return Err(format!("{other:?} is not a budget (read, write, paid, sign_in)")),
            }
        }
        Ok(settings)
    }

    fn rate(&self, action: Action, caller: Caller<'_>) -> Rate {
        let rate = match action {
            Action::Read => self.read,
            Action::Write => self.write,
            Action::Paid => self.paid,
            Action::SignIn => self.sign_in,
        };
        match caller {
            Caller::Address(_) => Rate { count: rate.count.saturating_mul(self.address_factor.max(1)), per: rate.per },
            Caller::User(_) | Caller::Token(_) => rate,
        }
    }
}

#[derive(Clone)]
pub struct RateLimiter {
    cache: Arc<dyn Cache>,
    settings: RateLimitSettings,
}

impl RateLimiter {
    pub fn new(cache: Arc<dyn Cache>, settings: RateLimitSettings) -> Self {
        RateLimiter { cache, settings }
    }

    /// Takes one `action` from the caller's budget; `RATE_LIMITED` with the wait when it is spent.
    pub async fn check(&self, caller: Caller<'_>, action: Action) -> Result<()> {
        let key = match caller {
            Caller::User(id) => format!("rl:{}:u:{id}", action.key()),
            Caller::Token(token) => format!("rl:{}:t:{}", action.key(), token_key(token)),
            Caller::Address(address) => format!("rl:{}:a:{address}", action.key()),
        };
        match self.cache.take(&key, self.settings.rate(action, caller)).await {
            Ok(None) => Ok(()),
            // Whole seconds, rounded up: "retry after 0 s" would be a lie.
            Ok(Some(wait)) => {
                Err(Error::RateLimited { retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0) })
            }
            Err(error) => {
                tracing::warn!(%error, "the rate-limit store cannot be reached; letting the request through");
                Ok(())
            }
        }
    }
}

/// A token's bucket name: a hash, so that the cache never holds a usable token.
fn token_key(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(token.as_bytes())[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_and_refuse_nonsense() {
        let settings = RateLimitSettings::parse("paid=3/10, sign_in=1/1").expect("parses");
        assert_eq!(settings.paid, Rate { count: 3, per: Duration::from_secs(10) });
        assert_eq!(settings.read, RateLimitSettings::default().read);
        for bad in ["paid=3", "paid=0/10", "paid=x/10", "spend=1/1", "paid"] {
            assert!(RateLimitSettings::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
