use crate::domain::{Error, Result, time::Micros};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    TopUp,
    Charge,
    Refund,
    Bonus,
    Adjustment,
    /// Credits taken back when a Stars payment is refunded.
    PaymentRefund,
    /// Credits of a promo code, or the bonus it gave a top-up.
    Promo,
    /// The reward for a friend's first top-up.
    Referral,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::TopUp => "TOP_UP",
            EntryKind::Charge => "CHARGE",
            EntryKind::Refund => "REFUND",
            EntryKind::Bonus => "BONUS",
            EntryKind::Adjustment => "ADJUSTMENT",
            EntryKind::PaymentRefund => "PAYMENT_REFUND",
            EntryKind::Promo => "PROMO",
            EntryKind::Referral => "REFERRAL",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "TOP_UP" => EntryKind::TopUp,
            "CHARGE" => EntryKind::Charge,
            "REFUND" => EntryKind::Refund,
            "BONUS" => EntryKind::Bonus,
            "ADJUSTMENT" => EntryKind::Adjustment,
            "PAYMENT_REFUND" => EntryKind::PaymentRefund,
            "PROMO" => EntryKind::Promo,
            "REFERRAL" => EntryKind::Referral,
            other => return Err(Error::internal(format!("unknown ledger kind {other:?}"))),
        })
    }
}

/// One row of the ledger: what changed, by how much, and the balance right after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerEntry {
    pub id: i64,
    pub user_id: i64,
    pub kind: EntryKind,
    pub amount: i64,
    pub balance_after: i64,
    pub reason: String,
    pub idempotency_key: String,
    pub created_at: Micros,
}

/// A client-chosen key that makes a change happen at most once per user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self> {
        let key = raw.trim();
        if key.is_empty() || key.len() > 128 || key.chars().any(char::is_control) {
            return Err(Error::invalid("idempotencyKey must be 1-128 printable characters"));
        }
        Ok(IdempotencyKey(key.to_owned()))
    }

    /// The same key in a namespace of its own (an operator's keys never meet the server's).
    pub fn within(self, namespace: &str) -> Self {
        IdempotencyKey(format!("{namespace}:{}", self.0))
    }

    /// A key built by the server itself (e.g. `bonus:welcome`), known to be valid.
    pub(crate) fn internal(key: String) -> Self {
        IdempotencyKey(key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A change to apply to one user's balance.
#[derive(Clone, Debug)]
pub struct BalanceChange {
    pub kind: EntryKind,
    /// Positive credits in, negative credits out; never zero.
    pub amount: i64,
    pub reason: String,
    pub key: IdempotencyKey,
}

/// Credits set aside for a paid action until it succeeds (captured) or not (released).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reservation {
    pub id: i64,
    pub user_id: i64,
    pub amount: i64,
}
