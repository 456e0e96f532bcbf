//! The operator's view of what may be stuck: every user's jobs (and a refund for one that is),
//! and the Telegram updates that failed every attempt (and a retry). Admin only.

use super::pagination::page_cost;
use async_graphql::{
    Context, Enum, ID, Object,
    connection::{Connection, Edge, EmptyFields},
};
use chrono::{DateTime, Utc};

use super::context::{require_admin, services};
use super::generations::GenerationState;
use super::ids::{Kind, decode_as, encode};
use super::pagination::{decode_id_cursor, id_cursor, page_size};
use crate::domain::{
    Result,
    generations::GenerationStatus,
    inbox::{InboxEntry, InboxStatus, Lane},
    jobs::{Job, JobKind},
    time::to_datetime,
};

#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Admin only: every user's jobs (generations and trainings), newest first.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn admin_jobs(
        &self,
        ctx: &Context<'_>,
        status: Option<GenerationState>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, AdminJob, EmptyFields, EmptyFields>> {
        require_admin(ctx).await?;
        let limit = page_size(ctx, first, 20)?;
        let before_id = after.as_deref().map(|c| decode_id_cursor("job", c)).transpose()?;
        let (jobs, more) = services(ctx).jobs.list_all(status.map(GenerationStatus::from), before_id, limit).await?;
        let mut connection = Connection::new(before_id.is_some(), more);
        connection.edges.extend(jobs.into_iter().map(|job| Edge::new(id_cursor("job", job.id), AdminJob(job))));
        Ok(connection)
    }

    /// Admin only: Telegram updates in a status (`PARKED`: failed every attempt), newest first.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn admin_telegram_updates(
        &self,
        ctx: &Context<'_>,
        status: UpdateStatus,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, TelegramUpdate, EmptyFields, EmptyFields>> {
        require_admin(ctx).await?;
        let limit = page_size(ctx, first, 20)?;
        let before_id = after.as_deref().map(|c| decode_id_cursor("upd", c)).transpose()?;
        let (updates, more) = services(ctx).inbox.list(status.into(), before_id, limit).await?;
        let mut connection = Connection::new(before_id.is_some(), more);
        connection
            .edges
            .extend(updates.into_iter().map(|u| Edge::new(id_cursor("upd", u.update_id), TelegramUpdate(u))));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Admin only: settles a stuck job — failed, refunded, cancelled at the provider.
    async fn admin_refund_job(&self, ctx: &Context<'_>, id: ID) -> Result<AdminJob> {
        require_admin(ctx).await?;
        let job_id = decode_as(&id, Kind::Job, "job")?;
        let job = services(ctx).jobs.refund_by_operator(job_id).await?;
        super::console::audit(ctx, "adminRefundJob", id.as_str(), None, serde_json::json!({ "cost": job.cost }))
            .await?;
        Ok(AdminJob(job))
    }

    /// Admin only: a parked Telegram update is handled again; false if it is not parked.
    async fn admin_retry_telegram_update(&self, ctx: &Context<'_>, update_id: String) -> Result<bool> {
        require_admin(ctx).await?;
        let id = update_id.parse().map_err(|_| crate::domain::Error::invalid("updateId must be a number"))?;
        let requeued = services(ctx).inbox.requeue(id).await?;
        if requeued {
            super::console::audit(ctx, "adminRetryTelegramUpdate", &update_id, None, serde_json::json!({})).await?;
        }
        Ok(requeued)
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "JobKind")]
pub enum JobType {
    Image,
    Training,
}

/// A job, as the operator sees it.
pub struct AdminJob(Job);

#[Object]
impl AdminJob {
    async fn id(&self) -> ID {
        encode(Kind::Job, self.0.id)
    }
    /// The generation's id, for an image job.
    async fn generation_id(&self) -> Option<ID> {
        (self.0.kind() == JobKind::Image).then(|| encode(Kind::Generation, self.0.id))
    }
    async fn user_id(&self) -> ID {
        encode(Kind::User, self.0.user_id)
    }
    async fn avatar_id(&self) -> Option<ID> {
        self.0.avatar_id().map(|id| encode(Kind::Avatar, id))
    }
    #[graphql(name = "type")]
    async fn job_type(&self) -> JobType {
        self.0.kind().into()
    }
    async fn model(&self) -> &str {
        &self.0.model
    }
    async fn status(&self) -> GenerationState {
        self.0.status.into()
    }
    async fn progress(&self) -> i32 {
        i32::from(self.0.progress)
    }
    async fn cost(&self) -> i64 {
        self.0.cost
    }
    /// Failed steps in a row.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn provider_request_id(&self) -> Option<&str> {
        self.0.handle.as_ref().map(|h| h.request_id.as_str())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.updated_at)
    }
    async fn deadline_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.deadline_at)
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "InboxStatus")]
pub enum UpdateStatus {
    Pending,
    Done,
    /// Failed every attempt; kept until retried.
    Parked,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "Lane")]
pub enum UpdateLane {
    Chat,
    Checkout,
}

/// A Telegram update in the inbox.
pub struct TelegramUpdate(InboxEntry);

#[Object]
impl TelegramUpdate {
    /// Telegram's `update_id` (a string: it does not fit GraphQL's Int).
    async fn update_id(&self) -> String {
        self.0.update_id.to_string()
    }
    /// The chat (or user) it belongs to.
    async fn chat_id(&self) -> String {
        self.0.chat_key.to_string()
    }
    async fn lane(&self) -> UpdateLane {
        self.0.lane.into()
    }
    async fn status(&self) -> UpdateStatus {
        self.0.status.into()
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Why the last attempt failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// The update as Telegram sent it (JSON; emptied once handled).
    async fn payload(&self) -> &str {
        &self.0.payload
    }
    async fn received_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.received_at)
    }
}
