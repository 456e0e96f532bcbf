//! How long an active generation will still take. Each model's typical duration (creation to
//! completion) is the median of its last [`WINDOW`] completed generations, read from the
//! database (so every instance, and a restarted one, knows it) and kept per instance for
//! [`REFRESH`], with this instance's own completions added as they happen. Until a model has
//! history, the settings' typical duration stands in.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::DatabaseConnection;

use super::repository as repo;
use crate::domain::generations::Generation;
use crate::domain::{Result, time::Micros};

/// The completed generations of a model the median is taken over.
pub const WINDOW: usize = 20;
/// How long a model's window is trusted before it is read again.
const REFRESH: Duration = Duration::from_secs(60);
/// The least an active job is said to need: it is not done yet.
const AT_LEAST_MICROS: i64 = 1_000_000;

/// An estimate: seconds from now, and when that is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Eta {
    pub seconds: i64,
    pub at: Micros,
}

pub struct DurationBook {
    db: DatabaseConnection,
    fallback: Duration,
    windows: Mutex<HashMap<String, Window>>,
}

struct Window {
    /// Durations in microseconds, newest last.
    samples: VecDeque<i64>,
    read_at: Instant,
}

impl DurationBook {
    pub fn new(db: DatabaseConnection, fallback: Duration) -> Self {
        DurationBook { db, fallback, windows: Mutex::default() }
    }

    /// A generation of `model` finished here in `micros`: later estimates know it at once.
    pub fn record(&self, model: &str, micros: i64) {
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(window) = windows.get_mut(model) {
            window.samples.push_back(micros.max(0));
            while window.samples.len() > WINDOW {
                window.samples.pop_front();
            }
        }
    }

    /// The model's typical duration in microseconds.
    pub async fn typical(&self, model: &str) -> Result<i64> {
        let cached = {
            let windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            windows.get(model).filter(|w| w.read_at.elapsed() < REFRESH).map(|w| median(&w.samples))
        };
        let median = match cached {
            Some(median) => median,
            None => {
                let samples: VecDeque<i64> = repo::recent_durations(&self.db, model, WINDOW as u64).await?.into();
                let median = median(&samples);
                let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                windows.insert(model.to_owned(), Window { samples, read_at: Instant::now() });
                median
            }
        };
        Ok(median.unwrap_or(self.fallback.as_micros() as i64))
    }

    /// The ETA of an active generation; None once it ended.
    pub async fn estimate(&self, generation: &Generation, now: Micros) -> Result<Option<Eta>> {
        if generation.status.is_terminal() {
            return Ok(None);
        }
        let typical = self.typical(&generation.model).await?;
        let micros = remaining(typical, now - generation.created_at, generation.queue_position);
        Ok(Some(Eta { seconds: (micros + 999_999) / 1_000_000, at: now + micros }))
    }
}

fn median(samples: &VecDeque<i64>) -> Option<i64> {
    let mut sorted: Vec<i64> = samples.iter().copied().collect();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied()
}

/// What is left of a typical duration after `elapsed`, plus half a typical duration for each
/// request the provider says is ahead in its queue (it runs several side by side, so a request
/// ahead delays ours by less than a whole run; half is our guess until the metrics say better).
fn remaining(typical: i64, elapsed: i64, queue_position: Option<u32>) -> i64 {
    let ahead = i64::from(queue_position.unwrap_or(0)) * typical / 2;
    (typical - elapsed.max(0)).max(AT_LEAST_MICROS) + ahead
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remaining_time_shrinks_with_time_and_grows_with_the_queue() {
        let typical = 10_000_000;
        assert_eq!(remaining(typical, 0, None), 10_000_000);
        assert_eq!(remaining(typical, 4_000_000, None), 6_000_000);
        assert_eq!(remaining(typical, 30_000_000, None), AT_LEAST_MICROS, "late, but not done");
        assert_eq!(remaining(typical, 0, Some(2)), 20_000_000);
    }

    #[test]
    fn the_typical_duration_is_the_median() {
        assert_eq!(median(&VecDeque::from([5, 1, 100])), Some(5));
        assert_eq!(median(&VecDeque::new()), None);
    }
}
