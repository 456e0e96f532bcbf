//! Talking to Telegram: a 429 is waited out (`retry_after`) and retried, messages keep to the
//! limits (`limiter.rs`), and a photo or document travels by file id, by URL or as bytes.

use std::{net::IpAddr, time::Duration};

use secrecy::ExposeSecret;
use teloxide::{
    Bot, RequestError,
    requests::Request,
    types::{FileId, InputFile},
};

use crate::adapters::outbound::{self, Downloads};
use crate::config::TelegramConfig;

pub type BotApi = Bot;

/// The Bot API client: teloxide's timeouts, and redirects only within the API's host (a file
/// download carries the token in its path, so a client without that policy is never used).
pub fn connect(config: &TelegramConfig) -> Result<BotApi, reqwest::Error> {
    let http = teloxide::net::default_reqwest_settings().redirect(outbound::same_host_redirects()).build()?;
    Ok(Bot::with_client(config.bot_token.expose_secret(), http).set_api_url(config.api_url.clone()))
}

/// Sends a request, waiting out up to three 429s (`retry_after`).
pub async fn retrying<R>(request: R) -> Result<teloxide::requests::Output<R>, RequestError>
where
    R: Request<Err = RequestError>,
{
    let mut attempts = 0;
    loop {
        match request.send_ref().await {
            Err(RequestError::RetryAfter(after)) if attempts < 3 => {
                attempts += 1;
                tokio::time::sleep(after.duration().min(Duration::from_secs(60))).await;
            }
            other => return other,
        }
    }
}

/// True when asking again later may work: the network, a 429, or Telegram's own trouble (a 5xx
/// comes back as an unknown error or a body that is not JSON).
pub fn is_transient(error: &RequestError) -> bool {
    match error {
        RequestError::Network(_)
        | RequestError::Io(_)
        | RequestError::RetryAfter(_)
        | RequestError::InvalidJson { .. } => true,
        RequestError::Api(teloxide::ApiError::Unknown(text)) => {
            ["Internal Server Error", "Bad Gateway", "Gateway", "Service Unavailable", "Too Many Requests"]
                .iter()
                .any(|s| text.contains(s))
        }
        RequestError::Api(_) | RequestError::MigrateToChatId(_) => false,
    }
}

/// True for "message is not modified": the screen already shows what we wanted.
pub fn is_unchanged(error: &RequestError) -> bool {
    matches!(error, RequestError::Api(teloxide::ApiError::MessageNotModified))
}

/// A picture as Telegram should get it: by the file id it gave us before; by URL when Telegram
/// can fetch that URL; otherwise as bytes, downloaded from our own (signed) link.
pub async fn photo(own_links: &Downloads, url: &str, file_id: Option<&str>) -> InputFile {
    media(own_links, url, file_id, crate::telegram::delivery::MediaKind::Photo).await
}

/// A photo or clip, as [`photo`] decides, named so that Telegram knows which.
pub async fn media(
    own_links: &Downloads,
    url: &str,
    file_id: Option<&str>,
    kind: crate::telegram::delivery::MediaKind,
) -> InputFile {
    if let Some(id) = file_id {
        return InputFile::file_id(FileId(id.to_owned()));
    }
    by_url_or_bytes(own_links, url, kind.file_name()).await
}

/// A file to send as a document, by URL or as bytes as [`photo`] decides, named `file_name`.
pub async fn document(own_links: &Downloads, url: &str, file_name: &'static str) -> InputFile {
    by_url_or_bytes(own_links, url, file_name).await
}

async fn by_url_or_bytes(own_links: &Downloads, url: &str, file_name: &'static str) -> InputFile {
    let Ok(parsed) = url::Url::parse(url) else { return InputFile::memory(Vec::new()) };
    if reachable_by_telegram(&parsed) {
        return InputFile::url(parsed);
    }
    match own_links.get(&parsed).await {
        Ok(file) => InputFile::memory(file.bytes).file_name(file_name),
        Err(error) => {
            tracing::warn!(%error, "could not fetch a file to upload it to Telegram");
            InputFile::url(parsed)
        }
    }
}

/// Telegram fetches URLs from the internet: a loopback, private or dotless host is out of its
/// reach (the embedded defaults serve `http://127.0.0.1:8080/files/…`).
fn reachable_by_telegram(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => outbound::is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => outbound::is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(domain)) => domain.contains('.') && !domain.ends_with(".local") && domain != "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_links_go_as_bytes() {
        let reachable = |u: &str| reachable_by_telegram(&url::Url::parse(u).expect("url"));
        assert!(!reachable("http://127.0.0.1:8080/files/images/x.png"));
        assert!(!reachable("http://localhost/x"));
        assert!(!reachable("http://minio:9000/x"));
        assert!(!reachable("http://10.0.0.5/x"));
        assert!(reachable("https://cdn.example.com/x.png"));
        assert!(reachable("https://93.184.216.34/x.png"));
    }
}
