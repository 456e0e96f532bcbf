//! Notifications: what a user must be told (a result, a failure and its refund, a training's
//! end, a payment credited or refunded), written in the same transaction as the change it
//! reports, so a crash can never lose it. The outbox (`courier.rs`) claims them under a lease on
//! any instance and hands them to a delivery channel, its `Courier` (the Telegram bot), which
//! delivers them step by step (a step is recorded once the channel accepted it, so a retry never
//! repeats a delivered part); then they are marked sent, or retried with backoff a bounded
//! number of times, then parked with their error.
//!
//! Only users a channel can reach get notifications (today: users with a Telegram account, when
//! the bot is configured).

mod courier;
mod repository;
mod service;

pub use courier::{Courier, Parcel, Undelivered};
pub use service::{NotificationService, NotificationSettings};

use crate::domain::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotificationKind {
    /// A generation ended (completed, failed or cancelled); the subject is the generation.
    GenerationFinished,
    /// An avatar's training ended; the subject is the avatar (the event, its training job).
    TrainingFinished,
    /// A Stars payment was credited; the subject is its ledger entry.
    PaymentCredited,
    /// A Stars payment was refunded; the subject is the payment.
    PaymentRefunded,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::GenerationFinished => "GENERATION_FINISHED",
            NotificationKind::TrainingFinished => "TRAINING_FINISHED",
            NotificationKind::PaymentCredited => "PAYMENT_CREDITED",
            NotificationKind::PaymentRefunded => "PAYMENT_REFUNDED",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "GENERATION_FINISHED" => NotificationKind::GenerationFinished,
            "TRAINING_FINISHED" => NotificationKind::TrainingFinished,
            "PAYMENT_CREDITED" => NotificationKind::PaymentCredited,
            "PAYMENT_REFUNDED" => NotificationKind::PaymentRefunded,
            other => return Err(Error::internal(format!("unknown notification kind {other:?}"))),
        })
    }
}

/// A claimed notification: what to tell whom, and how far its delivery got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notification {
    pub id: i64,
    pub user_id: i64,
    pub kind: NotificationKind,
    pub subject_id: i64,
    /// Delivery steps already accepted by the channel (0: none).
    pub step: i32,
    /// Deliveries tried before this one.
    pub attempts: i32,
    /// The claim this delivery runs under.
    pub token: String,
}
