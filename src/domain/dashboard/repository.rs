//! The dashboard's SQL: each figure grouped by UTC day (`created_at / DAY`: times are
//! microseconds, so integer division finds the day on both databases).

use sea_orm::ConnectionTrait;

use crate::adapters::db::statement;
use crate::domain::{Result, time::Micros};

pub const DAY: Micros = 86_400_000_000;

/// (day number, value) rows of a query over `[$1, $2)`.
pub async fn by_day(db: &impl ConnectionTrait, sql: &str, from: Micros, to: Micros) -> Result<Vec<(i64, i64)>> {
    let rows = db.query_all_raw(statement(db, sql, [from.into(), to.into()])).await?;
    rows.iter()
        .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index::<Option<i64>>(1)?.unwrap_or(0))))
        .collect()
}

pub const NEW_USERS: &str = "SELECT created_at / 86400000000, COUNT(*) FROM users \
    WHERE created_at >= $1 AND created_at < $2 GROUP BY created_at / 86400000000";
pub const ACTIVE_USERS: &str = "SELECT created_at / 86400000000, COUNT(DISTINCT user_id) FROM generations \
    WHERE created_at >= $1 AND created_at < $2 GROUP BY created_at / 86400000000";
pub const GENERATIONS: &str = "SELECT created_at / 86400000000, COUNT(*) FROM generations \
    WHERE purpose = 'IMAGE' AND created_at >= $1 AND created_at < $2 GROUP BY created_at / 86400000000";
pub const CREDITS_SOLD: &str = "SELECT created_at / 86400000000, CAST(SUM(amount) AS BIGINT) FROM ledger_entries \
    WHERE kind = 'TOP_UP' AND created_at >= $1 AND created_at < $2 GROUP BY created_at / 86400000000";
pub const CREDITS_SPENT: &str = "SELECT created_at / 86400000000, CAST(-SUM(amount) AS BIGINT) FROM ledger_entries \
    WHERE kind IN ('CHARGE', 'REFUND') AND created_at >= $1 AND created_at < $2 GROUP BY created_at / 86400000000";
pub const STARS_PAID: &str = "SELECT created_at / 86400000000, CAST(SUM(total_amount) AS BIGINT) FROM payments \
    WHERE currency = 'XTR' AND created_at >= $1 AND created_at < $2 GROUP BY created_at / 86400000000";
pub const STARS_REFUNDED: &str = "SELECT refunded_at / 86400000000, CAST(SUM(total_amount) AS BIGINT) FROM payments \
    WHERE currency = 'XTR' AND refunded_at >= $1 AND refunded_at < $2 GROUP BY refunded_at / 86400000000";

/// (purpose, model, status, count) of the jobs created in `[from, to)`.
pub async fn jobs(db: &impl ConnectionTrait, from: Micros, to: Micros) -> Result<Vec<(String, String, String, i64)>> {
    let sql = "SELECT purpose, model, status, COUNT(*) FROM generations WHERE created_at >= $1 AND created_at < $2 \
               GROUP BY purpose, model, status ORDER BY purpose, model, status";
    counts(db, sql, [from.into(), to.into()]).await
}

/// (purpose, model, status, count) of the jobs waiting or running now.
pub async fn queue(db: &impl ConnectionTrait) -> Result<Vec<(String, String, String, i64)>> {
    let sql = "SELECT purpose, model, status, COUNT(*) FROM generations WHERE status IN ('PENDING', 'QUEUED', 'RUNNING') \
               GROUP BY purpose, model, status ORDER BY purpose, model, status";
    counts(db, sql, []).await
}

async fn counts(
    db: &impl ConnectionTrait,
    sql: &str,
    values: impl IntoIterator<Item = sea_orm::Value>,
) -> Result<Vec<(String, String, String, i64)>> {
    let rows = db.query_all_raw(statement(db, sql, values)).await?;
    rows.iter()
        .map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?, r.try_get_by_index(2)?, r.try_get_by_index(3)?)))
        .collect()
}
