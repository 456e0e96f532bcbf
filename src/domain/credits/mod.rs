//! Credits: every change of a balance is a ledger row written in the same transaction as the
//! balance, keyed for idempotency; balances never go below zero (a conditional update, never
//! read-then-write); paid actions reserve, then capture or release exactly once.

mod model;
mod repository;
mod service;

pub use model::{BalanceChange, EntryKind, IdempotencyKey, LedgerEntry, Reservation};
pub use service::CreditService;
pub(crate) use service::{NotApplied, apply_in_tx, capture_except_in_tx, capture_in_tx, release_in_tx, reserve_in_tx};
