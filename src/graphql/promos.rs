//! Promo codes: the operator creates and switches them; a user redeems one and sees what waits.

use async_graphql::{
    Context, Enum, ID, InputObject, Object,
    connection::{Connection, Edge, EmptyFields},
    dataloader::DataLoader,
};
use chrono::{DateTime, Utc};

use super::context::{current_user, require_admin, services};
use super::ids::{Kind, encode};
use super::loaders::TransactionLoader;
use super::pagination::{BATCHED_COST, decode_id_cursor, id_cursor, page_cost, page_size};
use super::users::Transaction;
use crate::domain::{
    Error, Result,
    promos::{self, NewPromoCode},
    time::to_datetime,
};

#[derive(Default)]
pub struct PromoQuery;

#[Object]
impl PromoQuery {
    /// Admin only: every promo code, newest first.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn admin_promo_codes(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, PromoCode, EmptyFields, EmptyFields>> {
        require_admin(ctx).await?;
        let limit = page_size(ctx, first, 20)?;
        let before_id = after.as_deref().map(|c| decode_id_cursor("promo", c)).transpose()?;
        let (codes, more) = services(ctx).promos.list(before_id, limit).await?;
        let mut connection = Connection::new(before_id.is_some(), more);
        connection.edges.extend(codes.into_iter().map(|code| Edge::new(id_cursor("promo", code.id), PromoCode(code))));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct PromoMutation;

#[Object]
impl PromoMutation {
    /// Redeems a promo code (any case) for the signed-in user: `CREDITS` are added at once (a
    /// `PROMO` transaction); a bonus or discount waits for the next top-up or paid action. A
    /// code that is unknown, inactive, not yet or no longer valid, used up, or already used by
    /// this user is `BAD_USER_INPUT`, saying which.
    async fn redeem_promo_code(&self, ctx: &Context<'_>, code: String) -> Result<PromoRedemption> {
        let user_id = current_user(ctx).await?;
        Ok(PromoRedemption(services(ctx).promos.redeem(user_id, &code).await?))
    }

    /// Admin only: a new promo code. The code is stored in upper case and must be new.
    async fn create_promo_code(&self, ctx: &Context<'_>, input: PromoCodeInput) -> Result<PromoCode> {
        require_admin(ctx).await?;
        let code = NewPromoCode {
            code: input.code,
            kind: input.kind.into(),
            value: input.value,
            max_uses: input.max_uses,
            uses_per_user: input.uses_per_user,
            valid_from: input.valid_from.map(|at| at.timestamp_micros()),
            valid_until: input.valid_until.map(|at| at.timestamp_micros()),
            active: input.active,
        };
        let created = services(ctx).promos.create(code).await?;
        let details = serde_json::json!({
            "kind": created.kind.as_str(), "value": created.value, "maxUses": created.max_uses,
            "usesPerUser": created.uses_per_user, "validFrom": created.valid_from, "validUntil": created.valid_until,
            "active": created.active,
        });
        super::console::audit(ctx, "createPromoCode", &created.code, None, details).await?;
        Ok(PromoCode(created))
    }

    /// Admin only: switches a code on or off; redemptions already made are kept.
    async fn set_promo_code_active(&self, ctx: &Context<'_>, code: String, active: bool) -> Result<PromoCode> {
        require_admin(ctx).await?;
        let code = services(ctx).promos.set_active(&code, active).await?;
        super::console::audit(ctx, "setPromoCodeActive", &code.code, None, serde_json::json!({ "active": active }))
            .await?;
        Ok(PromoCode(code))
    }
}

/// The signed-in user's redemptions, newest first (the last 50); only those waiting when asked.
pub async fn redemptions(ctx: &Context<'_>, user_id: i64, pending_only: bool) -> Result<Vec<PromoRedemption>> {
    let promos = &services(ctx).promos;
    let list = if pending_only { promos.pending(user_id).await? } else { promos.redemptions(user_id).await? };
    Ok(list.into_iter().map(PromoRedemption).collect())
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "promos::PromoKind")]
pub enum PromoKind {
    /// Adds `value` credits at once.
    Credits,
    /// The next Stars top-up gives `value` % more credits.
    BonusPercent,
    /// The next generation or training costs `value` % less.
    DiscountPercent,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "promos::RedemptionState")]
pub enum PromoRedemptionState {
    /// Credits added at redemption.
    Applied,
    /// A bonus or discount waiting for its top-up or paid action.
    Pending,
    /// Used by that action.
    Consumed,
}

#[derive(InputObject)]
pub struct PromoCodeInput {
    /// 3-32 letters, digits, `-` or `_`; case does not matter.
    code: String,
    kind: PromoKind,
    /// Credits for `CREDITS` (1-100000), a percent for `BONUS_PERCENT` (1-500) and
    /// `DISCOUNT_PERCENT` (1-99).
    value: i64,
    /// Redemptions by everyone together; null for no limit.
    max_uses: Option<i64>,
    #[graphql(default = 1)]
    uses_per_user: i64,
    valid_from: Option<DateTime<Utc>>,
    /// The first moment the code is no longer valid.
    valid_until: Option<DateTime<Utc>>,
    #[graphql(default = true)]
    active: bool,
}

pub struct PromoCode(promos::PromoCode);

#[Object]
impl PromoCode {
    async fn id(&self) -> ID {
        encode(Kind::PromoCode, self.0.id)
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn kind(&self) -> PromoKind {
        self.0.kind.into()
    }
    async fn value(&self) -> i64 {
        self.0.value
    }
    async fn max_uses(&self) -> Option<i64> {
        self.0.max_uses
    }
    async fn uses_per_user(&self) -> i64 {
        self.0.uses_per_user
    }
    /// Redemptions so far.
    async fn uses(&self) -> i64 {
        self.0.uses
    }
    async fn valid_from(&self) -> Option<DateTime<Utc>> {
        self.0.valid_from.map(to_datetime)
    }
    async fn valid_until(&self) -> Option<DateTime<Utc>> {
        self.0.valid_until.map(to_datetime)
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }
}

/// One use of a promo code.
pub struct PromoRedemption(promos::Redemption);

#[Object]
impl PromoRedemption {
    async fn id(&self) -> ID {
        encode(Kind::PromoRedemption, self.0.id)
    }
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn kind(&self) -> PromoKind {
        self.0.kind.into()
    }
    /// Credits, or a percent (see `kind`).
    async fn value(&self) -> i64 {
        self.0.value
    }
    async fn state(&self) -> PromoRedemptionState {
        self.0.state.into()
    }
    /// The credits it paid: at once for `CREDITS`, with the top-up for a bonus. A list's rows
    /// are loaded in one batch.
    #[graphql(complexity = "BATCHED_COST + child_complexity")]
    async fn transaction(&self, ctx: &Context<'_>) -> Result<Option<Transaction>> {
        let Some(entry_id) = self.0.ledger_entry_id else { return Ok(None) };
        let loader = ctx.data_unchecked::<DataLoader<TransactionLoader>>();
        let entry = loader.load_one(entry_id).await.map_err(Error::internal)?;
        // The redemption is the viewer's; so must its ledger row be.
        Ok(entry.filter(|e| e.user_id == self.0.user_id).map(|e| Transaction(e.as_ref().clone())))
    }
    async fn redeemed_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }
    async fn consumed_at(&self) -> Option<DateTime<Utc>> {
        self.0.consumed_at.map(to_datetime)
    }
}
