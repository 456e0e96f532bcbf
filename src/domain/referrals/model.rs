/// What a referrer earns when a referee first tops up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReferralReward {
    Off,
    Credits(i64),
    /// A percent of the credits of the referee's first top-up.
    Percent(i64),
}

impl ReferralReward {
    /// `50` (credits), `10%` (of the first top-up) or `0` (none).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (number, percent) = match text.strip_suffix('%') {
            Some(number) => (number.trim(), true),
            None => (text, false),
        };
        let value: i64 = number.parse().map_err(|_| format!("{text:?} is not a number of credits or a percent"))?;
        match (value, percent) {
            (0, _) => Ok(ReferralReward::Off),
            (1..=100_000, false) => Ok(ReferralReward::Credits(value)),
            (1..=100, true) => Ok(ReferralReward::Percent(value)),
            _ => Err(format!("{text:?} is out of range (1-100000 credits, or 1-100%)")),
        }
    }

    /// The reward for a first top-up of `credits`.
    pub fn for_top_up(self, credits: i64) -> i64 {
        match self {
            ReferralReward::Off => 0,
            ReferralReward::Credits(n) => n,
            ReferralReward::Percent(p) => credits * p / 100,
        }
    }
}

/// A user's referrals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReferralStats {
    pub code: String,
    /// Users who arrived through the code.
    pub count: i64,
    /// Those whose first top-up paid a reward.
    pub rewarded: i64,
    pub credits_earned: i64,
}

/// The `/start` payload (or `start_param`) of a referral code.
pub fn start_parameter(code: &str) -> String {
    format!("ref_{code}")
}

#[cfg(test)]
mod tests {
    use super::ReferralReward::*;
    use super::*;

    #[test]
    fn rewards_are_credits_or_a_percent() {
        assert_eq!(ReferralReward::parse("50"), Ok(Credits(50)));
        assert_eq!(ReferralReward::parse(" 10% "), Ok(Percent(10)));
        assert_eq!(ReferralReward::parse("0"), Ok(Off));
        assert!(ReferralReward::parse("101%").is_err());
        assert!(ReferralReward::parse("-5").is_err());
        assert!(ReferralReward::parse("ten").is_err());
        assert_eq!(Percent(10).for_top_up(115), 11);
        assert_eq!(Credits(50).for_top_up(115), 50);
    }
}
