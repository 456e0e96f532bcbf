use crate::domain::generations::GenerationStatus;
use crate::domain::jobs::JobKind;
use crate::domain::time::Micros;

/// One UTC day of the period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DashboardDay {
    /// The day's first microsecond.
    pub day: Micros,
    pub new_users: i64,
    /// Users who started a generation or training that day.
    pub active_users: i64,
    pub generations: i64,
    /// Credits bought with Stars (`TOP_UP` rows).
    pub credits_sold: i64,
    /// Credits charged, less those refunded (`CHARGE` and `REFUND` rows).
    pub credits_spent: i64,
    /// Stars paid, less those refunded that day.
    pub stars_received: i64,
}

/// Jobs of one kind, model and status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobTally {
    pub kind: JobKind,
    pub model: String,
    pub status: GenerationStatus,
    pub count: i64,
}

pub struct Dashboard {
    /// Every day of the period, oldest first (days with nothing are there, with zeros).
    pub days: Vec<DashboardDay>,
    /// Jobs created in the period, by kind, model and status.
    pub jobs: Vec<JobTally>,
    /// Jobs waiting or running now, by kind, model and status.
    pub queue: Vec<JobTally>,
}

impl Dashboard {
    /// Failed among the finished jobs of the period (cancelled ones aside); None when none finished.
    pub fn failure_rate(&self) -> Option<f64> {
        let count = |status| self.jobs.iter().filter(|j| j.status == status).map(|j| j.count).sum::<i64>();
        let (failed, completed) = (count(GenerationStatus::Failed), count(GenerationStatus::Completed));
        (failed + completed > 0).then(|| failed as f64 / (failed + completed) as f64)
    }

    /// The sum of one figure over the period.
    pub fn total(&self, figure: impl Fn(&DashboardDay) -> i64) -> i64 {
        self.days.iter().map(figure).sum()
    }
}
