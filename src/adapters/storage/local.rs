use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use url::Url;

use super::{Bucket, LinkWindow, Object, Storage, is_valid_key};

/// Files under `<data dir>/storage/<bucket>/<key>`, served by our `/files/…` route through
/// HMAC-signed links that expire.
pub struct LocalStorage {
    root: PathBuf,
    /// The public URL, ending with `/`.
    base: String,
    signing_key: Vec<u8>,
}

impl LocalStorage {
    /// Opens the folder; the signing key is made on first run and kept in the data folder.
    pub fn open(data_dir: &Path, public_url: Url) -> anyhow::Result<Self> {
        let root = data_dir.join("storage");
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        let key_path = data_dir.join("signing.key");
        let signing_key = match std::fs::read(&key_path) {
            Ok(key) if key.len() >= 32 => key,
            _ => {
                let mut key = vec![0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                std::fs::write(&key_path, &key).with_context(|| format!("writing {}", key_path.display()))?;
                key
            }
        };
        let mut base = public_url.to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        Ok(LocalStorage { root, base, signing_key })
    }

    fn path(&self, bucket: Bucket, key: &str) -> anyhow::Result<PathBuf> {
        if !is_valid_key(key) {
            bail!("invalid storage key {key:?}");
        }
        Ok(self.root.join(bucket.as_str()).join(key))
    }

    fn signature(&self, bucket: Bucket, key: &str, expires: u64) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.signing_key).unwrap_or_else(|_| unreachable!("any key length"));
        mac.update(format!("{}/{key}\n{expires}", bucket.as_str()).as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Checks a link's signature and expiry (unix seconds) and reads the object.
    pub async fn open_signed(
        &self,
        bucket: Bucket,
        key: &str,
        expires: u64,
        signature: &str,
        now: u64,
    ) -> Option<Object> {
        let expected = self.signature(bucket, key, expires);
        let valid = expected.len() == signature.len()
            && expected.bytes().zip(signature.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
        if !valid || expires < now {
            return None;
        }
        self.get(bucket, key).await.ok().flatten()
    }
}

fn content_type_of(key: &str) -> &'static str {
    match key.rsplit('.').next() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

#[async_trait::async_trait]
impl Storage for LocalStorage {
    async fn put(&self, bucket: Bucket, key: &str, bytes: Bytes, _content_type: &str) -> anyhow::Result<()> {
        let path = self.path(bucket, key)?;
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Write then rename, so a reader never sees half a file.
        let temporary = path.with_extension(format!("tmp{}", rand::random::<u32>()));
        tokio::fs::write(&temporary, &bytes).await?;
        tokio::fs::rename(&temporary, &path).await?;
        Ok(())
    }

    async fn get(&self, bucket: Bucket, key: &str) -> anyhow::Result<Option<Object>> {
        match tokio::fs::read(self.path(bucket, key)?).await {
            Ok(bytes) => Ok(Some(Object { bytes: bytes.into(), content_type: content_type_of(key).into() })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, bucket: Bucket, key: &str) -> anyhow::Result<()> {
        match tokio::fs::remove_file(self.path(bucket, key)?).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn list(&self, bucket: Bucket, prefix: &str) -> anyhow::Result<Vec<String>> {
        let bucket_root = self.root.join(bucket.as_str());
        let mut folders = vec![self.path(bucket, prefix.trim_end_matches('/'))?];
        let mut keys = Vec::new();
        while let Some(folder) = folders.pop() {
            let mut entries = match tokio::fs::read_dir(&folder).await {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e.into()),
            };
            while let Some(entry) = entries.next_entry().await? {
                let path = entry.path();
                if entry.file_type().await?.is_dir() {
                    folders.push(path);
                } else if let Ok(relative) = path.strip_prefix(&bucket_root) {
                    let parts: Vec<_> = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect();
                    keys.push(parts.join("/"));
                }
            }
        }
        Ok(keys)
    }

    async fn sign(&self, bucket: Bucket, key: &str, window: LinkWindow) -> anyhow::Result<String> {
        if !is_valid_key(key) {
            bail!("invalid storage key {key:?}");
        }
        let expires = window.expires_at;
        // Valid keys need no escaping; formatting beats URL parsing on a page of many images.
        let signature = self.signature(bucket, key, expires);
        Ok(format!("{}files/{}/{key}?expires={expires}&signature={signature}", self.base, bucket.as_str()))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        tokio::fs::metadata(&self.root).await?;
        Ok(())
    }
}
