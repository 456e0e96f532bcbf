//! Referrals: each user's code (given on first use), who referred them (set once, when they are
//! created) and when their referrer's reward was paid (once, on their first top-up).
//! `referred_by` has no foreign key: SQLite cannot drop a column that has one (`DOWN`), and the
//! only write to it names an existing user.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE users ADD COLUMN referral_code TEXT;
ALTER TABLE users ADD COLUMN referred_by BIGINT;
ALTER TABLE users ADD COLUMN referral_rewarded_at BIGINT;
CREATE UNIQUE INDEX users_referral_code ON users (referral_code);
CREATE INDEX users_referred_by ON users (referred_by)
"#;

const DOWN: &str = r#"
DROP INDEX users_referred_by;
DROP INDEX users_referral_code;
ALTER TABLE users DROP COLUMN referral_rewarded_at;
ALTER TABLE users DROP COLUMN referred_by;
ALTER TABLE users DROP COLUMN referral_code
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
