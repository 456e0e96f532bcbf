//! A fake FAL queue API on 127.0.0.1 that speaks the real protocol over HTTP: submit (with
//! `fal_webhook`), status (202 while pending, 200 when done), result, cancel, result files, and
//! signed webhooks with a test ED25519 key published as JWKS. Failure modes cover a 422 result,
//! an error status, a job that never finishes, and 429s before success.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::Bytes,
    extract::{Request, State},
    http::{HeaderMap, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Succeed,
    /// The status says COMPLETED but fetching the result answers 422.
    ResultError,
    /// The status turns to an error status.
    StatusError,
    /// Stays IN_PROGRESS for ever.
    NeverFinish,
    /// The content checker refuses: the result (or the webhook's payload) is FAL's 422
    /// `content_policy_violation`.
    ContentPolicy,
}

pub struct Submission {
    pub model: String,
    pub input: Value,
    pub webhook: Option<String>,
    pub authorization: Option<String>,
}

struct Job {
    submitted: Instant,
    /// How long this job takes (by its model, when one was set).
    latency: Duration,
    num_images: usize,
    /// A language model's request (`fal-ai/any-llm`): its `prompt`, answered with text.
    llm_prompt: Option<String>,
    /// A trainer's job answers with LoRA weights instead of images.
    training: bool,
    /// An image-to-video job answers with one clip (`video`).
    video: bool,
}

#[derive(Default)]
struct Recorded {
    submissions: Vec<Submission>,
    cancels: Vec<String>,
    jobs: HashMap<String, Job>,
    webhook_answers: Vec<u16>,
    /// What the trainers found at `images_data_url`: (HTTP status, bytes).
    archives: Vec<(u16, Vec<u8>)>,
    /// What the video models found at `image_url`: (HTTP status, bytes).
    pictures: Vec<(u16, Vec<u8>)>,
    /// Files put in FAL's storage, by id.
    uploads: HashMap<String, Vec<u8>>,
    /// (model, when) of every submission.
    submitted_at: Vec<(String, Instant)>,
    /// How often the signing keys were fetched.
    jwks_fetches: usize,
    /// How often a result file was downloaded.
    file_fetches: usize,
}

struct Settings {
    mode: Mode,
    latency: Duration,
    /// 429s to answer before accepting submits.
    rate_limited: u32,
    /// How many times each webhook is delivered.
    deliveries: u32,
    /// Latencies by model prefix, before the general one.
    latency_by_model: Vec<(String, Duration)>,
    /// How long an upload to FAL's storage takes.
    upload_delay: Duration,
    /// How long a status request takes to answer.
    status_delay: Duration,
    /// Where the handed-back status, response and cancel URLs point, if not here.
    handle_base: Option<String>,
    /// Where the result files' URLs point, if not here (another name for this server, say).
    files_base: Option<String>,
    /// `has_nsfw_concepts` of every result, as FLUX reports it.
    nsfw: Option<Vec<bool>>,
    /// Results hold at most this many images (as Imagen 4 returns fewer than asked when its
    /// filter holds some back).
    images_returned: Option<usize>,
    /// The language model's answers: (prompt, reply).
    llm_replies: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct FakeFal {
    pub url: String,
    settings: Arc<Mutex<Settings>>,
    recorded: Arc<Mutex<Recorded>>,
    key: Arc<SigningKey>,
}

impl FakeFal {
    pub async fn start(mode: Mode, latency: Duration) -> FakeFal {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let fake = FakeFal {
            url: format!("http://{addr}"),
            settings: Arc::new(Mutex::new(Settings {
                mode,
                latency,
                rate_limited: 0,
                deliveries: 1,
                latency_by_model: Vec::new(),
                upload_delay: Duration::ZERO,
                status_delay: Duration::ZERO,
                handle_base: None,
                files_base: None,
                nsfw: None,
                images_returned: None,
                llm_replies: Vec::new(),
            })),
            recorded: Arc::default(),
            key: Arc::new(SigningKey::from_bytes(&[7u8; 32])),
        };
        let router = Router::new()
            .route("/.well-known/jwks.json", get(jwks))
            .route("/files/{name}", get(file))
            .route("/storage/upload/initiate", axum::routing::post(initiate_upload))
            .route("/upload/{id}", axum::routing::put(put_upload))
            .route("/uploaded/{id}", get(get_upload))
            .fallback(queue)
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.expect("fake FAL serves") });
        fake
    }

    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.url)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.settings.lock().expect("lock").mode = mode;
    }

    pub fn rate_limit_next(&self, n: u32) {
        self.settings.lock().expect("lock").rate_limited = n;
    }

    /// Jobs of models starting with `prefix` take `latency`.
    pub fn set_latency_for(&self, prefix: &str, latency: Duration) {
        self.settings.lock().expect("lock").latency_by_model.push((prefix.to_owned(), latency));
    }

    /// Uploads to FAL's storage take this long.
    pub fn slow_uploads(&self, delay: Duration) {
        self.settings.lock().expect("lock").upload_delay = delay;
    }

    /// Status requests take this long to answer.
    /// Hands back status, response and cancel URLs under `base` (another host, say).
    pub fn hand_back_urls_on(&self, base: &str) {
        self.settings.lock().expect("lock").handle_base = Some(base.to_owned());
    }

    /// Hands back result file URLs under `base` instead of this server's address.
    pub fn hand_back_files_on(&self, base: &str) {
        self.settings.lock().expect("lock").files_base = Some(base.to_owned());
    }

    /// The language model answers `reply` to `prompt` (anything else: "an English prompt").
    pub fn llm_answers(&self, prompt: &str, reply: &str) {
        self.settings.lock().expect("lock").llm_replies.push((prompt.to_owned(), reply.to_owned()));
    }

    /// Results carry `has_nsfw_concepts: flags`.
    pub fn flag_nsfw(&self, flags: &[bool]) {
        self.settings.lock().expect("lock").nsfw = Some(flags.to_vec());
    }

    /// Results hold at most `n` images, whatever was asked.
    pub fn return_at_most(&self, n: usize) {
        self.settings.lock().expect("lock").images_returned = Some(n);
    }

    pub fn file_fetches(&self) -> usize {
        self.recorded.lock().expect("lock").file_fetches
    }

    fn files_base(&self) -> String {
        self.settings.lock().expect("lock").files_base.clone().unwrap_or_else(|| self.url.clone())
    }

    pub fn slow_status(&self, delay: Duration) {
        self.settings.lock().expect("lock").status_delay = delay;
    }

    /// When each submission arrived, by model (in order).
    pub fn submission_times(&self) -> Vec<(String, Instant)> {
        self.recorded.lock().expect("lock").submitted_at.clone()
    }

    pub fn deliver_webhooks_times(&self, n: u32) {
        self.settings.lock().expect("lock").deliveries = n;
    }

    pub fn jwks_fetches(&self) -> usize {
        self.recorded.lock().expect("lock").jwks_fetches
    }

    pub fn submissions(&self) -> usize {
        self.recorded.lock().expect("lock").submissions.len()
    }

    pub fn with_submissions<T>(&self, f: impl FnOnce(&[Submission]) -> T) -> T {
        f(&self.recorded.lock().expect("lock").submissions)
    }

    /// The training archives fetched from the URLs our server handed the trainers.
    /// What the video models fetched from `image_url`: (HTTP status, bytes).
    pub fn pictures(&self) -> Vec<(u16, Vec<u8>)> {
        self.recorded.lock().expect("lock").pictures.clone()
    }

    pub fn archives(&self) -> Vec<(u16, Vec<u8>)> {
        self.recorded.lock().expect("lock").archives.clone()
    }

    pub fn cancels(&self) -> Vec<String> {
        self.recorded.lock().expect("lock").cancels.clone()
    }

    /// The HTTP statuses our server answered to the webhooks delivered so far.
    pub fn webhook_answers(&self) -> Vec<u16> {
        self.recorded.lock().expect("lock").webhook_answers.clone()
    }

    /// Signs a webhook body the way FAL does; `timestamp` in unix seconds.
    pub fn sign(&self, request_id: &str, timestamp: i64, body: &[u8]) -> Vec<(&'static str, String)> {
        sign_with(&self.key, request_id, timestamp, body)
    }

    /// The body FAL would send for a finished request.
    pub fn webhook_body(&self, request_id: &str) -> Value {
        let mode = self.settings.lock().expect("lock").mode;
        match mode {
            Mode::Succeed | Mode::NeverFinish => json!({
                "request_id": request_id, "gateway_request_id": request_id, "status": "OK",
                "payload": self.output(request_id, job(self, request_id).map_or((1, false), |j| (j.3, j.4))), "error": null,
            }),
            Mode::ContentPolicy => json!({
                "request_id": request_id, "gateway_request_id": request_id, "status": "ERROR",
                "error": "Invalid status code: 422", "payload": content_policy_body(),
            }),
            Mode::ResultError | Mode::StatusError => json!({
                "request_id": request_id, "gateway_request_id": request_id, "status": "ERROR",
                "error": "Invalid status code: 422", "payload": { "detail": [{ "msg": "prompt rejected", "type": "value_error" }] },
            }),
        }
    }
}

pub fn sign_with(key: &SigningKey, request_id: &str, timestamp: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let message = format!("{request_id}\nuser-1\n{timestamp}\n{}", hex::encode(Sha256::digest(body)));
    let signature = key.sign(message.as_bytes());
    vec![
        ("x-fal-webhook-request-id", request_id.to_owned()),
        ("x-fal-webhook-user-id", "user-1".to_owned()),
        ("x-fal-webhook-timestamp", timestamp.to_string()),
        ("x-fal-webhook-signature", hex::encode(signature.to_bytes())),
    ]
}

/// FAL's answer when its content checker flags a request (docs.fal.ai/errors).
fn content_policy_body() -> Value {
    json!({ "detail": [{
        "loc": ["body", "prompt"], "msg": "The content was flagged by a content checker.",
        "type": "content_policy_violation", "url": "https://docs.fal.ai/errors#content_policy_violation",
        "input": "the flagged input", "categories": ["sexual"],
    }] })
}

impl FakeFal {
    /// A finished request's output, with the settings' verdicts and image count.
    fn output(&self, request_id: &str, (count, training): (usize, bool)) -> Value {
        if self.recorded.lock().expect("lock").jobs.get(request_id).is_some_and(|j| j.video) {
            let url = format!("{}/files/{request_id}.mp4", self.files_base());
            let size = fake_mp4(FAKE_MP4_MILLIS, (1280, 720)).len();
            return json!({ "video": { "url": url, "content_type": "video/mp4", "file_name": "output.mp4", "file_size": size } });
        }
        let (nsfw, at_most) = {
            let settings = self.settings.lock().expect("lock");
            (settings.nsfw.clone(), settings.images_returned)
        };
        let mut payload =
            result_payload(&self.files_base(), request_id, (at_most.map_or(count, |n| count.min(n)), training));
        if let Some(flags) = nsfw.filter(|_| !training) {
            payload["has_nsfw_concepts"] = json!(flags);
        }
        payload
    }
}

fn result_payload(base: &str, request_id: &str, (count, training): (usize, bool)) -> Value {
    if training {
        let file = |name: &str| json!({ "url": format!("{base}/files/{request_id}-{name}"), "content_type": "application/octet-stream", "file_name": name });
        return json!({ "diffusers_lora_file": file("lora.safetensors"), "config_file": file("config.json") });
    }
    let images: Vec<Value> = (0..count)
        .map(|i| json!({ "url": format!("{base}/files/{request_id}-{i}.png"), "content_type": "image/png", "file_name": "out.png" }))
        .collect();
    json!({ "images": images, "seed": 42 })
}

async fn jwks(State(fake): State<FakeFal>) -> impl IntoResponse {
    fake.recorded.lock().expect("lock").jwks_fetches += 1;
    // Slow enough for concurrent verifications to overlap, as over a real network.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(fake.key.verifying_key().to_bytes());
    axum::Json(json!({ "keys": [{ "kty": "OKP", "crv": "Ed25519", "x": x, "kid": "test" }] }))
}

async fn file(State(fake): State<FakeFal>, axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    fake.recorded.lock().expect("lock").file_fetches += 1;
    if name.ends_with(".mp4") {
        return ([("content-type", "video/mp4")], fake_mp4(FAKE_MP4_MILLIS, (1280, 720))).into_response();
    }
    if name.ends_with(".safetensors") {
        return ([("content-type", "application/octet-stream")], format!("fake LoRA weights {name}")).into_response();
    }
    let png = aisha::providers::local::render_png(&name, None, 0, (80, 60));
    ([("content-type", "image/png")], png).into_response()
}

/// FAL's storage: initiate gives a signed upload URL and the file's URL.
async fn initiate_upload(State(fake): State<FakeFal>, headers: HeaderMap) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Key test-fal-key") {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({ "detail": "bad key" }))).into_response();
    }
    let id = format!("up-{:016x}", rand::random::<u64>());
    axum::Json(
        json!({ "upload_url": format!("{}/upload/{id}", fake.url), "file_url": format!("{}/uploaded/{id}", fake.url) }),
    )
    .into_response()
}

async fn put_upload(
    State(fake): State<FakeFal>,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Bytes,
) -> StatusCode {
    let delay = fake.settings.lock().expect("lock").upload_delay;
    tokio::time::sleep(delay).await;
    fake.recorded.lock().expect("lock").uploads.insert(id, body.to_vec());
    StatusCode::OK
}

async fn get_upload(State(fake): State<FakeFal>, axum::extract::Path(id): axum::extract::Path<String>) -> Response {
    match fake.recorded.lock().expect("lock").uploads.get(&id) {
        Some(bytes) => bytes.clone().into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Everything under the queue: submit, status, result, cancel.
async fn queue(State(fake): State<FakeFal>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let path = parts.uri.path().trim_start_matches('/').to_owned();
    if let Some((root, rest)) = path.split_once("/requests/") {
        let (id, action) = rest.split_once('/').map_or((rest, ""), |(id, action)| (id, action));
        return match (parts.method.clone(), action) {
            (Method::GET, "status") => {
                let delay = fake.settings.lock().expect("lock").status_delay;
                tokio::time::sleep(delay).await;
                status(&fake, id)
            }
            (Method::GET, "") => result(&fake, id),
            (Method::PUT, "cancel") => {
                fake.recorded.lock().expect("lock").cancels.push(id.to_owned());
                (StatusCode::ACCEPTED, axum::Json(json!({ "status": "CANCELLATION_REQUESTED" }))).into_response()
            }
            _ => (StatusCode::NOT_FOUND, axum::Json(json!({ "detail": format!("no route {root}") }))).into_response(),
        };
    }
    if parts.method == Method::POST {
        return submit(&fake, &path, parts.uri.query(), &parts.headers, body);
    }
    (StatusCode::NOT_FOUND, axum::Json(json!({ "detail": "Not Found" }))).into_response()
}

fn submit(fake: &FakeFal, model: &str, query: Option<&str>, headers: &HeaderMap, body: Bytes) -> Response {
    {
        let mut settings = fake.settings.lock().expect("lock");
        if settings.rate_limited > 0 {
            settings.rate_limited -= 1;
            return (StatusCode::TOO_MANY_REQUESTS, axum::Json(json!({ "detail": "Too many requests" })))
                .into_response();
        }
    }
    let webhook = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == "fal_webhook")
        .map(|(_, v)| v.into_owned());
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    // FAL drops the sub-path for status and result URLs: fal-ai/imagen4/preview → fal-ai/imagen4.
    let root = model.split('/').take(2).collect::<Vec<_>>().join("/");
    let id = format!("req-{:016x}", rand::random::<u64>());
    let latency = {
        let settings = fake.settings.lock().expect("lock");
        settings
            .latency_by_model
            .iter()
            .find(|(prefix, _)| model.starts_with(prefix.as_str()))
            .map_or(settings.latency, |(_, l)| *l)
    };
    let mut recorded = fake.recorded.lock().expect("lock");
    recorded.submitted_at.push((model.to_owned(), Instant::now()));
    recorded.submissions.push(Submission {
        model: model.to_owned(),
        input: input.clone(),
        webhook: webhook.clone(),
        authorization: headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned),
    });
    let num_images = input.get("num_images").and_then(Value::as_u64).unwrap_or(1) as usize;
    let training = model.contains("trainer") || model.contains("training");
    let video = model.contains("image-to-video");
    let llm_prompt = (model == "fal-ai/any-llm").then(|| input["prompt"].as_str().unwrap_or_default().to_owned());
    let job = Job { submitted: Instant::now(), latency, num_images, llm_prompt, training, video };
    recorded.jobs.insert(id.clone(), job);
    drop(recorded);
    if let Some(picture) = input.get("image_url").and_then(Value::as_str).filter(|_| video) {
        // A video model downloads the picture first, as FAL does.
        let (fake, picture) = (fake.clone(), picture.to_owned());
        tokio::spawn(async move {
            let fetched = fetch(&picture).await;
            fake.recorded.lock().expect("lock").pictures.push(fetched);
        });
    }
    if let Some(archive) = input.get("images_data_url").and_then(Value::as_str) {
        // A trainer downloads the photos first, as FAL does.
        let (fake, archive) = (fake.clone(), archive.to_owned());
        tokio::spawn(async move {
            let fetched = fetch(&archive).await;
            fake.recorded.lock().expect("lock").archives.push(fetched);
        });
    }
    if let Some(url) = webhook {
        tokio::spawn(deliver(fake.clone(), id.clone(), url, latency));
    }
    let elsewhere = fake.settings.lock().expect("lock").handle_base.clone();
    let base = elsewhere.unwrap_or_else(|| format!("{}/{root}/requests/{id}", fake.url));
    axum::Json(json!({
        "request_id": id, "gateway_request_id": id, "status": "IN_QUEUE", "queue_position": 3,
        "status_url": format!("{base}/status"), "response_url": base, "cancel_url": format!("{base}/cancel"),
    }))
    .into_response()
}

/// (HTTP status, body) of a GET; status 0 when it did not connect.
async fn fetch(url: &str) -> (u16, Vec<u8>) {
    match reqwest::get(url).await {
        Ok(response) => (response.status().as_u16(), response.bytes().await.map(|b| b.to_vec()).unwrap_or_default()),
        Err(_) => (0, Vec::new()),
    }
}

/// The length of the fake clips: Kling's "5" seconds are a little more, as in its real output
/// (and not what the catalogue says, so that a test sees the length was read from the file).
pub const FAKE_MP4_MILLIS: u32 = 5_042;

/// An MP4's skeleton as a video model returns it: `ftyp`, then `moov` with the movie header
/// (the length) and one video track header (the frame size), then the media data.
pub fn fake_mp4(millis: u32, (width, height): (u32, u32)) -> Vec<u8> {
    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }
    let mut mvhd = vec![0u8; 100];
    mvhd[12..16].copy_from_slice(&1000u32.to_be_bytes());
    mvhd[16..20].copy_from_slice(&millis.to_be_bytes());
    let mut tkhd = vec![0u8; 84];
    tkhd[76..80].copy_from_slice(&(width << 16).to_be_bytes());
    tkhd[80..84].copy_from_slice(&(height << 16).to_be_bytes());
    let moov = boxed(b"moov", &[boxed(b"mvhd", &mvhd), boxed(b"trak", &boxed(b"tkhd", &tkhd))].concat());
    [boxed(b"ftyp", b"isom\0\0\x02\0isomiso2mp41"), moov, boxed(b"mdat", &[0x42; 256])].concat()
}

/// After the latency, delivers the signed webhook as many times as configured.
async fn deliver(fake: FakeFal, id: String, url: String, latency: Duration) {
    let (deliveries, mode) = {
        let settings = fake.settings.lock().expect("lock");
        (settings.deliveries, settings.mode)
    };
    if mode == Mode::NeverFinish {
        return;
    }
    tokio::time::sleep(latency).await;
    let body = serde_json::to_vec(&fake.webhook_body(&id)).expect("JSON");
    let client = reqwest::Client::new();
    for _ in 0..deliveries {
        let mut request = client.post(&url).header("content-type", "application/json").body(body.clone());
        for (name, value) in fake.sign(&id, chrono::Utc::now().timestamp(), &body) {
            request = request.header(name, value);
        }
        let status = request.send().await.map_or(0, |r| r.status().as_u16());
        fake.recorded.lock().expect("lock").webhook_answers.push(status);
    }
}

/// (time since submit, latency, mode, images asked for, is a training) of a known request.
fn job(fake: &FakeFal, id: &str) -> Option<(Duration, Duration, Mode, usize, bool)> {
    let recorded = fake.recorded.lock().expect("lock");
    let job = recorded.jobs.get(id)?;
    let settings = fake.settings.lock().expect("lock");
    Some((job.submitted.elapsed(), job.latency, settings.mode, job.num_images, job.training))
}

fn status(fake: &FakeFal, id: &str) -> Response {
    let Some((elapsed, latency, mode, _, _)) = job(fake, id) else {
        return (StatusCode::NOT_FOUND, axum::Json(json!({ "detail": "Request not found" }))).into_response();
    };
    if elapsed < latency / 3 {
        return (StatusCode::ACCEPTED, axum::Json(json!({ "status": "IN_QUEUE", "queue_position": 2 })))
            .into_response();
    }
    if elapsed < latency || mode == Mode::NeverFinish {
        let logs =
            json!([{ "timestamp": "2026-01-01T00:00:00Z", "level": "INFO", "source": "user", "message": "step" }]);
        return (StatusCode::ACCEPTED, axum::Json(json!({ "status": "IN_PROGRESS", "logs": logs }))).into_response();
    }
    match mode {
        Mode::StatusError => {
            axum::Json(json!({ "status": "ERROR", "error": "runner crashed", "error_type": "runner_disconnected" }))
                .into_response()
        }
        _ => axum::Json(json!({ "status": "COMPLETED", "logs": [] })).into_response(),
    }
}

fn result(fake: &FakeFal, id: &str) -> Response {
    let Some((_, _, mode, count, training)) = job(fake, id) else {
        return (StatusCode::NOT_FOUND, axum::Json(json!({ "detail": "Request not found" }))).into_response();
    };
    if mode == Mode::ResultError {
        let detail = json!({ "detail": [{ "loc": ["body", "prompt"], "msg": "prompt rejected by the safety filter", "type": "value_error" }] });
        return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(detail)).into_response();
    }
    if let Some(prompt) = fake.recorded.lock().expect("lock").jobs.get(id).and_then(|j| j.llm_prompt.clone()) {
        let replies = fake.settings.lock().expect("lock").llm_replies.clone();
        let reply =
            replies.into_iter().find(|(p, _)| *p == prompt).map_or_else(|| "an English prompt".to_owned(), |(_, r)| r);
        return axum::Json(json!({ "output": reply, "partial": false, "error": null })).into_response();
    }
    if mode == Mode::ContentPolicy {
        return (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(content_policy_body())).into_response();
    }
    axum::Json(fake.output(id, (count, training))).into_response()
}
