//! Balance, the ledger, top-up with Telegram Stars (a recorded invoice → pre-checkout →
//! payment), promo codes (`/promo CODE`, or a button and then the code), and `/paysupport` with
//! refunds of unspent purchases.

use teloxide::{
    payloads::AnswerPreCheckoutQuerySetters,
    prelude::Requester,
    types::{LabeledPrice, PreCheckoutQuery, SuccessfulPayment},
};

use super::{BotCtx, BotError, Result, Turn, profile};
use crate::telegram::callback::Period;
use crate::telegram::client::{Actor, ApiError, ErrorCode};
use crate::telegram::keyboards;
use crate::telegram::operations::{
    Balance, CheckStarsCheckout, CreateStarsInvoice, CreditPackages, DateTime, History, PromoKind, RecordStarsPayment,
    RedeemPromoCode, RefundStarPayment, Spending, SpendingPeriod, StarPayment, StarPayments, TransactionKind, balance,
    check_stars_checkout, create_stars_invoice, credit_packages, history, record_stars_payment, redeem_promo_code,
    refund_star_payment, spending, star_payment, star_payments,
};
use crate::telegram::outgoing::retrying;
use crate::telegram::state::Screen;
use crate::telegram::texts::{Texts, fill, truncate};

fn day(at: &DateTime) -> String {
    at.format("%Y-%m-%d").to_string()
}

/// One ledger row as a line: day, amount, kind, the balance after it, why.
fn row(created_at: &DateTime, amount: i64, kind: TransactionKind, balance_after: i64, reason: &str) -> String {
    format!("{} {amount:+} {} → {balance_after} · {reason}", day(created_at), kind.wire_name())
}

fn rows(t: &Texts, rows: Vec<String>) -> String {
    if rows.is_empty() { t.no_transactions.to_owned() } else { rows.join("\n") }
}

pub async fn show(turn: &mut Turn<'_>) -> Result<()> {
    let me = turn.execute::<Balance>(balance::Variables).await?.me;
    let t = turn.t();
    let edges = me.transactions.edges.iter().map(|e| &e.node);
    let rows = rows(t, edges.map(|n| row(&n.created_at, n.amount, n.kind, n.balance_after, &n.reason)).collect());
    let balance = me.balance;
    let text = fill(t.balance, &[("balance", &balance), ("rows", &rows)]);
    turn.show(Screen::Balance, &text, Some(keyboards::balance(t))).await
}

pub async fn top_up(turn: &mut Turn<'_>) -> Result<()> {
    let packages = turn.execute::<CreditPackages>(credit_packages::Variables).await?.credit_packages;
    let t = turn.t();
    let buttons: Vec<(String, String)> = packages
        .iter()
        .map(|p| (p.id.clone(), fill(t.package, &[("credits", &p.credits), ("stars", &p.stars)])))
        .collect();
    turn.show(Screen::TopUp, t.packages, Some(keyboards::packages(t, &buttons))).await
}

/// Sends the invoice in Stars (`XTR`, exactly one price, no provider token). Its offer is
/// recorded by the API first: the payment is credited by it, whatever is on offer then.
pub async fn buy(turn: &mut Turn<'_>, package_id: &str) -> Result<()> {
    let variables = create_stars_invoice::Variables { package_id: package_id.to_owned() };
    let invoice = match turn.execute::<CreateStarsInvoice>(variables).await {
        Ok(created) => created.create_stars_invoice,
        Err(BotError::Api(error)) if error.code() == ErrorCode::NotFound => return top_up(turn).await,
        Err(error) => return Err(error),
    };
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
    let variables = check_stars_checkout::Variables {
        invoice_payload: query.invoice_payload,
        currency: query.currency,
        total_amount: i64::from(query.total_amount),
    };
    let refusal = match bot.gql.execute::<CheckStarsCheckout>(&actor, variables).await {
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
    let input = record_stars_payment::StarsPaymentInput {
        telegram_payment_charge_id: payment.telegram_payment_charge_id.0.clone(),
        provider_payment_charge_id: Some(payment.provider_payment_charge_id.clone()).filter(|s| !s.is_empty()),
        invoice_payload: payment.invoice_payload.clone(),
        currency: payment.currency.clone(),
        total_amount: i64::from(payment.total_amount),
    };
    turn.execute::<RecordStarsPayment>(record_stars_payment::Variables { input }).await?;
    Ok(())
}

async fn payments(turn: &Turn<'_>) -> Result<Vec<star_payments::StarPaymentsMeStarPaymentsEdgesNode>> {
    let me = turn.execute::<StarPayments>(star_payments::Variables).await?.me;
    Ok(me.star_payments.edges.into_iter().map(|edge| edge.node).collect())
}

/// `/paysupport`: how to reach us, and a button for each purchase that can be refunded.
pub async fn paysupport(turn: &mut Turn<'_>) -> Result<()> {
    let refundable: Vec<_> = payments(turn).await?.into_iter().filter(|p| p.refundable).collect();
    let t = turn.t();
    let buttons: Vec<(String, String)> = refundable
        .iter()
        .map(|p| (p.id.clone(), fill(t.btn_refund, &[("stars", &p.stars), ("day", &day(&p.created_at))])))
        .collect();
    let list = if buttons.is_empty() { t.no_refundable } else { t.refundable };
    let text = format!("{}\n\n{list}", t.paysupport);
    turn.show(Screen::PaySupport, &text, Some(keyboards::refundable(t, &buttons))).await
}

/// Asks before refunding: the credits will leave the balance.
pub async fn ask_refund(turn: &mut Turn<'_>, payment_id: &str) -> Result<()> {
    let node = turn.execute::<StarPayment>(star_payment::Variables { id: payment_id.to_owned() }).await?.node;
    let star_payment::StarPaymentNode::StarPayment(payment) = node else {
        let message = format!("{payment_id} is not a Stars payment");
        let details = Default::default();
        return Err(BotError::Api(ApiError::Refused { code: ErrorCode::NotFound, message, details }));
    };
    if !payment.refundable {
        return paysupport(turn).await;
    }
    let t = turn.t();
    let text = fill(t.confirm_refund, &[("stars", &payment.stars), ("credits", &payment.refund_credits)]);
    let label = fill(t.btn_confirm_refund, &[("stars", &payment.stars)]);
    turn.show(Screen::ConfirmRefund, &text, Some(keyboards::confirm_refund(t, payment_id, &label))).await
}

/// Refunds; the notifier confirms once Telegram did, and the list shows what is left.
pub async fn refund(turn: &mut Turn<'_>, payment_id: &str) -> Result<()> {
    match turn.execute::<RefundStarPayment>(refund_star_payment::Variables { id: payment_id.to_owned() }).await {
        Ok(_) => {}
        Err(BotError::Api(ApiError::Refused {
            code: ErrorCode::BadUserInput | ErrorCode::Unavailable,
            message,
            ..
        })) => {
            let t = turn.t();
            return turn.show(Screen::PaySupport, &message, Some(keyboards::only_back(t))).await;
        }
        Err(error) => return Err(error),
    }
    paysupport(turn).await
}

/// The latest twenty transactions.
pub async fn history(turn: &mut Turn<'_>) -> Result<()> {
    let transactions = turn.execute::<History>(history::Variables).await?.me.transactions;
    let t = turn.t();
    let edges = transactions.edges.iter().map(|e| &e.node);
    let rows = rows(t, edges.map(|n| row(&n.created_at, n.amount, n.kind, n.balance_after, &n.reason)).collect());
    let text = truncate(&fill(t.history, &[("total", &transactions.total_count), ("rows", &rows)]), 4096);
    turn.show(Screen::History, &text, Some(keyboards::only_back(t))).await
}

/// Where the credits went over a week, a month or all time, as the API sums the ledger.
pub async fn spending(turn: &mut Turn<'_>, period: Option<Period>) -> Result<()> {
    let wire = match period {
        Some(Period::Day) => SpendingPeriod::Day,
        Some(Period::Week) => SpendingPeriod::Week,
        Some(Period::Month) => SpendingPeriod::Month,
        None => SpendingPeriod::AllTime,
    };
    let s = turn.execute::<Spending>(spending::Variables { period: wire }).await?.me.spending;
    let t = turn.t();
    let name = match period {
        Some(Period::Day) => t.today,
        Some(Period::Week) => t.week,
        Some(Period::Month) => t.month,
        None => t.all_time,
    };
    let models: Vec<String> = s
        .by_model
        .iter()
        .map(|m| fill(t.spending_model, &[("model", &m.model), ("spent", &m.spent), ("count", &m.count)]))
        .collect();
    let text = fill(
        t.spending,
        &[
            ("period", &name),
            ("spent", &s.spent),
            ("charged", &s.charged),
            ("refunded", &s.refunded),
            ("models", &models.join("\n")),
            ("topups", &s.stars.count),
            ("stars", &s.stars.stars),
            ("credits", &s.stars.credits),
        ],
    );
    turn.show(Screen::Spending, &truncate(&text, 4096), Some(keyboards::spending(t, period))).await
}

/// Asks for a promo code: the next message is taken as one.
pub async fn ask_promo(turn: &mut Turn<'_>) -> Result<()> {
    let t = turn.t();
    turn.show(Screen::AwaitPromo, t.ask_promo, Some(keyboards::only_back(t))).await
}

/// Redeems a code; a refusal shows the API's reason and waits for another code.
pub async fn redeem(turn: &mut Turn<'_>, code: &str) -> Result<()> {
    let variables = redeem_promo_code::Variables { code: code.to_owned() };
    let redeemed = match turn.execute::<RedeemPromoCode>(variables).await {
        Ok(redeemed) => redeemed.redeem_promo_code,
        Err(BotError::Api(ApiError::Refused { code: ErrorCode::BadUserInput, message, .. })) => {
            let t = turn.t();
            let text = fill(t.promo_refused, &[("reason", &message)]);
            return turn.show(Screen::AwaitPromo, &text, Some(keyboards::only_back(t))).await;
        }
        Err(error) => return Err(error),
    };
    let t = turn.t();
    let code = &redeemed.code;
    let text = match (redeemed.kind, &redeemed.transaction) {
        (PromoKind::Credits, Some(paid)) => {
            fill(t.promo_credits, &[("code", code), ("credits", &paid.amount), ("balance", &paid.balance_after)])
        }
        (PromoKind::Credits, None) => return show(turn).await,
        (PromoKind::BonusPercent, _) => fill(t.promo_bonus, &[("code", code), ("percent", &redeemed.value)]),
        (PromoKind::DiscountPercent, _) => fill(t.promo_discount, &[("code", code), ("percent", &redeemed.value)]),
    };
    turn.show(Screen::Balance, &text, Some(keyboards::balance(t))).await
}
