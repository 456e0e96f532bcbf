//! `adminAnalytics(from:, to:)`: where users came from and what they went on to do.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::{require_admin, services};
use crate::domain::{Result, time::to_datetime};

#[derive(Default)]
pub struct AnalyticsQuery;

#[Object]
impl AnalyticsQuery {
    /// Admin only: the users who arrived in `[from, to)` — a funnel by source (arrived →
    /// generated → paid with Stars) and their retention by week (a week is active for a user who
    /// made a paid action in it).
    async fn admin_analytics(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<AnalyticsReport> {
        require_admin(ctx).await?;
        let report = services(ctx).analytics.report(from.timestamp_micros(), to.timestamp_micros()).await?;
        Ok(AnalyticsReport {
            funnel: report
                .funnel
                .into_iter()
                .map(|f| SourceFunnel { source: f.source, arrived: f.arrived, generated: f.generated, paid: f.paid })
                .collect(),
            retention: report
                .retention
                .into_iter()
                .map(|c| WeekCohort { week_start: to_datetime(c.week_start), users: c.users, active: c.active })
                .collect(),
        })
    }
}

#[derive(SimpleObject)]
pub struct AnalyticsReport {
    /// One row per source, the largest first.
    funnel: Vec<SourceFunnel>,
    /// One row per week of arrival, oldest first.
    retention: Vec<WeekCohort>,
}

#[derive(SimpleObject)]
pub struct SourceFunnel {
    /// The `/start` payload or `start_param` (`referral` for any referral code), `utm:<source>`
    /// for the web client, or `direct`.
    source: String,
    arrived: i64,
    generated: i64,
    paid: i64,
}

#[derive(SimpleObject)]
pub struct WeekCohort {
    /// The Monday (UTC) the week of arrival starts on.
    week_start: DateTime<Utc>,
    users: i64,
    /// Users active in each week from the week of arrival (index 0) on.
    active: Vec<i64>,
}
