//! Promo codes. An operator creates a code; a user redeems it once or a few times (as the code
//! allows) while it is active, valid and not used up — checked in one transaction that takes the
//! code's row first, so two users racing for the last use cannot both win. `CREDITS` pays out at
//! once (a `PROMO` ledger row); `BONUS_PERCENT` and `DISCOUNT_PERCENT` wait as a pending
//! redemption that the next Stars top-up, or the next paid action, consumes exactly once, in that
//! action's own transaction. A discounted action that ends refunded gives its discount back.

mod model;
mod repository;
mod service;

pub use model::{NewPromoCode, PromoCode, PromoKind, Redemption, RedemptionState};
pub use service::{PromoService, discounted};
pub(crate) use service::{
    bonus_in_tx, bonus_key, discount_in_tx, link_discount_in_tx, next_discount, restore_discount_in_tx,
};
