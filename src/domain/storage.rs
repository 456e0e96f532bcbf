//! Where stored objects live: the two buckets and the one way their keys are made. The
//! database keeps a key's bucket and path; the storage adapter (S3 or a local folder) only
//! moves bytes.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::adapters::storage::{LinkWindow, Object, Storage};
use crate::domain::{Error, Result};

/// The two buckets of DESIGN.md: Imagen 4 results, and photos (uploads, avatar results, LoRAs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Bucket {
    Images,
    Photos,
}

impl Bucket {
    /// The logical name, stored in the database and used in local file links.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Images => "images",
            Bucket::Photos => "photos",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "images" => Some(Bucket::Images),
            "photos" => Some(Bucket::Photos),
            _ => None,
        }
    }
}

/// A stored object's place: its bucket and path. The path's extension says its content type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StorageKey {
    bucket: Bucket,
    path: String,
}

/// The extensions we store, with their content types.
const TYPES: [(&str, &str); 7] = [
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("webp", "image/webp"),
    ("gif", "image/gif"),
    ("mp4", "video/mp4"),
    ("zip", "application/zip"),
    ("safetensors", "application/octet-stream"),
];

fn extension_for(content_type: &str) -> &'static str {
    TYPES.iter().find(|(_, t)| *t == content_type).map_or("png", |(e, _)| e)
}

impl StorageKey {
    /// The `index`-th image of a generation (job), in the bucket of its kind of image.
    pub fn generation_image(bucket: Bucket, user_id: i64, job_id: i64, index: usize, content_type: &str) -> Self {
        let extension = extension_for(content_type);
        StorageKey { bucket, path: format!("u/{user_id}/g/{job_id}/{index}.{extension}") }
    }

    /// The poster frame of a generation's `index`-th clip, beside it.
    pub fn generation_poster(bucket: Bucket, user_id: i64, job_id: i64, index: usize, content_type: &str) -> Self {
        let extension = extension_for(content_type);
        StorageKey { bucket, path: format!("u/{user_id}/g/{job_id}/{index}-poster.{extension}") }
    }

    /// A photo uploaded for an avatar, named by its content (a duplicate has the same key).
    pub fn avatar_photo(user_id: i64, avatar_id: i64, sha256_hex: &str, content_type: &str) -> Self {
        let name = sha256_hex.get(..32).unwrap_or(sha256_hex);
        let extension = extension_for(content_type);
        StorageKey { bucket: Bucket::Photos, path: format!("u/{user_id}/a/{avatar_id}/{name}.{extension}") }
    }

    /// The archive of an avatar's photos that a training reads.
    pub fn training_archive(user_id: i64, avatar_id: i64, job_id: i64) -> Self {
        StorageKey { bucket: Bucket::Photos, path: format!("u/{user_id}/a/{avatar_id}/training-{job_id}.zip") }
    }

    /// The LoRA weights a training produced.
    pub fn lora_weights(user_id: i64, avatar_id: i64, job_id: i64) -> Self {
        StorageKey { bucket: Bucket::Photos, path: format!("u/{user_id}/a/{avatar_id}/lora-{job_id}.safetensors") }
    }

    /// The archive of everything a user has (`exportMyData`); a new export replaces the last.
    pub fn data_export(user_id: i64) -> Self {
        StorageKey { bucket: Bucket::Photos, path: format!("u/{user_id}/export/aisha-data-{user_id}.zip") }
    }

    /// A key the database kept.
    pub fn stored(bucket: Bucket, path: impl Into<String>) -> Self {
        StorageKey { bucket, path: path.into() }
    }

    pub fn bucket(&self) -> Bucket {
        self.bucket
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn extension(&self) -> &str {
        self.path.rsplit_once('.').map_or("", |(_, e)| e)
    }

    pub fn content_type(&self) -> &'static str {
        let extension = self.extension();
        TYPES.iter().find(|(e, _)| *e == extension).map_or("application/octet-stream", |(_, t)| t)
    }
}

impl std::fmt::Display for StorageKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.bucket.as_str(), self.path)
    }
}

/// The folder, in each bucket, under which every key of a user's objects lies.
pub fn user_folder(user_id: i64) -> String {
    format!("u/{user_id}/")
}

/// The storage as the domain uses it: by [`StorageKey`], with errors that say which object.
#[async_trait::async_trait]
pub trait Objects {
    async fn store(&self, key: &StorageKey, bytes: Bytes) -> Result<()>;
    async fn read(&self, key: &StorageKey) -> Result<Option<Object>>;
    async fn link(&self, key: &StorageKey, window: LinkWindow) -> Result<String>;
    async fn remove(&self, key: &StorageKey) -> Result<()>;
    /// Removes every object of the folder in both buckets; how many there were.
    async fn remove_folder(&self, folder: &str) -> Result<usize>;
}

#[async_trait::async_trait]
impl Objects for dyn Storage {
    async fn store(&self, key: &StorageKey, bytes: Bytes) -> Result<()> {
        let stored = self.put(key.bucket, &key.path, bytes, key.content_type()).await;
        stored.map_err(|e| Error::failed(format!("storing {key}"), e))
    }

    async fn read(&self, key: &StorageKey) -> Result<Option<Object>> {
        self.get(key.bucket, &key.path).await.map_err(|e| Error::failed(format!("reading {key}"), e))
    }

    async fn link(&self, key: &StorageKey, window: LinkWindow) -> Result<String> {
        self.sign(key.bucket, &key.path, window).await.map_err(|e| Error::failed(format!("signing {key}"), e))
    }

    async fn remove(&self, key: &StorageKey) -> Result<()> {
        self.delete(key.bucket, &key.path).await.map_err(|e| Error::failed(format!("deleting {key}"), e))
    }

    async fn remove_folder(&self, folder: &str) -> Result<usize> {
        let mut removed = 0;
        for bucket in [Bucket::Images, Bucket::Photos] {
            let keys = self.list(bucket, folder).await.map_err(|e| Error::failed(format!("listing {folder}"), e))?;
            for path in keys {
                self.remove(&StorageKey::stored(bucket, path)).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_say_their_bucket_path_and_content_type() {
        let image = StorageKey::generation_image(Bucket::Images, 1, 2, 0, "image/jpeg");
        assert_eq!(
            (image.bucket(), image.path(), image.content_type()),
            (Bucket::Images, "u/1/g/2/0.jpg", "image/jpeg")
        );
        let photo = StorageKey::avatar_photo(1, 3, &"ab".repeat(32), "image/webp");
        assert_eq!(photo.path(), format!("u/1/a/3/{}.webp", "ab".repeat(16)));
        assert_eq!(StorageKey::training_archive(1, 3, 4).content_type(), "application/zip");
        assert_eq!(StorageKey::lora_weights(1, 3, 4).path(), "u/1/a/3/lora-4.safetensors");
        assert_eq!(StorageKey::stored(Bucket::Photos, "u/1/a/3/x.png").content_type(), "image/png");
        let export = StorageKey::data_export(1);
        assert!(export.path().starts_with(&user_folder(1)) && export.content_type() == "application/zip");
        for key in [image, photo, StorageKey::training_archive(1, 3, 4), StorageKey::lora_weights(1, 3, 4), export] {
            assert!(crate::adapters::storage::is_valid_key(key.path()), "{key}");
        }
    }
}
