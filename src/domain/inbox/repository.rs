//! The SQL of the inbox (the `telegram_updates` table). A claim takes only the oldest pending
//! update of each chat, so the next update of a chat becomes claimable when the previous one is
//! done or parked, on whichever instance.

use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::{ClaimedUpdate, InboxEntry, InboxStatus, Lane, NewUpdate};
use crate::adapters::db::{is_postgres, statement};
use crate::domain::{Result, time::Micros};

/// Stores updates in one statement (one commit); returns the ids that were new (the others
/// were there already: redeliveries). A row's claim, when given, makes this instance hold it
/// from the start (it is handled at once, without waiting for a claim).
pub async fn insert_many(
    db: &impl ConnectionTrait,
    updates: &[(NewUpdate, Option<(String, Micros)>)],
    now: Micros,
) -> Result<Vec<i64>> {
    if updates.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = Vec::with_capacity(updates.len());
    let mut values: Vec<Value> = Vec::with_capacity(updates.len() * 7);
    for (update, claim) in updates {
        let n = values.len();
        rows.push(format!(
            "(${}, ${}, ${}, ${}, 'PENDING', 0, ${}, ${}, ${}, ${})",
            n + 1,
            n + 2,
            n + 3,
            n + 4,
            n + 5,
            n + 6,
            n + 7,
            n + 5
        ));
        let (token, until) = claim.clone().map_or((None, None), |(token, until)| (Some(token), Some(until)));
        values.extend([
            update.update_id.into(),
            update.chat_key.into(),
            update.lane.as_str().into(),
            update.payload.clone().into(),
            now.into(),
            token.into(),
            until.into(),
        ]);
    }
    let sql = format!(
        "INSERT INTO telegram_updates (update_id, chat_key, lane, payload, status, attempts, next_attempt_at, \
         claimed_by, claimed_until, received_at) VALUES {} ON CONFLICT (update_id) DO NOTHING RETURNING update_id",
        rows.join(", ")
    );
    let inserted = db.query_all_raw(statement(db, &sql, values)).await?;
    Ok(inserted.iter().map(|r| r.try_get_by_index::<i64>(0)).collect::<Result<_, _>>()?)
}

/// Claims up to `limit` updates of the lane that nobody holds and that are due: for the chat
/// lane, each the oldest unfinished update of its chat.
pub async fn claim(
    db: &impl ConnectionTrait,
    lane: Lane,
    token: &str,
    now: Micros,
    lease_until: Micros,
    limit: u64,
) -> Result<Vec<ClaimedUpdate>> {
    let lock = if is_postgres(db) { "FOR UPDATE SKIP LOCKED" } else { "" };
    let head_of_chat = match lane {
        Lane::Chat => {
            "AND NOT EXISTS (SELECT 1 FROM telegram_updates e WHERE e.chat_key = u.chat_key \
                       AND e.status = 'PENDING' AND e.lane = 'CHAT' AND e.update_id < u.update_id)"
        }
        Lane::Checkout => "",
    };
    let sql = format!(
        "UPDATE telegram_updates SET claimed_by = $1, claimed_until = $2 WHERE update_id IN (\
         SELECT u.update_id FROM telegram_updates u WHERE u.status = 'PENDING' AND u.lane = $3 \
         AND u.next_attempt_at <= $4 AND (u.claimed_until IS NULL OR u.claimed_until < $4) {head_of_chat} \
         ORDER BY u.update_id LIMIT $5 {lock}) AND (claimed_until IS NULL OR claimed_until < $4) \
         RETURNING update_id, chat_key, lane, payload, attempts, received_at"
    );
    let values: [Value; 5] =
        [token.into(), lease_until.into(), lane.as_str().into(), now.into(), (limit as i64).into()];
    let rows = db.query_all_raw(statement(db, &sql, values)).await?;
    let mut claimed = rows.iter().map(|row| claimed_from_row(row, token)).collect::<Result<Vec<_>>>()?;
    claimed.sort_by_key(|u| u.update_id);
    Ok(claimed)
}

fn claimed_from_row(r: &QueryResult, token: &str) -> Result<ClaimedUpdate> {
    Ok(ClaimedUpdate {
        update_id: r.try_get_by_index(0)?,
        chat_key: r.try_get_by_index(1)?,
        lane: Lane::parse(&r.try_get_by_index::<String>(2)?)?,
        payload: r.try_get_by_index(3)?,
        attempts: r.try_get_by_index(4)?,
        received_at: r.try_get_by_index(5)?,
        token: token.to_owned(),
    })
}

/// Marks a handled update done (and forgets its content); false if the claim is not ours.
pub async fn done(db: &impl ConnectionTrait, update_id: i64, token: &str, now: Micros) -> Result<bool> {
    let sql = "UPDATE telegram_updates SET status = 'DONE', payload = '', done_at = $1, claimed_by = NULL, claimed_until = NULL \
               WHERE update_id = $2 AND claimed_by = $3 AND status = 'PENDING'";
    Ok(db.execute_raw(statement(db, sql, [now.into(), update_id.into(), token.into()])).await?.rows_affected() == 1)
}

/// Records a failed handling: back to pending until `retry_at`, or parked.
pub async fn failed(
    db: &impl ConnectionTrait,
    update_id: i64,
    token: &str,
    status: InboxStatus,
    error: &str,
    retry_at: Micros,
) -> Result<bool> {
    let sql = "UPDATE telegram_updates SET status = $1, attempts = attempts + 1, error = $2, next_attempt_at = $3, \
               claimed_by = NULL, claimed_until = NULL WHERE update_id = $4 AND claimed_by = $5 AND status = 'PENDING'";
    let values: [Value; 5] = [status.as_str().into(), error.into(), retry_at.into(), update_id.into(), token.into()];
    Ok(db.execute_raw(statement(db, sql, values)).await?.rows_affected() == 1)
}

/// Extends the claims on these updates, when this instance (the pattern) still holds them.
pub async fn renew(db: &impl ConnectionTrait, pattern: &str, update_ids: &[i64], lease_until: Micros) -> Result<u64> {
    if update_ids.is_empty() {
        return Ok(0);
    }
    let params: Vec<String> = (3..3 + update_ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "UPDATE telegram_updates SET claimed_until = $1 WHERE claimed_by LIKE $2 AND status = 'PENDING' AND update_id IN ({})",
        params.join(", ")
    );
    let mut values: Vec<Value> = vec![lease_until.into(), pattern.into()];
    values.extend(update_ids.iter().map(|id| Value::from(*id)));
    Ok(db.execute_raw(statement(db, &sql, values)).await?.rows_affected())
}

pub async fn release(db: &impl ConnectionTrait, pattern: &str) -> Result<u64> {
    let sql = "UPDATE telegram_updates SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by LIKE $1 AND status = 'PENDING'";
    Ok(db.execute_raw(statement(db, sql, [pattern.into()])).await?.rows_affected())
}

pub async fn prune(db: &impl ConnectionTrait, before: Micros) -> Result<u64> {
    let sql = "DELETE FROM telegram_updates WHERE status = 'DONE' AND done_at < $1";
    Ok(db.execute_raw(statement(db, sql, [before.into()])).await?.rows_affected())
}

/// Updates in a status, newest first, older than `before_id` when given.
pub async fn list(
    db: &impl ConnectionTrait,
    status: InboxStatus,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<InboxEntry>> {
    let sql = "SELECT update_id, chat_key, lane, status, attempts, error, payload, received_at FROM telegram_updates \
               WHERE status = $1 AND update_id < $2 ORDER BY update_id DESC LIMIT $3";
    let values: [Value; 3] = [status.as_str().into(), before_id.unwrap_or(i64::MAX).into(), (limit as i64).into()];
    let rows = db.query_all_raw(statement(db, sql, values)).await?;
    rows.iter()
        .map(|r| {
            Ok(InboxEntry {
                update_id: r.try_get_by_index(0)?,
                chat_key: r.try_get_by_index(1)?,
                lane: Lane::parse(&r.try_get_by_index::<String>(2)?)?,
                status: InboxStatus::parse(&r.try_get_by_index::<String>(3)?)?,
                attempts: r.try_get_by_index(4)?,
                error: r.try_get_by_index(5)?,
                payload: r.try_get_by_index(6)?,
                received_at: r.try_get_by_index(7)?,
            })
        })
        .collect()
}

/// Puts a parked update back in the queue, due now; false if it is not parked.
pub async fn requeue(db: &impl ConnectionTrait, update_id: i64, now: Micros) -> Result<bool> {
    let sql = "UPDATE telegram_updates SET status = 'PENDING', attempts = 0, next_attempt_at = $1 \
               WHERE update_id = $2 AND status = 'PARKED'";
    Ok(db.execute_raw(statement(db, sql, [now.into(), update_id.into()])).await?.rows_affected() == 1)
}

/// Pending updates, and when the oldest arrived.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<(i64, Option<Micros>)> {
    let sql = "SELECT COUNT(*), MIN(received_at) FROM telegram_updates WHERE status = 'PENDING'";
    match db.query_one_raw(statement(db, sql, [])).await? {
        Some(row) => Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)),
        None => Ok((0, None)),
    }
}
