use rand::Rng;
use sea_orm::{ConnectionTrait, DatabaseConnection};

use super::model::{ReferralReward, ReferralStats};
use super::repository as repo;
use crate::domain::analytics;
use crate::domain::credits::{BalanceChange, EntryKind, IdempotencyKey, LedgerEntry, apply_in_tx};
use crate::domain::{Error, Result, time::now_micros};

#[derive(Clone)]
pub struct ReferralService {
    db: DatabaseConnection,
    reward: ReferralReward,
    /// What a start parameter is appended to for a shareable link (the bot's `t.me` link).
    link_base: Option<String>,
}

impl ReferralService {
    pub fn new(db: DatabaseConnection, reward: ReferralReward, link_base: Option<String>) -> Self {
        ReferralService { db, reward, link_base }
    }

    /// The link that starts the bot with this code, when the bot's name is known.
    pub fn link(&self, code: &str) -> Option<String> {
        self.link_base.as_ref().map(|base| format!("{base}{}", super::model::start_parameter(code)))
    }

    pub fn reward(&self) -> ReferralReward {
        self.reward
    }

    /// The user's code (made on first use) and how their referrals went.
    pub async fn of_user(&self, user_id: i64) -> Result<ReferralStats> {
        let code = self.code(user_id).await?;
        let (count, rewarded, credits_earned) = repo::stats(&self.db, user_id).await?;
        Ok(ReferralStats { code, count, rewarded, credits_earned })
    }

    async fn code(&self, user_id: i64) -> Result<String> {
        for _ in 0..4 {
            if let Some(code) = repo::code_of(&self.db, user_id).await? {
                return Ok(code);
            }
            repo::set_code(&self.db, user_id, &new_code()).await?;
        }
        Err(Error::internal("no free referral code after four tries"))
    }

    /// Inside a top-up's transaction, after the referee's balance changed (so their row is
    /// locked): on their first top-up only, the referrer's reward. The entry to announce.
    pub(crate) async fn reward_in_tx(
        &self,
        tx: &impl ConnectionTrait,
        referee_id: i64,
        top_up: &LedgerEntry,
    ) -> Result<Option<LedgerEntry>> {
        let Some(referrer) = repo::mark_rewarded(tx, referee_id, now_micros()).await? else { return Ok(None) };
        let credits = self.reward.for_top_up(top_up.amount);
        if credits <= 0 {
            return Ok(None);
        }
        let change = BalanceChange {
            kind: EntryKind::Referral,
            amount: credits,
            reason: "a friend you invited topped up".into(),
            key: IdempotencyKey::internal(format!("referral:{referee_id}")),
        };
        let entry = apply_in_tx(tx, referrer, &change, None)
            .await?
            .map_err(|_| Error::internal("a referral reward was refused by the ledger"))?;
        analytics::record_in_tx(tx, referrer, analytics::EventKind::Referral, Some("referral")).await?;
        Ok(Some(entry))
    }
}

/// Inside the transaction that creates a user: the owner of the code in `start_payload`
/// (`ref_<code>`) becomes their referrer. Anything else in the payload is no referral.
pub(crate) async fn attribute_in_tx(tx: &impl ConnectionTrait, user_id: i64, start_payload: &str) -> Result<bool> {
    match start_payload.strip_prefix("ref_") {
        Some(code) if !code.is_empty() && code.len() <= 32 => repo::attribute(tx, user_id, code).await,
        _ => Ok(false),
    }
}

/// Ten characters of `a-z0-9`: about 52 bits, and safe in a `/start` payload.
fn new_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..10).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect()
}
