//! Nothing lost, nothing starved: a durable inbox of Telegram updates (written before the
//! webhook answers 200), a durable outbox of what users must be told (written in the same
//! transaction as the change it reports), the offers behind Stars invoices, refunds of Stars
//! payments, and jobs that are scheduled step by step (`next_step_at`) under a claim that only
//! its holder releases (`claimed_by`).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
DROP TABLE telegram_updates;

CREATE TABLE telegram_updates (
    update_id BIGINT PRIMARY KEY,
    chat_key BIGINT NOT NULL,
    lane TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    error TEXT,
    received_at BIGINT NOT NULL,
    done_at BIGINT
);
CREATE INDEX telegram_updates_pending ON telegram_updates (chat_key, update_id) WHERE status = 'PENDING';
CREATE INDEX telegram_updates_queue ON telegram_updates (lane, update_id) WHERE status = 'PENDING';
CREATE INDEX telegram_updates_done ON telegram_updates (done_at) WHERE status = 'DONE';

CREATE TABLE notifications (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    claimed_by TEXT,
    claimed_until BIGINT,
    error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    UNIQUE (kind, event_id)
);
CREATE INDEX notifications_pending ON notifications (next_attempt_at) WHERE status = 'PENDING';

CREATE TABLE star_invoices (
    id {pk},
    payload TEXT NOT NULL UNIQUE,
    user_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    package_id TEXT NOT NULL,
    stars BIGINT NOT NULL,
    credits BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

ALTER TABLE payments ADD COLUMN refund_status TEXT;
ALTER TABLE payments ADD COLUMN refund_ledger_entry_id BIGINT REFERENCES ledger_entries(id);
ALTER TABLE payments ADD COLUMN refund_error TEXT;
CREATE INDEX payments_user ON payments (user_id, id);

ALTER TABLE generations ADD COLUMN claimed_by TEXT;
ALTER TABLE generations ADD COLUMN next_step_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX generations_steps ON generations (purpose, next_step_at) WHERE status IN ('PENDING', 'QUEUED', 'RUNNING');
CREATE INDEX generations_active_user ON generations (user_id, purpose) WHERE status IN ('PENDING', 'QUEUED', 'RUNNING')
"#;

const DOWN: &str = r#"
DROP INDEX generations_active_user;
DROP INDEX generations_steps;
ALTER TABLE generations DROP COLUMN next_step_at;
ALTER TABLE generations DROP COLUMN claimed_by;
DROP INDEX payments_user;
ALTER TABLE payments DROP COLUMN refund_error;
ALTER TABLE payments DROP COLUMN refund_ledger_entry_id;
ALTER TABLE payments DROP COLUMN refund_status;
DROP TABLE star_invoices;
DROP TABLE notifications;
DROP TABLE telegram_updates;
CREATE TABLE telegram_updates (
    update_id BIGINT PRIMARY KEY,
    received_at BIGINT NOT NULL
)
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
