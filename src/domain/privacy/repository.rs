//! The SQL of export and erasure. Each table of the export is a list of named columns, read by
//! position into JSON, so the archive says exactly what we keep and nothing internal (provider
//! URLs, leases, hashes of tokens).

use sea_orm::{ConnectionTrait, QueryResult};
use serde_json::{Map, Value};

use crate::adapters::db::statement;
use crate::domain::{
    Result,
    time::{Micros, to_datetime},
};

/// How a column is read, and shown in the archive.
#[derive(Clone, Copy)]
pub enum Column {
    Int(&'static str),
    Text(&'static str),
    Bool(&'static str),
    /// Microseconds since 1970, shown as RFC 3339.
    Time(&'static str),
}

/// One file of the export: its rows, selected by `user_id = $1`.
pub struct Table {
    pub file: &'static str,
    pub from: &'static str,
    pub columns: &'static [Column],
}

use Column::{Bool, Int, Text, Time};

pub const ACCOUNT: Table = Table {
    file: "account.json",
    from: "users WHERE id = $1",
    columns: &[
        Int("id"),
        Int("telegram_id"),
        Text("username"),
        Text("first_name"),
        Text("last_name"),
        Text("language_code"),
        Text("start_payload"),
        Int("balance"),
        Text("referral_code"),
        Int("referred_by"),
        Time("created_at"),
    ],
};

pub const TABLES: &[Table] = &[
    Table {
        file: "settings.json",
        from: "user_settings WHERE user_id = $1",
        columns: &[
            Text("default_aspect_ratio"),
            Int("default_num_images"),
            Bool("quick_mode"),
            Int("quick_mode_max_price"),
            Bool("show_technical_details"),
            Time("updated_at"),
        ],
    },
    Table {
        file: "ledger.json",
        from: "ledger_entries WHERE user_id = $1 ORDER BY id",
        columns: &[Int("id"), Text("kind"), Int("amount"), Int("balance_after"), Text("reason"), Time("created_at")],
    },
    Table {
        file: "payments.json",
        from: "payments WHERE user_id = $1 ORDER BY id",
        columns: &[
            Int("id"),
            Text("provider"),
            Text("telegram_payment_charge_id"),
            Text("package_id"),
            Text("currency"),
            Int("total_amount"),
            Int("credits"),
            Text("refund_status"),
            Time("created_at"),
            Time("refunded_at"),
        ],
    },
    Table {
        file: "generations.json",
        from: "generations WHERE user_id = $1 ORDER BY id",
        columns: &[
            Int("id"),
            Text("purpose"),
            Text("model"),
            Text("prompt"),
            Text("aspect_ratio"),
            Int("num_images"),
            Int("seed"),
            Int("avatar_id"),
            Text("status"),
            Int("cost"),
            Text("error"),
            Int("blocked_images"),
            Int("source_image_id"),
            Time("created_at"),
            Time("completed_at"),
        ],
    },
    Table {
        file: "images.json",
        from: "images WHERE user_id = $1 ORDER BY id",
        columns: &[
            Int("id"),
            Int("generation_id"),
            Int("avatar_id"),
            Text("kind"),
            Text("model"),
            Text("prompt"),
            Text("aspect_ratio"),
            Text("content_type"),
            Int("width"),
            Int("height"),
            Int("byte_size"),
            Text("sha256"),
            Text("moderation"),
            Int("duration_ms"),
            Time("favorited_at"),
            Time("created_at"),
        ],
    },
    Table {
        file: "avatars.json",
        from: "avatars WHERE user_id = $1 ORDER BY id",
        columns: &[
            Int("id"),
            Text("name"),
            Text("training_type"),
            Text("status"),
            Bool("is_main"),
            Text("trigger_phrase"),
            Text("error"),
            Time("created_at"),
        ],
    },
    Table {
        file: "avatar_photos.json",
        from: "avatar_photos WHERE user_id = $1 ORDER BY id",
        columns: &[
            Int("id"),
            Int("avatar_id"),
            Text("content_type"),
            Int("width"),
            Int("height"),
            Int("byte_size"),
            Text("sha256"),
            Text("status"),
            Text("reject_reason"),
            Time("created_at"),
        ],
    },
    Table {
        file: "saved_filters.json",
        from: "saved_filters WHERE user_id = $1 ORDER BY id",
        columns: &[Int("id"), Text("name"), Text("filter_json"), Time("created_at")],
    },
    Table {
        file: "favorite_styles.json",
        from: "style_favorites f JOIN style_templates t ON t.id = f.template_id WHERE f.user_id = $1 ORDER BY f.created_at",
        columns: &[Text("t.slug"), Text("t.name_en"), Time("f.created_at")],
    },
    Table {
        file: "promo_redemptions.json",
        from: "promo_redemptions r JOIN promo_codes c ON c.id = r.promo_code_id WHERE r.user_id = $1 ORDER BY r.id",
        columns: &[
            Text("c.code"),
            Text("r.kind"),
            Int("r.value"),
            Text("r.state"),
            Time("r.created_at"),
            Time("r.consumed_at"),
        ],
    },
];

/// The table's rows as JSON objects.
pub async fn rows(db: &impl ConnectionTrait, table: &Table, user_id: i64) -> Result<Vec<Value>> {
    let names: Vec<&str> = table.columns.iter().map(|c| c.sql()).collect();
    let sql = format!("SELECT {} FROM {}", names.join(", "), table.from);
    let found = db.query_all_raw(statement(db, &sql, [user_id.into()])).await?;
    found.iter().map(|row| to_json(row, table.columns)).collect()
}

impl Column {
    /// As the query names it: `kind`, or `r.kind` in a join.
    fn sql(self) -> &'static str {
        match self {
            Int(n) | Text(n) | Bool(n) | Time(n) => n,
        }
    }

    /// As the archive names it: without the table.
    fn name(self) -> &'static str {
        self.sql().rsplit('.').next().unwrap_or_default()
    }
}

fn to_json(row: &QueryResult, columns: &[Column]) -> Result<Value> {
    let mut object = Map::new();
    for (index, column) in columns.iter().enumerate() {
        let value = match column {
            // PostgreSQL's INTEGER columns are 32 bits, its BIGINTs 64.
            Int(_) => match row.try_get_by_index::<Option<i64>>(index) {
                Ok(value) => value,
                Err(_) => row.try_get_by_index::<Option<i32>>(index)?.map(i64::from),
            }
            .map_or(Value::Null, Value::from),
            Text(_) => row.try_get_by_index::<Option<String>>(index)?.map_or(Value::Null, Value::from),
            Bool(_) => row.try_get_by_index::<Option<bool>>(index)?.map_or(Value::Null, Value::from),
            Time(_) => row
                .try_get_by_index::<Option<Micros>>(index)?
                .map_or(Value::Null, |t| Value::from(to_datetime(t).to_rfc3339())),
        };
        object.insert(column.name().to_owned(), value);
    }
    Ok(Value::Object(object))
}

/// A stored file of the user's, and where it goes in the archive.
pub struct StoredFile {
    pub bucket: String,
    pub key: String,
    pub name: String,
}

/// The user's images and accepted photos, named in the archive by their ids.
pub async fn files(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<StoredFile>> {
    let sql = "SELECT bucket, storage_key, 'images/' || id FROM images WHERE user_id = $1 \
               UNION ALL SELECT 'photos', storage_key, 'photos/' || avatar_id || '/' || id FROM avatar_photos \
               WHERE user_id = $1 AND storage_key IS NOT NULL";
    let found = db.query_all_raw(statement(db, sql, [user_id.into()])).await?;
    let mut files = Vec::with_capacity(found.len());
    for row in &found {
        let key: String = row.try_get_by_index(1)?;
        let extension = key.rsplit_once('.').map_or("bin", |(_, e)| e).to_owned();
        let name: String = row.try_get_by_index(2)?;
        files.push(StoredFile { bucket: row.try_get_by_index(0)?, name: format!("{name}.{extension}"), key });
    }
    Ok(files)
}

/// The ids of the user's jobs (generations and trainings) that still run.
pub async fn active_jobs(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<i64>> {
    let sql = "SELECT id FROM generations WHERE user_id = $1 AND status IN ('PENDING', 'QUEUED', 'RUNNING')";
    let found = db.query_all_raw(statement(db, sql, [user_id.into()])).await?;
    Ok(found.iter().map(|row| row.try_get_by_index(0)).collect::<Result<_, _>>()?)
}

/// The Telegram account of the user, if any (its chat's updates are erased with them).
pub async fn telegram_id(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<i64>> {
    let sql = "SELECT telegram_id FROM users WHERE id = $1";
    let row = db.query_one_raw(statement(db, sql, [user_id.into()])).await?;
    Ok(row.map(|row| row.try_get_by_index::<Option<i64>>(0)).transpose()?.flatten())
}

/// Erases the user's rows, in one transaction. What money law needs stays: the ledger (its
/// reasons, which an operator wrote in words, replaced), payments and reservations, on a user
/// row with no name, no Telegram account and no referral code left.
/// The hashes of the tokens it revoked are returned, for the caches.
pub async fn erase(
    db: &impl ConnectionTrait,
    user_id: i64,
    telegram_id: Option<i64>,
    now: Micros,
) -> Result<Vec<String>> {
    // First, so that the user's row lock orders this against a charge being reserved.
    let sql = "UPDATE users SET telegram_id = NULL, username = NULL, first_name = NULL, last_name = NULL, \
               language_code = NULL, start_payload = NULL, referral_code = NULL, erased_at = $1, updated_at = $1 \
               WHERE id = $2";
    db.execute_raw(statement(db, sql, [now.into(), user_id.into()])).await?;
    let id = || [user_id.into()];
    for sql in [
        "DELETE FROM images WHERE user_id = $1",
        "DELETE FROM generations WHERE user_id = $1",
        "DELETE FROM avatar_photos WHERE user_id = $1",
        "DELETE FROM avatars WHERE user_id = $1",
        "DELETE FROM saved_filters WHERE user_id = $1",
        "DELETE FROM style_favorites WHERE user_id = $1",
        "DELETE FROM user_settings WHERE user_id = $1",
        "DELETE FROM notifications WHERE user_id = $1",
        "DELETE FROM promo_redemptions WHERE user_id = $1 AND state = 'PENDING'",
        "UPDATE ledger_entries SET reason = kind WHERE user_id = $1",
    ] {
        db.execute_raw(statement(db, sql, id())).await?;
    }
    let sql = "UPDATE auth_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING token_hash";
    let revoked = db.query_all_raw(statement(db, sql, [now.into(), user_id.into()])).await?;
    if let Some(telegram_id) = telegram_id {
        // The chat's updates (their texts and names) that were handled; the one handling this
        // request is removed by the inbox's retention with the rest.
        let sql = "DELETE FROM telegram_updates WHERE chat_key = $1 AND status = 'DONE'";
        db.execute_raw(statement(db, sql, [telegram_id.into()])).await?;
    }
    Ok(revoked.iter().map(|row| row.try_get_by_index(0)).collect::<Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_joined_column_is_selected_by_table_and_named_without_it() {
        assert_eq!((Text("c.code").sql(), Text("c.code").name()), ("c.code", "code"));
        assert_eq!((Int("id").sql(), Int("id").name()), ("id", "id"));
        let promo = TABLES.iter().find(|t| t.file == "promo_redemptions.json").expect("the promo table");
        let names: Vec<&str> = promo.columns.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["code", "kind", "value", "state", "created_at", "consumed_at"]);
    }
}
