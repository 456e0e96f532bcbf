//! `adminDashboard(from:, to:)`: the operator's figures, by day, and the queue now.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::admin::JobType;
use super::context::{require_admin, services};
use super::generations::GenerationState;
use crate::domain::{Result, dashboard, time::to_datetime};

#[derive(Default)]
pub struct DashboardQuery;

#[Object]
impl DashboardQuery {
    /// Admin only: what happened on the UTC days that `[from, to)` touches (at most 400), and
    /// the jobs waiting or running now.
    async fn admin_dashboard(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<AdminDashboard> {
        require_admin(ctx).await?;
        let dashboard = services(ctx).dashboard.dashboard(from.timestamp_micros(), to.timestamp_micros()).await?;
        Ok(AdminDashboard {
            new_users: dashboard.total(|d| d.new_users),
            generations: dashboard.total(|d| d.generations),
            credits_sold: dashboard.total(|d| d.credits_sold),
            credits_spent: dashboard.total(|d| d.credits_spent),
            stars_received: dashboard.total(|d| d.stars_received),
            failure_rate: dashboard.failure_rate(),
            days: dashboard.days.into_iter().map(Into::into).collect(),
            jobs: dashboard.jobs.into_iter().map(Into::into).collect(),
            queue: dashboard.queue.into_iter().map(Into::into).collect(),
        })
    }
}

/// The operator's figures for a period; each total is the sum of its days.
#[derive(SimpleObject)]
pub struct AdminDashboard {
    new_users: i64,
    /// Image generations created (trainings are in `jobs`).
    generations: i64,
    /// Credits bought with Stars.
    credits_sold: i64,
    /// Credits charged, less those refunded.
    credits_spent: i64,
    /// Stars paid, less those refunded.
    stars_received: i64,
    /// Failed among the jobs of the period that finished (cancelled ones aside); null when
    /// none finished.
    failure_rate: Option<f64>,
    /// Every day of the period, oldest first.
    days: Vec<DashboardDay>,
    /// Jobs created in the period, by type, model and status.
    jobs: Vec<JobTally>,
    /// Jobs waiting or running now (queue depth), by type, model and status.
    queue: Vec<JobTally>,
}

/// One UTC day.
#[derive(SimpleObject)]
pub struct DashboardDay {
    /// The day's start (00:00 UTC).
    day: DateTime<Utc>,
    new_users: i64,
    /// Users who started a generation or a training that day.
    active_users: i64,
    generations: i64,
    credits_sold: i64,
    credits_spent: i64,
    stars_received: i64,
}

impl From<dashboard::DashboardDay> for DashboardDay {
    fn from(d: dashboard::DashboardDay) -> Self {
        DashboardDay {
            day: to_datetime(d.day),
            new_users: d.new_users,
            active_users: d.active_users,
            generations: d.generations,
            credits_sold: d.credits_sold,
            credits_spent: d.credits_spent,
            stars_received: d.stars_received,
        }
    }
}

#[derive(SimpleObject)]
pub struct JobTally {
    job_type: JobType,
    model: String,
    status: GenerationState,
    count: i64,
}

impl From<dashboard::JobTally> for JobTally {
    fn from(j: dashboard::JobTally) -> Self {
        JobTally { job_type: j.kind.into(), model: j.model, status: j.status.into(), count: j.count }
    }
}
