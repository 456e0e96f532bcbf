//! Videos: a clip animated from one of the user's pictures. The picture goes to the model as a
//! signed link, and is kept beside the clip as its poster frame (the first frame of an
//! image-to-video clip is the picture itself), so that deleting the picture later leaves the
//! clip whole.

use super::engine::JobEngine;
use super::model::Job;
use super::steps::StepError;
use crate::domain::Result;
use crate::domain::gallery::{self, Image};
use crate::domain::storage::{Bucket, Objects, StorageKey};
use crate::providers::VideoSpec;

/// A clip's length when neither the provider nor the file says.
const DEFAULT_CLIP_SECONDS: u32 = 5;

impl JobEngine {
    /// What the video model is given: the picture to animate, and the clip's length.
    pub(super) async fn video_spec(&self, job: &Job, source_id: i64) -> Result<VideoSpec, StepError> {
        let image = self.source_image(job, source_id).await?;
        let image_url = self.signed(&StorageKey::stored(image.bucket, image.storage_key.as_str())).await?;
        Ok(VideoSpec { image_url, seconds: self.clip_seconds(&job.model) })
    }

    /// The clip length of a video model, from the catalogue.
    pub(super) fn clip_seconds(&self, model: &str) -> u32 {
        self.catalog().iter().find(|m| m.id == model).and_then(|m| m.clip_seconds).unwrap_or(DEFAULT_CLIP_SECONDS)
    }

    async fn source_image(&self, job: &Job, source_id: i64) -> Result<Image, StepError> {
        gallery::find_image(self.db(), job.user_id, source_id)
            .await
            .map_err(StepError::from)?
            .ok_or_else(|| StepError::Fail("the picture to animate was deleted".into()))
    }

    /// Copies the animated picture beside the `index`-th clip (in the clip's bucket) as its
    /// poster; the poster's key. None when the picture was deleted meanwhile (the clip is kept
    /// without a poster).
    pub(super) async fn store_poster(&self, job: &Job, bucket: Bucket, index: usize) -> Result<Option<String>> {
        let Some(source_id) = job.source_image_id else { return Ok(None) };
        let Some(image) = gallery::find_image(self.db(), job.user_id, source_id).await? else { return Ok(None) };
        let storage = &self.deps().storage;
        let Some(object) = storage.read(&StorageKey::stored(image.bucket, image.storage_key.as_str())).await? else {
            return Ok(None);
        };
        let key = StorageKey::generation_poster(bucket, job.user_id, job.id, index, &image.content_type);
        storage.store(&key, object.bytes).await?;
        Ok(Some(key.path().to_owned()))
    }
}
