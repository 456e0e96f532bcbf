//! Admin balance adjustments and the `balanceChanged` subscription.

use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};

use super::context::{current_user, require_admin, services};
use super::ids::{Kind, decode_as, encode};
use super::users::Transaction;
use crate::adapters::bus::EventBus;
use crate::domain::{
    Error, Result,
    credits::{BalanceChange, EntryKind, IdempotencyKey},
    events::Event,
};

#[derive(Default)]
pub struct CreditMutation;

#[Object]
impl CreditMutation {
    /// Admin only: adds (positive) or removes (negative) credits as an `ADJUSTMENT`. The same
    /// `idempotencyKey` for the same user applies once and returns the first transaction.
    async fn adjust_balance(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        amount: i64,
        reason: String,
        idempotency_key: String,
    ) -> Result<Transaction> {
        require_admin(ctx).await?;
        let user_id = decode_as(&user_id, Kind::User, "user")?;
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(Error::invalid("reason must be 1-200 characters"));
        }
        let key = IdempotencyKey::parse(&idempotency_key)?.within("admin");
        let credits = &services(ctx).credits;
        credits.balance(user_id).await?; // NOT_FOUND before anything else
        let change = BalanceChange { kind: EntryKind::Adjustment, amount, reason: reason.to_owned(), key };
        let entry = credits.apply(user_id, change).await?;
        let details =
            serde_json::json!({ "amount": amount, "idempotencyKey": idempotency_key, "transaction": entry.id });
        super::console::audit(ctx, "adjustBalance", &encode(Kind::User, user_id), Some(reason), details).await?;
        Ok(Transaction(entry))
    }
}

#[derive(Default)]
pub struct CreditSubscription;

#[derive(SimpleObject)]
pub struct BalanceUpdate {
    balance: i64,
    /// The ledger row that changed the balance.
    transaction_id: ID,
}

#[Subscription]
impl CreditSubscription {
    /// The signed-in user's balance, each time it changes.
    async fn balance_changed(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = BalanceUpdate> + use<>> {
        let user_id = current_user(ctx).await?;
        let bus = ctx.data_unchecked::<std::sync::Arc<dyn EventBus>>();
        Ok(bus.subscribe().filter_map(move |event| async move {
            match event {
                Event::BalanceChanged { user_id: owner, balance, entry_id } if owner == user_id => {
                    Some(BalanceUpdate { balance, transaction_id: super::ids::encode(Kind::Transaction, entry_id) })
                }
                _ => None,
            }
        }))
    }
}
