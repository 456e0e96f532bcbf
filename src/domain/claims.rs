//! Claims on durable work (jobs, Telegram updates, notifications): a row is held under a lease
//! by one claim token, `<instance>-<n>`. Only the holder of a token may record a step of the
//! work or release it, so a step that outlived its lease can never undo another holder's work;
//! an instance that shuts down releases every claim with its prefix at once.

use std::sync::atomic::{AtomicU64, Ordering};

/// Hands out the claim tokens of this instance.
#[derive(Debug)]
pub struct Claimant {
    instance: String,
    next: AtomicU64,
}

impl Claimant {
    pub fn new(instance: &str) -> Self {
        Claimant { instance: instance.to_owned(), next: AtomicU64::new(1) }
    }

    /// A token for one claim.
    pub fn token(&self) -> String {
        format!("{}-{}", self.instance, self.next.fetch_add(1, Ordering::Relaxed))
    }

    /// `LIKE` pattern matching every token of this instance (instance ids are hex: no wildcards).
    pub fn pattern(&self) -> String {
        format!("{}-%", self.instance)
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }
}

/// Backoff before retry number `attempt` (1-based): `base` doubling, at most `max`.
pub fn backoff(base: std::time::Duration, attempt: u32, max: std::time::Duration) -> std::time::Duration {
    base.saturating_mul(1u32 << attempt.saturating_sub(1).min(16)).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn tokens_are_unique_and_match_the_instance_pattern() {
        let claimant = Claimant::new("ab12");
        let (a, b) = (claimant.token(), claimant.token());
        assert_ne!(a, b);
        assert!(a.starts_with("ab12-") && claimant.pattern() == "ab12-%");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let s = Duration::from_secs;
        assert_eq!(backoff(s(1), 1, s(60)), s(1));
        assert_eq!(backoff(s(1), 4, s(60)), s(8));
        assert_eq!(backoff(s(1), 30, s(60)), s(60));
    }
}
