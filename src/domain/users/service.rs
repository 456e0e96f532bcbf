use std::sync::Arc;
use std::time::Duration;

use sea_orm::{DatabaseConnection, TransactionTrait};

use super::model::{TelegramProfile, User};
use super::repository as repo;
use super::settings::{self, Settings, SettingsChange};
use crate::adapters::cache::Cache;
use crate::domain::credits::{BalanceChange, CreditService, EntryKind, IdempotencyKey, apply_in_tx};
use crate::domain::{Error, Result, time::now_micros};
use crate::domain::{analytics, referrals};

#[derive(Clone)]
pub struct UserService {
    db: DatabaseConnection,
    credits: CreditService,
    /// Whether a user is blocked, shared by every instance (Redis when configured).
    cache: Arc<dyn Cache>,
    welcome_bonus: i64,
}

/// How long an instance trusts a cached "not blocked"; blocking rewrites the entry at once.
const BLOCKED_TTL: Duration = Duration::from_secs(300);

fn blocked_key(id: i64) -> String {
    format!("user:blocked:{id}")
}

impl UserService {
    pub fn new(db: DatabaseConnection, credits: CreditService, cache: Arc<dyn Cache>, welcome_bonus: i64) -> Self {
        UserService { db, credits, cache, welcome_bonus }
    }

    /// Why the user is blocked, or None; asked once per request, so the cache answers.
    pub async fn blocked_reason(&self, id: i64) -> Result<Option<String>> {
        match self.cache.get(&blocked_key(id)).await {
            Ok(Some(cached)) => return Ok((!cached.is_empty()).then_some(cached)),
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, "could not read a user's blocked state from the cache"),
        }
        let reason = repo::blocked_reason(&self.db, id).await?;
        self.remember_blocked(id, reason.as_deref()).await;
        Ok(reason)
    }

    async fn remember_blocked(&self, id: i64, reason: Option<&str>) {
        if let Err(error) = self.cache.set(&blocked_key(id), reason.unwrap_or_default(), BLOCKED_TTL).await {
            tracing::warn!(%error, "could not cache a user's blocked state");
        }
    }

    /// Blocks a user (the operator's): every request of theirs is refused from now on, on
    /// every instance.
    pub async fn block(&self, id: i64, reason: &str) -> Result<User> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > 200 {
            return Err(Error::invalid("reason must be 1-200 characters"));
        }
        self.get(id).await?;
        repo::set_blocked(&self.db, id, Some(reason), now_micros()).await?;
        self.remember_blocked(id, Some(reason)).await;
        self.get(id).await
    }

    pub async fn unblock(&self, id: i64) -> Result<User> {
        self.get(id).await?;
        repo::set_blocked(&self.db, id, None, now_micros()).await?;
        self.remember_blocked(id, None).await;
        self.get(id).await
    }

    /// The user with this Telegram id.
    pub async fn by_telegram_id(&self, telegram_id: i64) -> Result<User> {
        let found = repo::search(&self.db, &telegram_id.to_string(), 50).await?;
        found.into_iter().find(|u| u.telegram_id == Some(telegram_id)).ok_or(Error::NotFound("user"))
    }

    /// Users whose Telegram id is `search`, or whose username starts with it (for the
    /// operator), newest first.
    pub async fn search(&self, search: &str, limit: u64) -> Result<Vec<User>> {
        let search = search.trim().trim_start_matches('@');
        if search.is_empty() || search.chars().count() > 64 {
            return Err(Error::invalid("search must be 1-64 characters"));
        }
        repo::search(&self.db, search, limit).await
    }

    pub async fn get(&self, id: i64) -> Result<User> {
        repo::find(&self.db, id).await?.ok_or(Error::NotFound("user"))
    }

    /// Loads many users at once (for DataLoaders), in no particular order.
    pub async fn get_many(&self, ids: &[i64]) -> Result<Vec<User>> {
        repo::find_many(&self.db, ids).await
    }

    /// Sets the language the user wants to be spoken to in (`en`, `ru`, …).
    pub async fn set_language(&self, id: i64, language_code: &str) -> Result<User> {
        let code = settings::language_code(language_code)?;
        repo::set_language(&self.db, id, &code, now_micros()).await?;
        self.get(id).await
    }

    /// The user's settings (the defaults until they change one).
    pub async fn settings(&self, id: i64) -> Result<Settings> {
        let user = self.get(id).await?;
        let stored = repo::settings(&self.db, id).await?.unwrap_or_default();
        Ok(Settings { language_code: user.language_code, ..stored })
    }

    /// Changes the settings named in `change`, all or none; each field is written on its own,
    /// so concurrent changes of different settings both stay.
    pub async fn update_settings(&self, id: i64, change: SettingsChange) -> Result<Settings> {
        let change = change.validate()?;
        self.get(id).await?; // NOT_FOUND before anything else
        let now = now_micros();
        let tx = self.db.begin().await?;
        repo::update_settings(&tx, id, &change, &Settings::default(), now).await?;
        if let Some(code) = &change.language_code {
            repo::set_language(&tx, id, code, now).await?;
        }
        tx.commit().await?;
        self.settings(id).await
    }

    /// Finds or creates the user behind a Telegram account. A new user gets the welcome bonus as
    /// a `BONUS` row in the same transaction; `start_payload` (a deep link) is kept on creation,
    /// and a referral code in it attributes the new user to its owner.
    pub async fn sign_up_or_refresh(&self, profile: &TelegramProfile, start_payload: Option<&str>) -> Result<User> {
        let tx = self.db.begin().await?;
        let (mut user, created) = repo::upsert_telegram(&tx, profile, start_payload, now_micros()).await?;
        if created {
            if let Some(payload) = start_payload {
                referrals::attribute_in_tx(&tx, user.id, payload).await?;
            }
            let source = analytics::source_of(start_payload);
            analytics::record_in_tx(&tx, user.id, analytics::EventKind::Arrived, source.as_deref()).await?;
        }
        let mut bonus = None;
        if created && self.welcome_bonus > 0 {
            let change = BalanceChange {
                kind: EntryKind::Bonus,
                amount: self.welcome_bonus,
                reason: "welcome bonus".into(),
                key: IdempotencyKey::internal("bonus:welcome".into()),
            };
            if let Ok(entry) = apply_in_tx(&tx, user.id, &change, None).await? {
                user.balance = entry.balance_after;
                bonus = Some(entry);
            }
        }
        tx.commit().await?;
        if let Some(entry) = bonus {
            self.credits.announce(&entry).await;
        }
        Ok(user)
    }
}
