//! Bearer tokens: only their hashes are stored.

use sea_orm::ConnectionTrait;

use crate::adapters::db::statement;
use crate::domain::{Result, time::Micros};

pub async fn insert_token(
    db: &impl ConnectionTrait,
    user_id: i64,
    token_hash: &str,
    now: Micros,
    expires_at: Micros,
) -> Result<()> {
    let sql = "INSERT INTO auth_tokens (user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)";
    let values = [user_id.into(), token_hash.into(), now.into(), expires_at.into()];
    db.execute_raw(statement(db, sql, values)).await?;
    Ok(())
}

/// Revokes the user's live tokens beyond the newest `keep`; the hashes of those revoked.
pub async fn revoke_beyond(db: &impl ConnectionTrait, user_id: i64, keep: i64, now: Micros) -> Result<Vec<String>> {
    let sql = "UPDATE auth_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id NOT IN \
               (SELECT id FROM auth_tokens WHERE user_id = $2 AND revoked_at IS NULL ORDER BY id DESC LIMIT $3) RETURNING token_hash";
    let rows = db.query_all_raw(statement(db, sql, [now.into(), user_id.into(), keep.into()])).await?;
    Ok(rows.iter().map(|row| row.try_get_by_index(0)).collect::<Result<_, _>>()?)
}

/// The user and expiry of a live token.
pub async fn live_token(db: &impl ConnectionTrait, token_hash: &str, now: Micros) -> Result<Option<(i64, Micros)>> {
    let sql =
        "SELECT user_id, expires_at FROM auth_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2";
    let row = db.query_one_raw(statement(db, sql, [token_hash.into(), now.into()])).await?;
    Ok(row.map(|row| Ok::<_, sea_orm::DbErr>((row.try_get_by_index(0)?, row.try_get_by_index(1)?))).transpose()?)
}

pub async fn renew_token(db: &impl ConnectionTrait, token_hash: &str, expires_at: Micros) -> Result<()> {
    let sql = "UPDATE auth_tokens SET expires_at = $1 WHERE token_hash = $2";
    db.execute_raw(statement(db, sql, [expires_at.into(), token_hash.into()])).await?;
    Ok(())
}

/// Revokes a live token; its user, or `None` when it was not live.
pub async fn revoke_token(db: &impl ConnectionTrait, token_hash: &str, now: Micros) -> Result<Option<i64>> {
    let sql = "UPDATE auth_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL RETURNING user_id";
    let row = db.query_one_raw(statement(db, sql, [now.into(), token_hash.into()])).await?;
    Ok(row.map(|row| row.try_get_by_index(0)).transpose()?)
}
