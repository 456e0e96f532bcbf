//! The SQL of jobs (the `generations` table, images and trainings alike). A step is taken under a
//! claim (`claimed_by`, `claimed_until`); everything a step records is conditional on its claim
//! and on the job still being active, so that of two racing writers (a step and a webhook, a
//! reaper and a cancel) exactly one wins and the other sees no row.

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect, Value,
};

use super::model::{Job, JobKind};
use crate::adapters::db::{entity::generations, is_postgres, statement};
use crate::domain::generations::{AspectRatio, GenerationStatus};
use crate::domain::{Result, time::Micros};
use crate::providers::ProviderHandle;

const ACTIVE: &str = "('PENDING', 'QUEUED', 'RUNNING')";

pub struct NewJob<'a> {
    pub user_id: i64,
    pub kind: JobKind,
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
    /// `PENDING`, or `QUEUED` behind the user's other jobs in flight.
    pub status: GenerationStatus,
    pub deadline_at: Micros,
    pub now: Micros,
    pub template_id: Option<i64>,
    pub original_prompt: Option<&'a str>,
    pub source_image_id: Option<i64>,
}

/// Inserts a job; None when the user already has one with this idempotency key.
pub async fn insert(db: &impl ConnectionTrait, job: NewJob<'_>) -> Result<Option<i64>> {
    let sql = "INSERT INTO generations (user_id, model, prompt, aspect_ratio, num_images, seed, avatar_id, status, \
               progress, cost, reservation_id, idempotency_key, provider, deadline_at, created_at, updated_at, purpose, next_step_at, \
               template_id, original_prompt, source_image_id) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $15, 0, $8, $9, $10, $11, $12, $13, $13, $14, $13, $16, $17, $18) \
               ON CONFLICT (user_id, idempotency_key) DO NOTHING RETURNING id";
    let values: [Value; 18] = [
        job.user_id.into(),
        job.model.into(),
        job.prompt.into(),
        job.aspect_ratio.as_str().into(),
        i32::from(job.num_images).into(),
        job.seed.into(),
        job.avatar_id.into(),
        job.cost.into(),
        job.reservation_id.into(),
        job.idempotency_key.map(str::to_owned).into(),
        job.provider.into(),
        job.deadline_at.into(),
        job.now.into(),
        job.kind.as_str().into(),
        job.status.as_str().into(),
        job.template_id.into(),
        job.original_prompt.map(str::to_owned).into(),
        job.source_image_id.into(),
    ];
    let inserted = db.query_one_raw(statement(db, sql, values)).await?;
    Ok(inserted.map(|r| r.try_get_by_index::<i64>(0)).transpose()?)
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<Job>> {
    generations::Entity::find_by_id(id).one(db).await?.map(Job::try_from).transpose()
}

pub async fn find_by_request_id(db: &impl ConnectionTrait, request_id: &str) -> Result<Option<Job>> {
    let row = generations::Entity::find().filter(generations::Column::ProviderRequestId.eq(request_id)).one(db).await?;
    row.map(Job::try_from).transpose()
}

/// Decodes rows that `RETURNING *` gave back.
async fn returned(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Result<Vec<Job>> {
    let rows = db.query_all_raw(statement(db, sql, values)).await?;
    rows.iter().map(|row| Job::try_from(generations::Model::from_query_result(row, "")?)).collect()
}

/// Jobs counted against a user's cap: submitted and active, or being submitted now.
const IN_FLIGHT: &str =
    "status IN ('PENDING', 'QUEUED', 'RUNNING') AND (provider_request_id IS NOT NULL OR claimed_until >= $4)";

/// Claims up to `limit` jobs to submit, fairly: the oldest unsubmitted job of each user with
/// fewer than `per_user` jobs in flight is a candidate (one per user per claim), and the users
/// with the fewest in flight go first (then the oldest job), so one user's burst never holds up
/// another's job. Both per-user aggregates are materialized: each is computed once, whatever plan
/// the statistics of a freshly filled table suggest (a nested loop over them re-ran the inner one
/// for every candidate). Two instances claiming at the same instant may each admit one job of a
/// user past the cap.
pub async fn claim_for_submit(
    db: &impl ConnectionTrait,
    kind: JobKind,
    per_user: usize,
    token: &str,
    now: Micros,
    lease_until: Micros,
    limit: u64,
) -> Result<Vec<Job>> {
    let sql = format!(
        "WITH candidates AS MATERIALIZED (SELECT user_id, MIN(id) AS id FROM generations \
           WHERE purpose = $3 AND status IN ('PENDING', 'QUEUED') AND provider_request_id IS NULL \
           AND (claimed_until IS NULL OR claimed_until < $4) AND next_step_at <= $4 AND deadline_at > $4 GROUP BY user_id), \
         in_flight AS MATERIALIZED (SELECT user_id, COUNT(*) AS n FROM generations WHERE purpose = $3 AND {IN_FLIGHT} GROUP BY user_id), \
         chosen AS (SELECT c.id FROM candidates c LEFT JOIN in_flight f ON f.user_id = c.user_id \
           WHERE COALESCE(f.n, 0) < $5 ORDER BY COALESCE(f.n, 0), c.id LIMIT $6) \
         UPDATE generations SET claimed_until = $1, claimed_by = $2 \
         WHERE id IN (SELECT id FROM chosen) AND (claimed_until IS NULL OR claimed_until < $4) RETURNING *"
    );
    let values = vec![
        lease_until.into(),
        token.into(),
        kind.as_str().into(),
        now.into(),
        (per_user as i64).into(),
        (limit as i64).into(),
    ];
    returned(db, &sql, values).await
}

/// Claims up to `limit` submitted jobs whose next poll is due, the most overdue first.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    kind: JobKind,
    token: &str,
    now: Micros,
    lease_until: Micros,
    limit: u64,
) -> Result<Vec<Job>> {
    let lock = if is_postgres(db) { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE generations SET claimed_until = $1, claimed_by = $2 WHERE id IN (\
         SELECT id FROM generations WHERE purpose = $3 AND status IN {ACTIVE} AND provider_request_id IS NOT NULL \
         AND (claimed_until IS NULL OR claimed_until < $4) AND next_step_at <= $4 AND deadline_at > $4 \
         ORDER BY next_step_at LIMIT $5 {lock}) AND (claimed_until IS NULL OR claimed_until < $4) RETURNING *"
    );
    let values = vec![lease_until.into(), token.into(), kind.as_str().into(), now.into(), (limit as i64).into()];
    returned(db, &sql, values).await
}

/// How many of the user's jobs of this kind are active (in flight, or waiting their turn).
pub async fn active_jobs(db: &impl ConnectionTrait, user_id: i64, kind: JobKind) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM generations WHERE user_id = $1 AND purpose = $2 AND status IN {ACTIVE}");
    let row = db.query_one_raw(statement(db, &sql, [user_id.into(), kind.as_str().into()])).await?;
    Ok(row.map(|r| r.try_get_by_index::<i64>(0)).transpose()?.unwrap_or(0))
}

/// Records the provider's handle, moves the job to `QUEUED` and ends the claim; false if the
/// claim is not ours any more or the job ended meanwhile.
pub async fn record_handle(
    db: &impl ConnectionTrait,
    id: i64,
    token: &str,
    handle: &ProviderHandle,
    progress: u8,
    next_step_at: Micros,
    now: Micros,
) -> Result<bool> {
    let sql = "UPDATE generations SET status = 'QUEUED', progress = $1, provider_request_id = $2, status_url = $3, \
               response_url = $4, cancel_url = $5, updated_at = $6, next_step_at = $7, attempts = 0, \
               claimed_until = NULL, claimed_by = NULL \
               WHERE id = $8 AND claimed_by = $9 AND status IN ('PENDING', 'QUEUED') AND provider_request_id IS NULL";
    let values: [Value; 9] = [
        i32::from(progress).into(),
        handle.request_id.clone().into(),
        handle.status_url.clone().into(),
        handle.response_url.clone().into(),
        handle.cancel_url.clone().into(),
        now.into(),
        next_step_at.into(),
        id.into(),
        token.into(),
    ];
    Ok(db.execute_raw(statement(db, sql, values)).await?.rows_affected() == 1)
}

/// Records what a poll found and ends the claim until the next poll; false if the claim is
/// not ours any more or the job ended meanwhile.
pub async fn record_poll(
    db: &impl ConnectionTrait,
    id: i64,
    token: &str,
    polled: Polled,
    next_step_at: Micros,
    now: Micros,
) -> Result<bool> {
    let sql = format!(
        "UPDATE generations SET status = $1, progress = $2, next_step_at = $3, attempts = 0, claimed_until = NULL, claimed_by = NULL, \
         queue_position = $7, \
         updated_at = CASE WHEN status = $1 AND progress = $2 THEN updated_at ELSE $4 END \
         WHERE id = $5 AND claimed_by = $6 AND status IN {ACTIVE}"
    );
    let position = polled.queue_position.map(|p| p.min(i32::MAX as u32) as i32);
    let values: [Value; 7] = [
        polled.status.as_str().into(),
        i32::from(polled.progress).into(),
        next_step_at.into(),
        now.into(),
        id.into(),
        token.into(),
        position.into(),
    ];
    Ok(db.execute_raw(statement(db, &sql, values)).await?.rows_affected() == 1)
}

/// What a poll found: the job's status and progress, and its queue position while queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Polled {
    pub status: GenerationStatus,
    pub progress: u8,
    pub queue_position: Option<u32>,
}

/// How long the last `limit` completed generations of a model took, creation to completion.
pub async fn recent_durations(db: &impl ConnectionTrait, model: &str, limit: u64) -> Result<Vec<i64>> {
    let sql = "SELECT completed_at - created_at FROM generations \
               WHERE model = $1 AND purpose = 'IMAGE' AND status = 'COMPLETED' AND completed_at IS NOT NULL \
               ORDER BY id DESC LIMIT $2";
    let rows = db.query_all_raw(statement(db, sql, [model.into(), (limit as i64).into()])).await?;
    Ok(rows.iter().map(|r| r.try_get_by_index::<i64>(0)).collect::<std::result::Result<_, _>>()?)
}

/// The prompt a job sends (translated), and what the user wrote.
pub async fn set_prompt(db: &impl ConnectionTrait, id: i64, prompt: &str, original: &str) -> Result<()> {
    let sql = format!("UPDATE generations SET prompt = $1, original_prompt = $2 WHERE id = $3 AND status IN {ACTIVE}");
    db.execute_raw(statement(db, &sql, [prompt.into(), original.into(), id.into()])).await?;
    Ok(())
}

/// Records how many pictures the safety filter blocked, in the caller's transaction.
pub async fn set_blocked_images(db: &impl ConnectionTrait, id: i64, blocked: u8) -> Result<()> {
    let sql = "UPDATE generations SET blocked_images = $1 WHERE id = $2";
    db.execute_raw(statement(db, sql, [i32::from(blocked).into(), id.into()])).await?;
    Ok(())
}

/// Claims one active job, unless somebody holds it; true when this call did.
pub async fn claim(db: &impl ConnectionTrait, id: i64, token: &str, now: Micros, lease_until: Micros) -> Result<bool> {
    let sql = format!(
        "UPDATE generations SET claimed_until = $1, claimed_by = $2 \
         WHERE id = $3 AND status IN {ACTIVE} AND (claimed_until IS NULL OR claimed_until < $4)"
    );
    let values = [lease_until.into(), token.into(), id.into(), now.into()];
    Ok(db.execute_raw(statement(db, &sql, values)).await?.rows_affected() == 1)
}

/// Ends our claim without changing anything else.
pub async fn unclaim(db: &impl ConnectionTrait, id: i64, token: &str) -> Result<()> {
    let sql = "UPDATE generations SET claimed_until = NULL, claimed_by = NULL WHERE id = $1 AND claimed_by = $2";
    db.execute_raw(statement(db, sql, [id.into(), token.into()])).await?;
    Ok(())
}

/// Ends the claim after a failed step; the job is looked at again at `retry_at`.
pub async fn retry_later(db: &impl ConnectionTrait, id: i64, token: &str, retry_at: Micros) -> Result<bool> {
    let sql = "UPDATE generations SET claimed_until = NULL, claimed_by = NULL, next_step_at = $1, attempts = attempts + 1 \
               WHERE id = $2 AND claimed_by = $3";
    Ok(db.execute_raw(statement(db, sql, [retry_at.into(), id.into(), token.into()])).await?.rows_affected() == 1)
}

/// Extends a claim while a long step runs; false if it is not ours any more.
pub async fn renew(db: &impl ConnectionTrait, id: i64, token: &str, lease_until: Micros) -> Result<bool> {
    let sql =
        format!("UPDATE generations SET claimed_until = $1 WHERE id = $2 AND claimed_by = $3 AND status IN {ACTIVE}");
    Ok(db.execute_raw(statement(db, &sql, [lease_until.into(), id.into(), token.into()])).await?.rows_affected() == 1)
}

/// Ends every claim matching the pattern (an instance's, on shutdown).
pub async fn release(db: &impl ConnectionTrait, pattern: &str) -> Result<u64> {
    let sql = "UPDATE generations SET claimed_until = NULL, claimed_by = NULL WHERE claimed_by LIKE $1";
    Ok(db.execute_raw(statement(db, sql, [pattern.into()])).await?.rows_affected())
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
         updated_at = $4, completed_at = $4, claimed_until = NULL, claimed_by = NULL \
         WHERE id = $5 AND status IN {ACTIVE} RETURNING reservation_id"
    );
    let values: [Value; 5] =
        [status.as_str().into(), error.map(str::to_owned).into(), progress.into(), now.into(), id.into()];
    let row = db.query_one_raw(statement(db, &sql, values)).await?;
    Ok(row.map(|r| r.try_get_by_index::<Option<i64>>(0)).transpose()?)
}

/// Active jobs whose deadline has passed.
pub async fn overdue(db: &impl ConnectionTrait, now: Micros, limit: u64) -> Result<Vec<Job>> {
    let rows = generations::Entity::find()
        .filter(generations::Column::Status.is_in(GenerationStatus::ACTIVE.map(GenerationStatus::as_str)))
        .filter(generations::Column::DeadlineAt.lte(now))
        .order_by_asc(generations::Column::DeadlineAt)
        .limit(limit)
        .all(db)
        .await?;
    rows.into_iter().map(Job::try_from).collect()
}

/// The active image jobs that use this avatar.
pub async fn active_with_avatar(db: &impl ConnectionTrait, avatar_id: i64) -> Result<Vec<Job>> {
    let rows = generations::Entity::find()
        .filter(generations::Column::AvatarId.eq(avatar_id))
        .filter(generations::Column::Purpose.eq(JobKind::Image.as_str()))
        .filter(generations::Column::Status.is_in(GenerationStatus::ACTIVE.map(GenerationStatus::as_str)))
        .all(db)
        .await?;
    rows.into_iter().map(Job::try_from).collect()
}

/// Every user's jobs in a status (all when None), newest first, older than `before_id`.
pub async fn list_all(
    db: &impl ConnectionTrait,
    status: Option<GenerationStatus>,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<Job>> {
    let mut query = generations::Entity::find();
    if let Some(status) = status {
        query = query.filter(generations::Column::Status.eq(status.as_str()));
    }
    if let Some(before) = before_id {
        query = query.filter(generations::Column::Id.lt(before));
    }
    let rows = query.order_by_desc(generations::Column::Id).limit(limit).all(db).await?;
    rows.into_iter().map(Job::try_from).collect()
}

/// Jobs waiting to be submitted, and when the oldest of them was created.
pub async fn queue_depth(db: &impl ConnectionTrait, kind: JobKind) -> Result<(i64, Option<Micros>)> {
    let sql = "SELECT COUNT(*), MIN(created_at) FROM generations \
               WHERE purpose = $1 AND status IN ('PENDING', 'QUEUED') AND provider_request_id IS NULL";
    match db.query_one_raw(statement(db, sql, [kind.as_str().into()])).await? {
        Some(row) => Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)),
        None => Ok((0, None)),
    }
}

/// Active jobs by purpose and status: how many in all, and how many this instance (claim tokens
/// matching `pattern`) holds a live claim on.
pub async fn census(db: &impl ConnectionTrait, pattern: &str, now: Micros) -> Result<Vec<JobCount>> {
    let sql = format!(
        "SELECT purpose, status, COUNT(*), \
                COALESCE(SUM(CASE WHEN claimed_by LIKE $1 AND claimed_until > $2 THEN 1 ELSE 0 END), 0) \
         FROM generations WHERE status IN {ACTIVE} GROUP BY purpose, status ORDER BY purpose, status"
    );
    let rows = db.query_all_raw(statement(db, &sql, [pattern.into(), now.into()])).await?;
    rows.iter()
        .map(|row| {
            Ok(JobCount {
                kind: row.try_get_by_index(0)?,
                status: row.try_get_by_index(1)?,
                total: row.try_get_by_index(2)?,
                held_here: row.try_get_by_index(3)?,
            })
        })
        .collect()
}

/// One line of [`census`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobCount {
    pub kind: String,
    pub status: String,
    pub total: i64,
    pub held_here: i64,
}
