//! The inbox: updates a messaging channel (the Telegram bot) acknowledged, kept in the database
//! from before the acknowledgement until they are handled. An update id is stored once (a
//! redelivery is a duplicate). Updates are claimed under a lease by any instance: in order
//! within a chat — only the oldest unfinished update of a chat can be claimed, so two instances
//! never handle one chat out of order — and concurrently across chats; the checkout lane
//! (payment pre-checks, which have a deadline) is claimed without regard to chats. A failed
//! update is retried with backoff a bounded number of times, then parked with its error for the
//! operator. Handled updates are pruned after a day.

mod repository;
mod service;
mod writer;

pub use service::{InboxService, InboxSettings};

use crate::domain::{Error, Result, time::Micros};

/// Which queue an update waits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// Messages and button presses: in order within their chat.
    Chat,
    /// Payment pre-checks: answered at once, whatever the chats' backlog.
    Checkout,
}

impl Lane {
    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Chat => "CHAT",
            Lane::Checkout => "CHECKOUT",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "CHAT" => Ok(Lane::Chat),
            "CHECKOUT" => Ok(Lane::Checkout),
            other => Err(Error::internal(format!("unknown inbox lane {other:?}"))),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InboxStatus {
    Pending,
    Done,
    /// Failed every attempt; kept with its error until the operator retries it.
    Parked,
}

impl InboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InboxStatus::Pending => "PENDING",
            InboxStatus::Done => "DONE",
            InboxStatus::Parked => "PARKED",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "PENDING" => Ok(InboxStatus::Pending),
            "DONE" => Ok(InboxStatus::Done),
            "PARKED" => Ok(InboxStatus::Parked),
            other => Err(Error::internal(format!("unknown inbox status {other:?}"))),
        }
    }
}

/// An update as it arrived.
#[derive(Clone, Debug)]
pub struct NewUpdate {
    pub update_id: i64,
    /// The chat (or user) whose updates are ordered together.
    pub chat_key: i64,
    pub lane: Lane,
    /// The update as the channel sent it (JSON), handled later.
    pub payload: String,
}

/// A claimed update.
#[derive(Clone, Debug)]
pub struct ClaimedUpdate {
    pub update_id: i64,
    pub chat_key: i64,
    pub lane: Lane,
    pub payload: String,
    /// Handlings tried before this one.
    pub attempts: i32,
    pub received_at: Micros,
    pub token: String,
}

/// An update for the operator to look at.
#[derive(Clone, Debug)]
pub struct InboxEntry {
    pub update_id: i64,
    pub chat_key: i64,
    pub lane: Lane,
    pub status: InboxStatus,
    pub attempts: i32,
    pub error: Option<String>,
    pub payload: String,
    pub received_at: Micros,
}

/// What became of a failed handling.
#[derive(Debug, PartialEq, Eq)]
pub enum Disposition {
    RetryAt(Micros),
    Parked,
}
