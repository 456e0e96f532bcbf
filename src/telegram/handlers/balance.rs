//! Balance, the ledger, top-up with Telegram Stars (a recorded invoice → pre-checkout →
//! payment), and `/paysupport` with refunds of unspent purchases.

use serde::Deserialize;
use serde_json::{Value, json};
use teloxide::{
    payloads::AnswerPreCheckoutQuerySetters,
    prelude::Requester,
    types::{LabeledPrice, PreCheckoutQuery, SuccessfulPayment},
};

use super::{BotCtx, BotError, Result, Turn, profile};
use crate::telegram::client::{Actor, ApiError};
use crate::telegram::keyboards;
use crate::telegram::outgoing::retrying;
use crate::telegram::state::Screen;
use crate::telegram::texts::fill;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    id: String,
    stars: i64,
    credits: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Packages {
    credit_packages: Vec<Package>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Invoice {
    payload: String,
    stars: i64,
    credits: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedInvoice {
    create_stars_invoice: Invoice,
}

#[derive(Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StarPayment {
    id: String,
    stars: i64,
    credits: i64,
    #[serde(default)]
    created_at: String,
    refundable: bool,
}

pub async fn show(turn: &mut Turn<'_>) -> Result<()> {
    let data: Value = turn.run("Balance", Value::Null).await?;
    let t = turn.t();
    let rows: Vec<String> = data["me"]["transactions"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|edge| {
            let node = &edge["node"];
            let day = node["createdAt"].as_str().unwrap_or_default().get(..10).unwrap_or_default().to_owned();
            format!(
                "{day} {:+} {} → {} · {}",
                node["amount"].as_i64().unwrap_or_default(),
                node["kind"].as_str().unwrap_or_default(),
                node["balanceAfter"].as_i64().unwrap_or_default(),
                node["reason"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let rows = if rows.is_empty() { t.no_transactions.to_owned() } else { rows.join("\n") };
    let balance = data["me"]["balance"].as_i64().unwrap_or_default();
    let text = fill(t.balance, &[("balance", &balance), ("rows", &rows)]);
    turn.show(Screen::Balance, &text, Some(keyboards::balance(t))).await
}

pub async fn top_up(turn: &mut Turn<'_>) -> Result<()> {
    let packages: Packages = turn.run("CreditPackages", Value::Null).await?;
    let t = turn.t();
    let buttons: Vec<(String, String)> = packages
        .credit_packages
        .iter()
        .map(|p| (p.id.clone(), fill(t.package, &[("credits", &p.credits), ("stars", &p.stars)])))
        .collect();
    turn.show(Screen::TopUp, t.packages, Some(keyboards::packages(t, &buttons))).await
}

/// Sends the invoice in Stars (`XTR`, exactly one price, no provider token). Its offer is
/// recorded by the API first: the payment is credited by it, whatever is on offer then.
pub async fn buy(turn: &mut Turn<'_>, package_id: &str) -> Result<()> {
    let created: CreatedInvoice = match turn.run("CreateStarsInvoice", json!({ "packageId": package_id })).await {
        Ok(created) => created,
        Err(BotError::Api(error)) if error.code() == "NOT_FOUND" => return top_up(turn).await,
        Err(error) => return Err(error),
    };
    let invoice = created.create_stars_invoice;
    let t = turn.t();
    let title = fill(t.invoice_title, &[("credits", &invoice.credits)]);
    let description = fill(t.invoice_description, &[("credits", &invoice.credits)]);
    let price = LabeledPrice::new(title.clone(), u32::try_from(invoice.stars).unwrap_or(u32::MAX));
    let chat = turn.chat;
    let request = turn.bot.api.send_invoice(chat, title, description, invoice.payload, "XTR", [price]);
    turn.bot.deliver(chat, request).await?;
    Ok(())
}

/// Telegram asks before taking the Stars and wants an answer within 10 seconds: this runs in a
/// lane of its own and answers without the message limiter.
pub async fn pre_checkout(bot: &BotCtx, query: PreCheckoutQuery) -> Result<()> {
    let actor = Actor::Sender { profile: profile(&query.from), start_payload: None };
    let variables = json!({
        "invoicePayload": query.invoice_payload,
        "currency": query.currency,
        "totalAmount": query.total_amount,
    });
    let refusal = match bot.gql.run::<Value>(&actor, "CheckStarsCheckout", variables).await {
        Ok(_) => None,
        Err(error) => {
            let message = error.message();
            let error = BotError::from(error);
            if error.is_transient() {
                return Err(error);
            }
            tracing::info!(%error, "refused a pre-checkout query");
            Some(message)
        }
    };
    let answer = bot.api.answer_pre_checkout_query(query.id, refusal.is_none());
    let answer = match refusal {
        Some(message) => answer.error_message(message),
        None => answer,
    };
    retrying(answer).await?;
    Ok(())
}

/// The payment went through: the API credits it once per charge id, however often it is
/// delivered, and tells the user (a notification written with the credit).
pub async fn paid(turn: &mut Turn<'_>, payment: &SuccessfulPayment) -> Result<()> {
    let input = json!({
        "telegramPaymentChargeId": payment.telegram_payment_charge_id.0,
        "providerPaymentChargeId": Some(payment.provider_payment_charge_id.clone()).filter(|s| !s.is_empty()),
        "invoicePayload": payment.invoice_payload,
        "currency": payment.currency,
        "totalAmount": payment.total_amount,
    });
    turn.run::<Value>("RecordStarsPayment", json!({ "input": input })).await?;
    Ok(())
}

async fn payments(turn: &Turn<'_>) -> Result<Vec<StarPayment>> {
    let data: Value = turn.run("StarPayments", Value::Null).await?;
    let edges = data["me"]["starPayments"]["edges"].as_array().cloned().unwrap_or_default();
    edges
        .into_iter()
        .map(|edge| {
            serde_json::from_value(edge["node"].clone()).map_err(|e| BotError::Api(ApiError::Shape("StarPayments", e)))
        })
        .collect()
}

/// `/paysupport`: how to reach us, and a button for each purchase that can be refunded.
pub async fn paysupport(turn: &mut Turn<'_>) -> Result<()> {
    let refundable: Vec<StarPayment> = payments(turn).await?.into_iter().filter(|p| p.refundable).collect();
    let t = turn.t();
    let buttons: Vec<(String, String)> = refundable
        .iter()
        .map(|p| {
            (
                p.id.clone(),
                fill(t.btn_refund, &[("stars", &p.stars), ("day", &p.created_at.get(..10).unwrap_or_default())]),
            )
        })
        .collect();
    let list = if buttons.is_empty() { t.no_refundable } else { t.refundable };
    let text = format!("{}\n\n{list}", t.paysupport);
    turn.show(Screen::PaySupport, &text, Some(keyboards::refundable(t, &buttons))).await
}

/// Asks before refunding: the credits will leave the balance.
pub async fn ask_refund(turn: &mut Turn<'_>, payment_id: &str) -> Result<()> {
    let data: Value = turn.run("StarPayment", json!({ "id": payment_id })).await?;
    let payment: StarPayment =
        serde_json::from_value(data["node"].clone()).map_err(|e| BotError::Api(ApiError::Shape("StarPayment", e)))?;
    if !payment.refundable {
        return paysupport(turn).await;
    }
    let t = turn.t();
    let text = fill(t.confirm_refund, &[("stars", &payment.stars), ("credits", &payment.credits)]);
    let label = fill(t.btn_confirm_refund, &[("stars", &payment.stars)]);
    turn.show(Screen::ConfirmRefund, &text, Some(keyboards::confirm_refund(t, payment_id, &label))).await
}

/// Refunds; the notifier confirms once Telegram did, and the list shows what is left.
pub async fn refund(turn: &mut Turn<'_>, payment_id: &str) -> Result<()> {
    match turn.run::<Value>("RefundStarPayment", json!({ "id": payment_id })).await {
        Ok(_) => {}
        Err(BotError::Api(ApiError::Refused { code, message, .. }))
            if code == "BAD_USER_INPUT" || code == "UNAVAILABLE" =>
        {
            let t = turn.t();
            return turn.show(Screen::PaySupport, &message, Some(keyboards::only_back(t))).await;
        }
        Err(error) => return Err(error),
    }
    paysupport(turn).await
}
