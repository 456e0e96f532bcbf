//! The SQL of notifications. Every change after the claim is conditional on the claim token.

use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::{Notification, NotificationKind};
use crate::adapters::db::{is_postgres, statement};
use crate::domain::{Result, time::Micros};

/// Records a notification for a user a channel can reach; a second one about the same event is
/// dropped.
pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: i64,
    kind: NotificationKind,
    subject_id: i64,
    event_id: i64,
    now: Micros,
) -> Result<()> {
    let sql = "INSERT INTO notifications (user_id, kind, subject_id, event_id, status, next_attempt_at, created_at) \
               SELECT id, $1, $2, $3, 'PENDING', $4, $4 FROM users WHERE id = $5 AND telegram_id IS NOT NULL \
               ON CONFLICT (kind, event_id) DO NOTHING";
    let values: [Value; 5] = [kind.as_str().into(), subject_id.into(), event_id.into(), now.into(), user_id.into()];
    db.execute_raw(statement(db, sql, values)).await?;
    Ok(())
}

/// Takes up to `limit` due notifications nobody holds, oldest first.
pub async fn claim(
    db: &impl ConnectionTrait,
    token: &str,
    now: Micros,
    lease_until: Micros,
    limit: u64,
) -> Result<Vec<Notification>> {
    let lock = if is_postgres(db) { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE notifications SET claimed_by = $1, claimed_until = $2 WHERE id IN (\
         SELECT id FROM notifications WHERE status = 'PENDING' AND next_attempt_at <= $3 \
         AND (claimed_until IS NULL OR claimed_until < $3) ORDER BY id LIMIT $4 {lock}) \
         AND (claimed_until IS NULL OR claimed_until < $3) \
         RETURNING id, user_id, kind, subject_id, step, attempts"
    );
    let values: [Value; 4] = [token.into(), lease_until.into(), now.into(), (limit as i64).into()];
    let rows = db.query_all_raw(statement(db, &sql, values)).await?;
    rows.iter().map(|row| from_row(row, token)).collect()
}

fn from_row(r: &QueryResult, token: &str) -> Result<Notification> {
    Ok(Notification {
        id: r.try_get_by_index(0)?,
        user_id: r.try_get_by_index(1)?,
        kind: NotificationKind::parse(&r.try_get_by_index::<String>(2)?)?,
        subject_id: r.try_get_by_index(3)?,
        step: r.try_get_by_index(4)?,
        attempts: r.try_get_by_index(5)?,
        token: token.to_owned(),
    })
}

/// Records that the channel accepted the steps up to `step`; false if the claim is gone.
pub async fn advance(db: &impl ConnectionTrait, id: i64, token: &str, step: i32) -> Result<bool> {
    let sql = "UPDATE notifications SET step = $1 WHERE id = $2 AND claimed_by = $3 AND status = 'PENDING'";
    Ok(db.execute_raw(statement(db, sql, [step.into(), id.into(), token.into()])).await?.rows_affected() == 1)
}

/// Ends a delivery: `SENT`, `PARKED` (with its error), or back to `PENDING` until `retry_at`.
pub async fn end(
    db: &impl ConnectionTrait,
    id: i64,
    token: &str,
    status: &str,
    error: Option<&str>,
    retry_at: Micros,
    now: Micros,
) -> Result<bool> {
    let sql = "UPDATE notifications SET status = $1, error = $2, next_attempt_at = $3, \
               attempts = attempts + CASE WHEN $1 = 'SENT' THEN 0 ELSE 1 END, \
               sent_at = CASE WHEN $1 = 'SENT' THEN $4 ELSE sent_at END, claimed_by = NULL, claimed_until = NULL \
               WHERE id = $5 AND claimed_by = $6 AND status = 'PENDING'";
    let values: [Value; 6] =
        [status.into(), error.map(str::to_owned).into(), retry_at.into(), now.into(), id.into(), token.into()];
    Ok(db.execute_raw(statement(db, sql, values)).await?.rows_affected() == 1)
}

/// Lets other instances take over every claim matching the pattern at once.
pub async fn release(db: &impl ConnectionTrait, pattern: &str) -> Result<u64> {
    let sql = "UPDATE notifications SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by LIKE $1";
    Ok(db.execute_raw(statement(db, sql, [pattern.into()])).await?.rows_affected())
}

/// Forgets notifications sent before `before`.
pub async fn prune(db: &impl ConnectionTrait, before: Micros) -> Result<u64> {
    let sql = "DELETE FROM notifications WHERE status = 'SENT' AND sent_at < $1";
    Ok(db.execute_raw(statement(db, sql, [before.into()])).await?.rows_affected())
}

/// How many wait, and since when the oldest has waited.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<(i64, Option<Micros>)> {
    let sql = "SELECT COUNT(*), MIN(created_at) FROM notifications WHERE status = 'PENDING'";
    let row = db.query_one_raw(statement(db, sql, [])).await?;
    match row {
        Some(row) => Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)),
        None => Ok((0, None)),
    }
}
