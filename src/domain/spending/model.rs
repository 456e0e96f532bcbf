use crate::domain::credits::EntryKind;
use crate::domain::jobs::JobKind;
use crate::domain::time::Micros;

/// A user's money over a period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spending {
    /// The start of the period; None for all time.
    pub since: Option<Micros>,
    /// Credits charged for paid actions (`CHARGE` rows).
    pub charged: i64,
    /// Credits given back for actions that failed or were cancelled (`REFUND` rows).
    pub refunded: i64,
    /// Every kind of ledger row in the period, with its count and sum.
    pub by_kind: Vec<KindTotal>,
    /// Charges and refunds by the job they paid for (model and kind), most spent first.
    pub by_job: Vec<JobSpending>,
    pub stars: StarsTopUps,
    /// Days (UTC) with any ledger row, oldest first.
    pub by_day: Vec<DaySpending>,
}

impl Spending {
    /// Charged minus refunded.
    pub fn spent(&self) -> i64 {
        self.charged - self.refunded
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KindTotal {
    pub kind: EntryKind,
    pub count: i64,
    /// The sum of the rows' amounts (negative for what left the balance).
    pub credits: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobSpending {
    pub kind: JobKind,
    pub model: String,
    /// Charges made (one per job).
    pub count: i64,
    pub charged: i64,
    pub refunded: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StarsTopUps {
    pub count: i64,
    pub stars: i64,
    pub credits: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaySpending {
    /// Days since the Unix epoch (UTC).
    pub day: i64,
    pub charged: i64,
    pub refunded: i64,
    /// Credits that came in (top-ups, bonuses, promo codes, positive adjustments).
    pub received: i64,
}

pub const DAY_MICROS: i64 = 86_400_000_000;

impl DaySpending {
    /// The day's first moment.
    pub fn start(&self) -> Micros {
        self.day * DAY_MICROS
    }
}
