//! Balance, the ledger, and top-up with Telegram Stars (invoice → pre-checkout → payment).

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use teloxide::{
    payloads::AnswerPreCheckoutQuerySetters,
    prelude::Requester,
    types::{LabeledPrice, PreCheckoutQuery, SuccessfulPayment},
};

use super::{BotCtx, Result, Turn, profile};
use crate::telegram::client::Actor;
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
    invoice_payload: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Packages {
    credit_packages: Vec<Package>,
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

/// Sends the invoice in Stars (`XTR`, exactly one price, no provider token).
pub async fn buy(turn: &mut Turn<'_>, package_id: &str) -> Result<()> {
    let packages: Packages = turn.run("CreditPackages", Value::Null).await?;
    let Some(package) = packages.credit_packages.into_iter().find(|p| p.id == package_id) else {
        return top_up(turn).await;
    };
    let t = turn.t();
    let title = fill(t.invoice_title, &[("credits", &package.credits)]);
    let description = fill(t.invoice_description, &[("credits", &package.credits)]);
    let price = LabeledPrice::new(title.clone(), u32::try_from(package.stars).unwrap_or(u32::MAX));
    let chat = turn.chat;
    let invoice = turn.bot.api.send_invoice(chat, title, description, package.invoice_payload, "XTR", [price]);
    turn.bot.deliver(chat, invoice).await?;
    Ok(())
}

/// Telegram asks before taking the Stars; it wants an answer within 10 seconds.
pub async fn pre_checkout(bot: &BotCtx, query: PreCheckoutQuery) -> Result<()> {
    let actor = Actor::Sender { profile: profile(&query.from), start_payload: None };
    let variables = json!({
        "invoicePayload": query.invoice_payload,
        "currency": query.currency,
        "totalAmount": query.total_amount,
    });
    let answer = bot.api.answer_pre_checkout_query(query.id.clone(), true);
    match bot.gql.run::<Value>(&actor, "CheckStarsCheckout", variables).await {
        Ok(_) => retrying(answer).await.map(drop)?,
        Err(error) => {
            tracing::info!(%error, "refused a pre-checkout query");
            let refusal = bot.api.answer_pre_checkout_query(query.id, false).error_message(error.to_string());
            retrying(refusal).await.map(drop)?
        }
    }
    Ok(())
}

/// The payment went through: credit it (once per charge id, however often it is delivered).
pub async fn paid(turn: &mut Turn<'_>, payment: &SuccessfulPayment) -> Result<()> {
    let charge_id = payment.telegram_payment_charge_id.0.clone();
    let input = json!({
        "telegramPaymentChargeId": charge_id,
        "providerPaymentChargeId": Some(payment.provider_payment_charge_id.clone()).filter(|s| !s.is_empty()),
        "invoicePayload": payment.invoice_payload,
        "currency": payment.currency,
        "totalAmount": payment.total_amount,
    });
    let data: Value = turn.run("RecordStarsPayment", json!({ "input": input })).await?;
    // A redelivered payment is credited once; say so once too.
    let mark = format!("tg:paid:{charge_id}");
    if turn.bot.cache.set_if_absent(&mark, "1", Duration::from_secs(7 * 24 * 3600)).await? {
        let t = turn.t();
        let entry = &data["recordStarsPayment"];
        let text = fill(t.paid, &[("credits", &entry["amount"].as_i64().unwrap_or_default()), ("balance", &entry["balanceAfter"].as_i64().unwrap_or_default())]);
        turn.send(&text, Some(keyboards::main_menu(t))).await?;
    }
    Ok(())
}
