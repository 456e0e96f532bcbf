//! The SQL that reads generations (image jobs) for their owner; what the job engine writes is
//! in `domain/jobs/repository.rs`.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::domain::paging::Seek;

use super::model::GenerationStatus;
use crate::adapters::db::{entity::generations, seek_by_id};
use crate::domain::Result;
use crate::domain::jobs::{Job, JobKind};

fn image_jobs() -> sea_orm::Select<generations::Entity> {
    generations::Entity::find().filter(generations::Column::Purpose.eq(JobKind::Image.as_str()))
}

pub async fn find_by_key(db: &impl ConnectionTrait, user_id: i64, key: &str) -> Result<Option<Job>> {
    let row = image_jobs()
        .filter(generations::Column::UserId.eq(user_id))
        .filter(generations::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?;
    row.map(Job::try_from).transpose()
}

/// Image jobs by id, whoever owns them.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[i64]) -> Result<Vec<Job>> {
    let rows = image_jobs().filter(generations::Column::Id.is_in(ids.iter().copied())).all(db).await?;
    rows.into_iter().map(Job::try_from).collect()
}

/// The user's generations, newest first, older than `before_id` when given.
/// The user's generations from a cursor (an id), newest first or, towards newer ones, oldest.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: i64,
    status: Option<GenerationStatus>,
    seek: Seek<i64>,
) -> Result<Vec<Job>> {
    let mut query = image_jobs().filter(generations::Column::UserId.eq(user_id));
    if let Some(status) = status {
        query = query.filter(generations::Column::Status.eq(status.as_str()));
    }
    let rows = seek_by_id(query, generations::Column::Id, seek).all(db).await?;
    rows.into_iter().map(Job::try_from).collect()
}

pub async fn count(db: &impl ConnectionTrait, user_id: i64, status: Option<GenerationStatus>) -> Result<u64> {
    let mut query = image_jobs().filter(generations::Column::UserId.eq(user_id));
    if let Some(status) = status {
        query = query.filter(generations::Column::Status.eq(status.as_str()));
    }
    Ok(query.count(db).await?)
}
