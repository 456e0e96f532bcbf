use crate::domain::{Error, Result, time::Micros};

/// Telegram's currency code for Stars.
pub const STARS: &str = "XTR";

/// Credits sold for Stars.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreditPackage {
    /// Stable while the offer stands.
    pub id: String,
    pub stars: i64,
    pub credits: i64,
}

impl CreditPackage {
    /// The payload invoices carried before offers were recorded; still accepted.
    pub fn legacy_payload(&self) -> String {
        format!("topup:{}:{}:{}", self.id, self.stars, self.credits)
    }

    pub fn offer(&self) -> Offer {
        Offer { package_id: self.id.clone(), stars: self.stars, credits: self.credits }
    }
}

/// What an invoice offered when it was sent: a payment is credited by this, whatever the
/// packages on offer today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub package_id: String,
    pub stars: i64,
    pub credits: i64,
}

impl Offer {
    /// The offer a legacy payload (`topup:<id>:<stars>:<credits>`) carries in itself. Only our
    /// bot can make an invoice, so the payload is ours.
    pub fn from_legacy_payload(payload: &str) -> Option<Offer> {
        let mut parts = payload.strip_prefix("topup:")?.split(':');
        let (id, stars, credits) = (parts.next()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
        (parts.next().is_none() && !id.is_empty()).then(|| Offer { package_id: id.to_owned(), stars, credits })
    }
}

/// An invoice's recorded offer and the payload that names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StarsInvoice {
    pub payload: String,
    pub offer: Offer,
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundStatus {
    /// The credits are taken back and Telegram was asked; it has not confirmed yet.
    Requested,
    Refunded,
}

impl RefundStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RefundStatus::Requested => "REQUESTED",
            RefundStatus::Refunded => "REFUNDED",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "REQUESTED" => Ok(RefundStatus::Requested),
            "REFUNDED" => Ok(RefundStatus::Refunded),
            other => Err(Error::internal(format!("unknown refund status {other:?}"))),
        }
    }
}

/// A recorded Stars payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    pub id: i64,
    pub user_id: i64,
    pub telegram_payment_charge_id: String,
    pub stars: i64,
    pub credits: i64,
    pub created_at: Micros,
    pub refund: Option<RefundStatus>,
    pub refunded_at: Option<Micros>,
}

/// Who asks for a refund.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refunder {
    /// The payer, for their own payment.
    User(i64),
    Operator,
}

/// One transaction of the bot's Stars account, as Telegram lists them (for reconciliation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StarTransaction {
    /// For a payment, its `telegram_payment_charge_id`; for a refund, the refunded payment's.
    pub id: String,
    pub amount: i64,
    pub at: Micros,
    pub direction: Direction,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Direction {
    /// A user paid an invoice.
    Payment { telegram_user_id: i64, username: Option<String>, invoice_payload: Option<String> },
    /// Stars went back to a user.
    Refund { telegram_user_id: i64 },
    /// Anything else (withdrawals, ads, gifts): not ours to reconcile.
    Other,
}

/// What reconciliation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reconciliation {
    /// Payments Telegram took that we had not recorded: credited now (charge id, credits).
    pub credited: Vec<(String, i64)>,
    pub already_recorded: usize,
    /// Refunds Telegram made that we do not show as refunded (charge id).
    pub refunded_elsewhere: Vec<String>,
    /// Transactions that could not be credited, with why.
    pub skipped: Vec<(String, String)>,
}

/// Parses `AISHA_CREDIT_PACKAGES`: `stars:credits` pairs separated by commas, e.g.
/// `50:50,100:110`.
pub fn parse_packages(spec: &str) -> Result<Vec<CreditPackage>> {
    let mut packages: Vec<CreditPackage> = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (stars, credits) =
            item.split_once(':').ok_or_else(|| Error::invalid(format!("{item:?} is not stars:credits")))?;
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
        assert_eq!(packages[1].legacy_payload(), "topup:stars100:100:110");
        for bad in ["", "50", "50:0", "x:1", "50:5,50:6"] {
            assert!(parse_packages(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_legacy_payload_carries_its_offer() {
        let offer = Offer::from_legacy_payload("topup:stars100:100:110").expect("legacy");
        assert_eq!(offer, Offer { package_id: "stars100".into(), stars: 100, credits: 110 });
        for bad in ["topup:x:1", "inv:abc", "topup::1:2", "topup:a:1:2:3", "topup:a:b:2"] {
            assert_eq!(Offer::from_legacy_payload(bad), None, "{bad}");
        }
    }
}
