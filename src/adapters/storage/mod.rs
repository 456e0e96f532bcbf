//! Object storage for images, photos and LoRA files: S3 / MinIO (path-style) in production, a
//! local folder by default. Keys are made by the domain (`domain::storage::StorageKey`); links
//! are signed and short-lived.

mod links;
mod local;
mod s3;

pub use self::links::{LinkCache, LinkWindow};
pub use self::local::LocalStorage;
pub use self::s3::{S3Config, S3Storage};

use bytes::Bytes;

use crate::domain::storage::Bucket;

/// A stored object's bytes and content type.
pub struct Object {
    pub bytes: Bytes,
    pub content_type: String,
}

#[async_trait::async_trait]
pub trait Storage: Send + Sync {
    async fn put(&self, bucket: Bucket, key: &str, bytes: Bytes, content_type: &str) -> anyhow::Result<()>;
    async fn get(&self, bucket: Bucket, key: &str) -> anyhow::Result<Option<Object>>;
    /// Deleting a missing object is not an error.
    async fn delete(&self, bucket: Bucket, key: &str) -> anyhow::Result<()>;
    /// The keys under a folder (`prefix` ends with `/`), in no particular order.
    async fn list(&self, bucket: Bucket, prefix: &str) -> anyhow::Result<Vec<String>>;
    /// A link that reads the object during `window`: the same link for the same window (see
    /// [`LinkWindow`]).
    async fn sign(&self, bucket: Bucket, key: &str, window: LinkWindow) -> anyhow::Result<String>;
    /// Readiness: can the storage be reached now?
    async fn ping(&self) -> anyhow::Result<()>;
}

/// Keys are ours, but they reach file paths and URLs: only `[A-Za-z0-9._/-]`, no `..`.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && !key.starts_with('/')
        && !key.split('/').any(|part| part.is_empty() || part == "." || part == "..")
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'/'))
}

#[cfg(test)]
mod tests {
    use super::is_valid_key;

    #[test]
    fn keys_cannot_escape_their_folder() {
        assert!(is_valid_key("u/1/g/2/0.png"));
        for bad in ["", "/etc/passwd", "a/../b", "a//b", "a/./b", "a b", "a\\b", "..", "x/"] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }
}
