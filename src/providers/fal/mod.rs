//! FAL AI's queue API, by our own thin client: submit (with `fal_webhook` when we have a public
//! URL), keep the returned `status_url`/`response_url`/`cancel_url` exactly as given, poll the
//! status, fetch the result, download the images. 429, 5xx and connection errors are retried
//! with backoff; a non-2xx result or an unknown terminal status is a failure, never "keep
//! polling". Webhook signatures are checked in `webhook.rs`.

mod client;
pub mod webhook;

use serde_json::{Value, json};
use url::Url;

use crate::adapters::outbound::Downloads;

use self::client::{Client, Reply};
use super::{
    ImageProvider, JobSpec, ProducedFile, ProviderError, ProviderHandle, ProviderStatus, TextRequest, Verdict,
};

/// The language model of prompt help: FAL's gateway to many LLMs, and the (cheap, fast) one we ask.
const LLM_ENDPOINT: &str = "fal-ai/any-llm";
const LLM_MODEL: &str = "google/gemini-flash-1.5";
/// How long a prompt-help request may take, and how often its status is asked.
const LLM_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
const LLM_POLL: std::time::Duration = std::time::Duration::from_millis(250);

pub struct FalProvider {
    client: Client,
    queue_url: Url,
    /// FAL's storage API (`…/storage/upload/initiate`).
    storage_url: Url,
    /// Where FAL should POST completions (`…/webhooks/fal`), when we are reachable.
    webhook_url: Option<Url>,
}

impl FalProvider {
    pub fn new(key: &str, queue_url: Url, storage_url: Url, webhook_url: Option<Url>, downloads: Downloads) -> Self {
        FalProvider { client: Client::new(key, downloads), queue_url, storage_url, webhook_url }
    }
}

/// The model input FAL expects for our catalogue's models and trainers.
fn input_for(spec: &JobSpec) -> Value {
    if let Some(training) = &spec.training {
        // fal-ai/flux-lora-fast-training takes `trigger_word` (+ `is_style`);
        // fal-ai/flux-lora-portrait-trainer takes `trigger_phrase`.
        return if training.style {
            json!({ "images_data_url": training.images_zip_url, "trigger_word": training.trigger_phrase, "is_style": true })
        } else {
            json!({ "images_data_url": training.images_zip_url, "trigger_phrase": training.trigger_phrase })
        };
    }
    if let Some(video) = &spec.video {
        // Kling's image-to-video: the picture, what should move, and the length ("5" or "10").
        return json!({ "prompt": spec.prompt, "image_url": video.image_url, "duration": video.seconds.to_string() });
    }
    let mut input = json!({
        "prompt": spec.prompt,
        "num_images": spec.num_images,
    });
    // FLUX LoRA and Ideogram take a named size; Imagen 4 and FLUX ultra an aspect ratio.
    if spec.model.starts_with("fal-ai/flux-lora") || spec.model.starts_with("fal-ai/ideogram") {
        input["image_size"] = json!(flux_image_size(spec.aspect_ratio));
    } else {
        input["aspect_ratio"] = json!(spec.aspect_ratio.as_str());
    }
    if spec.model.starts_with("fal-ai/ideogram") {
        input["rendering_speed"] = json!("BALANCED");
    }
    if spec.model.starts_with("fal-ai/flux-pro") {
        // Its checker reports `has_nsfw_concepts`; the verdicts are kept (and refunded) per image.
        input["enable_safety_checker"] = json!(true);
    }
    if let Some(lora) = &spec.lora {
        input["loras"] = json!([{ "path": lora.url, "scale": lora.scale }]);
    }
    if let Some(seed) = spec.seed {
        input["seed"] = json!(seed);
    }
    input
}

/// FLUX's named sizes for our aspect ratios.
pub fn flux_image_size(ratio: crate::domain::generations::AspectRatio) -> &'static str {
    use crate::domain::generations::AspectRatio::*;
    match ratio {
        Square => "square_hd",
        Landscape16x9 => "landscape_16_9",
        Portrait9x16 => "portrait_16_9",
        Landscape4x3 => "landscape_4_3",
        Portrait3x4 => "portrait_4_3",
    }
}

impl FalProvider {
    /// A URL FAL handed back, if it is on the queue's own host: the key goes nowhere else.
    fn on_queue_host(&self, url: &str, what: &str) -> Result<Url, ProviderError> {
        let url = Url::parse(url).map_err(|e| ProviderError::Failed(format!("bad {what}: {e}")))?;
        if url.origin() != self.queue_url.origin() {
            tracing::error!(%url, "FAL handed back a {what} on another host; it is not followed");
            return Err(ProviderError::Failed(format!("FAL handed back a {what} on another host")));
        }
        Ok(url)
    }
}

/// Whether FAL's error body is its content checker's refusal: a `detail` list with an entry of
/// `type: content_policy_violation` (docs.fal.ai/errors), on a 422 or inside a webhook's payload.
pub fn is_content_policy_violation(body: &Value) -> bool {
    body.get("detail").and_then(Value::as_array).is_some_and(|problems| {
        problems.iter().any(|p| p.get("type").and_then(Value::as_str) == Some("content_policy_violation"))
    })
}

fn describe_failure(body: &Value) -> String {
    let detail = body.get("detail").or_else(|| body.get("error")).or_else(|| body.get("error_type"));
    match detail {
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
        None => body.to_string().chars().take(300).collect(),
    }
}

#[async_trait::async_trait]
impl ImageProvider for FalProvider {
    fn name(&self) -> &'static str {
        "fal"
    }

    fn uses_webhooks(&self) -> bool {
        self.webhook_url.is_some()
    }

    async fn submit(&self, spec: &JobSpec) -> Result<ProviderHandle, ProviderError> {
        let mut url = self
            .queue_url
            .join(&spec.model)
            .map_err(|e| ProviderError::Failed(format!("bad model id {}: {e}", spec.model)))?;
        if let Some(webhook) = &self.webhook_url {
            url.query_pairs_mut().append_pair("fal_webhook", webhook.as_str());
        }
        let reply = self.client.post_json(url, &input_for(spec)).await?;
        let body = reply.success_json()?;
        let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
        let request_id =
            field("request_id").ok_or_else(|| ProviderError::Failed("FAL answered without request_id".into()))?;
        Ok(ProviderHandle {
            request_id,
            status_url: field("status_url"),
            response_url: field("response_url"),
            cancel_url: field("cancel_url"),
        })
    }

    async fn status(&self, _spec: &JobSpec, handle: &ProviderHandle) -> Result<ProviderStatus, ProviderError> {
        let url = handle.status_url.as_deref().ok_or_else(|| ProviderError::Failed("no status_url stored".into()))?;
        let mut url = self.on_queue_host(url, "status_url")?;
        url.query_pairs_mut().append_pair("logs", "1");
        let body = self.client.get(url).await?.success_json()?;
        Ok(match body.get("status").and_then(Value::as_str).unwrap_or("") {
            "IN_QUEUE" => ProviderStatus::Queued {
                position: body.get("queue_position").and_then(Value::as_u64).map(|p| p.min(u32::MAX as u64) as u32),
            },
            "IN_PROGRESS" => ProviderStatus::Running { progress: None },
            "COMPLETED" => ProviderStatus::Completed,
            other => {
                tracing::warn!(status = other, detail = %describe_failure(&body), "FAL reported a failed job");
                ProviderStatus::Failed { reason: format!("the image service reported {other:?}") }
            }
        })
    }

    async fn result(&self, _spec: &JobSpec, handle: &ProviderHandle) -> Result<Vec<ProducedFile>, ProviderError> {
        let url =
            handle.response_url.as_deref().ok_or_else(|| ProviderError::Failed("no response_url stored".into()))?;
        let url = self.on_queue_host(url, "response_url")?;
        let output = self.client.get(url).await?.success_json()?;
        self.files_from_output(&output).await
    }

    async fn files_from_output(&self, output: &Value) -> Result<Vec<ProducedFile>, ProviderError> {
        // A trainer's output: the LoRA weights (the config file is not needed to use them).
        if let Some(lora) = output.get("diffusers_lora_file") {
            let url = lora
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| ProviderError::Failed("a LoRA file without url".into()))?;
            let mut file = self.client.download(url, Some("application/octet-stream")).await?;
            file.content_type = "application/octet-stream".into();
            return Ok(vec![file]);
        }
        // A video model's output: one clip, `video.url`.
        if let Some(video) = output.get("video") {
            let url = video
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| ProviderError::Failed("a video without url".into()))?;
            let declared = video.get("content_type").and_then(Value::as_str).or(Some("video/mp4"));
            return Ok(vec![self.client.download(url, declared).await?]);
        }
        let files =
            output.get("images").and_then(Value::as_array).filter(|images| !images.is_empty()).ok_or_else(|| {
                tracing::warn!(detail = %describe_failure(output), "FAL returned no images");
                ProviderError::Failed("the image service returned no images".into())
            })?;
        // FLUX reports its safety checker's verdict per image; a flagged image is a black
        // square, never downloaded.
        let verdicts = output.get("has_nsfw_concepts").and_then(Value::as_array);
        let mut images = Vec::with_capacity(files.len());
        for (index, file) in files.iter().enumerate() {
            let declared = file.get("content_type").and_then(Value::as_str);
            let verdict = match verdicts.map(|v| v.get(index).and_then(Value::as_bool)) {
                None => Verdict::NotReported,
                Some(Some(true)) => Verdict::Blocked,
                // A list that is shorter than the images, or not booleans: the checker ran,
                // but said nothing of this one; treated as flagged, the safe side.
                Some(None) => Verdict::Blocked,
                Some(Some(false)) => Verdict::Passed,
            };
            if verdict == Verdict::Blocked {
                images.push(ProducedFile::blocked(declared.unwrap_or("image/png")));
                continue;
            }
            let url = file
                .get("url")
                .and_then(Value::as_str)
                .ok_or_else(|| ProviderError::Failed("an image without url".into()))?;
            let mut image = self.client.download(url, declared).await?;
            image.verdict = verdict;
            images.push(image);
        }
        Ok(images)
    }

    /// FAL's storage: initiate (`{file_name, content_type}` → `{upload_url, file_url}`), then PUT.
    async fn upload(
        &self,
        name: &str,
        bytes: bytes::Bytes,
        content_type: &str,
    ) -> Result<Option<String>, ProviderError> {
        let initiate = self
            .storage_url
            .join("storage/upload/initiate")
            .map_err(|e| ProviderError::Failed(format!("bad FAL storage URL: {e}")))?;
        let body = json!({ "file_name": name, "content_type": content_type });
        let answer = self.client.post_json(initiate, &body).await?.success_json()?;
        let field = |key: &str| answer.get(key).and_then(Value::as_str).map(str::to_owned);
        let (Some(upload_url), Some(file_url)) = (field("upload_url"), field("file_url")) else {
            return Err(ProviderError::Failed("FAL storage answered without upload_url or file_url".into()));
        };
        let upload_url = Url::parse(&upload_url).map_err(|e| ProviderError::Failed(format!("bad upload_url: {e}")))?;
        let reply = self.client.put_bytes(upload_url, bytes, content_type).await?;
        if !(200..300).contains(&reply.status) {
            return Err(ProviderError::Transient(format!("FAL storage upload answered {}", reply.status)));
        }
        Ok(Some(file_url))
    }

    /// `fal-ai/any-llm` through the queue like every other model: submitted, its status polled
    /// until it completes (within [`LLM_WAIT`]), then its `output` read.
    async fn complete_text(&self, request: &TextRequest) -> Result<String, ProviderError> {
        let url = self.queue_url.join(LLM_ENDPOINT).map_err(|e| ProviderError::Failed(format!("bad LLM URL: {e}")))?;
        let body = json!({ "model": LLM_MODEL, "system_prompt": request.instructions, "prompt": request.text });
        let submitted = self.client.post_json(url, &body).await?.success_json()?;
        let field = |name: &str| submitted.get(name).and_then(Value::as_str).map(str::to_owned);
        let (Some(status_url), Some(response_url)) = (field("status_url"), field("response_url")) else {
            return Err(ProviderError::Failed("FAL answered an LLM request without its URLs".into()));
        };
        let (status_url, response_url) =
            (self.on_queue_host(&status_url, "status_url")?, self.on_queue_host(&response_url, "response_url")?);
        let deadline = tokio::time::Instant::now() + LLM_WAIT;
        loop {
            let status = self.client.get(status_url.clone()).await?.success_json()?;
            match status.get("status").and_then(Value::as_str) {
                Some("COMPLETED") => break,
                Some("IN_QUEUE" | "IN_PROGRESS") if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(LLM_POLL).await;
                }
                Some("IN_QUEUE" | "IN_PROGRESS") => {
                    return Err(ProviderError::Transient("the language model did not answer in time".into()));
                }
                other => return Err(ProviderError::Failed(format!("the language model reported {other:?}"))),
            }
        }
        let output = self.client.get(response_url).await?.success_json()?;
        match output.get("output").and_then(Value::as_str).filter(|text| !text.trim().is_empty()) {
            Some(text) => Ok(text.to_owned()),
            None => Err(ProviderError::Failed("the language model answered with no text".into())),
        }
    }

    async fn cancel(&self, handle: &ProviderHandle) -> Result<(), ProviderError> {
        let Some(url) = handle.cancel_url.as_deref() else { return Ok(()) };
        let url = self.on_queue_host(url, "cancel_url")?;
        let reply: Reply = self.client.put(url).await?;
        // ALREADY_COMPLETED and NOT_FOUND are answers too: nothing left to cancel.
        tracing::debug!(status = reply.status, "FAL cancel answered");
        Ok(())
    }
}
