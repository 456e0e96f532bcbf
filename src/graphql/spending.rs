//! `me.spending(period:)`: where the user's credits went and came from, from the ledger.

use async_graphql::{Context, Enum, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::admin::JobType;
use super::context::services;
use super::users::TransactionKind;
use crate::domain::{Result, spending, time::to_datetime};

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum SpendingPeriod {
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
    /// The last 365 days.
    Year,
    AllTime,
}

impl SpendingPeriod {
    fn days(self) -> Option<i64> {
        match self {
            SpendingPeriod::Day => Some(1),
            SpendingPeriod::Week => Some(7),
            SpendingPeriod::Month => Some(30),
            SpendingPeriod::Year => Some(365),
            SpendingPeriod::AllTime => None,
        }
    }
}

/// The user's spending over `period`.
pub async fn of_user(ctx: &Context<'_>, user_id: i64, period: SpendingPeriod) -> Result<Spending> {
    let since = period.days().map(|days| (Utc::now() - chrono::Duration::days(days)).timestamp_micros());
    Ok(Spending(services(ctx).spending.of_user(user_id, since).await?))
}

pub struct Spending(spending::Spending);

#[Object]
impl Spending {
    /// The start of the period; null for all time.
    async fn since(&self) -> Option<DateTime<Utc>> {
        self.0.since.map(to_datetime)
    }
    /// Credits charged for generations and trainings.
    async fn charged(&self) -> i64 {
        self.0.charged
    }
    /// Credits given back for those that failed or were cancelled.
    async fn refunded(&self) -> i64 {
        self.0.refunded
    }
    /// Charged minus refunded.
    async fn spent(&self) -> i64 {
        self.0.spent()
    }
    /// Charges and refunds by model and job type, most spent first.
    async fn by_model(&self) -> Vec<ModelSpending> {
        self.0
            .by_job
            .iter()
            .map(|j| ModelSpending {
                model: j.model.clone(),
                job_type: j.kind.into(),
                count: j.count,
                charged: j.charged,
                refunded: j.refunded,
                spent: j.charged - j.refunded,
            })
            .collect()
    }
    /// Every kind of transaction in the period: how many, and their sum (negative for what
    /// left the balance).
    async fn by_kind(&self) -> Vec<KindSpending> {
        self.0
            .by_kind
            .iter()
            .map(|k| KindSpending { kind: k.kind.into(), count: k.count, credits: k.credits })
            .collect()
    }
    /// Stars top-ups: how many, the Stars paid and the credits bought.
    async fn stars(&self) -> StarsSpending {
        let s = &self.0.stars;
        StarsSpending { count: s.count, stars: s.stars, credits: s.credits }
    }
    /// Each day (UTC) with a transaction, oldest first.
    async fn by_day(&self) -> Vec<DaySpending> {
        self.0
            .by_day
            .iter()
            .map(|d| DaySpending {
                day: to_datetime(d.start()).format("%Y-%m-%d").to_string(),
                charged: d.charged,
                refunded: d.refunded,
                received: d.received,
            })
            .collect()
    }
}

#[derive(SimpleObject)]
pub struct ModelSpending {
    model: String,
    #[graphql(name = "type")]
    job_type: JobType,
    /// Charges made.
    count: i64,
    charged: i64,
    refunded: i64,
    spent: i64,
}

#[derive(SimpleObject)]
pub struct KindSpending {
    kind: TransactionKind,
    count: i64,
    credits: i64,
}

#[derive(SimpleObject)]
pub struct StarsSpending {
    count: i64,
    stars: i64,
    credits: i64,
}

#[derive(SimpleObject)]
pub struct DaySpending {
    /// `YYYY-MM-DD`, UTC.
    day: String,
    charged: i64,
    refunded: i64,
    /// Credits that came in: top-ups, bonuses, promo codes, positive adjustments.
    received: i64,
}
