//! `exportMyData` and `deleteMyAccount`: the signed-in user's own data, taken away or erased.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::context::{current_user, services};
use crate::domain::{Result, privacy};

#[derive(Default)]
pub struct PrivacyMutation;

#[Object]
impl PrivacyMutation {
    /// Builds a zip of everything the user has (account, settings, ledger, payments,
    /// generations, images, avatars and their photos as JSON, and every image and photo as a
    /// file) and returns a link to it that works for a day. A new export replaces the last.
    async fn export_my_data(&self, ctx: &Context<'_>) -> Result<DataExport> {
        let id = current_user(ctx).await?;
        Ok(services(ctx).privacy.export(id).await?.into())
    }

    /// Erases the signed-in user's account: running generations and trainings are cancelled
    /// and refunded, every image, photo, LoRA and export is removed from storage, the rows are
    /// deleted, and every token is revoked. The ledger and payments stay, as the law asks, with
    /// nothing left that says whose they were; credits left are forfeit. `confirm` must be
    /// `"DELETE"`; anything else is `BAD_USER_INPUT` and changes nothing.
    async fn delete_my_account(&self, ctx: &Context<'_>, confirm: String) -> Result<AccountDeletion> {
        let id = current_user(ctx).await?;
        let erased = services(ctx).privacy.erase(id, &confirm).await?;
        Ok(AccountDeletion {
            cancelled_jobs: i32::try_from(erased.cancelled_jobs).unwrap_or(i32::MAX),
            removed_files: i32::try_from(erased.removed_objects).unwrap_or(i32::MAX),
        })
    }
}

/// An export of the user's data, ready to download.
#[derive(SimpleObject)]
pub struct DataExport {
    /// A signed link to the zip.
    url: String,
    /// When the link stops working.
    expires_at: DateTime<Utc>,
    byte_size: i64,
    /// How many images and avatar photos the archive holds as files.
    images: i32,
    photos: i32,
}

impl From<privacy::DataExport> for DataExport {
    fn from(e: privacy::DataExport) -> Self {
        let expires_at = DateTime::from_timestamp(i64::try_from(e.expires_at).unwrap_or(i64::MAX), 0);
        DataExport {
            url: e.url,
            expires_at: expires_at.unwrap_or_default(),
            byte_size: i64::try_from(e.byte_size).unwrap_or(i64::MAX),
            images: i32::try_from(e.images).unwrap_or(i32::MAX),
            photos: i32::try_from(e.photos).unwrap_or(i32::MAX),
        }
    }
}

/// What erasing the account did.
#[derive(SimpleObject)]
pub struct AccountDeletion {
    /// Generations and trainings cancelled (and refunded) first.
    cancelled_jobs: i32,
    /// Objects removed from storage.
    removed_files: i32,
}
