//! Outgoing message limits, as Telegram asks: about one message per second per chat (short
//! bursts allowed) and 30 per second overall. A send first reserves its chat's next slot, waits
//! for it, then reserves the next overall slot (a generic cell rate algorithm for each), so a
//! reply goes at once when there is room — no polling tick — and a chat that must wait does not
//! hold up the others.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// How many messages may go back to back before the rate applies.
const CHAT_BURST: u32 = 3;
const GLOBAL_BURST: u32 = 30;
/// Forget chats quiet for this long once the table is this big.
const PRUNE_AT: usize = 10_000;

pub struct Limiter {
    chat_interval: Duration,
    global_interval: Duration,
    state: Mutex<State>,
}

struct State {
    /// Theoretical arrival time of the next message, overall and per chat.
    global: Instant,
    chats: HashMap<i64, Instant>,
}

impl Limiter {
    pub fn new(per_chat_per_sec: u32, overall_per_sec: u32) -> Self {
        let now = Instant::now();
        Limiter {
            chat_interval: Duration::from_secs(1) / per_chat_per_sec.max(1),
            global_interval: Duration::from_secs(1) / overall_per_sec.max(1),
            state: Mutex::new(State { global: now, chats: HashMap::new() }),
        }
    }

    /// Waits until a message may go to this chat.
    pub async fn wait(&self, chat: i64) {
        tokio::time::sleep_until(self.reserve_chat(chat, Instant::now()).into()).await;
        tokio::time::sleep_until(self.reserve_overall(Instant::now()).into()).await;
    }

    fn reserve_chat(&self, chat: i64, now: Instant) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.chats.len() >= PRUNE_AT {
            state.chats.retain(|_, tat| *tat > now);
        }
        let tat = state.chats.entry(chat).or_insert(now);
        gcra(tat, now, self.chat_interval, CHAT_BURST)
    }

    fn reserve_overall(&self, now: Instant) -> Instant {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        gcra(&mut state.global, now, self.global_interval, GLOBAL_BURST)
    }
}

/// The earliest slot at or after `now` for one more message, given the theoretical arrival time
/// `tat` (moved on by one interval).
fn gcra(tat: &mut Instant, now: Instant, interval: Duration, burst: u32) -> Instant {
    let current = (*tat).max(now);
    let slot = current.checked_sub(interval * (burst - 1)).unwrap_or(now).max(now);
    *tat = current + interval;
    slot
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_gets_a_short_burst_then_one_per_second() {
        let limiter = Limiter::new(1, 30);
        let now = Instant::now();
        let slots: Vec<Duration> = (0..5).map(|_| limiter.reserve_chat(7, now) - now).collect();
        assert_eq!(&slots[..3], &[Duration::ZERO; 3]);
        assert_eq!(slots[3], Duration::from_secs(1));
        assert_eq!(slots[4], Duration::from_secs(2));
        // Another chat is not held up by the first.
        assert_eq!(limiter.reserve_chat(8, now), now);
    }

    #[test]
    fn all_chats_together_keep_to_the_overall_rate() {
        let limiter = Limiter::new(1, 30);
        let now = Instant::now();
        let slots: Vec<Duration> = (0..60).map(|_| limiter.reserve_overall(now) - now).collect();
        assert!(slots[..30].iter().all(|s| s.is_zero()), "a burst of 30 goes at once");
        // Then one every 1/30 s: the 60th message leaves about a second later.
        let last = slots[59].as_secs_f64();
        assert!((0.99..=1.01).contains(&last), "{last}");
    }
}
