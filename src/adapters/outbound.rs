//! Downloads of files whose address someone else chose (FAL's results and LoRA weights, our own
//! signed links): a size cap while the body streams, a timeout, redirects only within the host,
//! and — in `prod`, unless `AISHA_ALLOW_PRIVATE_DOWNLOADS` — no loopback or private addresses,
//! checked on the address actually connected to (names are resolved by [`PublicOnly`]), so a
//! result URL cannot make the server fetch from inside its own network.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use url::Url;

#[derive(Clone, Copy, Debug)]
pub struct DownloadSettings {
    /// The largest body read (announced or streamed).
    pub max_bytes: u64,
    pub timeout: Duration,
    /// Loopback and private addresses may be fetched (dev, or a deployment that needs it).
    pub allow_private: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The address, the size or the answer rules the file out; asking again will not help.
    #[error("{0}")]
    Refused(String),
    /// The network failed; asking again may work.
    #[error("{0}")]
    Transient(String),
}

/// A downloaded body and the content type it was served with.
pub struct Downloaded {
    pub bytes: Bytes,
    pub content_type: Option<String>,
}

#[derive(Clone)]
pub struct Downloads {
    http: reqwest::Client,
    settings: DownloadSettings,
}

impl Downloads {
    pub fn new(settings: DownloadSettings) -> Self {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(settings.timeout)
            .redirect(same_host_redirects());
        if !settings.allow_private {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Downloads { http: builder.build().unwrap_or_default(), settings }
    }

    pub async fn get(&self, url: &Url) -> Result<Downloaded, DownloadError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DownloadError::Refused(format!("a {} link cannot be downloaded", url.scheme())));
        }
        if !self.settings.allow_private && literal_private(url) {
            return Err(DownloadError::Refused("a link to a private address".into()));
        }
        let response = self.http.get(url.clone()).send().await.map_err(|e| classify(&e))?;
        let status = response.status();
        if !status.is_success() {
            let error = format!("the download answered {}", status.as_u16());
            return Err(if status.is_server_error() || status.as_u16() == 429 {
                DownloadError::Transient(error)
            } else {
                DownloadError::Refused(error)
            });
        }
        let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = read_capped(response, self.settings.max_bytes).await?;
        Ok(Downloaded { bytes, content_type })
    }
}

/// The body, refused once it passes `max_bytes` (announced or as it streams).
pub async fn read_capped(mut response: reqwest::Response, max_bytes: u64) -> Result<Bytes, DownloadError> {
    let too_big = || DownloadError::Refused(format!("the file is larger than {} MB", max_bytes.div_ceil(1_048_576)));
    if response.content_length().is_some_and(|n| n > max_bytes) {
        return Err(too_big());
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| classify(&e))? {
        if (body.len() + chunk.len()) as u64 > max_bytes {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Follows at most four redirects, and only within the host: a key or a check made for one host
/// never follows a redirect elsewhere.
pub fn same_host_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let from = attempt.previous().last().and_then(|u| u.host_str().map(str::to_owned));
        if attempt.previous().len() < 5 && from.as_deref() == attempt.url().host_str() {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// An address on the internet: not loopback, private, link-local, shared (CGNAT), unspecified,
/// multicast or reserved for documentation, in IPv4, IPv6 or IPv4 mapped into IPv6.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => {
            let [a, b, ..] = ip.octets();
            let shared = a == 100 && (64..128).contains(&b);
            !(ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_multicast()
                || ip.is_documentation()
                || shared
                || a == 0)
        }
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = ip.segments()[0];
            let unique_local = (first & 0xfe00) == 0xfc00;
            let link_local = (first & 0xffc0) == 0xfe80;
            !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast() || unique_local || link_local)
        }
    }
}

/// A host written as an address (names are checked when resolved) that is not public.
fn literal_private(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(_)) => false,
        None => true,
    }
}

fn classify(error: &reqwest::Error) -> DownloadError {
    // A refusal by the resolver below reaches us as a connect error: say what it was.
    let text = format!("{error:#}");
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        if e.to_string().contains(PRIVATE_ONLY) {
            return DownloadError::Refused("a link to a private address".into());
        }
        source = e.source();
    }
    DownloadError::Transient(text)
}

const PRIVATE_ONLY: &str = "resolves only to private addresses";

/// Resolves names with the system resolver and keeps only public addresses.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = found.into_iter().filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(format!("{host} {PRIVATE_ONLY}").into());
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_special_addresses_are_not_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().expect("ip")), "{private} passed as public");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().expect("ip")), "{public} passed as private");
        }
    }
}
