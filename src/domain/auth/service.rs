use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use futures_util::StreamExt;
use rand::RngCore;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use super::repository as repo;
use super::telegram::{start_param, verify_telegram_data};
use super::token_cache::{Cached, TokenCache};
use crate::adapters::{bus::EventBus, cache::Cache};
use crate::domain::analytics;
use crate::domain::events::Event;
use crate::domain::users::{TelegramProfile, User, UserService};
use crate::domain::{Error, Result, time::now_micros};

/// Who is making a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Principal {
    User(i64),
    /// A user acting through our own bot (the update came through the verified webhook). The
    /// bot may record what only Telegram can tell it: Stars payments, photo file ids.
    BotUser(i64),
    /// The operator, through `AISHA_ADMIN_TOKEN`.
    Admin,
}

#[derive(Clone)]
pub struct AuthService {
    db: DatabaseConnection,
    users: UserService,
    bus: Arc<dyn EventBus>,
    bot_token: Option<SecretString>,
    admin_token: Option<SecretString>,
    settings: AuthSettings,
    tokens: Arc<TokenCache>,
    watchers: Arc<RevocationWatchers>,
}

#[derive(Clone, Copy, Debug)]
pub struct AuthSettings {
    /// Telegram sign-in data older than this is refused (`AISHA_SIGN_IN_MAX_AGE_SECS`).
    pub sign_in_max_age: Duration,
    /// A token lives this long after its last use (`AISHA_TOKEN_TTL_DAYS`).
    pub token_ttl: Duration,
    /// Live tokens per user; signing in once more revokes the oldest.
    pub max_live_tokens: usize,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            sign_in_max_age: Duration::from_secs(super::telegram::MAX_AGE_SECS.unsigned_abs()),
            token_ttl: Duration::from_secs(90 * 24 * 3600),
            max_live_tokens: 20,
        }
    }
}

fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// Whoever holds a token open (a WebSocket) learns at once when it is revoked, on any instance.
#[derive(Default)]
struct RevocationWatchers(std::sync::Mutex<std::collections::HashMap<String, tokio::sync::watch::Sender<bool>>>);

impl RevocationWatchers {
    fn watch(&self, token_hash: &str) -> tokio::sync::watch::Receiver<bool> {
        let mut watchers = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Forget the tokens nobody watches any more.
        watchers.retain(|_, sender| sender.receiver_count() > 0);
        watchers.entry(token_hash.to_owned()).or_insert_with(|| tokio::sync::watch::channel(false).0).subscribe()
    }

    fn revoked(&self, token_hash: &str) {
        if let Some(sender) = self.0.lock().unwrap_or_else(|p| p.into_inner()).get(token_hash) {
            sender.send_replace(true);
        }
    }
}

impl AuthService {
    pub fn new(
        db: DatabaseConnection,
        users: UserService,
        bus: Arc<dyn EventBus>,
        cache: Arc<dyn Cache>,
        bot_token: Option<SecretString>,
        admin_token: Option<SecretString>,
        settings: AuthSettings,
    ) -> Self {
        AuthService {
            db,
            users,
            bus,
            bot_token,
            admin_token,
            settings,
            tokens: Arc::new(TokenCache::new(cache)),
            watchers: Arc::default(),
        }
    }

    /// Closes this instance's sockets of tokens revoked on any instance; runs until the bus ends.
    pub async fn follow_revocations(&self) {
        let mut events = self.bus.subscribe();
        while let Some(event) = events.next().await {
            if let Event::TokenRevoked { token_hash, .. } = event {
                self.watchers.revoked(&token_hash);
            }
        }
    }

    /// Checks Telegram sign-in data, creates or refreshes the user (a new user keeps the Mini
    /// App's `start_param` as their start payload), and issues a token.
    pub async fn sign_in_with_telegram(&self, init_data: &str, utm_source: Option<&str>) -> Result<(String, User)> {
        let bot_token = self
            .bot_token
            .as_ref()
            .ok_or_else(|| Error::Unavailable("Telegram sign-in is not configured on this server".into()))?;
        let now_secs = now_micros() / 1_000_000;
        let max_age = self.settings.sign_in_max_age.as_secs() as i64;
        let profile = verify_telegram_data(init_data, bot_token.expose_secret(), now_secs, max_age)
            .map_err(|e| Error::invalid(e.to_string()))?;
        // Signed with the rest: a Mini App opened from a referral link carries its code. A
        // campaign link to the web client says where it came from in `utm_source`.
        let start = start_param(init_data).or_else(|| utm_source.map(|s| format!("utm:{}", s.trim())));
        let user = self.users.sign_up_or_refresh(&profile, start.as_deref()).await?;
        let source = analytics::source_of(start.as_deref());
        analytics::record_in_tx(&self.db, user.id, analytics::EventKind::SignedIn, source.as_deref()).await?;
        let token = self.issue_token(user.id).await?;
        Ok((token, user))
    }

    /// Creates a new bearer token for the user; only its hash is stored.
    pub async fn issue_token(&self, user_id: i64) -> Result<String> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let token = format!("aisha_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
        let now = now_micros();
        let expires_at = now + micros(self.settings.token_ttl);
        repo::insert_token(&self.db, user_id, &hash(&token), now, expires_at).await?;
        self.revoke_beyond_quota(user_id, now).await?;
        Ok(token)
    }

    /// A user keeps at most `max_live_tokens`: the oldest go first (and their sockets close).
    async fn revoke_beyond_quota(&self, user_id: i64, now: i64) -> Result<()> {
        let keep = self.settings.max_live_tokens as i64;
        let revoked = repo::revoke_beyond(&self.db, user_id, keep, now).await?;
        self.forget_revoked(user_id, revoked).await;
        Ok(())
    }

    /// Resolves a bearer token; an unknown or revoked one is `Unauthenticated`.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        if let Some(admin) = &self.admin_token
            && constant_time_eq(admin.expose_secret().as_bytes(), token.as_bytes())
        {
            return Ok(Principal::Admin);
        }
        if !token.starts_with("aisha_") {
            return Err(Error::Unauthenticated);
        }
        let token_hash = hash(token);
        match self.tokens.lookup(&token_hash).await {
            Cached::User(user_id) => return Ok(Principal::User(user_id)),
            Cached::Revoked => return Err(Error::Unauthenticated),
            Cached::Unknown => {}
        }
        let now = now_micros();
        let (user_id, expires_at) =
            repo::live_token(&self.db, &token_hash, now).await?.ok_or(Error::Unauthenticated)?;
        // Use renews the token, at most once a day.
        let ttl = micros(self.settings.token_ttl);
        let expires_at = if expires_at - now < ttl - micros(Duration::from_secs(24 * 3600)) {
            repo::renew_token(&self.db, &token_hash, now + ttl).await?;
            now + ttl
        } else {
            expires_at
        };
        let left = Duration::from_micros(u64::try_from(expires_at - now).unwrap_or(0));
        self.tokens.remember(&token_hash, user_id, left).await;
        Ok(Principal::User(user_id))
    }

    /// The user behind the sender of a Telegram update, created on first contact (with the
    /// deep-link payload, if any). Remembered for a few minutes, like a token.
    pub async fn authenticate_bot_user(
        &self,
        profile: &TelegramProfile,
        start_payload: Option<&str>,
    ) -> Result<Principal> {
        let key = format!("telegram:{}", profile.telegram_id);
        if let Cached::User(user_id) = self.tokens.lookup(&key).await {
            return Ok(Principal::BotUser(user_id));
        }
        let user = self.users.sign_up_or_refresh(profile, start_payload).await?;
        self.tokens.remember(&key, user.id, Duration::MAX).await;
        Ok(Principal::BotUser(user.id))
    }

    /// Turns `true` when `token` is revoked (here or on another instance).
    pub fn watch_revocation(&self, token: &str) -> tokio::sync::watch::Receiver<bool> {
        self.watchers.watch(&hash(token))
    }

    /// Tells the caches, the open sockets and the other instances of tokens revoked in the
    /// database (over the quota, or with an erased account).
    pub async fn forget_revoked(&self, user_id: i64, token_hashes: Vec<String>) {
        for token_hash in token_hashes {
            self.tokens.revoke(&token_hash).await;
            self.watchers.revoked(&token_hash);
            if let Err(error) = self.bus.publish(&Event::TokenRevoked { user_id, token_hash }).await {
                tracing::warn!(%error, "could not announce a revoked token; other instances forget it within minutes");
            }
        }
    }

    /// Forgets which user a Telegram account is (its account was erased): its next update
    /// finds, or makes, the user from the database.
    pub async fn forget_telegram_account(&self, telegram_id: i64) {
        self.tokens.revoke(&format!("telegram:{telegram_id}")).await;
    }

    /// Revokes the token; true when it was live.
    pub async fn revoke(&self, token: &str) -> Result<bool> {
        let token_hash = hash(token);
        let revoked = repo::revoke_token(&self.db, &token_hash, now_micros()).await?;
        self.tokens.revoke(&token_hash).await;
        self.watchers.revoked(&token_hash);
        let Some(user_id) = revoked else { return Ok(false) };
        let event = Event::TokenRevoked { user_id, token_hash };
        if let Err(error) = self.bus.publish(&event).await {
            tracing::warn!(%error, "could not announce a revoked token; other instances forget it within minutes");
        }
        Ok(true)
    }
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
