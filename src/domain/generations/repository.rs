//! The SQL of generations and their images. State changes are conditional updates on the
//! current status, so that of two racing writers (a worker and a webhook, a reaper and a
//! cancel) exactly one wins and the other sees no row.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Value,
};

use super::model::{AspectRatio, Generation, GenerationStatus};
use crate::adapters::db::{entity::generations, is_postgres, statement};
use crate::domain::{Result, gallery::{Image, ImageKind}, time::Micros};
use crate::providers::ProviderHandle;

pub struct NewRow<'a> {
    pub user_id: i64,
    /// `IMAGE` or `TRAINING`.
    pub purpose: &'a str,
    pub model: &'a str,
    pub prompt: &'a str,
    pub aspect_ratio: AspectRatio,
    pub num_images: u8,
    pub seed: Option<i64>,
    pub avatar_id: Option<i64>,
    pub cost: i64,
    pub reservation_id: i64,
    pub idempotency_key: Option<&'a str>,
    pub provider: &'a str,
    pub deadline_at: Micros,
    pub now: Micros,
}

/// Inserts a `PENDING` generation; None when the user already has one with this key.
pub async fn insert(db: &impl ConnectionTrait, row: NewRow<'_>) -> Result<Option<i64>> {
    let sql = "INSERT INTO generations (user_id, model, prompt, aspect_ratio, num_images, seed, avatar_id, status, \
               progress, cost, reservation_id, idempotency_key, provider, deadline_at, created_at, updated_at, purpose) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', 0, $8, $9, $10, $11, $12, $13, $13, $14) \
               ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id";
    let values: [Value; 14] = [
        row.user_id.into(),
        row.model.into(),
        row.prompt.into(),
        row.aspect_ratio.as_str().into(),
        i32::from(row.num_images).into(),
        row.seed.into(),
        row.avatar_id.into(),
        row.cost.into(),
        row.reservation_id.into(),
        row.idempotency_key.map(str::to_owned).into(),
        row.provider.into(),
        row.deadline_at.into(),
        row.now.into(),
        row.purpose.into(),
    ];
    let inserted = db.query_one_raw(statement(db, sql, values)).await?;
    Ok(inserted.map(|r| r.try_get_by_index::<i64>(0)).transpose()?)
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<generations::Model>> {
    Ok(generations::Entity::find_by_id(id).one(db).await?)
}

pub async fn find_by_key(db: &impl ConnectionTrait, user_id: i64, key: &str) -> Result<Option<generations::Model>> {
    Ok(generations::Entity::find()
        .filter(generations::Column::UserId.eq(user_id))
        .filter(generations::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

pub async fn find_by_request_id(db: &impl ConnectionTrait, request_id: &str) -> Result<Option<generations::Model>> {
    Ok(generations::Entity::find().filter(generations::Column::ProviderRequestId.eq(request_id)).one(db).await?)
}

/// The user's generations, newest first, older than `before_id` when given.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: i64,
    status: Option<GenerationStatus>,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<generations::Model>> {
    let mut query = generations::Entity::find()
        .filter(generations::Column::UserId.eq(user_id))
        .filter(generations::Column::Purpose.eq("IMAGE"));
    if let Some(status) = status {
        query = query.filter(generations::Column::Status.eq(status.as_str()));
    }
    if let Some(before) = before_id {
        query = query.filter(generations::Column::Id.lt(before));
    }
    Ok(query.order_by_desc(generations::Column::Id).limit(limit).all(db).await?)
}

pub async fn count(db: &impl ConnectionTrait, user_id: i64, status: Option<GenerationStatus>) -> Result<u64> {
    use sea_orm::PaginatorTrait;
    let mut query = generations::Entity::find()
        .filter(generations::Column::UserId.eq(user_id))
        .filter(generations::Column::Purpose.eq("IMAGE"));
    if let Some(status) = status {
        query = query.filter(generations::Column::Status.eq(status.as_str()));
    }
    Ok(query.count(db).await?)
}

const ACTIVE: &str = "('PENDING', 'QUEUED', 'RUNNING')";

/// Takes the oldest active job that nobody holds (or whose holder's lease ran out) until
/// `lease_until`. PostgreSQL skips rows other workers are claiming; SQLite has one writer.
pub async fn claim(db: &impl ConnectionTrait, now: Micros, lease_until: Micros) -> Result<Option<generations::Model>> {
    let lock = if is_postgres(db) { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE generations SET claimed_until = $1, attempts = attempts + 1 WHERE id = (\
         SELECT id FROM generations WHERE status IN {ACTIVE} AND (claimed_until IS NULL OR claimed_until < $2) \
         AND deadline_at > $2 ORDER BY id LIMIT 1 {lock}) RETURNING id"
    );
    let Some(row) = db.query_one_raw(statement(db, &sql, [lease_until.into(), now.into()])).await? else {
        return Ok(None);
    };
    find(db, row.try_get_by_index(0)?).await
}

/// Records the provider's handle and moves the job to `QUEUED`; false if it is no longer pending.
pub async fn set_handle(db: &impl ConnectionTrait, id: i64, handle: &ProviderHandle, progress: u8, now: Micros) -> Result<bool> {
    let sql = "UPDATE generations SET status = 'QUEUED', progress = $1, provider_request_id = $2, status_url = $3, \
               response_url = $4, cancel_url = $5, updated_at = $6 \
               WHERE id = $7 AND status = 'PENDING' AND provider_request_id IS NULL";
    let values: [Value; 7] = [
        i32::from(progress).into(),
        handle.request_id.clone().into(),
        handle.status_url.clone().into(),
        handle.response_url.clone().into(),
        handle.cancel_url.clone().into(),
        now.into(),
        id.into(),
    ];
    Ok(db.execute_raw(statement(db, sql, values)).await?.rows_affected() == 1)
}

/// Records progress and renews the worker's lease; false if the job is no longer active.
pub async fn touch(
    db: &impl ConnectionTrait,
    id: i64,
    status: GenerationStatus,
    progress: u8,
    lease_until: Micros,
    now: Micros,
) -> Result<bool> {
    let sql = format!(
        "UPDATE generations SET status = $1, progress = $2, claimed_until = $3, \
         updated_at = CASE WHEN status = $1 AND progress = $2 THEN updated_at ELSE $4 END \
         WHERE id = $5 AND status IN {ACTIVE}"
    );
    let values: [Value; 5] = [status.as_str().into(), i32::from(progress).into(), lease_until.into(), now.into(), id.into()];
    Ok(db.execute_raw(statement(db, &sql, values)).await?.rows_affected() == 1)
}

/// Lets another worker (or this one, later) take the job after `retry_at`.
pub async fn release_claim(db: &impl ConnectionTrait, id: i64, retry_at: Micros) -> Result<()> {
    let sql = "UPDATE generations SET claimed_until = $1 WHERE id = $2";
    db.execute_raw(statement(db, sql, [retry_at.into(), id.into()])).await?;
    Ok(())
}

/// Moves an active job to a terminal status; returns its reservation when this call did it.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: i64,
    status: GenerationStatus,
    error: Option<&str>,
    now: Micros,
) -> Result<Option<Option<i64>>> {
    let progress = if status == GenerationStatus::Completed { 100 } else { 0 };
    let sql = format!(
        "UPDATE generations SET status = $1, error = $2, progress = CASE WHEN $3 = 100 THEN 100 ELSE progress END, \
         updated_at = $4, completed_at = $4, claimed_until = NULL \
         WHERE id = $5 AND status IN {ACTIVE} RETURNING reservation_id"
    );
    let values: [Value; 5] = [status.as_str().into(), error.map(str::to_owned).into(), progress.into(), now.into(), id.into()];
    let row = db.query_one_raw(statement(db, &sql, values)).await?;
    Ok(row.map(|r| r.try_get_by_index::<Option<i64>>(0)).transpose()?)
}

/// Active jobs whose deadline has passed.
pub async fn overdue(db: &impl ConnectionTrait, now: Micros, limit: u64) -> Result<Vec<generations::Model>> {
    Ok(generations::Entity::find()
        .filter(generations::Column::Status.is_in(GenerationStatus::ACTIVE.map(GenerationStatus::as_str)))
        .filter(generations::Column::DeadlineAt.lte(now))
        .order_by_asc(generations::Column::DeadlineAt)
        .limit(limit)
        .all(db)
        .await?)
}

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
    pub now: Micros,
}

pub async fn insert_image(db: &impl ConnectionTrait, image: NewImage<'_>) -> Result<()> {
    let sql = "INSERT INTO images (user_id, generation_id, avatar_id, kind, model, prompt, aspect_ratio, bucket, \
               storage_key, content_type, width, height, byte_size, sha256, created_at, prompt_folded) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)";
    let values: [Value; 16] = [
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
    ];
    db.execute_raw(statement(db, sql, values)).await?;
    Ok(())
}

/// A generation row with its images, as the domain model.
pub fn to_generation(m: generations::Model, images: Vec<Image>) -> Result<Generation> {
    Ok(Generation {
        id: m.id,
        user_id: m.user_id,
        model: m.model,
        prompt: m.prompt,
        aspect_ratio: AspectRatio::parse(&m.aspect_ratio)?,
        num_images: m.num_images.clamp(0, 255) as u8,
        seed: m.seed,
        avatar_id: m.avatar_id,
        status: GenerationStatus::parse(&m.status)?,
        progress: m.progress.clamp(0, 100) as u8,
        cost: m.cost,
        error: m.error,
        created_at: m.created_at,
        updated_at: m.updated_at,
        completed_at: m.completed_at,
        images,
    })
}

/// The provider handle stored on a row, once submitted.
pub fn handle_of(m: &generations::Model) -> Option<ProviderHandle> {
    m.provider_request_id.as_ref().map(|request_id| ProviderHandle {
        request_id: request_id.clone(),
        status_url: m.status_url.clone(),
        response_url: m.response_url.clone(),
        cancel_url: m.cancel_url.clone(),
    })
}
