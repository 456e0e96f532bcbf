//! `me`, the `User` type and its ledger (`transactions`).

use super::pagination::page_cost;
use async_graphql::{
    Context, Enum, ID, Object,
    connection::{Connection, Edge},
};
use chrono::{DateTime, Utc};

use super::context::{current_user, services};
use super::ids::{Kind, encode};
use super::pagination::{decode_id_cursor, id_cursor, page_request};
use crate::domain::{self, Result, credits::EntryKind, time::to_datetime};

#[derive(Default)]
pub struct UserQuery;

#[Object]
impl UserQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let id = current_user(ctx).await?;
        Ok(User(services(ctx).users.get(id).await?))
    }
}

#[derive(Default)]
pub struct UserMutation;

#[Object]
impl UserMutation {
    /// The language the bot and notifications use for the signed-in user (`en`, `ru`, …).
    async fn set_language(&self, ctx: &Context<'_>, language_code: String) -> Result<User> {
        let id = current_user(ctx).await?;
        Ok(User(services(ctx).users.set_language(id, &language_code).await?))
    }
}

pub struct User(pub domain::users::User);

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        encode(Kind::User, self.0.id)
    }

    /// The Telegram user id (a string: it does not fit GraphQL's 32-bit Int).
    async fn telegram_id(&self) -> Option<String> {
        self.0.telegram_id.map(|id| id.to_string())
    }

    async fn username(&self) -> Option<&str> {
        self.0.username.as_deref()
    }

    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }

    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }

    async fn language_code(&self) -> Option<&str> {
        self.0.language_code.as_deref()
    }

    /// Credits available now (whole credits, never negative).
    async fn balance(&self) -> i64 {
        self.0.balance
    }

    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }

    /// The ledger, newest first: every change of the balance (Relay connection; `first`/`after`
    /// forwards, `last`/`before` backwards).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn transactions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Connection<String, Transaction, TransactionsTotal>> {
        let request = page_request(ctx, (first, after), (last, before), |c| decode_id_cursor("tx", c))?;
        let page = services(ctx).credits.transactions(self.0.id, request).await?;
        let mut connection =
            Connection::with_additional_fields(page.has_previous, page.has_next, TransactionsTotal(self.0.id));
        connection.edges.extend(page.items.into_iter().map(|e| Edge::new(id_cursor("tx", e.id), Transaction(e))));
        Ok(connection)
    }

    /// Where the user's credits went and came from over `period`, from the ledger.
    async fn spending(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "super::spending::SpendingPeriod::Month")] period: super::spending::SpendingPeriod,
    ) -> Result<super::spending::Spending> {
        super::spending::of_user(ctx, self.0.id, period).await
    }

    /// Why the operator blocked the user; null when they are not blocked (the operator reads
    /// it: a blocked user's own requests are refused).
    async fn blocked_reason(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        services(ctx).users.blocked_reason(self.0.id).await
    }

    /// The user's referral code and link, and what the friends it brought did.
    async fn referrals(&self, ctx: &Context<'_>) -> Result<super::referrals::Referrals> {
        super::referrals::of_user(ctx, self.0.id).await
    }

    /// The user's settings (defaults until changed with `updateSettings`).
    async fn settings(&self, ctx: &Context<'_>) -> Result<super::settings::UserSettings> {
        Ok(services(ctx).users.settings(self.0.id).await?.into())
    }

    /// Promo codes redeemed, newest first (the last 50); with `pendingOnly`, the bonuses and
    /// discounts that wait for the next top-up or paid action.
    async fn promo_redemptions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] pending_only: bool,
    ) -> Result<Vec<super::promos::PromoRedemption>> {
        super::promos::redemptions(ctx, self.0.id, pending_only).await
    }

    /// Telegram Stars payments, newest first, with whether each can be refunded.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn star_payments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, super::payments::StarPayment, super::payments::StarPaymentsTotal>> {
        super::payments::star_payments(ctx, self.0.id, first, after).await
    }
}

/// `totalCount` of the ledger, counted only when asked for.
pub struct TransactionsTotal(i64);

#[Object]
impl TransactionsTotal {
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        services(ctx).credits.transaction_count(self.0).await
    }
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "EntryKind")]
pub enum TransactionKind {
    TopUp,
    Charge,
    Refund,
    Bonus,
    Adjustment,
    /// Credits taken back when a Stars payment was refunded.
    PaymentRefund,
    /// Credits of a promo code, or the bonus it gave a top-up.
    Promo,
    /// The reward for a friend's first top-up.
    Referral,
}

/// One row of the credit ledger.
pub struct Transaction(pub domain::credits::LedgerEntry);

#[Object]
impl Transaction {
    pub async fn id(&self) -> ID {
        encode(Kind::Transaction, self.0.id)
    }

    async fn kind(&self) -> TransactionKind {
        self.0.kind.into()
    }

    /// Credits in (positive) or out (negative).
    async fn amount(&self) -> i64 {
        self.0.amount
    }

    async fn balance_after(&self) -> i64 {
        self.0.balance_after
    }

    async fn reason(&self) -> &str {
        &self.0.reason
    }

    async fn idempotency_key(&self) -> &str {
        &self.0.idempotency_key
    }

    /// For a `TOP_UP`: the `PROMO` row of the bonus a promo code added to it, if any.
    async fn promo_bonus(&self, ctx: &Context<'_>) -> Result<Option<Transaction>> {
        Ok(services(ctx).promos.bonus_of_top_up(&self.0).await?.map(Transaction))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }
}
