use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use super::model::{NewPromoCode, PromoCode, PromoKind, Redemption, RedemptionState, normalize};
use super::repository as repo;
use crate::domain::credits::{BalanceChange, CreditService, EntryKind, IdempotencyKey, LedgerEntry, apply_in_tx};
use crate::domain::rate_limits::{Action, Caller, RateLimiter};
use crate::domain::{Error, Result, time::now_micros};

#[derive(Clone)]
pub struct PromoService {
    db: DatabaseConnection,
    credits: CreditService,
    rate_limits: RateLimiter,
}

impl PromoService {
    pub fn new(db: DatabaseConnection, credits: CreditService, rate_limits: RateLimiter) -> Self {
        PromoService { db, credits, rate_limits }
    }

    /// A new code (the operator's); a code that exists already is refused.
    pub async fn create(&self, code: NewPromoCode) -> Result<PromoCode> {
        let code = code.validate()?;
        repo::insert_code(&self.db, &code, now_micros())
            .await?
            .ok_or_else(|| Error::invalid(format!("the code {} exists already", code.code)))
    }

    /// Switches a code on or off (the operator's).
    pub async fn set_active(&self, code: &str, active: bool) -> Result<PromoCode> {
        repo::set_active(&self.db, &normalize(code)?, active).await?.ok_or(Error::NotFound("promo code"))
    }

    /// Codes newest first, older than `before_id`; and whether more follow.
    pub async fn list(&self, before_id: Option<i64>, limit: usize) -> Result<(Vec<PromoCode>, bool)> {
        let mut codes = repo::list_codes(&self.db, before_id, limit as u64 + 1).await?;
        let more = codes.len() > limit;
        codes.truncate(limit);
        Ok((codes, more))
    }

    /// Redeems a code for the user: all of its rules are checked in the transaction that takes
    /// its use, and credits are paid in it too.
    pub async fn redeem(&self, user_id: i64, raw_code: &str) -> Result<Redemption> {
        // A code is a secret to guess, like a password: attempts share the sign-in budget.
        self.rate_limits.check(Caller::User(user_id), Action::SignIn).await?;
        let code = normalize(raw_code).map_err(|_| Error::invalid(UNKNOWN))?;
        let now = now_micros();
        let tx = self.db.begin().await?;
        let Some(promo) = repo::take_use(&tx, &code, now).await? else {
            tx.rollback().await?;
            return Err(self.why_not(&code, now).await?);
        };
        // The code's row is locked from here on: the same user's racing redemptions queue too.
        if repo::uses_by(&tx, promo.id, user_id).await? >= promo.uses_per_user {
            tx.rollback().await?;
            return Err(Error::invalid(match promo.uses_per_user {
                1 => "you have used this code already".to_owned(),
                n => format!("you have used this code {n} times, as often as it allows"),
            }));
        }
        if promo.kind != PromoKind::Credits && repo::pending_count(&tx, user_id, promo.kind).await? > 0 {
            tx.rollback().await?;
            return Err(Error::invalid(match promo.kind {
                PromoKind::BonusPercent => "you have a bonus waiting already: it applies to your next top-up",
                _ => "you have a discount waiting already: it applies to your next generation or training",
            }));
        }
        let state = if promo.kind == PromoKind::Credits { RedemptionState::Applied } else { RedemptionState::Pending };
        let id = repo::insert_redemption(&tx, &promo, user_id, state, now).await?;
        let mut paid = None;
        if promo.kind == PromoKind::Credits {
            let change = BalanceChange {
                kind: EntryKind::Promo,
                amount: promo.value,
                reason: format!("promo code {}", promo.code),
                key: IdempotencyKey::internal(format!("promo:{id}")),
            };
            let entry = apply_in_tx(&tx, user_id, &change, None)
                .await?
                .map_err(|_| Error::internal("the credits of a promo code were refused by the ledger"))?;
            repo::link_entry(&tx, id, entry.id).await?;
            paid = Some(entry);
        }
        tx.commit().await?;
        if let Some(entry) = &paid {
            self.credits.announce(entry).await;
        }
        repo::redemption(&self.db, id).await?.ok_or_else(|| Error::internal("a redemption vanished"))
    }

    /// Why a code cannot be redeemed now, in words a person understands.
    async fn why_not(&self, code: &str, now: i64) -> Result<Error> {
        let Some(promo) = repo::find_code(&self.db, code).await? else {
            return Ok(Error::invalid(UNKNOWN));
        };
        Ok(Error::invalid(if !promo.active {
            "this promo code is not active"
        } else if promo.valid_from.is_some_and(|from| now < from) {
            "this promo code is not valid yet"
        } else if promo.valid_until.is_some_and(|until| now >= until) {
            "this promo code has expired"
        } else {
            "this promo code has been used up"
        }))
    }

    /// The user's bonuses and discounts that wait for their action.
    pub async fn pending(&self, user_id: i64) -> Result<Vec<Redemption>> {
        repo::redemptions(&self.db, user_id, true).await
    }

    /// The promo bonus row a top-up earned, if it earned one.
    pub async fn bonus_of_top_up(&self, top_up: &LedgerEntry) -> Result<Option<LedgerEntry>> {
        if top_up.kind != EntryKind::TopUp {
            return Ok(None);
        }
        let key = bonus_key(&top_up.idempotency_key);
        self.credits.entry_by_key(top_up.user_id, key.as_str()).await
    }

    /// The user's latest redemptions, newest first.
    pub async fn redemptions(&self, user_id: i64) -> Result<Vec<Redemption>> {
        repo::redemptions(&self.db, user_id, false).await
    }
}

const UNKNOWN: &str = "there is no such promo code; check its spelling";

/// Inside a paid action's transaction: the price after the user's oldest waiting discount (which
/// is consumed), and the discount's redemption to link to the reservation; the price as it is
/// when there is none.
pub(crate) async fn discount_in_tx(tx: &impl ConnectionTrait, user_id: i64, price: i64) -> Result<(i64, Option<i64>)> {
    if price <= 0 {
        return Ok((price, None)); // nothing to take a percent off: the discount keeps waiting
    }
    let Some((redemption_id, percent)) =
        repo::consume_pending(tx, user_id, PromoKind::DiscountPercent, now_micros()).await?
    else {
        return Ok((price, None));
    };
    Ok((discounted(price, percent), Some(redemption_id)))
}

/// A price with `percent` off (the credits off rounded down). At most 99 % is ever given, so a
/// price stays at least one credit.
pub fn discounted(price: i64, percent: i64) -> i64 {
    price - price * percent / 100
}

/// The percent off the user's next paid action, if a discount waits (the one
/// [`discount_in_tx`] would consume).
pub(crate) async fn next_discount(db: &impl ConnectionTrait, user_id: i64) -> Result<Option<i64>> {
    repo::next_discount(db, user_id).await
}

/// Links a consumed discount to the reservation it lowered (so a refund can give it back).
pub(crate) async fn link_discount_in_tx(
    tx: &impl ConnectionTrait,
    redemption_id: i64,
    reservation_id: i64,
) -> Result<()> {
    repo::link_reservation(tx, redemption_id, reservation_id).await
}

/// Inside a refund's transaction: the discount that lowered this reservation waits again.
pub(crate) async fn restore_discount_in_tx(tx: &impl ConnectionTrait, reservation_id: i64) -> Result<bool> {
    repo::restore(tx, reservation_id).await
}

/// Inside a top-up's transaction: the user's oldest waiting bonus is consumed and paid as a
/// `PROMO` row on top of `top_up`; None when there is none (or it rounds to nothing).
pub(crate) async fn bonus_in_tx(
    tx: &impl ConnectionTrait,
    user_id: i64,
    top_up: &LedgerEntry,
) -> Result<Option<LedgerEntry>> {
    let Some((redemption_id, percent)) =
        repo::consume_pending(tx, user_id, PromoKind::BonusPercent, now_micros()).await?
    else {
        return Ok(None);
    };
    let credits = top_up.amount * percent / 100;
    if credits <= 0 {
        return Ok(None);
    }
    let change = BalanceChange {
        kind: EntryKind::Promo,
        amount: credits,
        reason: format!("bonus {percent}% on a top-up"),
        key: bonus_key(&top_up.idempotency_key),
    };
    let entry = apply_in_tx(tx, user_id, &change, None)
        .await?
        .map_err(|_| Error::internal("the bonus of a top-up was refused by the ledger"))?;
    repo::link_entry(tx, redemption_id, entry.id).await?;
    Ok(Some(entry))
}

/// The key of the bonus row a top-up (by its ledger key) earned, if it earned one.
pub(crate) fn bonus_key(top_up_key: &str) -> IdempotencyKey {
    IdempotencyKey::internal(format!("promo-bonus:{top_up_key}"))
}
