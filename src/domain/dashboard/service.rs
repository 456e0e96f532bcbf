use sea_orm::{DatabaseConnection, TransactionTrait};

use super::model::{Dashboard, DashboardDay, JobTally};
use super::repository::{self as repo, DAY};
use crate::domain::generations::GenerationStatus;
use crate::domain::jobs::JobKind;
use crate::domain::{Error, Result, time::Micros};

/// Where a query's value goes in its day.
type SetFigure = fn(&mut DashboardDay, i64);

/// A dashboard covers at most this many days.
pub const MAX_DAYS: i64 = 400;

#[derive(Clone)]
pub struct DashboardService {
    db: DatabaseConnection,
}

impl DashboardService {
    pub fn new(db: DatabaseConnection) -> Self {
        DashboardService { db }
    }

    /// The figures of the UTC days that `[from, to)` touches, read in one transaction so that
    /// they agree with each other.
    pub async fn dashboard(&self, from: Micros, to: Micros) -> Result<Dashboard> {
        if from >= to {
            return Err(Error::invalid("from must be before to"));
        }
        let (first, last) = (from.div_euclid(DAY), (to - 1).div_euclid(DAY));
        if last - first >= MAX_DAYS {
            return Err(Error::invalid(format!("a dashboard covers at most {MAX_DAYS} days")));
        }
        let (from, to) = (first * DAY, (last + 1) * DAY);
        let mut days: Vec<DashboardDay> =
            (first..=last).map(|d| DashboardDay { day: d * DAY, ..Default::default() }).collect();
        let tx = self.db.begin().await?;
        let figures: [(&str, SetFigure); 7] = [
            (repo::NEW_USERS, |d, n| d.new_users = n),
            (repo::ACTIVE_USERS, |d, n| d.active_users = n),
            (repo::GENERATIONS, |d, n| d.generations = n),
            (repo::CREDITS_SOLD, |d, n| d.credits_sold = n),
            (repo::CREDITS_SPENT, |d, n| d.credits_spent = n),
            (repo::STARS_PAID, |d, n| d.stars_received += n),
            (repo::STARS_REFUNDED, |d, n| d.stars_received -= n),
        ];
        for (sql, set) in figures {
            for (day, value) in repo::by_day(&tx, sql, from, to).await? {
                if let Some(slot) = days.get_mut((day - first) as usize) {
                    set(slot, value);
                }
            }
        }
        let jobs = repo::jobs(&tx, from, to).await?;
        let queue = repo::queue(&tx).await?;
        tx.commit().await?;
        Ok(Dashboard { days, jobs: typed(jobs)?, queue: typed(queue)? })
    }
}

fn typed(rows: Vec<(String, String, String, i64)>) -> Result<Vec<JobTally>> {
    rows.into_iter()
        .map(|(purpose, model, status, count)| {
            Ok(JobTally { kind: JobKind::parse(&purpose)?, model, status: GenerationStatus::parse(&status)?, count })
        })
        .collect()
}
