use crate::domain::{Error, Result, time::Micros};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromoKind {
    /// Adds `value` credits at once.
    Credits,
    /// The next Stars top-up gives `value` % more credits.
    BonusPercent,
    /// The next paid action (a generation or a training) costs `value` % less.
    DiscountPercent,
}

impl PromoKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PromoKind::Credits => "CREDITS",
            PromoKind::BonusPercent => "BONUS_PERCENT",
            PromoKind::DiscountPercent => "DISCOUNT_PERCENT",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "CREDITS" => PromoKind::Credits,
            "BONUS_PERCENT" => PromoKind::BonusPercent,
            "DISCOUNT_PERCENT" => PromoKind::DiscountPercent,
            other => return Err(Error::internal(format!("unknown promo kind {other:?}"))),
        })
    }

    /// The values a code of this kind may carry.
    fn values(self) -> std::ops::RangeInclusive<i64> {
        match self {
            PromoKind::Credits => 1..=100_000,
            PromoKind::BonusPercent => 1..=500,
            // A paid action never becomes free: a zero charge would not be a charge.
            PromoKind::DiscountPercent => 1..=99,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedemptionState {
    /// Credits paid out at redemption.
    Applied,
    /// A bonus or discount waiting for the action that uses it.
    Pending,
    /// Used by that action.
    Consumed,
}

impl RedemptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            RedemptionState::Applied => "APPLIED",
            RedemptionState::Pending => "PENDING",
            RedemptionState::Consumed => "CONSUMED",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "APPLIED" => RedemptionState::Applied,
            "PENDING" => RedemptionState::Pending,
            "CONSUMED" => RedemptionState::Consumed,
            other => return Err(Error::internal(format!("unknown redemption state {other:?}"))),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PromoCode {
    pub id: i64,
    /// Upper case: codes are compared without regard to case.
    pub code: String,
    pub kind: PromoKind,
    pub value: i64,
    /// None: no limit.
    pub max_uses: Option<i64>,
    pub uses_per_user: i64,
    pub uses: i64,
    pub valid_from: Option<Micros>,
    pub valid_until: Option<Micros>,
    pub active: bool,
    pub created_at: Micros,
}

/// A code as the operator asks for it; `validate` turns it into one we store.
#[derive(Clone, Debug)]
pub struct NewPromoCode {
    pub code: String,
    pub kind: PromoKind,
    pub value: i64,
    pub max_uses: Option<i64>,
    pub uses_per_user: i64,
    pub valid_from: Option<Micros>,
    pub valid_until: Option<Micros>,
    pub active: bool,
}

impl NewPromoCode {
    pub fn validate(mut self) -> Result<Self> {
        self.code = normalize(&self.code)?;
        let values = self.kind.values();
        if !values.contains(&self.value) {
            return Err(Error::invalid(format!(
                "a {} code's value must be {}-{}",
                self.kind.as_str(),
                values.start(),
                values.end()
            )));
        }
        if self.max_uses.is_some_and(|n| n < 1) {
            return Err(Error::invalid("maxUses must be at least 1 (or null for no limit)"));
        }
        if self.uses_per_user < 1 {
            return Err(Error::invalid("usesPerUser must be at least 1"));
        }
        if let (Some(from), Some(until)) = (self.valid_from, self.valid_until)
            && from >= until
        {
            return Err(Error::invalid("validFrom must be before validUntil"));
        }
        Ok(self)
    }
}

/// A code as typed by a person: surrounding spaces and case do not matter.
pub fn normalize(raw: &str) -> Result<String> {
    let code = raw.trim().to_uppercase();
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if !(3..=32).contains(&code.len()) || !code.chars().all(allowed) {
        return Err(Error::invalid("a promo code is 3-32 letters, digits, '-' or '_'"));
    }
    Ok(code)
}

/// One use of a code by one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redemption {
    pub id: i64,
    pub user_id: i64,
    pub code: String,
    pub kind: PromoKind,
    pub value: i64,
    pub state: RedemptionState,
    /// The ledger row it paid (credits now, or the bonus of a top-up).
    pub ledger_entry_id: Option<i64>,
    pub created_at: Micros,
    pub consumed_at: Option<Micros>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(kind: PromoKind, value: i64) -> NewPromoCode {
        NewPromoCode {
            code: " spring-25 ".into(),
            kind,
            value,
            max_uses: None,
            uses_per_user: 1,
            valid_from: None,
            valid_until: None,
            active: true,
        }
    }

    #[test]
    fn codes_are_upper_case_and_values_bounded_by_kind() {
        assert_eq!(code(PromoKind::Credits, 50).validate().map(|c| c.code).ok(), Some("SPRING-25".into()));
        assert!(code(PromoKind::DiscountPercent, 100).validate().is_err());
        assert!(code(PromoKind::DiscountPercent, 99).validate().is_ok());
        assert!(code(PromoKind::Credits, 0).validate().is_err());
        assert!(normalize("ab").is_err());
        assert!(normalize("no spaces").is_err());
        assert!(normalize("ЮНИКОД").is_err());
        let backwards = NewPromoCode { valid_from: Some(10), valid_until: Some(5), ..code(PromoKind::Credits, 1) };
        assert!(backwards.validate().is_err());
    }
}
