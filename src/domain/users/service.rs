use sea_orm::{DatabaseConnection, TransactionTrait};

use super::model::{TelegramProfile, User};
use super::repository as repo;
use super::settings::{self, Settings, SettingsChange};
use crate::domain::credits::{BalanceChange, CreditService, EntryKind, IdempotencyKey, apply_in_tx};
use crate::domain::referrals;
use crate::domain::{Error, Result, time::now_micros};

#[derive(Clone)]
pub struct UserService {
    db: DatabaseConnection,
    credits: CreditService,
    welcome_bonus: i64,
}

impl UserService {
    pub fn new(db: DatabaseConnection, credits: CreditService, welcome_bonus: i64) -> Self {
        UserService { db, credits, welcome_bonus }
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
        if created && let Some(payload) = start_payload {
            referrals::attribute_in_tx(&tx, user.id, payload).await?;
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
