//! How many sockets each user holds open on this instance, so that one user cannot hold them all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::domain::auth::Principal;

#[derive(Default)]
pub struct SocketCounts(Mutex<HashMap<Principal, usize>>);

/// One open socket of a user; its place is given back when it is dropped.
pub struct SocketSlot {
    counts: Arc<SocketCounts>,
    principal: Principal,
}

impl SocketCounts {
    /// A place for one more socket of `principal`, if it holds fewer than `max`.
    pub fn take(self: &Arc<Self>, principal: Principal, max: usize) -> Option<SocketSlot> {
        let mut counts = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = counts.entry(principal).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(SocketSlot { counts: self.clone(), principal })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = counts.get_mut(&self.principal) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.principal);
            }
        }
    }
}
