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

const MAX_SKEW_SECS: u64 = 300;
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

/// A signature and the message it claims to sign, from headers of the right form and age.
pub struct SignedMessage {
    signature: Signature,
    message: String,
}

impl SignedHeaders<'_> {
    /// The signed message, or why the headers cannot carry one (checked before any key is
    /// fetched, so malformed or stale webhooks cost nothing).
    pub fn signed_message(&self, body: &[u8], now_secs: i64) -> Result<SignedMessage, WebhookError> {
        let timestamp: i64 = self.timestamp.trim().parse().map_err(|_| WebhookError::Malformed)?;
        if now_secs.abs_diff(timestamp) > MAX_SKEW_SECS {
            return Err(WebhookError::Stale);
        }
        let signature = hex::decode(self.signature.trim()).map_err(|_| WebhookError::Malformed)?;
        let signature = Signature::from_slice(&signature).map_err(|_| WebhookError::Malformed)?;
        let digest = hex::encode(Sha256::digest(body));
        let message = format!("{}\n{}\n{}\n{digest}", self.request_id, self.user_id, self.timestamp.trim());
        Ok(SignedMessage { signature, message })
    }
}

impl SignedMessage {
    pub fn verified_by(&self, keys: &[VerifyingKey]) -> bool {
        keys.iter().any(|key| key.verify_strict(self.message.as_bytes(), &self.signature).is_ok())
    }
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
        WebhookVerifier {
            http,
            jwks_url,
            keys: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(()),
            failed: std::sync::Mutex::new(None),
        }
    }

    pub async fn verify(&self, headers: &SignedHeaders<'_>, body: &[u8], now_secs: i64) -> Result<(), WebhookError> {
        let signed = headers.signed_message(body, now_secs)?;
        if signed.verified_by(&self.keys(false).await?) {
            return Ok(());
        }
        // Keys rotate: look again, but not on every forged request.
        let stale_enough = self.keys.read().await.as_ref().is_some_and(|(at, _)| at.elapsed() > REFETCH_AFTER);
        if stale_enough && signed.verified_by(&self.keys(true).await?) {
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
        let jwks: Value = self
            .http
            .get(self.jwks_url.clone())
            .send()
            .await
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
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

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn signed(key: &SigningKey, request_id: &str, timestamp: i64, body: &[u8]) -> String {
        let message = format!("{request_id}\nuser-1\n{timestamp}\n{}", hex::encode(Sha256::digest(body)));
        hex::encode(key.sign(message.as_bytes()).to_bytes())
    }

    proptest! {
        /// Whatever arrives in the four headers, reading them answers without panicking.
        #[test]
        fn any_headers_are_read_or_refused(request_id in "\\PC{0,40}", user_id in "\\PC{0,40}", timestamp in "\\PC{0,24}", signature in "\\PC{0,140}", body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let headers = SignedHeaders { request_id: &request_id, user_id: &user_id, timestamp: &timestamp, signature: &signature };
            let _ = headers.signed_message(&body, NOW);
        }

    }

    proptest! {
        // Ed25519 is slow unoptimised: 32 cases unless PROPTEST_CASES asks for more.
        #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(32)))]

        /// A webhook signed by FAL's key verifies; a change to its body or request id, or
        /// another key, does not.
        #[test]
        fn only_the_signed_webhook_verifies(seed in any::<[u8; 32]>(), request_id in "[a-z0-9-]{1,36}", body in proptest::collection::vec(any::<u8>(), 1..256), skew in -300i64..=300, flip in any::<proptest::sample::Index>()) {
            let key = SigningKey::from_bytes(&seed);
            let timestamp = (NOW + skew).to_string();
            let signature = signed(&key, &request_id, NOW + skew, &body);
            let headers = SignedHeaders { request_id: &request_id, user_id: "user-1", timestamp: &timestamp, signature: &signature };
            let keys = [key.verifying_key()];
            prop_assert!(headers.signed_message(&body, NOW).expect("well-formed").verified_by(&keys));

            let mut changed = body.clone();
            changed[flip.index(body.len())] ^= 0x01;
            prop_assert!(!headers.signed_message(&changed, NOW).expect("well-formed").verified_by(&keys));
            let other_id = format!("{request_id}x");
            let moved = SignedHeaders { request_id: &other_id, ..headers };
            prop_assert!(!moved.signed_message(&body, NOW).expect("well-formed").verified_by(&keys));
            let stranger = SigningKey::from_bytes(&[seed[0].wrapping_add(1); 32]);
            prop_assert!(!headers.signed_message(&body, NOW).expect("well-formed").verified_by(&[stranger.verifying_key()]));
        }

        /// Outside five minutes either way a webhook is stale, before its signature is read.
        #[test]
        fn old_and_future_webhooks_are_stale(skew in 301i64..1_000_000, future in any::<bool>()) {
            let timestamp = (if future { NOW + skew } else { NOW - skew }).to_string();
            let headers = SignedHeaders { request_id: "r", user_id: "u", timestamp: &timestamp, signature: "zz" };
            prop_assert_eq!(headers.signed_message(b"{}", NOW).err(), Some(WebhookError::Stale));
        }
    }
}
