//! The SQL of promo codes. Redeeming starts with the UPDATE that takes a use of the code, so the
//! code's row lock (PostgreSQL) or the write lock (SQLite) orders racing redemptions.

use sea_orm::{ConnectionTrait, QueryResult};

use super::model::{NewPromoCode, PromoCode, PromoKind, Redemption, RedemptionState};
use crate::adapters::db::statement;
use crate::domain::{Error, Result, time::Micros};

const CODE_COLUMNS: &str =
    "id, code, kind, value, max_uses, uses_per_user, uses, valid_from, valid_until, active, created_at";
const REDEMPTION_COLUMNS: &str = "r.id, r.user_id, c.code, r.kind, r.value, r.state, r.ledger_entry_id, \
                                  r.created_at, r.consumed_at";

/// Inserts the code; None when the code exists already.
pub async fn insert_code(db: &impl ConnectionTrait, code: &NewPromoCode, now: Micros) -> Result<Option<PromoCode>> {
    let sql = format!(
        "INSERT INTO promo_codes (code, kind, value, max_uses, uses_per_user, valid_from, valid_until, active, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (code) DO NOTHING RETURNING {CODE_COLUMNS}"
    );
    let values = [
        code.code.clone().into(),
        code.kind.as_str().into(),
        code.value.into(),
        code.max_uses.into(),
        code.uses_per_user.into(),
        code.valid_from.into(),
        code.valid_until.into(),
        code.active.into(),
        now.into(),
    ];
    db.query_one_raw(statement(db, &sql, values)).await?.map(|row| to_code(&row)).transpose()
}

pub async fn find_code(db: &impl ConnectionTrait, code: &str) -> Result<Option<PromoCode>> {
    let sql = format!("SELECT {CODE_COLUMNS} FROM promo_codes WHERE code = $1");
    db.query_one_raw(statement(db, &sql, [code.into()])).await?.map(|row| to_code(&row)).transpose()
}

pub async fn set_active(db: &impl ConnectionTrait, code: &str, active: bool) -> Result<Option<PromoCode>> {
    let sql = format!("UPDATE promo_codes SET active = $1 WHERE code = $2 RETURNING {CODE_COLUMNS}");
    db.query_one_raw(statement(db, &sql, [active.into(), code.into()])).await?.map(|row| to_code(&row)).transpose()
}

/// Codes newest first, strictly older than `before_id` when given.
pub async fn list_codes(db: &impl ConnectionTrait, before_id: Option<i64>, limit: u64) -> Result<Vec<PromoCode>> {
    let sql =
        format!("SELECT {CODE_COLUMNS} FROM promo_codes WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT {limit}");
    let rows = db.query_all_raw(statement(db, &sql, [before_id.into()])).await?;
    rows.iter().map(to_code).collect()
}

/// Takes one use of a code that is active, valid at `now` and not used up; the code, or None.
pub async fn take_use(db: &impl ConnectionTrait, code: &str, now: Micros) -> Result<Option<PromoCode>> {
    let sql = format!(
        "UPDATE promo_codes SET uses = uses + 1 \
         WHERE code = $1 AND active AND (max_uses IS NULL OR uses < max_uses) \
         AND (valid_from IS NULL OR valid_from <= $2) AND (valid_until IS NULL OR valid_until > $2) \
         RETURNING {CODE_COLUMNS}"
    );
    db.query_one_raw(statement(db, &sql, [code.into(), now.into()])).await?.map(|row| to_code(&row)).transpose()
}

/// How often this user has redeemed this code.
pub async fn uses_by(db: &impl ConnectionTrait, code_id: i64, user_id: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM promo_redemptions WHERE promo_code_id = $1 AND user_id = $2";
    count(db, sql, [code_id.into(), user_id.into()]).await
}

/// How many benefits of this kind wait for the user.
pub async fn pending_count(db: &impl ConnectionTrait, user_id: i64, kind: PromoKind) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM promo_redemptions WHERE user_id = $1 AND kind = $2 AND state = 'PENDING'";
    count(db, sql, [user_id.into(), kind.as_str().into()]).await
}

async fn count(db: &impl ConnectionTrait, sql: &str, values: impl IntoIterator<Item = sea_orm::Value>) -> Result<i64> {
    let row = db.query_one_raw(statement(db, sql, values)).await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
}

pub async fn insert_redemption(
    db: &impl ConnectionTrait,
    code: &PromoCode,
    user_id: i64,
    state: RedemptionState,
    now: Micros,
) -> Result<i64> {
    let sql = "INSERT INTO promo_redemptions (promo_code_id, user_id, kind, value, state, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    let values = [
        code.id.into(),
        user_id.into(),
        code.kind.as_str().into(),
        code.value.into(),
        state.as_str().into(),
        now.into(),
    ];
    let row = db.query_one_raw(statement(db, sql, values)).await?;
    let row = row.ok_or_else(|| Error::internal("INSERT … RETURNING gave no row"))?;
    Ok(row.try_get_by_index(0)?)
}

/// Consumes the user's oldest pending benefit of this kind; (redemption id, value), or None.
/// The state is checked again by the UPDATE itself, so two actions never consume one benefit.
/// The percent of the discount the user's next paid action would consume (the oldest waiting).
pub async fn next_discount(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<i64>> {
    let sql = "SELECT value FROM promo_redemptions WHERE user_id = $1 AND kind = $2 AND state = 'PENDING' \
               ORDER BY id LIMIT 1";
    let row =
        db.query_one_raw(statement(db, sql, [user_id.into(), PromoKind::DiscountPercent.as_str().into()])).await?;
    Ok(row.map(|r| r.try_get_by_index(0)).transpose()?)
}

pub async fn consume_pending(
    db: &impl ConnectionTrait,
    user_id: i64,
    kind: PromoKind,
    now: Micros,
) -> Result<Option<(i64, i64)>> {
    let sql = "UPDATE promo_redemptions SET state = 'CONSUMED', consumed_at = $1 \
               WHERE state = 'PENDING' AND id = (SELECT id FROM promo_redemptions \
               WHERE user_id = $2 AND kind = $3 AND state = 'PENDING' ORDER BY id LIMIT 1) \
               RETURNING id, value";
    let row = db.query_one_raw(statement(db, sql, [now.into(), user_id.into(), kind.as_str().into()])).await?;
    Ok(row.map(|r| Ok::<_, sea_orm::DbErr>((r.try_get_by_index(0)?, r.try_get_by_index(1)?))).transpose()?)
}

pub async fn link_entry(db: &impl ConnectionTrait, redemption_id: i64, entry_id: i64) -> Result<()> {
    let sql = "UPDATE promo_redemptions SET ledger_entry_id = $1 WHERE id = $2";
    db.execute_raw(statement(db, sql, [entry_id.into(), redemption_id.into()])).await?;
    Ok(())
}

pub async fn link_reservation(db: &impl ConnectionTrait, redemption_id: i64, reservation_id: i64) -> Result<()> {
    let sql = "UPDATE promo_redemptions SET reservation_id = $1 WHERE id = $2";
    db.execute_raw(statement(db, sql, [reservation_id.into(), redemption_id.into()])).await?;
    Ok(())
}

/// The discount consumed by this reservation waits again; true when there was one.
pub async fn restore(db: &impl ConnectionTrait, reservation_id: i64) -> Result<bool> {
    let sql = "UPDATE promo_redemptions SET state = 'PENDING', consumed_at = NULL, reservation_id = NULL \
               WHERE reservation_id = $1 AND state = 'CONSUMED'";
    Ok(db.execute_raw(statement(db, sql, [reservation_id.into()])).await?.rows_affected() > 0)
}

/// The user's redemptions, newest first; only the pending ones when asked.
pub async fn redemptions(db: &impl ConnectionTrait, user_id: i64, pending_only: bool) -> Result<Vec<Redemption>> {
    let sql = format!(
        "SELECT {REDEMPTION_COLUMNS} FROM promo_redemptions r JOIN promo_codes c ON c.id = r.promo_code_id \
         WHERE r.user_id = $1 AND ($2 = FALSE OR r.state = 'PENDING') ORDER BY r.id DESC LIMIT 50"
    );
    let rows = db.query_all_raw(statement(db, &sql, [user_id.into(), pending_only.into()])).await?;
    rows.iter().map(to_redemption).collect()
}

pub async fn redemption(db: &impl ConnectionTrait, id: i64) -> Result<Option<Redemption>> {
    let sql = format!(
        "SELECT {REDEMPTION_COLUMNS} FROM promo_redemptions r JOIN promo_codes c ON c.id = r.promo_code_id \
         WHERE r.id = $1"
    );
    db.query_one_raw(statement(db, &sql, [id.into()])).await?.map(|row| to_redemption(&row)).transpose()
}

fn to_code(row: &QueryResult) -> Result<PromoCode> {
    Ok(PromoCode {
        id: row.try_get_by_index(0)?,
        code: row.try_get_by_index(1)?,
        kind: PromoKind::parse(&row.try_get_by_index::<String>(2)?)?,
        value: row.try_get_by_index(3)?,
        max_uses: row.try_get_by_index(4)?,
        uses_per_user: row.try_get_by_index(5)?,
        uses: row.try_get_by_index(6)?,
        valid_from: row.try_get_by_index(7)?,
        valid_until: row.try_get_by_index(8)?,
        active: row.try_get_by_index(9)?,
        created_at: row.try_get_by_index(10)?,
    })
}

fn to_redemption(row: &QueryResult) -> Result<Redemption> {
    Ok(Redemption {
        id: row.try_get_by_index(0)?,
        user_id: row.try_get_by_index(1)?,
        code: row.try_get_by_index(2)?,
        kind: PromoKind::parse(&row.try_get_by_index::<String>(3)?)?,
        value: row.try_get_by_index(4)?,
        state: RedemptionState::parse(&row.try_get_by_index::<String>(5)?)?,
        ledger_entry_id: row.try_get_by_index(6)?,
        created_at: row.try_get_by_index(7)?,
        consumed_at: row.try_get_by_index(8)?,
    })
}
