//! Credit packages and Telegram Stars payments. Recording a payment is for our bot only: only
//! Telegram can vouch that Stars were paid, and only the bot hears it from Telegram.

use async_graphql::{Context, InputObject, Object, SimpleObject};

use super::context::{current_bot_user, current_user, services};
use super::users::Transaction;
use crate::domain::{Result, payments::{self, StarsPayment}};

#[derive(SimpleObject)]
pub struct CreditPackage {
    id: String,
    /// The price in Telegram Stars (currency `XTR`).
    stars: i64,
    credits: i64,
    /// What an invoice for this package carries as its payload.
    invoice_payload: String,
}

impl From<&payments::CreditPackage> for CreditPackage {
    fn from(p: &payments::CreditPackage) -> Self {
        CreditPackage { id: p.id.clone(), stars: p.stars, credits: p.credits, invoice_payload: p.invoice_payload() }
    }
}

#[derive(Default)]
pub struct PaymentQuery;

#[Object]
impl PaymentQuery {
    /// What can be bought with Telegram Stars.
    async fn credit_packages(&self, ctx: &Context<'_>) -> Vec<CreditPackage> {
        services(ctx).payments.packages().iter().map(CreditPackage::from).collect()
    }

    /// The check before a payment (Telegram's `pre_checkout_query`): the package this invoice
    /// buys, or `BAD_USER_INPUT` when the payload, currency or amount does not match an offer.
    async fn check_stars_checkout(
        &self,
        ctx: &Context<'_>,
        invoice_payload: String,
        currency: String,
        total_amount: i64,
    ) -> Result<CreditPackage> {
        current_user(ctx).await?;
        Ok(services(ctx).payments.check(&invoice_payload, &currency, total_amount)?.into())
    }
}

#[derive(InputObject)]
pub struct StarsPaymentInput {
    telegram_payment_charge_id: String,
    provider_payment_charge_id: Option<String>,
    invoice_payload: String,
    currency: String,
    total_amount: i64,
}

#[derive(Default)]
pub struct PaymentMutation;

#[Object]
impl PaymentMutation {
    /// Bot only: credits a Telegram `successful_payment` as a `TOP_UP`, once per
    /// `telegramPaymentChargeId` (a redelivery returns the first transaction).
    async fn record_stars_payment(&self, ctx: &Context<'_>, input: StarsPaymentInput) -> Result<Transaction> {
        let user_id = current_bot_user(ctx).await?;
        let payment = StarsPayment {
            telegram_payment_charge_id: input.telegram_payment_charge_id,
            provider_payment_charge_id: input.provider_payment_charge_id,
            invoice_payload: input.invoice_payload,
            currency: input.currency,
            total_amount: input.total_amount,
        };
        Ok(Transaction(services(ctx).payments.record_stars(user_id, &payment).await?))
    }
}
