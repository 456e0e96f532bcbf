//! The local provider: the embedded default when `FAL_KEY` is unset. It serves every model of the
//! catalogue by drawing a real PNG from the prompt and seed (the same input gives the same
//! picture), with simulated latency, progress steps and an optional failure rate. It trains
//! avatars too: it downloads the photo archive and derives a small safetensors file from it;
//! and it animates a picture into a small looping GIF.
//! Its handle carries the submit time, so a restarted server follows the job where it was.

mod animate;
mod font;
mod render;
mod text;
mod training;

use std::time::Duration;

use bytes::Bytes;

use super::{
    ImageProvider, JobSpec, ProducedFile, ProviderError, ProviderHandle, ProviderStatus, TextRequest, Verdict,
};

pub use render::render_png;

#[derive(Clone, Debug)]
pub struct LocalProviderConfig {
    pub latency: Duration,
    /// 0.0–1.0: the share of jobs that fail (to exercise refunds).
    pub failure_rate: f64,
    /// Long side of the images, in pixels.
    pub image_size: u32,
}

pub struct LocalProvider {
    config: LocalProviderConfig,
    /// Fetches training archives from their (signed) storage links.
    http: reqwest::Client,
}

impl LocalProvider {
    pub fn new(config: LocalProviderConfig) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap_or_default();
        LocalProvider { config, http }
    }
}

fn now_millis() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// Downloads a job's input from its (signed) link, as FAL would: a refusal fails the job, a
/// connection error is worth another try.
async fn fetch_input(http: &reqwest::Client, url: &str, what: &str) -> Result<Bytes, ProviderError> {
    let response = http.get(url).send().await.map_err(|e| ProviderError::Transient(format!("fetching {what}: {e}")))?;
    if !response.status().is_success() {
        return Err(ProviderError::Failed(format!("{what} answered {}", response.status())));
    }
    response.bytes().await.map_err(|e| ProviderError::Transient(format!("reading {what}: {e}")))
}

/// Whether this job is one of the failures; decided by the prompt and seed, so it is stable.
fn fails(spec: &JobSpec, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    let hash = render::seed_of(&spec.prompt, spec.seed);
    (hash % 10_000) as f64 / 10_000.0 < rate
}

/// The local stand-in for a safety checker: `[blocked]` in a prompt blocks every picture,
/// `[blocked:K]` the first K, so that refunds of blocked pictures can be tried offline.
fn blocked_by_marker(prompt: &str, num_images: u8) -> u8 {
    let Some((_, rest)) = prompt.split_once("[blocked") else { return 0 };
    match rest.strip_prefix(':').and_then(|r| r.split_once(']')) {
        Some((count, _)) => count.trim().parse::<u8>().unwrap_or(num_images).min(num_images),
        None => num_images,
    }
}

#[async_trait::async_trait]
impl ImageProvider for LocalProvider {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn submit(&self, _spec: &JobSpec) -> Result<ProviderHandle, ProviderError> {
        Ok(ProviderHandle {
            request_id: format!("local-{}-{:08x}", now_millis(), rand::random::<u32>()),
            status_url: None,
            response_url: None,
            cancel_url: None,
        })
    }

    async fn status(&self, spec: &JobSpec, handle: &ProviderHandle) -> Result<ProviderStatus, ProviderError> {
        let submitted: u64 = handle
            .request_id
            .split('-')
            .nth(1)
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| ProviderError::Failed(format!("not a local request id: {}", handle.request_id)))?;
        let elapsed = now_millis().saturating_sub(submitted);
        let latency = self.config.latency.as_millis() as u64;
        if elapsed >= latency {
            if fails(spec, self.config.failure_rate) {
                return Ok(ProviderStatus::Failed {
                    reason: "the local renderer failed this job (simulated failure)".into(),
                });
            }
            return Ok(ProviderStatus::Completed);
        }
        // The first fifth of the time in the queue, then drawing.
        if elapsed < latency / 5 {
            return Ok(ProviderStatus::Queued { position: Some(0) });
        }
        Ok(ProviderStatus::Running { progress: Some((elapsed * 100 / latency.max(1)) as u8) })
    }

    async fn result(&self, spec: &JobSpec, _handle: &ProviderHandle) -> Result<Vec<ProducedFile>, ProviderError> {
        if let Some(training) = &spec.training {
            return training::train(&self.http, training).await.map(|file| vec![file]);
        }
        if let Some(video) = &spec.video {
            return animate::animate(&self.http, video, &spec.prompt, spec.aspect_ratio).await.map(|clip| vec![clip]);
        }
        let spec = spec.clone();
        let size = self.config.image_size;
        let blocked = blocked_by_marker(&spec.prompt, spec.num_images);
        tokio::task::spawn_blocking(move || {
            (0..spec.num_images)
                .map(|index| match index < blocked {
                    true => ProducedFile::blocked("image/png"),
                    false => {
                        let png = render_png(&spec.prompt, spec.seed, index, spec.aspect_ratio.size(size));
                        ProducedFile { verdict: Verdict::Passed, ..ProducedFile::unchecked(png.into(), "image/png") }
                    }
                })
                .collect()
        })
        .await
        .map_err(|e| ProviderError::Failed(format!("rendering panicked: {e}")))
    }

    async fn files_from_output(&self, _output: &serde_json::Value) -> Result<Vec<ProducedFile>, ProviderError> {
        Err(ProviderError::Failed("the local provider has no webhooks".into()))
    }

    async fn cancel(&self, _handle: &ProviderHandle) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn complete_text(&self, request: &TextRequest) -> Result<String, ProviderError> {
        Ok(text::complete(request.task, &request.text))
    }
}

#[cfg(test)]
mod tests {
    use super::blocked_by_marker;

    #[test]
    fn the_blocking_marker_counts_pictures() {
        assert_eq!(blocked_by_marker("a fox", 4), 0);
        assert_eq!(blocked_by_marker("a fox [blocked]", 4), 4);
        assert_eq!(blocked_by_marker("a fox [blocked:1]", 4), 1);
        assert_eq!(blocked_by_marker("a fox [blocked:9]", 2), 2);
    }
}
