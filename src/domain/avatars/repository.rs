//! The SQL of avatars and their photos. Status changes are conditional on the current status,
//! so that a training that finishes, a cancel and a delete cannot both win.

use sea_orm::{ConnectionTrait, QueryResult, Value};

use super::model::{Avatar, AvatarPhoto, AvatarStatus, PhotoStatus, TrainingType};
use crate::adapters::db::statement;
use crate::domain::{Error, Result, time::Micros};

const COLUMNS: &str = "a.id, a.user_id, a.name, a.training_type, a.status, a.progress, a.is_main, a.trigger_phrase, \
    a.lora_key, a.error, a.training_job_id, a.created_at, a.updated_at, \
    (SELECT COUNT(*) FROM avatar_photos p WHERE p.avatar_id = a.id AND p.status = 'ACCEPTED'), \
    (SELECT COUNT(*) FROM generations g WHERE g.avatar_id = a.id AND g.purpose = 'IMAGE'), a.retraining";

/// The avatars training may start on (and whose photos may change): before a training, after
/// one that did not succeed, or trained and not retraining.
const TRAINABLE: &str = "(status IN ('DRAFT', 'FAILED', 'CANCELLED') OR (status = 'READY' AND NOT retraining))";

fn from_row(r: &QueryResult) -> Result<Avatar> {
    Ok(Avatar {
        id: r.try_get_by_index(0)?,
        user_id: r.try_get_by_index(1)?,
        name: r.try_get_by_index(2)?,
        training_type: TrainingType::parse(&r.try_get_by_index::<String>(3)?)?,
        status: AvatarStatus::parse(&r.try_get_by_index::<String>(4)?)?,
        progress: r.try_get_by_index::<i32>(5)?.clamp(0, 100) as u8,
        is_main: r.try_get_by_index(6)?,
        trigger_phrase: r.try_get_by_index(7)?,
        lora_key: r.try_get_by_index(8)?,
        error: r.try_get_by_index(9)?,
        training_job_id: r.try_get_by_index(10)?,
        created_at: r.try_get_by_index(11)?,
        updated_at: r.try_get_by_index(12)?,
        photo_count: r.try_get_by_index(13)?,
        generation_count: r.try_get_by_index(14)?,
        retraining: r.try_get_by_index(15)?,
    })
}

pub struct NewAvatar<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub training_type: TrainingType,
    pub is_main: bool,
    pub trigger_phrase: &'a str,
    pub now: Micros,
}

pub async fn insert(db: &impl ConnectionTrait, a: NewAvatar<'_>) -> Result<i64> {
    let sql = "INSERT INTO avatars (user_id, name, training_type, status, progress, is_main, trigger_phrase, created_at, updated_at) \
               VALUES ($1, $2, $3, 'DRAFT', 0, $4, $5, $6, $6) RETURNING id";
    let values: [Value; 6] = [
        a.user_id.into(),
        a.name.into(),
        a.training_type.as_str().into(),
        a.is_main.into(),
        a.trigger_phrase.into(),
        a.now.into(),
    ];
    let row =
        db.query_one_raw(statement(db, sql, values)).await?.ok_or_else(|| Error::internal("insert returned no row"))?;
    Ok(row.try_get_by_index(0)?)
}

/// Holds the owner's row until the transaction ends, so that racing creations count each other.
pub async fn lock_owner(db: &impl ConnectionTrait, user_id: i64) -> Result<()> {
    db.execute_raw(statement(db, "UPDATE users SET updated_at = updated_at WHERE id = $1", [user_id.into()])).await?;
    Ok(())
}

pub async fn count(db: &impl ConnectionTrait, user_id: i64) -> Result<i64> {
    let row =
        db.query_one_raw(statement(db, "SELECT COUNT(*) FROM avatars WHERE user_id = $1", [user_id.into()])).await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
}

/// Keeps only the newest `keep` refused photos of an avatar (their rows tell why; nothing else
/// of them is stored).
pub async fn forget_old_rejections(db: &impl ConnectionTrait, avatar_id: i64, keep: i64) -> Result<u64> {
    let sql = "DELETE FROM avatar_photos WHERE avatar_id = $1 AND status = 'REJECTED' AND id NOT IN \
               (SELECT id FROM avatar_photos WHERE avatar_id = $1 AND status = 'REJECTED' ORDER BY id DESC LIMIT $2)";
    Ok(db.execute_raw(statement(db, sql, [avatar_id.into(), keep.into()])).await?.rows_affected())
}

/// The avatar, when it is this user's.
pub async fn find(db: &impl ConnectionTrait, user_id: i64, id: i64) -> Result<Option<Avatar>> {
    let sql = format!("SELECT {COLUMNS} FROM avatars a WHERE a.id = $1 AND a.user_id = $2");
    db.query_one_raw(statement(db, &sql, [id.into(), user_id.into()])).await?.as_ref().map(from_row).transpose()
}

/// Any user's avatar (for the job machinery, which acts for its owner).
pub async fn find_any(db: &impl ConnectionTrait, id: i64) -> Result<Option<Avatar>> {
    let sql = format!("SELECT {COLUMNS} FROM avatars a WHERE a.id = $1");
    db.query_one_raw(statement(db, &sql, [id.into()])).await?.as_ref().map(from_row).transpose()
}

pub async fn list(db: &impl ConnectionTrait, user_id: i64) -> Result<Vec<Avatar>> {
    let sql = format!("SELECT {COLUMNS} FROM avatars a WHERE a.user_id = $1 ORDER BY a.created_at DESC, a.id DESC");
    db.query_all_raw(statement(db, &sql, [user_id.into()])).await?.iter().map(from_row).collect()
}

/// Makes this avatar the user's only main one; false if it is not theirs.
pub async fn rename(db: &impl ConnectionTrait, user_id: i64, id: i64, name: &str, now: Micros) -> Result<bool> {
    let sql = "UPDATE avatars SET name = $1, updated_at = $2 WHERE id = $3 AND user_id = $4";
    let done = db.execute_raw(statement(db, sql, [name.into(), now.into(), id.into(), user_id.into()])).await?;
    Ok(done.rows_affected() == 1)
}

/// The user's main avatar, if they marked one.
pub async fn main_of(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<i64>> {
    let sql = "SELECT id FROM avatars WHERE user_id = $1 AND is_main = TRUE";
    let row = db.query_one_raw(statement(db, sql, [user_id.into()])).await?;
    Ok(row.map(|r| r.try_get_by_index(0)).transpose()?)
}

pub async fn set_main(db: &impl ConnectionTrait, user_id: i64, id: i64, now: Micros) -> Result<bool> {
    let sql = "UPDATE avatars SET is_main = (id = $1), updated_at = $2 WHERE user_id = $3";
    db.execute_raw(statement(db, sql, [id.into(), now.into(), user_id.into()])).await?;
    Ok(find(db, user_id, id).await?.is_some())
}

pub async fn delete(db: &impl ConnectionTrait, user_id: i64, id: i64) -> Result<bool> {
    let sql = "DELETE FROM avatars WHERE id = $1 AND user_id = $2";
    Ok(db.execute_raw(statement(db, sql, [id.into(), user_id.into()])).await?.rows_affected() == 1)
}

/// Moves an editable avatar to `TRAINING` under this job; false if it is not editable.
/// Takes the avatar's row lock for this transaction, if its photos may change (not training or
/// trained); false otherwise.
pub async fn lock_editable(tx: &impl ConnectionTrait, avatar_id: i64, now: Micros) -> Result<bool> {
    let sql = format!("UPDATE avatars SET updated_at = $1 WHERE id = $2 AND {TRAINABLE}");
    Ok(tx.execute_raw(statement(tx, &sql, [now.into(), avatar_id.into()])).await?.rows_affected() == 1)
}

pub async fn begin_training(db: &impl ConnectionTrait, id: i64, now: Micros) -> Result<bool> {
    // A `READY` avatar stays `READY` (its weights in use) and is marked `retraining`.
    let sql = format!(
        "UPDATE avatars SET status = CASE WHEN status = 'READY' THEN 'READY' ELSE 'TRAINING' END, \
         retraining = (status = 'READY'), lora_key = CASE WHEN status = 'READY' THEN lora_key ELSE NULL END, \
         progress = 0, error = NULL, updated_at = $1 WHERE id = $2 AND {TRAINABLE}"
    );
    Ok(db.execute_raw(statement(db, &sql, [now.into(), id.into()])).await?.rows_affected() == 1)
}

pub async fn set_training_job(db: &impl ConnectionTrait, id: i64, job_id: i64) -> Result<()> {
    let sql = "UPDATE avatars SET training_job_id = $1 WHERE id = $2";
    db.execute_raw(statement(db, sql, [job_id.into(), id.into()])).await?;
    Ok(())
}

pub async fn training_progress(db: &impl ConnectionTrait, job_id: i64, progress: u8, now: Micros) -> Result<()> {
    let sql = "UPDATE avatars SET progress = $1, updated_at = $2 \
               WHERE training_job_id = $3 AND (status = 'TRAINING' OR retraining)";
    db.execute_raw(statement(db, sql, [i32::from(progress).into(), now.into(), job_id.into()])).await?;
    Ok(())
}

/// Ends the training of this job: `READY` with the weights, or `FAILED`/`CANCELLED` with why. A
/// retraining that did not succeed leaves the avatar `READY` with its old weights, and why.
pub async fn finish_training(
    db: &impl ConnectionTrait,
    job_id: i64,
    status: AvatarStatus,
    lora_key: Option<&str>,
    error: Option<&str>,
    now: Micros,
) -> Result<bool> {
    let progress = if status == AvatarStatus::Ready { 100 } else { 0 };
    let sql = "UPDATE avatars SET status = CASE WHEN retraining THEN 'READY' ELSE $1 END, \
               progress = CASE WHEN retraining THEN 100 ELSE $2 END, \
               lora_key = CASE WHEN retraining AND $3 IS NULL THEN lora_key ELSE $3 END, \
               error = $4, retraining = FALSE, updated_at = $5 \
               WHERE training_job_id = $6 AND (status = 'TRAINING' OR retraining)";
    let values: [Value; 6] = [
        status.as_str().into(),
        progress.into(),
        lora_key.map(str::to_owned).into(),
        error.map(str::to_owned).into(),
        now.into(),
        job_id.into(),
    ];
    Ok(db.execute_raw(statement(db, sql, values)).await?.rows_affected() == 1)
}

const PHOTO_COLUMNS: &str =
    "id, avatar_id, status, reject_reason, storage_key, content_type, width, height, byte_size, sha256, created_at";

fn photo_from_row(r: &QueryResult) -> Result<AvatarPhoto> {
    Ok(AvatarPhoto {
        id: r.try_get_by_index(0)?,
        avatar_id: r.try_get_by_index(1)?,
        status: PhotoStatus::parse(&r.try_get_by_index::<String>(2)?),
        reject_reason: r.try_get_by_index(3)?,
        storage_key: r.try_get_by_index(4)?,
        content_type: r.try_get_by_index(5)?,
        width: r.try_get_by_index::<Option<i32>>(6)?.map(|w| w.max(0) as u32),
        height: r.try_get_by_index::<Option<i32>>(7)?.map(|h| h.max(0) as u32),
        byte_size: r.try_get_by_index(8)?,
        sha256: r.try_get_by_index(9)?,
        created_at: r.try_get_by_index(10)?,
    })
}

/// The avatar's photos, accepted and refused, oldest first.
pub async fn photos(db: &impl ConnectionTrait, avatar_id: i64) -> Result<Vec<AvatarPhoto>> {
    photos_of(db, &[avatar_id]).await
}

/// The photos of these avatars, oldest first (for a list of avatars at once).
pub async fn photos_of(db: &impl ConnectionTrait, avatar_ids: &[i64]) -> Result<Vec<AvatarPhoto>> {
    if avatar_ids.is_empty() {
        return Ok(Vec::new());
    }
    let params: Vec<String> = (1..=avatar_ids.len()).map(|n| format!("${n}")).collect();
    let sql =
        format!("SELECT {PHOTO_COLUMNS} FROM avatar_photos WHERE avatar_id IN ({}) ORDER BY id", params.join(", "));
    let values = avatar_ids.iter().map(|id| Value::from(*id));
    db.query_all_raw(statement(db, &sql, values)).await?.iter().map(photo_from_row).collect()
}

pub async fn photo(db: &impl ConnectionTrait, user_id: i64, id: i64) -> Result<Option<AvatarPhoto>> {
    let sql = format!("SELECT {PHOTO_COLUMNS} FROM avatar_photos WHERE id = $1 AND user_id = $2");
    db.query_one_raw(statement(db, &sql, [id.into(), user_id.into()])).await?.as_ref().map(photo_from_row).transpose()
}

pub struct NewPhoto<'a> {
    pub avatar_id: i64,
    pub user_id: i64,
    pub status: PhotoStatus,
    pub reject_reason: Option<&'a str>,
    pub storage_key: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub byte_size: i64,
    pub sha256: &'a str,
    pub now: Micros,
}

pub async fn insert_photo(db: &impl ConnectionTrait, p: NewPhoto<'_>) -> Result<i64> {
    let sql = "INSERT INTO avatar_photos (avatar_id, user_id, status, reject_reason, storage_key, content_type, width, height, \
               byte_size, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
    let values: [Value; 11] = [
        p.avatar_id.into(),
        p.user_id.into(),
        p.status.as_str().into(),
        p.reject_reason.map(str::to_owned).into(),
        p.storage_key.map(str::to_owned).into(),
        p.content_type.map(str::to_owned).into(),
        p.width.map(|w| w as i32).into(),
        p.height.map(|h| h as i32).into(),
        p.byte_size.into(),
        p.sha256.into(),
        p.now.into(),
    ];
    let row =
        db.query_one_raw(statement(db, sql, values)).await?.ok_or_else(|| Error::internal("insert returned no row"))?;
    Ok(row.try_get_by_index(0)?)
}

pub async fn delete_photo(db: &impl ConnectionTrait, id: i64) -> Result<()> {
    db.execute_raw(statement(db, "DELETE FROM avatar_photos WHERE id = $1", [id.into()])).await?;
    Ok(())
}

pub async fn accepted_count(db: &impl ConnectionTrait, avatar_id: i64) -> Result<i64> {
    let sql = "SELECT COUNT(*) FROM avatar_photos WHERE avatar_id = $1 AND status = 'ACCEPTED'";
    let row =
        db.query_one_raw(statement(db, sql, [avatar_id.into()])).await?.ok_or_else(|| Error::internal("no count"))?;
    Ok(row.try_get_by_index(0)?)
}
