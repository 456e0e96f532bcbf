//! Payments: credit packages sold for Telegram Stars. An invoice's offer is recorded when it is
//! made, and a payment is credited by that offer (not by today's packages), once per
//! `telegram_payment_charge_id` (a unique row in `payments`, written in the same transaction as
//! the `TOP_UP` ledger row and the user's notification), however often Telegram delivers it. A
//! payment whose credits are unspent can be refunded; reconciliation credits what Telegram
//! took and we never recorded.

mod model;
mod repository;
mod service;

pub use model::{
    CreditPackage, Direction, Offer, Payment, Reconciliation, RefundStatus, Refunder, STARS, StarTransaction,
    StarsInvoice, StarsPayment, parse_packages,
};
pub use service::PaymentService;

/// Telegram's payments API, as the domain needs it (implemented by the bot's adapter).
#[async_trait::async_trait]
pub trait StarsGateway: Send + Sync {
    /// Returns a charge's Stars to the user who paid it.
    async fn refund(&self, telegram_user_id: i64, charge_id: &str) -> Result<(), GatewayError>;
    /// A link that opens this invoice in Telegram (a Mini App opens it with `openInvoice`), its
    /// title and description in the payer's language.
    async fn invoice_link(&self, invoice: &StarsInvoice, language_code: Option<&str>) -> Result<String, GatewayError>;
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("the charge was refunded already")]
    AlreadyRefunded,
    /// Telegram said no, for good.
    #[error("{0}")]
    Refused(String),
    /// No answer; asking again may work.
    #[error("{0}")]
    Unavailable(String),
}
