//! Telegram's side of Stars payments: refunds (`refundStarPayment`) and invoice links
//! (`createInvoiceLink`), the domain's [`StarsGateway`], and the bot's transaction list (`getStarTransactions`) for
//! `aisha reconcile-stars`.

use std::sync::Arc;

use anyhow::Context as _;
use teloxide::{
    ApiError, RequestError,
    payloads::GetStarTransactionsSetters,
    prelude::Requester,
    types::{LabeledPrice, StarTransaction as TelegramTransaction, TransactionPartner, UserId},
};

use super::outgoing::{self, BotApi, retrying};
use super::texts::{Lang, fill};
use crate::config::TelegramConfig;
use crate::domain::payments::{
    Direction, GatewayError, PaymentService, Reconciliation, StarTransaction, StarsGateway, StarsInvoice,
};

struct TelegramStars {
    api: BotApi,
}

/// The payments API of the configured bot.
pub fn stars_gateway(config: &TelegramConfig) -> anyhow::Result<Arc<dyn StarsGateway>> {
    Ok(Arc::new(TelegramStars { api: outgoing::connect(config).context("the Bot API client")? }))
}

#[async_trait::async_trait]
impl StarsGateway for TelegramStars {
    async fn refund(&self, telegram_user_id: i64, charge_id: &str) -> Result<(), GatewayError> {
        let user = UserId(
            u64::try_from(telegram_user_id).map_err(|_| GatewayError::Refused("not a Telegram user id".into()))?,
        );
        let request = self.api.refund_star_payment(user, teloxide::types::TelegramTransactionId(charge_id.to_owned()));
        match retrying(request).await {
            Ok(_) => Ok(()),
            Err(RequestError::Api(ApiError::Unknown(text))) if text.contains("CHARGE_ALREADY_REFUNDED") => {
                Err(GatewayError::AlreadyRefunded)
            }
            Err(error) if outgoing::is_transient(&error) => Err(GatewayError::Unavailable(error.to_string())),
            Err(error) => Err(GatewayError::Refused(error.to_string())),
        }
    }

    /// `createInvoiceLink` with the offer the bot's own invoices carry (in Stars: `XTR`, one
    /// price, no provider token). The link is `https://t.me/$<slug>`; a `telegram.me` host, which
    /// the Bot API has returned, is rewritten, as the Mini App SDKs accept only `t.me`.
    async fn invoice_link(&self, invoice: &StarsInvoice, language_code: Option<&str>) -> Result<String, GatewayError> {
        let t = Lang::from_code(language_code).texts();
        let credits = invoice.offer.credits;
        let title = fill(t.invoice_title, &[("credits", &credits)]);
        let description = fill(t.invoice_description, &[("credits", &credits)]);
        let price = LabeledPrice::new(title.clone(), u32::try_from(invoice.offer.stars).unwrap_or(u32::MAX));
        let request = self.api.create_invoice_link(title, description, invoice.payload.clone(), "XTR", [price]);
        match retrying(request).await {
            Ok(link) => Ok(link.replacen("https://telegram.me/", "https://t.me/", 1)),
            Err(error) if outgoing::is_transient(&error) => Err(GatewayError::Unavailable(error.to_string())),
            Err(error) => Err(GatewayError::Refused(error.to_string())),
        }
    }
}

/// `aisha reconcile-stars`: reads every transaction of the bot's Stars account and credits the
/// payments AISHA never recorded.
pub async fn reconcile_stars(config: &TelegramConfig, payments: &PaymentService) -> anyhow::Result<Reconciliation> {
    let api = outgoing::connect(config).context("the Bot API client")?;
    let mut transactions = Vec::new();
    let mut offset = 0u32;
    loop {
        let page =
            retrying(api.get_star_transactions().offset(offset).limit(100)).await.context("getStarTransactions")?;
        let count = page.transactions.len() as u32;
        transactions.extend(page.transactions.iter().map(to_domain));
        if count < 100 {
            break;
        }
        offset += count;
    }
    Ok(payments.reconcile(&transactions).await?)
}

fn to_domain(transaction: &TelegramTransaction) -> StarTransaction {
    let user = |partner: &Option<TransactionPartner>| match partner {
        Some(TransactionPartner::User(user)) => Some(user.clone()),
        _ => None,
    };
    let direction = match (user(&transaction.source), user(&transaction.receiver)) {
        (Some(payer), _) => Direction::Payment {
            telegram_user_id: payer.user.id.0 as i64,
            username: payer.user.username.clone(),
            invoice_payload: payer.kind.invoice_payment().and_then(|p| p.invoice_payload),
        },
        (None, Some(receiver)) => Direction::Refund { telegram_user_id: receiver.user.id.0 as i64 },
        (None, None) => Direction::Other,
    };
    StarTransaction {
        id: transaction.id.0.clone(),
        amount: i64::from(transaction.amount),
        at: transaction.date.timestamp_micros(),
        direction,
    }
}
