use crate::domain::{Error, Result};

/// Credits sold for Stars.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditPackage {
    /// Stable while the offer stands; part of the invoice payload.
    pub id: String,
    pub stars: i64,
    pub credits: i64,
}

impl CreditPackage {
    /// What the invoice carries (1–128 bytes) and the payment brings back.
    pub fn invoice_payload(&self) -> String {
        format!("topup:{}:{}:{}", self.id, self.stars, self.credits)
    }
}

/// `successful_payment` as Telegram reports it.
#[derive(Clone, Debug)]
pub struct StarsPayment {
    pub telegram_payment_charge_id: String,
    pub provider_payment_charge_id: Option<String>,
    pub invoice_payload: String,
    pub currency: String,
    pub total_amount: i64,
}

/// Parses `AISHA_CREDIT_PACKAGES`: `stars:credits` pairs separated by commas, e.g.
/// `50:50,100:110`.
pub fn parse_packages(spec: &str) -> Result<Vec<CreditPackage>> {
    let mut packages: Vec<CreditPackage> = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (stars, credits) = item
            .split_once(':')
            .ok_or_else(|| Error::invalid(format!("{item:?} is not stars:credits")))?;
        let number = |s: &str| s.trim().parse::<i64>().ok().filter(|n| (1..=100_000).contains(n));
        let (Some(stars), Some(credits)) = (number(stars), number(credits)) else {
            return Err(Error::invalid(format!("{item:?}: both numbers must be 1-100000")));
        };
        if packages.iter().any(|p| p.stars == stars) {
            return Err(Error::invalid(format!("two packages cost {stars} stars")));
        }
        packages.push(CreditPackage { id: format!("stars{stars}"), stars, credits });
    }
    if packages.is_empty() {
        return Err(Error::invalid("no packages"));
    }
    Ok(packages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_parse_and_refuse_nonsense() {
        let packages = parse_packages("50:50, 100:110").expect("valid");
        assert_eq!(packages[1], CreditPackage { id: "stars100".into(), stars: 100, credits: 110 });
        assert_eq!(packages[1].invoice_payload(), "topup:stars100:100:110");
        for bad in ["", "50", "50:0", "x:1", "50:5,50:6"] {
            assert!(parse_packages(bad).is_err(), "{bad:?} accepted");
        }
    }
}
