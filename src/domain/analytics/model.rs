use crate::domain::time::Micros;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A user was created; the source is where they came from.
    Arrived,
    SignedIn,
    /// The user's first generation (recorded once).
    FirstGeneration,
    TopUp,
    /// A referrer was rewarded.
    Referral,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Arrived => "ARRIVED",
            EventKind::SignedIn => "SIGNED_IN",
            EventKind::FirstGeneration => "FIRST_GENERATION",
            EventKind::TopUp => "TOP_UP",
            EventKind::Referral => "REFERRAL",
        }
    }
}

/// The source a start payload names: `referral` for any referral code (one user's code is no
/// campaign), the payload itself otherwise (e.g. `ads-spring`, `utm:newsletter`); None for none.
pub fn source_of(start_payload: Option<&str>) -> Option<String> {
    let payload = start_payload.map(str::trim).filter(|p| !p.is_empty())?;
    Some(if payload.starts_with("ref_") { "referral".to_owned() } else { payload.chars().take(64).collect() })
}

/// One source's funnel over a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunnelStep {
    /// `direct` when the user came with no source.
    pub source: String,
    pub arrived: i64,
    /// Of those, how many made a generation (ever since).
    pub generated: i64,
    /// Of those, how many topped up with Stars.
    pub paid: i64,
}

/// The users who arrived in one week (Monday to Sunday, UTC), and how many of them were active
/// (made a paid action) in each week from then on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cohort {
    /// The Monday the week starts on.
    pub week_start: Micros,
    pub users: i64,
    /// `active[k]`: users active in the k-th week after arriving (0: the week itself).
    pub active: Vec<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Analytics {
    pub funnel: Vec<FunnelStep>,
    pub retention: Vec<Cohort>,
}

pub(super) const DAY_MICROS: i64 = 86_400_000_000;

/// Weeks are numbered from the Monday before the Unix epoch (a Thursday).
pub(super) fn week_start(week: i64) -> Micros {
    (week * 7 - 3) * DAY_MICROS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referral_codes_are_one_source_and_weeks_start_on_monday() {
        assert_eq!(source_of(Some("ref_abc123")).as_deref(), Some("referral"));
        assert_eq!(source_of(Some(" ads-spring ")).as_deref(), Some("ads-spring"));
        assert_eq!(source_of(Some("")), None);
        // 2026-11-30 is a Monday.
        let monday = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).expect("date");
        let micros = monday.and_hms_opt(0, 0, 0).expect("time").and_utc().timestamp_micros();
        let week = (micros / DAY_MICROS + 3) / 7;
        assert_eq!(week_start(week), micros);
    }
}
