//! The gallery's SQL: one WHERE clause built from a filter, and keyset pagination on
//! (created_at, id) with row-value comparisons, which SQLite and PostgreSQL both index.
//! Never OFFSET. LIMIT is written as a literal: PostgreSQL plans a bound LIMIT anew each time.

use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::model::{GalleryCursor, GalleryFilter, GalleryStats, Image, ImageKind, Moderation, SavedFilter};
use crate::adapters::db::{column, reads::Reads, statement};
use crate::domain::storage::{Bucket, StorageKey};
use crate::domain::{Error, Result, generations::AspectRatio, time::Micros};

/// SQL with `$n` parameters, built piece by piece.
pub struct Sql {
    pub text: String,
    pub values: Vec<Value>,
}

impl Sql {
    fn new(text: &str) -> Self {
        Sql { text: text.to_owned(), values: Vec::new() }
    }

    fn param(&mut self, value: impl Into<Value>) -> String {
        self.values.push(value.into());
        format!("${}", self.values.len())
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn list(&mut self, column: &str, values: Vec<Value>) {
        if values.is_empty() {
            return;
        }
        let params: Vec<String> = values.into_iter().map(|v| self.param(v)).collect();
        self.push(&format!(" AND {column} IN ({})", params.join(", ")));
    }

    /// `WHERE user_id = … AND <the filter>`.
    fn filter(&mut self, user_id: i64, filter: &GalleryFilter) {
        let user = self.param(user_id);
        self.push(&format!(" WHERE user_id = {user}"));
        self.list("kind", filter.types.iter().map(|k| k.as_str().into()).collect());
        self.list("model", filter.models.iter().map(|m| m.clone().into()).collect());
        self.list("aspect_ratio", filter.aspect_ratios.iter().map(|r| r.as_str().into()).collect());
        self.list("avatar_id", filter.avatar_ids.iter().map(|id| (*id).into()).collect());
        if filter.favorites_only {
            self.push(" AND favorited_at IS NOT NULL");
        }
        if let Some(after) = filter.created_after {
            let p = self.param(after);
            self.push(&format!(" AND created_at >= {p}"));
        }
        if let Some(before) = filter.created_before {
            let p = self.param(before);
            self.push(&format!(" AND created_at < {p}"));
        }
        if let Some(needle) = filter.prompt_contains.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            let pattern = format!("%{}%", escape_like(&needle.to_lowercase()));
            let p = self.param(pattern);
            self.push(&format!(" AND prompt_folded LIKE {p} ESCAPE '\\'"));
        }
    }

    /// `AND (created_at, id) <op> (…, …)`.
    fn seek(&mut self, op: &str, cursor: GalleryCursor) {
        let (at, id) = (self.param(cursor.created_at), self.param(cursor.id));
        self.push(&format!(" AND (created_at, id) {op} ({at}, {id})"));
    }

    pub async fn all(self, db: &impl ConnectionTrait) -> Result<Vec<QueryResult>> {
        Ok(db.query_all_raw(statement(db, &self.text, self.values)).await?)
    }

    async fn one_i64(self, db: &impl ConnectionTrait) -> Result<i64> {
        let row = db.query_one_raw(statement(db, &self.text, self.values)).await?;
        Ok(row.map(|r| r.try_get_by_index::<Option<i64>>(0)).transpose()?.flatten().unwrap_or(0))
    }
}

fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

const COLUMNS: &str = "id, user_id, generation_id, avatar_id, kind, model, prompt, aspect_ratio, bucket, storage_key, \
                       content_type, width, height, byte_size, sha256, favorited_at, created_at, telegram_file_id, \
                       moderation, duration_ms, poster_key";

/// Up to `limit` images on one side of `cursor`: older ones (`newer = false`, newest first) or
/// newer ones (`newer = true`, oldest first), through the hot-path read handle.
pub async fn seek(
    reads: &Reads,
    user_id: i64,
    filter: &GalleryFilter,
    cursor: Option<GalleryCursor>,
    newer: bool,
    limit: usize,
) -> Result<Vec<Image>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM images"));
    sql.filter(user_id, filter);
    if let Some(cursor) = cursor {
        sql.seek(if newer { ">" } else { "<" }, cursor);
    }
    let order = if newer { "ASC" } else { "DESC" };
    sql.push(&format!(" ORDER BY created_at {order}, id {order} LIMIT {limit}"));
    let rows = reads.fetch_all(&sql.text, sql.values).await?;
    rows.iter().map(from_row).collect()
}

pub async fn count(
    db: &impl ConnectionTrait,
    user_id: i64,
    filter: &GalleryFilter,
    newer_than: Option<GalleryCursor>,
) -> Result<u64> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM images");
    sql.filter(user_id, filter);
    if let Some(cursor) = newer_than {
        sql.seek(">", cursor);
    }
    Ok(sql.one_i64(db).await?.max(0) as u64)
}

/// Whether the image is one of those the filter shows.
pub async fn matches(db: &impl ConnectionTrait, user_id: i64, filter: &GalleryFilter, image_id: i64) -> Result<bool> {
    let mut sql = Sql::new("SELECT COUNT(*) FROM images");
    sql.filter(user_id, filter);
    let id = sql.param(image_id);
    sql.push(&format!(" AND id = {id}"));
    Ok(sql.one_i64(db).await? > 0)
}

pub async fn find(db: &impl ConnectionTrait, user_id: i64, id: i64) -> Result<Option<Image>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM images WHERE id = "));
    let (id, user) = (sql.param(id), sql.param(user_id));
    sql.push(&format!("{id} AND user_id = {user}"));
    sql.all(db).await?.first().map(from_row).transpose()
}

/// Sets or clears the favourite mark (keeping the first time it was set); None if not the user's.
pub async fn set_favorite(
    db: &impl ConnectionTrait,
    user_id: i64,
    id: i64,
    favorite: bool,
    now: Micros,
) -> Result<bool> {
    let sql = "UPDATE images SET favorited_at = CASE WHEN $1 THEN COALESCE(favorited_at, $2) ELSE NULL END \
               WHERE id = $3 AND user_id = $4";
    let result = db.execute_raw(statement(db, sql, [favorite.into(), now.into(), id.into(), user_id.into()])).await?;
    Ok(result.rows_affected() == 1)
}

/// Remembers the id Telegram gave the uploaded photo, so later views send it by id.
pub async fn set_telegram_file_id(db: &impl ConnectionTrait, user_id: i64, id: i64, file_id: &str) -> Result<bool> {
    let sql = "UPDATE images SET telegram_file_id = $1 WHERE id = $2 AND user_id = $3";
    let result = db.execute_raw(statement(db, sql, [file_id.into(), id.into(), user_id.into()])).await?;
    Ok(result.rows_affected() == 1)
}

/// Deletes the row; returns where its object was stored, when it was the user's.
/// Deletes an image's row; the keys of its stored objects (the file, and a clip's poster).
pub async fn delete(db: &impl ConnectionTrait, user_id: i64, id: i64) -> Result<Option<Vec<StorageKey>>> {
    let sql = "DELETE FROM images WHERE id = $1 AND user_id = $2 RETURNING bucket, storage_key, poster_key";
    let Some(row) = db.query_one_raw(statement(db, sql, [id.into(), user_id.into()])).await? else { return Ok(None) };
    let bucket: String = row.try_get_by_index(0)?;
    let bucket = Bucket::parse(&bucket).ok_or_else(|| Error::internal(format!("unknown bucket {bucket:?}")))?;
    let mut keys = vec![StorageKey::stored(bucket, row.try_get_by_index::<String>(1)?)];
    if let Some(poster) = row.try_get_by_index::<Option<String>>(2)? {
        keys.push(StorageKey::stored(bucket, poster));
    }
    Ok(Some(keys))
}

pub async fn stats(
    db: &impl ConnectionTrait,
    user_id: i64,
    filter: &GalleryFilter,
    month_ago: Micros,
) -> Result<GalleryStats> {
    let mut totals =
        Sql::new("SELECT COUNT(*), COALESCE(SUM(CASE WHEN favorited_at IS NOT NULL THEN 1 ELSE 0 END), 0), ");
    let since = totals.param(month_ago);
    totals.push(&format!(
        "COALESCE(SUM(CASE WHEN created_at >= {since} THEN 1 ELSE 0 END), 0), MAX(created_at) FROM images"
    ));
    totals.filter(user_id, filter);
    let rows = totals.all(db).await?;
    let row = rows.first().ok_or_else(|| Error::internal("an aggregate returned no row"))?;
    let mut stats = GalleryStats {
        total: row.try_get_by_index::<i64>(0)?.max(0) as u64,
        favorites: row.try_get_by_index::<i64>(1)?.max(0) as u64,
        last_30_days: row.try_get_by_index::<i64>(2)?.max(0) as u64,
        last_generated_at: row.try_get_by_index::<Option<i64>>(3)?,
        ..GalleryStats::default()
    };
    for (column, out) in [("kind", 0), ("model", 1)] {
        let mut grouped = Sql::new(&format!("SELECT {column}, COUNT(*) FROM images"));
        grouped.filter(user_id, filter);
        grouped.push(&format!(" GROUP BY {column} ORDER BY {column}"));
        for row in grouped.all(db).await? {
            let (name, count): (String, i64) = (row.try_get_by_index(0)?, row.try_get_by_index(1)?);
            if out == 0 {
                stats.by_type.push((ImageKind::parse(&name)?, count.max(0) as u64));
            } else {
                stats.by_model.push((name, count.max(0) as u64));
            }
        }
    }
    let spent = "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries \
                 WHERE user_id = $1 AND kind IN ('CHARGE', 'REFUND')";
    let row = db.query_one_raw(statement(db, spent, [user_id.into()])).await?;
    stats.credits_spent = -row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0);
    Ok(stats)
}

pub async fn saved_filters(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<SavedFilter>> {
    let sql = "SELECT id, name, filter_json, created_at FROM saved_filters WHERE user_id = $1 ORDER BY created_at, id";
    let rows = db.query_all_raw(statement(db, sql, [user_id.into()])).await?;
    rows.iter().map(saved_filter_from_row).collect()
}

pub async fn saved_filter(db: &impl ConnectionTrait, user_id: i64, id: i64) -> Result<Option<SavedFilter>> {
    let sql = "SELECT id, name, filter_json, created_at FROM saved_filters WHERE id = $1 AND user_id = $2";
    let row = db.query_one_raw(statement(db, sql, [id.into(), user_id.into()])).await?;
    row.as_ref().map(saved_filter_from_row).transpose()
}

/// Inserts the filter unless the name is taken or the user has `max` already (checked in the
/// same statement, so concurrent saves cannot pass the limit); the id, or None.
pub async fn insert_saved_filter(
    db: &impl ConnectionTrait,
    user_id: i64,
    name: &str,
    json: &str,
    max: i64,
    now: Micros,
) -> Result<Option<i64>> {
    let sql = "INSERT INTO saved_filters (user_id, name, filter_json, created_at) \
               SELECT $1, $2, $3, $4 WHERE (SELECT COUNT(*) FROM saved_filters WHERE user_id = $1) < $5 \
               ON CONFLICT (user_id, name) DO NOTHING RETURNING id";
    let row = db
        .query_one_raw(statement(db, sql, [user_id.into(), name.into(), json.into(), now.into(), max.into()]))
        .await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?)
}

pub async fn delete_saved_filter(db: &impl ConnectionTrait, user_id: i64, id: i64) -> Result<bool> {
    let sql = "DELETE FROM saved_filters WHERE id = $1 AND user_id = $2";
    Ok(db.execute_raw(statement(db, sql, [id.into(), user_id.into()])).await?.rows_affected() == 1)
}

fn saved_filter_from_row(row: &QueryResult) -> Result<SavedFilter> {
    let json: String = row.try_get_by_index(2)?;
    Ok(SavedFilter {
        id: row.try_get_by_index(0)?,
        name: row.try_get_by_index(1)?,
        filter: serde_json::from_str(&json).map_err(|e| Error::failed("reading a saved filter", e))?,
        created_at: row.try_get_by_index(3)?,
    })
}

fn from_row(row: &QueryResult) -> Result<Image> {
    let kind: String = column(row, 4)?;
    let ratio: String = column(row, 7)?;
    let bucket: String = column(row, 8)?;
    Ok(Image {
        id: column(row, 0)?,
        user_id: column(row, 1)?,
        generation_id: column(row, 2)?,
        avatar_id: column(row, 3)?,
        kind: ImageKind::parse(&kind)?,
        model: column(row, 5)?,
        prompt: column(row, 6)?,
        aspect_ratio: AspectRatio::parse(&ratio)?,
        bucket: Bucket::parse(&bucket).ok_or_else(|| Error::internal(format!("unknown bucket {bucket:?}")))?,
        storage_key: column(row, 9)?,
        content_type: column(row, 10)?,
        width: column::<i32>(row, 11)?.max(0) as u32,
        height: column::<i32>(row, 12)?.max(0) as u32,
        byte_size: column(row, 13)?,
        sha256: column(row, 14)?,
        favorite: column::<Option<i64>>(row, 15)?.is_some(),
        created_at: column(row, 16)?,
        telegram_file_id: column(row, 17)?,
        moderation: Moderation::from_stored(column::<Option<String>>(row, 18)?.as_deref()),
        duration_ms: column::<Option<i32>>(row, 19)?.map(|ms| ms.max(0) as u32),
        poster_key: column(row, 20)?,
    })
}

/// The images of these generations, oldest first (a generation's images in their order).
pub async fn of_generations(db: &impl ConnectionTrait, generation_ids: &[i64]) -> Result<Vec<Image>> {
    if generation_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM images WHERE 1 = 1"));
    sql.list("generation_id", generation_ids.iter().map(|id| (*id).into()).collect());
    sql.push(" ORDER BY id");
    sql.all(db).await?.iter().map(from_row).collect()
}

/// An image a job made, as it is recorded.
pub struct NewImage<'a> {
    pub user_id: i64,
    pub generation_id: i64,
    pub avatar_id: Option<i64>,
    pub kind: ImageKind,
    pub model: &'a str,
    pub prompt: &'a str,
    pub aspect_ratio: AspectRatio,
    pub storage_key: &'a str,
    pub content_type: &'a str,
    pub width: u32,
    pub height: u32,
    pub byte_size: i64,
    pub sha256: &'a str,
    pub moderation: Moderation,
    pub duration_ms: Option<u32>,
    pub poster_key: Option<&'a str>,
    pub now: Micros,
}

pub async fn insert_image(db: &impl ConnectionTrait, image: NewImage<'_>) -> Result<()> {
    let sql = "INSERT INTO images (user_id, generation_id, avatar_id, kind, model, prompt, aspect_ratio, bucket, \
               storage_key, content_type, width, height, byte_size, sha256, created_at, prompt_folded, moderation, \
               duration_ms, poster_key) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)";
    let values: [Value; 19] = [
        image.user_id.into(),
        image.generation_id.into(),
        image.avatar_id.into(),
        image.kind.as_str().into(),
        image.model.into(),
        image.prompt.into(),
        image.aspect_ratio.as_str().into(),
        image.kind.bucket().as_str().into(),
        image.storage_key.into(),
        image.content_type.into(),
        (image.width as i32).into(),
        (image.height as i32).into(),
        image.byte_size.into(),
        image.sha256.into(),
        image.now.into(),
        image.prompt.to_lowercase().into(),
        image.moderation.stored().into(),
        image.duration_ms.map(|ms| ms.min(i32::MAX as u32) as i32).into(),
        image.poster_key.map(str::to_owned).into(),
    ];
    db.execute_raw(statement(db, sql, values)).await?;
    Ok(())
}
