//! FAL webhook signatures: ED25519 over `request_id \n user_id \n timestamp \n hex(sha256(body))`,
//! checked against the keys published at `FAL_JWKS_URL` (cached for a day, fetched again when a
//! signature matches no cached key; one fetch at a time, a failure remembered for 10 s), with
//! the timestamp within 300 s of now.

use std::time::{Duration, Instant};

use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;
use url::Url;

const MAX_SKEW_SECS: i64 = 300;
const CACHE_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// A signature that matches no cached key triggers a refetch, at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(60);
/// A failed fetch is the answer for this long: a flood of webhooks while FAL's keys are
/// unreachable does not become a flood of fetches.
const FAILURE_MEMO: Duration = Duration::from_secs(10);

/// The four signature headers, as received.
pub struct SignedHeaders<'a> {
    pub request_id: &'a str,
    pub user_id: &'a str,
    pub timestamp: &'a str,
    pub signature: &'a str,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook's signature headers are missing or malformed")]
    Malformed,
    #[error("the webhook's timestamp is more than 300 s from now")]
    Stale,
    #[error("the webhook's signature does not verify")]
    BadSignature,
    #[error("FAL's signing keys could not be fetched: {0}")]
    KeysUnavailable(String),
}

pub struct WebhookVerifier {
    http: reqwest::Client,
    jwks_url: Url,
    keys: RwLock<Option<(Instant, Vec<VerifyingKey>)>>,
    /// Held while fetching: concurrent requests wait for one fetch instead of making their own.
    fetching: tokio::sync::Mutex<()>,
    failed: std::sync::Mutex<Option<(Instant, String)>>,
}

impl WebhookVerifier {
    pub fn new(jwks_url: Url) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        WebhookVerifier { http, jwks_url, keys: RwLock::new(None), fetching: tokio::sync::Mutex::new(()), failed: std::sync::Mutex::new(None) }
    }

    pub async fn verify(&self, headers: &SignedHeaders<'_>, body: &[u8], now_secs: i64) -> Result<(), WebhookError> {
        let timestamp: i64 = headers.timestamp.trim().parse().map_err(|_| WebhookError::Malformed)?;
        if (now_secs - timestamp).abs() > MAX_SKEW_SECS {
            return Err(WebhookError::Stale);
        }
        let signature = hex::decode(headers.signature.trim()).map_err(|_| WebhookError::Malformed)?;
        let signature = Signature::from_slice(&signature).map_err(|_| WebhookError::Malformed)?;
        let message = format!(
            "{}\n{}\n{}\n{}",
            headers.request_id,
            headers.user_id,
            headers.timestamp.trim(),
            hex::encode(Sha256::digest(body))
        );
        if self.keys(false).await?.iter().any(|key| key.verify_strict(message.as_bytes(), &signature).is_ok()) {
            return Ok(());
        }
        // Keys rotate: look again, but not on every forged request.
        let stale_enough = self.keys.read().await.as_ref().is_some_and(|(at, _)| at.elapsed() > REFETCH_AFTER);
        if stale_enough && self.keys(true).await?.iter().any(|key| key.verify_strict(message.as_bytes(), &signature).is_ok()) {
            return Ok(());
        }
        Err(WebhookError::BadSignature)
    }

    async fn keys(&self, refresh: bool) -> Result<Vec<VerifyingKey>, WebhookError> {
        let asked = Instant::now();
        let cached = || async {
            let keys = self.keys.read().await;
            keys.as_ref().filter(|(fetched, _)| !refresh && fetched.elapsed() < CACHE_FOR).map(|(_, keys)| keys.clone())
        };
        if let Some(keys) = cached().await {
            return Ok(keys);
        }
        let _fetching = self.fetching.lock().await;
        // A fetch that ended while this one waited answers for it too.
        if let Some((fetched, keys)) = self.keys.read().await.as_ref()
            && *fetched >= asked
        {
            return Ok(keys.clone());
        }
        if let Some(keys) = cached().await {
            return Ok(keys);
        }
        let remembered = self.failed.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((failed_at, error)) = remembered
            && failed_at.elapsed() < FAILURE_MEMO
        {
            return Err(WebhookError::KeysUnavailable(error));
        }
        match self.fetch().await {
            Ok(keys) => {
                *self.keys.write().await = Some((Instant::now(), keys.clone()));
                *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = None;
                Ok(keys)
            }
            Err(error) => {
                *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), error.to_string()));
                Err(error)
            }
        }
    }

    async fn fetch(&self) -> Result<Vec<VerifyingKey>, WebhookError> {
        let unavailable = |e: reqwest::Error| WebhookError::KeysUnavailable(e.to_string());
        let jwks: Value = self.http.get(self.jwks_url.clone()).send().await.map_err(unavailable)?.json().await.map_err(unavailable)?;
        Ok(parse_jwks(&jwks))
    }
}

/// The Ed25519 keys of a JWKS document (`x` is base64url; padding tolerated).
pub fn parse_jwks(jwks: &Value) -> Vec<VerifyingKey> {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    jwks.get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|k| k.get("crv").and_then(Value::as_str).is_none_or(|c| c == "Ed25519"))
        .filter_map(|k| k.get("x").and_then(Value::as_str))
        .filter_map(|x| engine.decode(x.trim_end_matches('=')).ok())
        .filter_map(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
        .filter_map(|bytes| VerifyingKey::from_bytes(&bytes).ok())
        .collect()
}
