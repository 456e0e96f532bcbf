//! The SQL of the ledger. Every write that may contend starts with an UPDATE, so the row lock
//! (PostgreSQL) or the write lock (SQLite) is taken by the first statement of the transaction.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::domain::paging::Seek;

use super::model::{EntryKind, LedgerEntry};
use crate::adapters::db::{entity::ledger_entries, seek_by_id, statement};
use crate::domain::{Result, time::Micros};

/// Adds `amount` to the balance unless that would take it below zero; the new balance, or None.
pub async fn add_to_balance(db: &impl ConnectionTrait, user_id: i64, amount: i64, now: Micros) -> Result<Option<i64>> {
    let sql = "UPDATE users SET balance = balance + $1, updated_at = $2 \
               WHERE id = $3 AND balance + $1 >= 0 RETURNING balance";
    let row = db.query_one_raw(statement(db, sql, [amount.into(), now.into(), user_id.into()])).await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?)
}

pub struct NewEntry<'a> {
    pub user_id: i64,
    pub kind: EntryKind,
    pub amount: i64,
    pub balance_after: i64,
    pub reason: &'a str,
    pub key: &'a str,
    pub reservation_id: Option<i64>,
    pub now: Micros,
}

/// Inserts the row; None when the user already has an entry with this idempotency key.
pub async fn insert_entry(db: &impl ConnectionTrait, e: NewEntry<'_>) -> Result<Option<LedgerEntry>> {
    let sql = "INSERT INTO ledger_entries \
               (user_id, kind, amount, balance_after, reason, idempotency_key, reservation_id, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
               ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id";
    let values = [
        e.user_id.into(),
        e.kind.as_str().into(),
        e.amount.into(),
        e.balance_after.into(),
        e.reason.into(),
        e.key.into(),
        e.reservation_id.into(),
        e.now.into(),
    ];
    let Some(row) = db.query_one_raw(statement(db, sql, values)).await? else { return Ok(None) };
    Ok(Some(LedgerEntry {
        id: row.try_get_by_index(0)?,
        user_id: e.user_id,
        kind: e.kind,
        amount: e.amount,
        balance_after: e.balance_after,
        reason: e.reason.to_owned(),
        idempotency_key: e.key.to_owned(),
        created_at: e.now,
    }))
}

pub async fn find_by_key(
    db: &impl ConnectionTrait,
    user_id: i64,
    key: &str,
) -> Result<Option<(LedgerEntry, Option<i64>)>> {
    let row = ledger_entries::Entity::find()
        .filter(ledger_entries::Column::UserId.eq(user_id))
        .filter(ledger_entries::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?;
    row.map(|m| {
        let reservation = m.reservation_id;
        Ok((to_entry(m)?, reservation))
    })
    .transpose()
}

pub async fn find(db: &impl ConnectionTrait, user_id: i64, id: i64) -> Result<Option<LedgerEntry>> {
    let row = ledger_entries::Entity::find_by_id(id).filter(ledger_entries::Column::UserId.eq(user_id)).one(db).await?;
    row.map(to_entry).transpose()
}

/// Ledger rows by id, whoever's they are (the caller checks).
pub async fn find_many(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<LedgerEntry>> {
    let rows =
        ledger_entries::Entity::find().filter(ledger_entries::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    rows.into_iter().map(to_entry).collect()
}

pub async fn balance(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<i64>> {
    let row = db.query_one_raw(statement(db, "SELECT balance FROM users WHERE id = $1", [user_id.into()])).await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?)
}

/// The newest entries first, strictly older than `before_id` when given.
/// The user's ledger rows from a cursor (an id), newest first or, towards newer ones, oldest.
pub async fn page(db: &impl ConnectionTrait, user_id: i64, seek: Seek<i64>) -> Result<Vec<LedgerEntry>> {
    let query = ledger_entries::Entity::find().filter(ledger_entries::Column::UserId.eq(user_id));
    let rows = seek_by_id(query, ledger_entries::Column::Id, seek).all(db).await?;
    rows.into_iter().map(to_entry).collect()
}

pub async fn count(db: &impl ConnectionTrait, user_id: i64) -> Result<u64> {
    Ok(ledger_entries::Entity::find().filter(ledger_entries::Column::UserId.eq(user_id)).count(db).await?)
}

pub async fn insert_reservation(
    db: &impl ConnectionTrait,
    user_id: i64,
    amount: i64,
    purpose: &str,
    now: Micros,
) -> Result<i64> {
    let sql = "INSERT INTO credit_reservations (user_id, amount, state, purpose, created_at) \
               VALUES ($1, $2, 'HELD', $3, $4) RETURNING id";
    let row = db.query_one_raw(statement(db, sql, [user_id.into(), amount.into(), purpose.into(), now.into()])).await?;
    let row = row.ok_or_else(|| crate::domain::Error::internal("INSERT … RETURNING gave no row"))?;
    Ok(row.try_get_by_index(0)?)
}

/// Moves a reservation out of `HELD`; returns (user, amount) when this call did it.
pub async fn settle_reservation(
    db: &impl ConnectionTrait,
    id: i64,
    state: &str,
    now: Micros,
) -> Result<Option<(i64, i64)>> {
    let sql = "UPDATE credit_reservations SET state = $1, settled_at = $2 \
               WHERE id = $3 AND state = 'HELD' RETURNING user_id, amount";
    let row = db.query_one_raw(statement(db, sql, [state.into(), now.into(), id.into()])).await?;
    Ok(row.map(|r| Ok::<_, sea_orm::DbErr>((r.try_get_by_index(0)?, r.try_get_by_index(1)?))).transpose()?)
}

fn to_entry(m: ledger_entries::Model) -> Result<LedgerEntry> {
    Ok(LedgerEntry {
        id: m.id,
        user_id: m.user_id,
        kind: EntryKind::parse(&m.kind)?,
        amount: m.amount,
        balance_after: m.balance_after,
        reason: m.reason,
        idempotency_key: m.idempotency_key,
        created_at: m.created_at,
    })
}
