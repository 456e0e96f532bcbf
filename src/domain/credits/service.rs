use std::sync::Arc;

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use super::model::{BalanceChange, EntryKind, IdempotencyKey, LedgerEntry, Reservation};
use super::repository::{self as repo, NewEntry};
use crate::adapters::bus::EventBus;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::{Error, Result, events::Event, time::now_micros};

#[derive(Clone)]
pub struct CreditService {
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
}

/// Why a change inside a transaction did not happen; the caller rolls back.
pub(crate) enum NotApplied {
    /// The user already has an entry with this key: a replay.
    Duplicate,
    InsufficientCredits,
}

/// Applies a change inside the caller's transaction (balance first, then the ledger row).
pub(crate) async fn apply_in_tx(
    tx: &impl ConnectionTrait,
    user_id: i64,
    change: &BalanceChange,
    reservation_id: Option<i64>,
) -> Result<Result<LedgerEntry, NotApplied>> {
    let now = now_micros();
    let Some(balance_after) = repo::add_to_balance(tx, user_id, change.amount, now).await? else {
        return Ok(Err(NotApplied::InsufficientCredits));
    };
    let entry = NewEntry {
        user_id,
        kind: change.kind,
        amount: change.amount,
        balance_after,
        reason: &change.reason,
        key: change.key.as_str(),
        reservation_id,
        now,
    };
    Ok(repo::insert_entry(tx, entry).await?.ok_or(NotApplied::Duplicate))
}

/// Keeps a reservation's credits, inside the caller's transaction; false if already settled.
pub(crate) async fn capture_in_tx(tx: &impl ConnectionTrait, reservation_id: i64) -> Result<bool> {
    Ok(repo::settle_reservation(tx, reservation_id, "CAPTURED", now_micros()).await?.is_some())
}

/// Keeps a reservation but for the share of `blocked` out of `of` pictures, given back as one
/// `REFUND` (the pictures a safety filter blocked), inside the caller's transaction. The share
/// is rounded in the user's favour. None when nothing is given back or it was settled already.
pub(crate) async fn capture_except_in_tx(
    tx: &impl ConnectionTrait,
    reservation_id: i64,
    blocked: u8,
    of: u8,
    reason: &str,
) -> Result<Option<LedgerEntry>> {
    let Some((user_id, amount)) = repo::settle_reservation(tx, reservation_id, "CAPTURED", now_micros()).await? else {
        return Ok(None);
    };
    let share = refund_share(amount, blocked, of);
    if share == 0 {
        return Ok(None);
    }
    let change = BalanceChange {
        kind: EntryKind::Refund,
        amount: share,
        reason: reason.to_owned(),
        key: IdempotencyKey::internal(format!("refund:blocked:reservation:{reservation_id}")),
    };
    match apply_in_tx(tx, user_id, &change, Some(reservation_id)).await? {
        Ok(entry) => Ok(Some(entry)),
        Err(_) => {
            Err(Error::internal(format!("the blocked share of reservation {reservation_id} could not be refunded")))
        }
    }
}

/// `blocked / of` of `amount`, rounded up (never more than `amount`).
fn refund_share(amount: i64, blocked: u8, of: u8) -> i64 {
    let (blocked, of) = (i64::from(blocked.min(of)), i64::from(of.max(1)));
    (amount.max(0) * blocked + of - 1) / of
}

/// Releases a reservation as one `REFUND` inside the caller's transaction; None if already
/// settled. The caller announces the entry after commit.
pub(crate) async fn release_in_tx(
    tx: &impl ConnectionTrait,
    reservation_id: i64,
    reason: &str,
) -> Result<Option<LedgerEntry>> {
    let now = now_micros();
    let Some((user_id, amount)) = repo::settle_reservation(tx, reservation_id, "RELEASED", now).await? else {
        return Ok(None);
    };
    let change = BalanceChange {
        kind: EntryKind::Refund,
        amount,
        reason: reason.to_owned(),
        key: IdempotencyKey::internal(format!("refund:reservation:{reservation_id}")),
    };
    // A discount that lowered this charge waits for the next paid action again.
    crate::domain::promos::restore_discount_in_tx(tx, reservation_id).await?;
    match apply_in_tx(tx, user_id, &change, Some(reservation_id)).await? {
        Ok(entry) => Ok(Some(entry)),
        Err(_) => Err(Error::internal(format!("refund of reservation {reservation_id} could not be written"))),
    }
}

/// Reserves credits inside the caller's transaction (a `CHARGE` row linked to the reservation).
/// The first statement updates the balance, so the transaction takes its lock at once.
pub(crate) async fn reserve_in_tx(
    tx: &impl ConnectionTrait,
    user_id: i64,
    amount: i64,
    purpose: &str,
    key: &IdempotencyKey,
) -> Result<Result<(Reservation, LedgerEntry), NotApplied>> {
    let now = now_micros();
    let Some(balance_after) = repo::add_to_balance(tx, user_id, -amount, now).await? else {
        return Ok(Err(NotApplied::InsufficientCredits));
    };
    let reservation_id = repo::insert_reservation(tx, user_id, amount, purpose, now).await?;
    let entry = NewEntry {
        user_id,
        kind: EntryKind::Charge,
        amount: -amount,
        balance_after,
        reason: purpose,
        key: key.as_str(),
        reservation_id: Some(reservation_id),
        now,
    };
    Ok(match repo::insert_entry(tx, entry).await? {
        Some(entry) => Ok((Reservation { id: reservation_id, user_id, amount }, entry)),
        None => Err(NotApplied::Duplicate),
    })
}

impl CreditService {
    pub fn new(db: DatabaseConnection, bus: Arc<dyn EventBus>) -> Self {
        CreditService { db, bus }
    }

    /// Applies a change once per idempotency key: a replay returns the first entry unchanged.
    pub async fn apply(&self, user_id: i64, change: BalanceChange) -> Result<LedgerEntry> {
        if change.amount == 0 {
            return Err(Error::invalid("amount must not be zero"));
        }
        if let Some((existing, _)) = repo::find_by_key(&self.db, user_id, change.key.as_str()).await? {
            return Ok(existing);
        }
        let tx = self.db.begin().await?;
        match apply_in_tx(&tx, user_id, &change, None).await? {
            Ok(entry) => {
                tx.commit().await?;
                self.announce(&entry).await;
                Ok(entry)
            }
            Err(not_applied) => {
                tx.rollback().await?;
                self.explain(user_id, change.key.as_str(), change.amount, not_applied).await.map(|(e, _)| e)
            }
        }
    }

    /// Sets `amount` credits aside for a paid action (a visible `CHARGE`). The same key returns
    /// the same reservation and charges once.
    pub async fn reserve(&self, user_id: i64, amount: i64, purpose: &str, key: IdempotencyKey) -> Result<Reservation> {
        if amount <= 0 {
            return Err(Error::invalid("a reservation must be positive"));
        }
        if let Some((_, Some(reservation_id))) = repo::find_by_key(&self.db, user_id, key.as_str()).await? {
            return Ok(Reservation { id: reservation_id, user_id, amount });
        }
        let tx = self.db.begin().await?;
        match reserve_in_tx(&tx, user_id, amount, purpose, &key).await? {
            Ok((reservation, entry)) => {
                tx.commit().await?;
                self.announce(&entry).await;
                Ok(reservation)
            }
            Err(not_applied) => {
                tx.rollback().await?;
                let change =
                    BalanceChange { kind: EntryKind::Charge, amount: -amount, reason: purpose.to_owned(), key };
                self.explain_reservation(user_id, &change, not_applied).await
            }
        }
    }

    /// Keeps the reserved credits for good. False when the reservation was already settled.
    pub async fn capture(&self, reservation_id: i64) -> Result<bool> {
        capture_in_tx(&self.db, reservation_id).await
    }

    /// Gives reserved credits back as one `REFUND`, exactly once; None when already settled.
    pub async fn release(&self, reservation_id: i64, reason: &str) -> Result<Option<LedgerEntry>> {
        let tx = self.db.begin().await?;
        let refund = release_in_tx(&tx, reservation_id, reason).await?;
        tx.commit().await?;
        if let Some(entry) = &refund {
            self.announce(entry).await;
        }
        Ok(refund)
    }

    pub async fn balance(&self, user_id: i64) -> Result<i64> {
        repo::balance(&self.db, user_id).await?.ok_or(Error::NotFound("user"))
    }

    /// A page of the ledger, newest first: entries older than `before_id`, and whether more follow.
    pub async fn transactions(&self, user_id: i64, request: PageRequest<i64>) -> Result<Page<LedgerEntry>> {
        Ok(request.page(repo::page(&self.db, user_id, request.seek()).await?))
    }

    /// One of the user's own ledger rows.
    pub async fn entry(&self, user_id: i64, id: i64) -> Result<LedgerEntry> {
        repo::find(&self.db, user_id, id).await?.ok_or(Error::NotFound("transaction"))
    }

    /// Ledger rows by id, for a list that shows one per item (the caller checks the owner).
    pub async fn entries(&self, ids: &[i64]) -> Result<Vec<LedgerEntry>> {
        repo::find_many(&self.db, ids).await
    }

    /// The user's ledger row with this idempotency key, if there is one.
    pub async fn entry_by_key(&self, user_id: i64, key: &str) -> Result<Option<LedgerEntry>> {
        Ok(repo::find_by_key(&self.db, user_id, key).await?.map(|(entry, _)| entry))
    }

    pub async fn transaction_count(&self, user_id: i64) -> Result<u64> {
        repo::count(&self.db, user_id).await
    }

    /// Publishes the new balance; called after commit so subscribers never see a rolled-back one.
    pub(crate) async fn announce(&self, entry: &LedgerEntry) {
        let event = Event::BalanceChanged { user_id: entry.user_id, balance: entry.balance_after, entry_id: entry.id };
        if let Err(error) = self.bus.publish(&event).await {
            tracing::warn!(%error, user_id = entry.user_id, "could not publish balance change");
        }
    }

    /// After a rollback: a replay answers with the first entry, otherwise the real reason.
    pub(crate) async fn explain(
        &self,
        user_id: i64,
        key: &str,
        amount: i64,
        why: NotApplied,
    ) -> Result<(LedgerEntry, Option<i64>)> {
        if let Some(existing) = repo::find_by_key(&self.db, user_id, key).await? {
            return Ok(existing);
        }
        match why {
            NotApplied::InsufficientCredits => Err(Error::InsufficientCredits {
                needed: -amount,
                available: repo::balance(&self.db, user_id).await?.ok_or(Error::NotFound("user"))?,
            }),
            NotApplied::Duplicate => Err(Error::internal("ledger key conflict vanished")),
        }
    }

    async fn explain_reservation(&self, user_id: i64, change: &BalanceChange, why: NotApplied) -> Result<Reservation> {
        let (entry, reservation_id) = self.explain(user_id, change.key.as_str(), change.amount, why).await?;
        let id = reservation_id.ok_or_else(|| {
            Error::invalid(format!("idempotency key {:?} was used for another change", entry.idempotency_key))
        })?;
        Ok(Reservation { id, user_id, amount: -change.amount })
    }
}

#[cfg(test)]
mod tests {
    use super::refund_share;

    #[test]
    fn a_blocked_share_is_rounded_in_the_users_favour() {
        assert_eq!(refund_share(20, 1, 4), 5);
        assert_eq!(refund_share(7, 1, 2), 4);
        assert_eq!(refund_share(7, 2, 2), 7);
        assert_eq!(refund_share(7, 0, 2), 0);
        assert_eq!(refund_share(7, 5, 2), 7, "never more than was paid");
    }
}
