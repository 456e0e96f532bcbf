//! Payments: credit packages sold for Telegram Stars. A payment is credited once per
//! `telegram_payment_charge_id` (a unique row in `payments`, written in the same transaction as
//! the `TOP_UP` ledger row), however often Telegram delivers it.

mod model;
mod service;

pub use model::{CreditPackage, StarsPayment, parse_packages};
pub use service::PaymentService;
