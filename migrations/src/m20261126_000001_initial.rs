//! The whole product's tables from day one: users and sign-in tokens, the credit ledger and
//! reservations, generations (the job queue) and their images, saved filters, avatars and their
//! photos, Stars payments, and the Telegram updates already processed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE users (
    id {pk},
    telegram_id BIGINT UNIQUE,
    username TEXT,
    first_name TEXT,
    last_name TEXT,
    language_code TEXT,
    start_payload TEXT,
    balance BIGINT NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE auth_tokens (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX auth_tokens_user ON auth_tokens (user_id);

CREATE TABLE credit_reservations (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    amount BIGINT NOT NULL CHECK (amount > 0),
    state TEXT NOT NULL,
    purpose TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    settled_at BIGINT
);
CREATE INDEX credit_reservations_held ON credit_reservations (user_id) WHERE state = 'HELD';

CREATE TABLE ledger_entries (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    balance_after BIGINT NOT NULL CHECK (balance_after >= 0),
    reason TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    reservation_id BIGINT REFERENCES credit_reservations(id),
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX ledger_entries_user ON ledger_entries (user_id, id);

CREATE TABLE avatars (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    training_type TEXT NOT NULL,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    is_main BOOLEAN NOT NULL DEFAULT FALSE,
    trigger_phrase TEXT NOT NULL,
    reservation_id BIGINT REFERENCES credit_reservations(id),
    provider TEXT,
    provider_request_id TEXT UNIQUE,
    status_url TEXT,
    response_url TEXT,
    cancel_url TEXT,
    lora_key TEXT,
    error TEXT,
    claimed_until BIGINT,
    deadline_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX avatars_user ON avatars (user_id, created_at, id);
CREATE INDEX avatars_jobs ON avatars (status, claimed_until);

CREATE TABLE avatar_photos (
    id {pk},
    avatar_id BIGINT NOT NULL REFERENCES avatars(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    storage_key TEXT,
    content_type TEXT,
    width INTEGER,
    height INTEGER,
    byte_size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    reject_reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX avatar_photos_hash ON avatar_photos (avatar_id, sha256) WHERE status = 'ACCEPTED';

CREATE TABLE generations (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    aspect_ratio TEXT NOT NULL,
    num_images INTEGER NOT NULL,
    seed BIGINT,
    avatar_id BIGINT REFERENCES avatars(id) ON DELETE SET NULL,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    cost BIGINT NOT NULL,
    reservation_id BIGINT REFERENCES credit_reservations(id),
    idempotency_key TEXT,
    provider TEXT NOT NULL,
    provider_request_id TEXT UNIQUE,
    status_url TEXT,
    response_url TEXT,
    cancel_url TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    claimed_until BIGINT,
    deadline_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT,
    UNIQUE (user_id, idempotency_key)
);
CREATE INDEX generations_user ON generations (user_id, created_at, id);
CREATE INDEX generations_jobs ON generations (status, claimed_until);
CREATE INDEX generations_deadline ON generations (deadline_at) WHERE status IN ('PENDING', 'QUEUED', 'RUNNING');

CREATE TABLE images (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    generation_id BIGINT REFERENCES generations(id) ON DELETE SET NULL,
    avatar_id BIGINT REFERENCES avatars(id) ON DELETE SET NULL,
    kind TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt TEXT NOT NULL,
    aspect_ratio TEXT NOT NULL,
    bucket TEXT NOT NULL,
    storage_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    byte_size BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    favorited_at BIGINT,
    telegram_file_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX images_gallery ON images (user_id, created_at, id);
CREATE INDEX images_favorites ON images (user_id, created_at, id) WHERE favorited_at IS NOT NULL;
CREATE INDEX images_generation ON images (generation_id);

CREATE TABLE saved_filters (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    filter_json TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE payments (
    id {pk},
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    telegram_payment_charge_id TEXT NOT NULL UNIQUE,
    provider_payment_charge_id TEXT,
    package_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    total_amount BIGINT NOT NULL,
    credits BIGINT NOT NULL,
    invoice_payload TEXT NOT NULL,
    ledger_entry_id BIGINT REFERENCES ledger_entries(id),
    created_at BIGINT NOT NULL,
    refunded_at BIGINT
);

CREATE TABLE telegram_updates (
    update_id BIGINT PRIMARY KEY,
    received_at BIGINT NOT NULL
);
"#;

const DOWN: &str = r#"
DROP TABLE telegram_updates;
DROP TABLE payments;
DROP TABLE saved_filters;
DROP TABLE images;
DROP TABLE generations;
DROP TABLE avatar_photos;
DROP TABLE avatars;
DROP TABLE ledger_entries;
DROP TABLE credit_reservations;
DROP TABLE auth_tokens;
DROP TABLE users;
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
