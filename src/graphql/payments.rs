//! Credit packages and Telegram Stars payments: invoices (their offer recorded), the check
//! before a payment, the payment itself (for our bot only: only Telegram can vouch that Stars
//! were paid), the payer's payment history and refunds.

use super::pagination::ROW_COST;
use async_graphql::{
    Context, Enum, ID, InputObject, Object, SimpleObject,
    connection::{Connection, Edge},
};
use chrono::{DateTime, Utc};

use super::context::{current_bot_user, current_user, require_admin, services};
use super::ids::{Kind, decode_as, encode};
use super::pagination::{decode_id_cursor, id_cursor, page_size};
use super::users::Transaction;
use crate::domain::{
    Result,
    payments::{self, Refunder, StarsPayment},
    time::to_datetime,
};

#[derive(SimpleObject)]
pub struct CreditPackage {
    id: String,
    /// The price in Telegram Stars (currency `XTR`).
    stars: i64,
    credits: i64,
    /// What an invoice for this package carried before offers were recorded.
    #[graphql(deprecation = "use createStarsInvoice, whose offer is recorded")]
    invoice_payload: String,
}

impl From<&payments::CreditPackage> for CreditPackage {
    fn from(p: &payments::CreditPackage) -> Self {
        CreditPackage { id: p.id.clone(), stars: p.stars, credits: p.credits, invoice_payload: p.legacy_payload() }
    }
}

/// What a Stars invoice offers; the payment is credited by this, whatever is on offer then.
#[derive(SimpleObject)]
pub struct StarsInvoice {
    /// The invoice's payload (1–128 bytes): send it with the invoice.
    payload: String,
    package_id: String,
    stars: i64,
    credits: i64,
}

/// A Stars invoice as a link for a Mini App (`createStarsInvoiceLink`).
#[derive(SimpleObject)]
pub struct StarsInvoiceLink {
    /// Opens the invoice in Telegram: `https://t.me/$<slug>`.
    link: String,
    payload: String,
    package_id: String,
    stars: i64,
    credits: i64,
}

/// A checked offer (`checkStarsCheckout`).
#[derive(SimpleObject)]
pub struct CheckedOffer {
    /// The package the offer was made from.
    id: String,
    stars: i64,
    credits: i64,
}

#[derive(Default)]
pub struct PaymentQuery;

#[Object]
impl PaymentQuery {
    /// What can be bought with Telegram Stars.
    async fn credit_packages(&self, ctx: &Context<'_>) -> Vec<CreditPackage> {
        services(ctx).payments.packages().iter().map(CreditPackage::from).collect()
    }

    /// The check before a payment (Telegram's `pre_checkout_query`): the offer this invoice
    /// makes, or `BAD_USER_INPUT` when the payload, currency or amount does not match one.
    #[graphql(complexity = "ROW_COST + child_complexity")]
    async fn check_stars_checkout(
        &self,
        ctx: &Context<'_>,
        invoice_payload: String,
        currency: String,
        total_amount: i64,
    ) -> Result<CheckedOffer> {
        current_user(ctx).await?;
        let offer = services(ctx).payments.check(&invoice_payload, &currency, total_amount).await?;
        Ok(CheckedOffer { id: offer.package_id, stars: offer.stars, credits: offer.credits })
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
    /// Records the offer of an invoice for a package and returns its payload.
    async fn create_stars_invoice(&self, ctx: &Context<'_>, package_id: String) -> Result<StarsInvoice> {
        let user_id = current_user(ctx).await?;
        let invoice = services(ctx).payments.create_invoice(user_id, &package_id).await?;
        Ok(StarsInvoice {
            payload: invoice.payload,
            package_id: invoice.offer.package_id,
            stars: invoice.offer.stars,
            credits: invoice.offer.credits,
        })
    }

    /// An invoice for a package as a link (`https://t.me/$…`) that a Mini App opens with
    /// `openInvoice`: the offer is recorded as `createStarsInvoice` records it, and the payment
    /// arrives through the bot like any Stars payment (`balanceChanged` tells the app).
    /// `BAD_USER_INPUT` for an account without Telegram; `UNAVAILABLE` when Telegram did not answer.
    async fn create_stars_invoice_link(&self, ctx: &Context<'_>, package_id: String) -> Result<StarsInvoiceLink> {
        let user_id = current_user(ctx).await?;
        let (invoice, link) = services(ctx).payments.create_invoice_link(user_id, &package_id).await?;
        Ok(StarsInvoiceLink {
            link,
            payload: invoice.payload,
            package_id: invoice.offer.package_id,
            stars: invoice.offer.stars,
            credits: invoice.offer.credits,
        })
    }

    /// Bot only: credits a Telegram `successful_payment` as a `TOP_UP`, by the offer its invoice
    /// made, once per `telegramPaymentChargeId` (a redelivery returns the first transaction).
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

    /// Refunds one of your payments whose credits are unspent: the credits are taken back (a
    /// `PAYMENT_REFUND`) and Telegram returns the Stars. `BAD_USER_INPUT` when the credits were
    /// spent or it was refunded already; `UNAVAILABLE` when Telegram did not answer (ask again).
    async fn refund_star_payment(&self, ctx: &Context<'_>, payment_id: ID) -> Result<StarPayment> {
        let user_id = current_user(ctx).await?;
        let id = decode_as(&payment_id, Kind::StarPayment, "payment")?;
        Ok(StarPayment(services(ctx).payments.refund(Refunder::User(user_id), id).await?))
    }

    /// Admin only: the same refund for any user's payment.
    async fn admin_refund_star_payment(&self, ctx: &Context<'_>, payment_id: ID) -> Result<StarPayment> {
        require_admin(ctx).await?;
        let id = decode_as(&payment_id, Kind::StarPayment, "payment")?;
        let payment = services(ctx).payments.refund(Refunder::Operator, id).await?;
        let details = serde_json::json!({ "stars": payment.stars, "credits": payment.credits });
        super::console::audit(ctx, "adminRefundStarPayment", payment_id.as_str(), None, details).await?;
        Ok(StarPayment(payment))
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "payments::RefundStatus")]
pub enum RefundStatus {
    /// The credits were taken back; Telegram has not confirmed yet.
    Requested,
    Refunded,
}

/// A Telegram Stars payment.
pub struct StarPayment(pub payments::Payment);

#[Object]
impl StarPayment {
    pub async fn id(&self) -> ID {
        encode(Kind::StarPayment, self.0.id)
    }
    async fn stars(&self) -> i64 {
        self.0.stars
    }
    /// Credits it bought.
    async fn credits(&self) -> i64 {
        self.0.credits
    }
    /// Credits a refund takes back (or took): those it bought and any promo bonus its top-up
    /// earned.
    async fn refund_credits(&self, ctx: &Context<'_>) -> Result<i64> {
        services(ctx).payments.refund_credits(&self.0).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }
    async fn refund_status(&self) -> Option<RefundStatus> {
        self.0.refund.map(Into::into)
    }
    async fn refunded_at(&self) -> Option<DateTime<Utc>> {
        self.0.refunded_at.map(to_datetime)
    }
    /// Whether `refundStarPayment` would accept it now (not refunded, its credits unspent).
    async fn refundable(&self, ctx: &Context<'_>) -> Result<bool> {
        services(ctx).payments.is_refundable(&self.0).await
    }
}

/// `User.starPayments`: the user's payments, newest first.
pub async fn star_payments(
    ctx: &Context<'_>,
    user_id: i64,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<String, StarPayment, StarPaymentsTotal>> {
    let limit = page_size(ctx, first, 20)?;
    let before_id = after.as_deref().map(|c| decode_id_cursor("pay", c)).transpose()?;
    let (payments, has_next) = services(ctx).payments.payments(user_id, before_id, limit).await?;
    let mut connection = Connection::with_additional_fields(before_id.is_some(), has_next, StarPaymentsTotal(user_id));
    connection.edges.extend(payments.into_iter().map(|p| Edge::new(id_cursor("pay", p.id), StarPayment(p))));
    Ok(connection)
}

pub struct StarPaymentsTotal(i64);

#[Object]
impl StarPaymentsTotal {
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        services(ctx).payments.payment_count(self.0).await
    }
}
