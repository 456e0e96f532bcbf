use std::{sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, TransactionTrait};

use super::{export, repository as repo};
use crate::adapters::storage::{LinkWindow, Storage};
use crate::domain::auth::AuthService;
use crate::domain::gallery::StatsCache;
use crate::domain::jobs::JobEngine;
use crate::domain::rate_limits::{Action, Caller, RateLimiter};
use crate::domain::storage::{Objects, StorageKey, user_folder};
use crate::domain::time::now_micros;
use crate::domain::{Error, Result};

/// What `deleteMyAccount` must be given, so that no stray call erases an account.
pub const ERASE_CONFIRMATION: &str = "DELETE";
/// How long the link to an export works.
const EXPORT_LINK_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Clone)]
pub struct PrivacyService {
    db: DatabaseConnection,
    storage: Arc<dyn Storage>,
    jobs: JobEngine,
    auth: AuthService,
    stats: StatsCache,
    rate_limits: RateLimiter,
}

/// An export, stored and linked.
pub struct DataExport {
    pub url: String,
    /// Unix seconds.
    pub expires_at: u64,
    pub byte_size: usize,
    pub images: usize,
    pub photos: usize,
}

/// What erasing an account did.
pub struct AccountErased {
    pub cancelled_jobs: usize,
    pub removed_objects: usize,
}

impl PrivacyService {
    pub fn new(
        db: DatabaseConnection,
        storage: Arc<dyn Storage>,
        jobs: JobEngine,
        auth: AuthService,
        stats: StatsCache,
        rate_limits: RateLimiter,
    ) -> Self {
        PrivacyService { db, storage, jobs, auth, stats, rate_limits }
    }

    /// Builds the archive of everything the user has, stores it (replacing the last one) and
    /// links it for a day. Heavy, so it spends from the paid budget.
    pub async fn export(&self, user_id: i64) -> Result<DataExport> {
        self.rate_limits.check(Caller::User(user_id), Action::Paid).await?;
        let mut documents = Vec::new();
        for table in std::iter::once(&repo::ACCOUNT).chain(repo::TABLES) {
            let mut rows = repo::rows(&self.db, table, user_id).await?;
            let json = if table.file == repo::ACCOUNT.file {
                serde_json::to_vec_pretty(&rows.pop().ok_or(Error::NotFound("user"))?)
            } else {
                serde_json::to_vec_pretty(&rows)
            };
            documents.push((table.file.to_owned(), json.map_err(Error::internal)?));
        }
        let files = repo::files(&self.db, user_id).await?;
        let archive = export::build(&self.storage, documents, files).await?;
        let key = StorageKey::data_export(user_id);
        let byte_size = archive.bytes.len();
        self.storage.store(&key, archive.bytes).await?;
        let window = LinkWindow::from_now(EXPORT_LINK_TTL);
        let url = self.storage.link(&key, window).await?;
        Ok(DataExport { url, expires_at: window.expires_at, byte_size, images: archive.images, photos: archive.photos })
    }

    /// Erases the account: running jobs are cancelled and refunded first, then every stored
    /// object of the user is removed, then their rows, in one transaction that also revokes
    /// their tokens. A failure before the transaction changes no row, so asking again finishes
    /// the work; objects are removed once more after it, for a job that stored one meanwhile.
    pub async fn erase(&self, user_id: i64, confirm: &str) -> Result<AccountErased> {
        if confirm != ERASE_CONFIRMATION {
            return Err(Error::invalid(format!("to delete your account, confirm with \"{ERASE_CONFIRMATION}\"")));
        }
        let telegram_id = repo::telegram_id(&self.db, user_id).await?;
        let folder = user_folder(user_id);
        let mut cancelled_jobs = 0;
        // A job created while this runs is caught by the check in the transaction: then again.
        for _ in 0..3 {
            for job in repo::active_jobs(&self.db, user_id).await? {
                if self.jobs.cancel(job, "the account was deleted").await? {
                    cancelled_jobs += 1;
                }
            }
            let mut removed_objects = self.storage.remove_folder(&folder).await?;
            let tx = self.db.begin().await?;
            let revoked = repo::erase(&tx, user_id, telegram_id, now_micros()).await?;
            if !repo::active_jobs(&tx, user_id).await?.is_empty() {
                continue; // rolled back when dropped
            }
            tx.commit().await?;
            match self.storage.remove_folder(&folder).await {
                Ok(late) => removed_objects += late,
                Err(error) => tracing::error!(%error, user_id, "objects stored during an erasure were not removed"),
            }
            self.auth.forget_revoked(user_id, revoked).await;
            if let Some(telegram_id) = telegram_id {
                self.auth.forget_telegram_account(telegram_id).await;
            }
            self.stats.invalidate(user_id).await;
            return Ok(AccountErased { cancelled_jobs, removed_objects });
        }
        Err(Error::Unavailable("new work keeps starting on this account; try again in a minute".into()))
    }
}
