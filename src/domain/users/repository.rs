use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryResult};

use super::model::{TelegramProfile, User};
use super::settings::{Settings, ValidChange};
use crate::adapters::db::{entity::users, statement};
use crate::domain::generations::AspectRatio;
use crate::domain::{Error, Result, time::Micros};

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<User>> {
    Ok(users::Entity::find_by_id(id).one(db).await?.map(to_user))
}

/// Many users at once, in no particular order.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<User>> {
    let rows = users::Entity::find().filter(users::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(to_user).collect())
}

pub async fn set_language(db: &impl ConnectionTrait, id: i64, language_code: &str, now: Micros) -> Result<()> {
    let sql = "UPDATE users SET language_code = $1, language_chosen = TRUE, updated_at = $2 WHERE id = $3";
    db.execute_raw(statement(db, sql, [language_code.into(), now.into(), id.into()])).await?;
    Ok(())
}

/// Inserts the user or refreshes the names Telegram sent (and its language, unless the user chose
/// one); returns the user and whether it is new.
pub async fn upsert_telegram(
    db: &impl ConnectionTrait,
    p: &TelegramProfile,
    start_payload: Option<&str>,
    now: Micros,
) -> Result<(User, bool)> {
    let sql = "INSERT INTO users (telegram_id, username, first_name, last_name, language_code, start_payload, balance, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7) \
               ON CONFLICT (telegram_id) DO UPDATE SET username = excluded.username, \
               first_name = excluded.first_name, last_name = excluded.last_name, \
               language_code = CASE WHEN users.language_chosen THEN users.language_code \
               ELSE COALESCE(excluded.language_code, users.language_code) END, updated_at = excluded.updated_at \
               RETURNING id, telegram_id, username, first_name, last_name, language_code, balance, created_at";
    let values = [
        p.telegram_id.into(),
        p.username.clone().into(),
        p.first_name.clone().into(),
        p.last_name.clone().into(),
        p.language_code.clone().into(),
        start_payload.map(str::to_owned).into(),
        now.into(),
    ];
    let row = db.query_one_raw(statement(db, sql, values)).await?;
    let user = from_row(&row.ok_or_else(|| Error::internal("upsert returned no row"))?)?;
    let created = user.created_at == now;
    Ok((user, created))
}

fn from_row(r: &QueryResult) -> Result<User> {
    Ok(User {
        id: r.try_get_by_index(0)?,
        telegram_id: r.try_get_by_index(1)?,
        username: r.try_get_by_index(2)?,
        first_name: r.try_get_by_index(3)?,
        last_name: r.try_get_by_index(4)?,
        language_code: r.try_get_by_index(5)?,
        balance: r.try_get_by_index(6)?,
        created_at: r.try_get_by_index(7)?,
    })
}

pub fn to_user(m: users::Model) -> User {
    User {
        id: m.id,
        telegram_id: m.telegram_id,
        username: m.username,
        first_name: m.first_name,
        last_name: m.last_name,
        language_code: m.language_code,
        balance: m.balance,
        created_at: m.created_at,
    }
}

/// The stored settings (without the language, which is the user's); None when never changed.
pub async fn settings(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<Settings>> {
    let sql = "SELECT default_aspect_ratio, default_num_images, quick_mode, quick_mode_max_price, \
               show_technical_details FROM user_settings WHERE user_id = $1";
    let Some(row) = db.query_one_raw(statement(db, sql, [user_id.into()])).await? else { return Ok(None) };
    Ok(Some(Settings {
        default_aspect_ratio: AspectRatio::parse(&row.try_get_by_index::<String>(0)?)?,
        default_num_images: u8::try_from(row.try_get_by_index::<i32>(1)?).unwrap_or(1),
        quick_mode: row.try_get_by_index(2)?,
        quick_mode_max_price: row.try_get_by_index(3)?,
        show_technical_details: row.try_get_by_index(4)?,
        language_code: None,
    }))
}

/// Writes the named settings, each on its own (a row of defaults is made first if need be).
pub async fn update_settings(
    db: &impl ConnectionTrait,
    user_id: i64,
    change: &ValidChange,
    defaults: &Settings,
    now: Micros,
) -> Result<()> {
    let insert = "INSERT INTO user_settings (user_id, default_aspect_ratio, default_num_images, quick_mode, \
                  quick_mode_max_price, show_technical_details, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                  ON CONFLICT (user_id) DO NOTHING";
    let values = [
        user_id.into(),
        defaults.default_aspect_ratio.as_str().into(),
        i32::from(defaults.default_num_images).into(),
        defaults.quick_mode.into(),
        defaults.quick_mode_max_price.into(),
        defaults.show_technical_details.into(),
        now.into(),
    ];
    db.execute_raw(statement(db, insert, values)).await?;
    let update = "UPDATE user_settings SET default_aspect_ratio = COALESCE($1, default_aspect_ratio), \
                  default_num_images = COALESCE($2, default_num_images), quick_mode = COALESCE($3, quick_mode), \
                  quick_mode_max_price = COALESCE($4, quick_mode_max_price), \
                  show_technical_details = COALESCE($5, show_technical_details), updated_at = $6 WHERE user_id = $7";
    let values = [
        change.default_aspect_ratio.map(|r| r.as_str().to_owned()).into(),
        change.default_num_images.map(i32::from).into(),
        change.quick_mode.into(),
        change.quick_mode_max_price.into(),
        change.show_technical_details.into(),
        now.into(),
        user_id.into(),
    ];
    db.execute_raw(statement(db, update, values)).await?;
    Ok(())
}

pub async fn blocked_reason(db: &impl ConnectionTrait, id: i64) -> Result<Option<String>> {
    let sql = "SELECT blocked_reason FROM users WHERE id = $1 AND blocked_at IS NOT NULL";
    let row = db.query_one_raw(statement(db, sql, [id.into()])).await?;
    Ok(row.map(|r| r.try_get_by_index::<Option<String>>(0)).transpose()?.flatten())
}

/// Blocks (with a reason) or unblocks (None) a user.
pub async fn set_blocked(db: &impl ConnectionTrait, id: i64, reason: Option<&str>, now: Micros) -> Result<()> {
    let sql = "UPDATE users SET blocked_at = CASE WHEN $1 IS NULL THEN NULL ELSE $2 END, blocked_reason = $1, \
               updated_at = $2 WHERE id = $3";
    db.execute_raw(statement(db, sql, [reason.map(str::to_owned).into(), now.into(), id.into()])).await?;
    Ok(())
}

/// By Telegram id, or by the start of the username (case-insensitive), newest first.
pub async fn search(db: &impl ConnectionTrait, search: &str, limit: u64) -> Result<Vec<User>> {
    let telegram_id: Option<i64> = search.parse().ok();
    let literal: String = search.to_lowercase().chars().filter(|c| !matches!(c, '%' | '_' | '\\')).collect();
    let sql = format!(
        "SELECT id, telegram_id, username, first_name, last_name, language_code, balance, created_at FROM users \
         WHERE telegram_id = $1 OR LOWER(username) LIKE $2 ORDER BY id DESC LIMIT {limit}"
    );
    // A search of wildcards only is no prefix: it matches by Telegram id or not at all.
    let prefix = (!literal.is_empty()).then(|| format!("{literal}%"));
    let values = [telegram_id.into(), prefix.into()];
    let rows = db.query_all_raw(statement(db, &sql, values)).await?;
    rows.iter().map(from_row).collect()
}
