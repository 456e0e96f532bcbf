use std::time::{Duration, UNIX_EPOCH};

use anyhow::Context;
use aws_sdk_s3::{
    Client,
    config::{BehaviorVersion, Credentials, Region},
    presigning::PresigningConfig,
    primitives::ByteStream,
};
use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{Bucket, LinkWindow, Object, Storage};

/// Where S3 is and which buckets to use (`S3_*`, read by `config.rs`).
#[derive(Clone, Debug)]
pub struct S3Config {
    /// Where the server talks to S3.
    pub endpoint: Url,
    /// The base URL that presigned links are signed for, when clients reach S3 at another
    /// address than the server does (`S3_PUBLIC_ENDPOINT`, say `https://files.example.com`).
    pub public_endpoint: Option<Url>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub bucket_images: String,
    pub bucket_photos: String,
}

/// S3 or MinIO, path-style addressing; the two buckets are created when missing.
pub struct S3Storage {
    client: Client,
    /// Signs links for the public endpoint (a signature covers the host); `client` without one.
    signer: Client,
    images: String,
    photos: String,
}

impl S3Storage {
    pub async fn connect(config: &S3Config) -> anyhow::Result<Self> {
        let credentials = Credentials::new(
            &config.access_key_id,
            config.secret_access_key.expose_secret(),
            None,
            None,
            "aisha-config",
        );
        let client_for = |endpoint: &Url| {
            let sdk_config = aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(config.region.clone()))
                .endpoint_url(endpoint.as_str().trim_end_matches('/'))
                .credentials_provider(credentials.clone())
                .force_path_style(true)
                .build();
            Client::from_conf(sdk_config)
        };
        let client = client_for(&config.endpoint);
        let signer = config.public_endpoint.as_ref().map_or_else(|| client.clone(), client_for);
        let storage =
            S3Storage { client, signer, images: config.bucket_images.clone(), photos: config.bucket_photos.clone() };
        for bucket in [&storage.images, &storage.photos] {
            storage.ensure_bucket(bucket).await?;
        }
        Ok(storage)
    }

    async fn ensure_bucket(&self, name: &str) -> anyhow::Result<()> {
        if self.client.head_bucket().bucket(name).send().await.is_ok() {
            return Ok(());
        }
        match self.client.create_bucket().bucket(name).send().await {
            Ok(_) => Ok(()),
            // Another instance may have created it meanwhile.
            Err(_) if self.client.head_bucket().bucket(name).send().await.is_ok() => Ok(()),
            Err(error) => Err(anyhow::Error::new(error).context(format!("creating bucket {name}"))),
        }
    }

    fn name(&self, bucket: Bucket) -> &str {
        match bucket {
            Bucket::Images => &self.images,
            Bucket::Photos => &self.photos,
        }
    }
}

#[async_trait::async_trait]
impl Storage for S3Storage {
    async fn put(&self, bucket: Bucket, key: &str, bytes: Bytes, content_type: &str) -> anyhow::Result<()> {
        self.client
            .put_object()
            .bucket(self.name(bucket))
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .with_context(|| format!("storing {key}"))?;
        Ok(())
    }

    async fn get(&self, bucket: Bucket, key: &str) -> anyhow::Result<Option<Object>> {
        let response = match self.client.get_object().bucket(self.name(bucket)).key(key).send().await {
            Ok(response) => response,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(error) => return Err(anyhow::Error::new(error).context(format!("reading {key}"))),
        };
        let content_type = response.content_type().unwrap_or("application/octet-stream").to_owned();
        let bytes = response.body.collect().await.context("reading the object body")?.into_bytes();
        Ok(Some(Object { bytes, content_type }))
    }

    async fn delete(&self, bucket: Bucket, key: &str) -> anyhow::Result<()> {
        self.client
            .delete_object()
            .bucket(self.name(bucket))
            .key(key)
            .send()
            .await
            .with_context(|| format!("deleting {key}"))?;
        Ok(())
    }

    async fn list(&self, bucket: Bucket, prefix: &str) -> anyhow::Result<Vec<String>> {
        let mut pages = self.client.list_objects_v2().bucket(self.name(bucket)).prefix(prefix).into_paginator().send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.with_context(|| format!("listing {prefix}"))?;
            keys.extend(page.contents().iter().filter_map(|object| object.key().map(str::to_owned)));
        }
        Ok(keys)
    }

    async fn sign(&self, bucket: Bucket, key: &str, window: LinkWindow) -> anyhow::Result<String> {
        // Signed as of the window's start, so that the link is the same all through the window.
        let presigning = PresigningConfig::builder()
            .start_time(UNIX_EPOCH + Duration::from_secs(window.signed_at))
            .expires_in(Duration::from_secs(window.expires_at.saturating_sub(window.signed_at)))
            .build()?;
        let request = self.signer.get_object().bucket(self.name(bucket)).key(key).presigned(presigning).await?;
        Ok(request.uri().to_string())
    }

    async fn ping(&self) -> anyhow::Result<()> {
        self.client.head_bucket().bucket(&self.images).send().await.context("S3 head bucket")?;
        Ok(())
    }
}
