//! The SQL of analytics: events are appended; the funnel and retention are sums over them and
//! over the ledger's charges (a paid action is what "active" means).

use sea_orm::ConnectionTrait;

use super::model::{DAY_MICROS, EventKind, FunnelStep};
use crate::adapters::db::statement;
use crate::domain::{Result, time::Micros};

pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: i64,
    kind: EventKind,
    source: Option<&str>,
    now: Micros,
) -> Result<()> {
    let sql = "INSERT INTO analytics_events (user_id, kind, source, created_at) VALUES ($1, $2, $3, $4)";
    let values = [user_id.into(), kind.as_str().into(), source.map(str::to_owned).into(), now.into()];
    db.execute_raw(statement(db, sql, values)).await?;
    Ok(())
}

/// Inserts the event unless the user has one of this kind already.
pub async fn insert_once(db: &impl ConnectionTrait, user_id: i64, kind: EventKind, now: Micros) -> Result<()> {
    let sql = "INSERT INTO analytics_events (user_id, kind, created_at) SELECT $1, $2, $3 \
               WHERE NOT EXISTS (SELECT 1 FROM analytics_events WHERE user_id = $1 AND kind = $2)";
    db.execute_raw(statement(db, sql, [user_id.into(), kind.as_str().into(), now.into()])).await?;
    Ok(())
}

pub async fn funnel(db: &impl ConnectionTrait, from: Micros, to: Micros) -> Result<Vec<FunnelStep>> {
    let sql = "SELECT COALESCE(a.source, 'direct'), COUNT(*), \
               SUM(CASE WHEN EXISTS (SELECT 1 FROM analytics_events g WHERE g.user_id = a.user_id \
               AND g.kind = 'FIRST_GENERATION') THEN 1 ELSE 0 END), \
               SUM(CASE WHEN EXISTS (SELECT 1 FROM analytics_events p WHERE p.user_id = a.user_id \
               AND p.kind = 'TOP_UP') THEN 1 ELSE 0 END) \
               FROM analytics_events a WHERE a.kind = 'ARRIVED' AND a.created_at >= $1 AND a.created_at < $2 \
               GROUP BY COALESCE(a.source, 'direct') ORDER BY COUNT(*) DESC, COALESCE(a.source, 'direct')";
    let rows = db.query_all_raw(statement(db, sql, [from.into(), to.into()])).await?;
    rows.iter()
        .map(|r| {
            Ok(FunnelStep {
                source: r.try_get_by_index(0)?,
                arrived: r.try_get_by_index(1)?,
                generated: r.try_get_by_index(2)?,
                paid: r.try_get_by_index(3)?,
            })
        })
        .collect()
}

/// (week of arrival, users) for users who arrived in the period.
pub async fn cohorts(db: &impl ConnectionTrait, from: Micros, to: Micros) -> Result<Vec<(i64, i64)>> {
    let sql = format!(
        "SELECT (created_at / {DAY_MICROS} + 3) / 7 AS week, COUNT(*) FROM analytics_events \
         WHERE kind = 'ARRIVED' AND created_at >= $1 AND created_at < $2 \
         GROUP BY (created_at / {DAY_MICROS} + 3) / 7 ORDER BY week"
    );
    let rows = db.query_all_raw(statement(db, &sql, [from.into(), to.into()])).await?;
    rows.iter().map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?))).collect()
}

/// (week of arrival, weeks after it, users with a charge in that week) for the same users.
pub async fn activity(db: &impl ConnectionTrait, from: Micros, to: Micros) -> Result<Vec<(i64, i64, i64)>> {
    let week = |column: &str| format!("(({column} / {DAY_MICROS}) + 3) / 7");
    let (arrived, charged) = (week("a.created_at"), week("c.created_at"));
    let sql = format!(
        "SELECT {arrived}, {charged} - {arrived}, COUNT(DISTINCT a.user_id) FROM analytics_events a \
         JOIN ledger_entries c ON c.user_id = a.user_id AND c.kind = 'CHARGE' AND c.created_at >= a.created_at \
         WHERE a.kind = 'ARRIVED' AND a.created_at >= $1 AND a.created_at < $2 \
         GROUP BY {arrived}, {charged} - {arrived}"
    );
    let rows = db.query_all_raw(statement(db, &sql, [from.into(), to.into()])).await?;
    rows.iter().map(|r| Ok((r.try_get_by_index(0)?, r.try_get_by_index(1)?, r.try_get_by_index(2)?))).collect()
}
