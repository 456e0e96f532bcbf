//! The SQL of referrals: the code and the referrer live on the user's row.

use sea_orm::ConnectionTrait;

use crate::adapters::db::statement;
use crate::domain::{Result, time::Micros};

/// The user's code, if one was given.
pub async fn code_of(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<String>> {
    let sql = "SELECT referral_code FROM users WHERE id = $1";
    let row = db.query_one_raw(statement(db, sql, [user_id.into()])).await?;
    Ok(row.map(|r| r.try_get_by_index::<Option<String>>(0)).transpose()?.flatten())
}

/// Gives the user `code` unless they have one; false when they had one (or the code is taken).
pub async fn set_code(db: &impl ConnectionTrait, user_id: i64, code: &str) -> Result<bool> {
    let sql = "UPDATE users SET referral_code = $1 WHERE id = $2 AND referral_code IS NULL \
               AND NOT EXISTS (SELECT 1 FROM users WHERE referral_code = $1)";
    Ok(db.execute_raw(statement(db, sql, [code.into(), user_id.into()])).await?.rows_affected() == 1)
}

/// Attributes a user to the owner of `code`, unless they are attributed already or own it.
pub async fn attribute(db: &impl ConnectionTrait, user_id: i64, code: &str) -> Result<bool> {
    let sql = "UPDATE users SET referred_by = (SELECT id FROM users WHERE referral_code = $1) \
               WHERE id = $2 AND referred_by IS NULL \
               AND EXISTS (SELECT 1 FROM users WHERE referral_code = $1 AND id <> $2)";
    Ok(db.execute_raw(statement(db, sql, [code.into(), user_id.into()])).await?.rows_affected() == 1)
}

/// Marks the referee's reward paid, once; their referrer when this call did it.
pub async fn mark_rewarded(db: &impl ConnectionTrait, referee_id: i64, now: Micros) -> Result<Option<i64>> {
    let sql = "UPDATE users SET referral_rewarded_at = $1 \
               WHERE id = $2 AND referred_by IS NOT NULL AND referral_rewarded_at IS NULL RETURNING referred_by";
    let row = db.query_one_raw(statement(db, sql, [now.into(), referee_id.into()])).await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?)
}

/// (referees, rewarded referees, credits earned) of a referrer.
pub async fn stats(db: &impl ConnectionTrait, user_id: i64) -> Result<(i64, i64, i64)> {
    let sql = "SELECT (SELECT COUNT(*) FROM users WHERE referred_by = $1), \
               (SELECT COUNT(*) FROM users WHERE referred_by = $1 AND referral_rewarded_at IS NOT NULL), \
               (SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries \
               WHERE user_id = $1 AND kind = 'REFERRAL')";
    let row = db.query_one_raw(statement(db, sql, [user_id.into()])).await?;
    let row = row.ok_or_else(|| crate::domain::Error::internal("an aggregate gave no row"))?;
    Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?, row.try_get_by_index(2)?))
}
