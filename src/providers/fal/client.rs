//! HTTP to FAL with `Authorization: Key …` and retries: 429 (honouring `Retry-After`), 5xx and
//! connection errors are tried again with exponential backoff, then reported as transient.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use url::Url;

use crate::adapters::outbound::{self, Downloads};
use crate::providers::{ProducedFile, ProviderError};

const ATTEMPTS: u32 = 4;
/// The largest answer we read: a LoRA's weights are the biggest thing FAL sends (tens of MB).
const MAX_REPLY_BYTES: u64 = 512 * 1024 * 1024;

const FIRST_BACKOFF: Duration = Duration::from_millis(200);

pub struct Client {
    http: reqwest::Client,
    /// Result files: capped, and in `prod` never from a private address.
    downloads: Downloads,
    authorization: String,
}

/// A final (non-retryable) answer.
pub struct Reply {
    pub status: u16,
    pub body: bytes::Bytes,
}

impl Reply {
    /// The JSON body of a 2xx answer; any other answer is a failure with FAL's `detail`.
    pub fn success_json(&self) -> Result<Value, ProviderError> {
        let json: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        if (200..300).contains(&self.status) {
            if json.is_null() {
                return Err(ProviderError::Failed("FAL answered with a body that is not JSON".into()));
            }
            return Ok(json);
        }
        // FAL's own words go to the log; the user reads a plain reason.
        tracing::warn!(status = self.status, detail = %super::describe_failure(&json), "FAL refused a request");
        if super::is_content_policy_violation(&json) {
            return Err(ProviderError::Blocked);
        }
        Err(ProviderError::Failed(format!("the image service refused the request (HTTP {})", self.status)))
    }
}

impl Client {
    pub fn new(key: &str, downloads: Downloads) -> Self {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(outbound::same_host_redirects())
            .build()
            .unwrap_or_default();
        Client { http, downloads, authorization: format!("Key {key}") }
    }

    pub async fn post_json(&self, url: Url, body: &Value) -> Result<Reply, ProviderError> {
        self.send(|| self.http.post(url.clone()).header("authorization", &self.authorization).json(body)).await
    }

    pub async fn get(&self, url: Url) -> Result<Reply, ProviderError> {
        self.send(|| self.http.get(url.clone()).header("authorization", &self.authorization)).await
    }

    /// PUTs bytes to a signed upload URL (FAL storage); it carries its own authorisation.
    pub async fn put_bytes(&self, url: Url, bytes: bytes::Bytes, content_type: &str) -> Result<Reply, ProviderError> {
        self.send(|| self.http.put(url.clone()).header("content-type", content_type).body(bytes.clone())).await
    }

    pub async fn put(&self, url: Url) -> Result<Reply, ProviderError> {
        self.send(|| self.http.put(url.clone()).header("authorization", &self.authorization)).await
    }

    /// Downloads a result file (FAL's CDN needs no key) or decodes a `data:` URI.
    pub async fn download(&self, url: &str, declared_type: Option<&str>) -> Result<ProducedFile, ProviderError> {
        if let Some(data) = url.strip_prefix("data:") {
            let (meta, payload) =
                data.split_once(',').ok_or_else(|| ProviderError::Failed("a malformed data URI".into()))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(payload)
                .map_err(|e| ProviderError::Failed(format!("a data URI that is not base64: {e}")))?;
            let content_type = meta.split(';').next().filter(|t| !t.is_empty()).unwrap_or("image/png");
            return Ok(ProducedFile::unchecked(bytes.into(), content_type));
        }
        let url = Url::parse(url).map_err(|e| ProviderError::Failed(format!("a bad image URL: {e}")))?;
        let reply = self.downloads.get(&url).await?;
        let content_type =
            declared_type.map(str::to_owned).or(reply.content_type).unwrap_or_else(|| "image/png".into());
        Ok(ProducedFile::unchecked(reply.bytes, content_type))
    }

    async fn send(&self, request: impl Fn() -> reqwest::RequestBuilder) -> Result<Reply, ProviderError> {
        let mut backoff = FIRST_BACKOFF;
        let mut last_error = String::new();
        for attempt in 1..=ATTEMPTS {
            match request().send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(30)));
                    let retryable = status == 429 || status >= 500;
                    let body = outbound::read_capped(response, MAX_REPLY_BYTES).await?;
                    if !retryable {
                        return Ok(Reply { status, body });
                    }
                    last_error = format!("FAL answered {status}");
                    if attempt < ATTEMPTS {
                        tokio::time::sleep(retry_after.unwrap_or(backoff)).await;
                    }
                }
                Err(error) => {
                    last_error = error.to_string();
                    if attempt < ATTEMPTS {
                        tokio::time::sleep(backoff).await;
                    }
                }
            }
            backoff *= 2;
        }
        Err(ProviderError::Transient(last_error))
    }
}
