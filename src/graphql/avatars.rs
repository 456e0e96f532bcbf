//! Avatars: create, upload photos (GraphQL multipart request), train, use, delete; and
//! `avatarUpdated` for training progress.

use super::pagination::{BATCHED_COST, ROW_COST};
use async_graphql::{Context, Enum, ID, InputObject, Object, Subscription, Upload, dataloader::DataLoader};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use super::context::{current_user, services};
use super::ids::{Kind, decode_as, encode};
use super::loaders::AvatarPhotoLoader;
use crate::domain::{Error, Result, avatars, time::to_datetime};

/// How an avatar is trained.
#[derive(async_graphql::SimpleObject)]
pub struct TrainingSettings {
    /// The FAL trainer (`fal-ai/flux-lora-portrait-trainer`, or `fal-ai/flux-lora-fast-training`
    /// for a style), run with its default steps and learning rate.
    trainer: &'static str,
    /// The words that call up the trained subject (put in front of prompts).
    trigger_phrase: String,
    training_type: TrainingType,
    /// The accepted photos a training now would use.
    photo_count: i64,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "avatars::TrainingType")]
pub enum TrainingType {
    /// A person, from portraits: `fal-ai/flux-lora-portrait-trainer`.
    Portrait,
    /// A look or style: `fal-ai/flux-lora-fast-training`.
    Style,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "avatars::AvatarStatus")]
pub enum AvatarStatus {
    /// Collecting photos.
    Draft,
    Training,
    /// Trained: usable with `fal-ai/flux-lora`.
    Ready,
    /// Training failed (refunded); photos can change and training can start again.
    Failed,
    Cancelled,
}

#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "avatars::PhotoStatus")]
pub enum PhotoStatus {
    Accepted,
    Rejected,
}

#[derive(InputObject)]
pub struct CreateAvatarInput {
    /// 1–64 characters.
    name: String,
    training_type: TrainingType,
    /// Make it the main avatar (only one is).
    #[graphql(default)]
    is_main: bool,
}

pub struct Avatar(pub avatars::Avatar);

#[Object]
impl Avatar {
    pub async fn id(&self) -> ID {
        encode(Kind::Avatar, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn training_type(&self) -> TrainingType {
        self.0.training_type.into()
    }
    async fn status(&self) -> AvatarStatus {
        self.0.status.into()
    }
    /// 0–100 while training; 100 when ready.
    async fn progress(&self) -> i32 {
        i32::from(self.0.progress)
    }
    async fn is_main(&self) -> bool {
        self.0.is_main
    }
    /// Added in front of prompts made with this avatar, to call up the trained subject.
    async fn trigger_phrase(&self) -> &str {
        &self.0.trigger_phrase
    }
    /// Accepted photos (training needs 10–20).
    async fn photo_count(&self) -> i64 {
        self.0.photo_count
    }
    /// Whether `startAvatarTraining` may be called now: not training, 10–20 photos. A `READY`
    /// avatar can be trained anew (on its photos now), keeping its weights until the new ones
    /// are ready.
    async fn can_train(&self) -> bool {
        self.0.can_train()
    }
    /// `READY` and training anew: generations use the old weights until the new ones are
    /// ready; if the new training fails (see `error`), the old ones stay.
    async fn retraining(&self) -> bool {
        self.0.retraining
    }
    /// How it is trained.
    async fn training_settings(&self) -> TrainingSettings {
        TrainingSettings {
            trainer: self.0.training_type.trainer(),
            trigger_phrase: self.0.trigger_phrase.clone(),
            training_type: self.0.training_type.into(),
            photo_count: self.0.photo_count,
        }
    }
    /// Image generations made with it.
    async fn generation_count(&self) -> i64 {
        self.0.generation_count
    }
    /// What training costs, in credits.
    async fn training_price(&self, ctx: &Context<'_>) -> i64 {
        services(ctx).avatars.training_price()
    }
    /// Why the last training failed, when it did.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    /// Every photo sent, accepted or refused (with the reason), oldest first.
    #[graphql(complexity = "BATCHED_COST + child_complexity")]
    async fn photos(&self, ctx: &Context<'_>) -> Result<Vec<AvatarPhoto>> {
        let loader = ctx.data_unchecked::<DataLoader<AvatarPhotoLoader>>();
        let photos = loader.load_one(self.0.id).await.map_err(Error::internal)?;
        Ok(photos.map(|p| p.iter().cloned().map(AvatarPhoto).collect()).unwrap_or_default())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.updated_at)
    }
}

pub struct AvatarPhoto(avatars::AvatarPhoto);

#[Object]
impl AvatarPhoto {
    async fn id(&self) -> ID {
        encode(Kind::AvatarPhoto, self.0.id)
    }
    async fn status(&self) -> PhotoStatus {
        self.0.status.into()
    }
    /// Why it was refused (not an image, too small, a duplicate, one too many, …).
    async fn reject_reason(&self) -> Option<&str> {
        self.0.reject_reason.as_deref()
    }
    /// A signed link, for accepted photos.
    async fn url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        services(ctx).avatars.photo_url(&self.0).await
    }
    async fn content_type(&self) -> Option<&str> {
        self.0.content_type.as_deref()
    }
    async fn width(&self) -> Option<u32> {
        self.0.width
    }
    async fn height(&self) -> Option<u32> {
        self.0.height
    }
    async fn byte_size(&self) -> i64 {
        self.0.byte_size
    }
    async fn created_at(&self) -> DateTime<Utc> {
        to_datetime(self.0.created_at)
    }
}

#[derive(Default)]
pub struct AvatarQuery;

#[Object]
impl AvatarQuery {
    /// Your avatars, newest first.
    #[graphql(complexity = "ROW_COST + child_complexity")]
    async fn avatars(&self, ctx: &Context<'_>) -> Result<Vec<Avatar>> {
        let user = current_user(ctx).await?;
        Ok(services(ctx).avatars.list(user).await?.into_iter().map(Avatar).collect())
    }

    #[graphql(complexity = "ROW_COST + child_complexity")]

    async fn avatar(&self, ctx: &Context<'_>, id: ID) -> Result<Avatar> {
        let user = current_user(ctx).await?;
        Ok(Avatar(services(ctx).avatars.get(user, decode_as(&id, Kind::Avatar, "avatar")?).await?))
    }
}

#[derive(Default)]
pub struct AvatarMutation;

#[Object]
impl AvatarMutation {
    /// A new avatar in `DRAFT`: add 10–20 photos, then start training.
    async fn create_avatar(&self, ctx: &Context<'_>, input: CreateAvatarInput) -> Result<Avatar> {
        let user = current_user(ctx).await?;
        let avatar = services(ctx).avatars.create(user, &input.name, input.training_type.into(), input.is_main).await?;
        Ok(Avatar(avatar))
    }

    /// Uploads photos (the GraphQL multipart request spec). Each is judged by its bytes: JPEG,
    /// PNG or WebP, at most 20 MB, 512–4096 pixels a side, no duplicates, at most 20 per
    /// avatar. Refused photos are listed with their reason and nothing of them is stored.
    async fn add_avatar_photos(&self, ctx: &Context<'_>, avatar_id: ID, photos: Vec<Upload>) -> Result<Avatar> {
        let user = current_user(ctx).await?;
        let avatar_id = decode_as(&avatar_id, Kind::Avatar, "avatar")?;
        let mut uploads = Vec::with_capacity(photos.len());
        for photo in photos {
            let value = photo.value(ctx).map_err(|e| Error::invalid(format!("unreadable upload: {e}")))?;
            uploads.push(avatars::Upload { file_name: value.filename, body: avatars::UploadBody::File(value.content) });
        }
        let (avatar, _) = services(ctx).avatars.add_photos(user, avatar_id, uploads).await?;
        Ok(Avatar(avatar))
    }

    async fn remove_avatar_photo(&self, ctx: &Context<'_>, id: ID) -> Result<Avatar> {
        let user = current_user(ctx).await?;
        Ok(Avatar(services(ctx).avatars.remove_photo(user, decode_as(&id, Kind::AvatarPhoto, "photo")?).await?))
    }

    /// Renames an avatar (1-64 characters), whatever its status.
    async fn rename_avatar(&self, ctx: &Context<'_>, id: ID, name: String) -> Result<Avatar> {
        let user = current_user(ctx).await?;
        Ok(Avatar(services(ctx).avatars.rename(user, decode_as(&id, Kind::Avatar, "avatar")?, &name).await?))
    }

    /// Marks the avatar as the main one (the others no longer are): a generation with a model
    /// that needs an avatar uses it when given no `avatarId`.
    async fn set_main_avatar(&self, ctx: &Context<'_>, id: ID) -> Result<Avatar> {
        let user = current_user(ctx).await?;
        Ok(Avatar(services(ctx).avatars.set_main(user, decode_as(&id, Kind::Avatar, "avatar")?).await?))
    }

    /// Reserves `trainingPrice` credits and trains the avatar on its accepted photos (10–20).
    /// Follow it with `avatarUpdated`; a failed or cancelled training is refunded.
    async fn start_avatar_training(&self, ctx: &Context<'_>, avatar_id: ID) -> Result<Avatar> {
        let user = current_user(ctx).await?;
        Ok(Avatar(services(ctx).avatars.start_training(user, decode_as(&avatar_id, Kind::Avatar, "avatar")?).await?))
    }

    /// Stops a running training and refunds it; the avatar is `CANCELLED` and can be trained
    /// again.
    async fn cancel_avatar_training(&self, ctx: &Context<'_>, avatar_id: ID) -> Result<Avatar> {
        let user = current_user(ctx).await?;
        Ok(Avatar(services(ctx).avatars.cancel_training(user, decode_as(&avatar_id, Kind::Avatar, "avatar")?).await?))
    }

    /// Deletes the avatar with its photos and trained weights; a running training is cancelled
    /// and refunded. Images made with it stay in your gallery (type `AVATAR`) but are no longer
    /// linked to it, so `avatarIds` filters no longer find them.
    async fn delete_avatar(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let user = current_user(ctx).await?;
        services(ctx).avatars.delete(user, decode_as(&id, Kind::Avatar, "avatar")?).await?;
        Ok(true)
    }
}

#[derive(Default)]
pub struct AvatarSubscription;

#[Subscription]
impl AvatarSubscription {
    /// The avatar now, then every change (photos, training progress, the result); ends when
    /// the avatar is deleted.
    async fn avatar_updated(&self, ctx: &Context<'_>, id: ID) -> Result<impl Stream<Item = Avatar> + use<>> {
        let user = current_user(ctx).await?;
        let id = decode_as(&id, Kind::Avatar, "avatar")?;
        Ok(services(ctx).avatars.follow(user, id).await?.map(Avatar))
    }
}
