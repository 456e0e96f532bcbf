use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use super::model::{Analytics, Cohort, EventKind, week_start};
use super::repository as repo;
use crate::domain::{Error, Result, time::Micros, time::now_micros};

#[derive(Clone)]
pub struct AnalyticsService {
    db: DatabaseConnection,
}

impl AnalyticsService {
    pub fn new(db: DatabaseConnection) -> Self {
        AnalyticsService { db }
    }

    /// The funnel by source and the weekly retention of the users who arrived in `[from, to)`.
    pub async fn report(&self, from: Micros, to: Micros) -> Result<Analytics> {
        if from >= to {
            return Err(Error::invalid("from must be before to"));
        }
        let tx = self.db.begin().await?;
        let funnel = repo::funnel(&tx, from, to).await?;
        let cohorts = repo::cohorts(&tx, from, to).await?;
        let activity = repo::activity(&tx, from, to).await?;
        tx.commit().await?;
        let retention = cohorts
            .into_iter()
            .map(|(week, users)| {
                let of_week: Vec<(i64, i64)> =
                    activity.iter().filter(|(w, _, _)| *w == week).map(|(_, k, n)| (*k, *n)).collect();
                let weeks = of_week.iter().map(|(k, _)| k + 1).max().unwrap_or(0).max(1);
                let active = (0..weeks).map(|k| of_week.iter().find(|(j, _)| *j == k).map_or(0, |(_, n)| *n)).collect();
                Cohort { week_start: week_start(week), users, active }
            })
            .collect();
        Ok(Analytics { funnel, retention })
    }
}

/// Records an event inside the transaction of what it records. `FirstGeneration` is written
/// only for the user's first.
pub(crate) async fn record_in_tx(
    tx: &impl ConnectionTrait,
    user_id: i64,
    kind: EventKind,
    source: Option<&str>,
) -> Result<()> {
    match kind {
        EventKind::FirstGeneration => repo::insert_once(tx, user_id, kind, now_micros()).await,
        _ => repo::insert(tx, user_id, kind, source, now_micros()).await,
    }
}
