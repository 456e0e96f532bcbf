//! The SQL of Stars payments and the offers behind their invoices.

use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::model::{Offer, Payment, RefundStatus, StarsPayment};
use crate::adapters::db::statement;
use crate::domain::{Error, Result, time::Micros};

pub async fn insert_invoice(
    db: &impl ConnectionTrait,
    payload: &str,
    user_id: i64,
    offer: &Offer,
    now: Micros,
) -> Result<()> {
    let sql = "INSERT INTO star_invoices (payload, user_id, package_id, stars, credits, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
    let values: [Value; 6] = [
        payload.into(),
        user_id.into(),
        offer.package_id.clone().into(),
        offer.stars.into(),
        offer.credits.into(),
        now.into(),
    ];
    db.execute_raw(statement(db, sql, values)).await?;
    Ok(())
}

/// The offer an invoice was sent with.
pub async fn invoice_offer(db: &impl ConnectionTrait, payload: &str) -> Result<Option<Offer>> {
    let sql = "SELECT package_id, stars, credits FROM star_invoices WHERE payload = $1";
    let row = db.query_one_raw(statement(db, sql, [payload.into()])).await?;
    row.map(|r| {
        Ok(Offer { package_id: r.try_get_by_index(0)?, stars: r.try_get_by_index(1)?, credits: r.try_get_by_index(2)? })
    })
    .transpose()
}

/// Records a payment; None when its charge id is recorded already.
pub async fn insert_payment(
    db: &impl ConnectionTrait,
    user_id: i64,
    payment: &StarsPayment,
    offer: &Offer,
    now: Micros,
) -> Result<Option<i64>> {
    let sql = "INSERT INTO payments (user_id, provider, telegram_payment_charge_id, provider_payment_charge_id, \
               package_id, currency, total_amount, credits, invoice_payload, created_at) \
               VALUES ($1, 'telegram_stars', $2, $3, $4, $5, $6, $7, $8, $9) \
               ON CONFLICT (telegram_payment_charge_id) DO NOTHING RETURNING id";
    let values: [Value; 9] = [
        user_id.into(),
        payment.telegram_payment_charge_id.trim().into(),
        payment.provider_payment_charge_id.clone().into(),
        offer.package_id.clone().into(),
        payment.currency.clone().into(),
        payment.total_amount.into(),
        offer.credits.into(),
        payment.invoice_payload.clone().into(),
        now.into(),
    ];
    let row = db.query_one_raw(statement(db, sql, values)).await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?)
}

pub async fn link_ledger_entry(db: &impl ConnectionTrait, payment_id: i64, entry_id: i64) -> Result<()> {
    let sql = "UPDATE payments SET ledger_entry_id = $1 WHERE id = $2";
    db.execute_raw(statement(db, sql, [entry_id.into(), payment_id.into()])).await?;
    Ok(())
}

/// Who paid a charge, and the ledger entry that credited it.
pub async fn recorded(db: &impl ConnectionTrait, charge_id: &str) -> Result<Option<(i64, Option<i64>)>> {
    let sql = "SELECT user_id, ledger_entry_id FROM payments WHERE telegram_payment_charge_id = $1";
    let row = db.query_one_raw(statement(db, sql, [charge_id.into()])).await?;
    row.map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?))).transpose()
}

const COLUMNS: &str =
    "id, user_id, telegram_payment_charge_id, total_amount, credits, created_at, refund_status, refunded_at";

fn from_row(r: &QueryResult) -> Result<Payment> {
    Ok(Payment {
        id: r.try_get_by_index(0)?,
        user_id: r.try_get_by_index(1)?,
        telegram_payment_charge_id: r.try_get_by_index(2)?,
        stars: r.try_get_by_index(3)?,
        credits: r.try_get_by_index(4)?,
        created_at: r.try_get_by_index(5)?,
        refund: r.try_get_by_index::<Option<String>>(6)?.map(|s| RefundStatus::parse(&s)).transpose()?,
        refunded_at: r.try_get_by_index(7)?,
    })
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Payment>> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE id = $1");
    db.query_one_raw(statement(db, &sql, [id.into()])).await?.as_ref().map(from_row).transpose()
}

pub async fn find_by_charge(db: &impl ConnectionTrait, charge_id: &str) -> Result<Option<Payment>> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE telegram_payment_charge_id = $1");
    db.query_one_raw(statement(db, &sql, [charge_id.into()])).await?.as_ref().map(from_row).transpose()
}

/// The user's payments, newest first, older than `before_id` when given.
pub async fn list(db: &impl ConnectionTrait, user_id: i64, before_id: Option<i64>, limit: u64) -> Result<Vec<Payment>> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3");
    let values: [Value; 3] = [user_id.into(), before_id.unwrap_or(i64::MAX).into(), (limit as i64).into()];
    db.query_all_raw(statement(db, &sql, values)).await?.iter().map(from_row).collect()
}

pub async fn count(db: &impl ConnectionTrait, user_id: i64) -> Result<u64> {
    let row =
        db.query_one_raw(statement(db, "SELECT COUNT(*) FROM payments WHERE user_id = $1", [user_id.into()])).await?;
    let row = row.ok_or_else(|| Error::internal("COUNT gave no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?.max(0) as u64)
}

/// Starts a refund of a payment not refunded yet; false if one was started before.
pub async fn request_refund(db: &impl ConnectionTrait, id: i64) -> Result<bool> {
    let sql =
        "UPDATE payments SET refund_status = 'REQUESTED', refund_error = NULL WHERE id = $1 AND refund_status IS NULL";
    Ok(db.execute_raw(statement(db, sql, [id.into()])).await?.rows_affected() == 1)
}

/// Links the ledger entry that took the credits back.
pub async fn set_refund_entry(db: &impl ConnectionTrait, id: i64, entry_id: i64) -> Result<()> {
    let sql = "UPDATE payments SET refund_ledger_entry_id = $1 WHERE id = $2";
    db.execute_raw(statement(db, sql, [entry_id.into(), id.into()])).await?;
    Ok(())
}

/// Telegram confirmed: the refund is done (once).
pub async fn refunded(db: &impl ConnectionTrait, id: i64, now: Micros) -> Result<bool> {
    let sql = "UPDATE payments SET refund_status = 'REFUNDED', refunded_at = $1 WHERE id = $2 AND refund_status = 'REQUESTED'";
    Ok(db.execute_raw(statement(db, sql, [now.into(), id.into()])).await?.rows_affected() == 1)
}

/// Telegram refused: the payment is refundable again, with why it was not.
pub async fn refund_refused(db: &impl ConnectionTrait, id: i64, error: &str) -> Result<bool> {
    let sql = "UPDATE payments SET refund_status = NULL, refund_ledger_entry_id = NULL, refund_error = $1 \
               WHERE id = $2 AND refund_status = 'REQUESTED'";
    Ok(db.execute_raw(statement(db, sql, [error.into(), id.into()])).await?.rows_affected() == 1)
}
