//! Promo codes: codes an operator creates (credits now, a bonus on the next top-up, a discount on
//! the next paid action), and each user's redemptions of them. A bonus or discount waits as a
//! `PENDING` redemption until the action that consumes it, exactly once.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE promo_codes (
    id {pk},
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    value BIGINT NOT NULL CHECK (value > 0),
    max_uses BIGINT CHECK (max_uses > 0),
    uses_per_user BIGINT NOT NULL CHECK (uses_per_user > 0),
    uses BIGINT NOT NULL DEFAULT 0,
    valid_from BIGINT,
    valid_until BIGINT,
    active BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK (max_uses IS NULL OR uses <= max_uses)
);
CREATE TABLE promo_redemptions (
    id {pk},
    promo_code_id BIGINT NOT NULL REFERENCES promo_codes(id),
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    value BIGINT NOT NULL,
    state TEXT NOT NULL,
    ledger_entry_id BIGINT REFERENCES ledger_entries(id),
    reservation_id BIGINT REFERENCES credit_reservations(id),
    created_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX promo_redemptions_user ON promo_redemptions (user_id, kind, state);
CREATE INDEX promo_redemptions_code ON promo_redemptions (promo_code_id, user_id);
CREATE INDEX promo_redemptions_reservation ON promo_redemptions (reservation_id)
"#;

const DOWN: &str = r#"
DROP TABLE promo_redemptions;
DROP TABLE promo_codes
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::run_script(manager, DOWN).await
    }
}
