//! A fake Telegram Bot API on 127.0.0.1 that speaks the real protocol: `/bot<token>/<method>`
//! with method names matched case-insensitively, JSON and multipart bodies, Telegram's
//! validation (callback data ≤ 64 bytes, text ≤ 4096, captions ≤ 1024, albums of 2–10, Stars
//! invoices) with its exact error strings, 429 with `retry_after` on demand, a 5xx or a body
//! that is not JSON on demand (teloxide sleeps 10 s on a 5xx, so only tests that need one ask),
//! Stars refunds (`refundStarPayment`, once per charge) and the bot's Stars transactions
//! (`getStarTransactions`). It records every call, remembers the messages it "sent" (with their
//! edits), and plays the user by POSTing updates to our webhook with the secret.

use std::{
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use axum::{
    Json, Router,
    extract::{FromRequest, Multipart, Path, Request, State},
    http::header::CONTENT_TYPE,
    routing::post,
};
use serde_json::{Value, json};

#[derive(Clone, Debug)]
pub struct Call {
    /// Lower case, e.g. `sendmessage`.
    pub method: String,
    pub params: Value,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    /// The bot's messages as the user sees them now, by message id.
    messages: HashMap<i64, Value>,
    /// Canned 429s: method → retry_after seconds.
    too_many: HashMap<String, VecDeque<u64>>,
    /// Files users sent, by file id (`getFile`, then `/file/bot<token>/<path>`).
    files: HashMap<String, Vec<u8>>,
    /// Canned failures: method → how the next calls fail.
    failures: HashMap<String, VecDeque<Failure>>,
    /// Charges refunded: (user id, charge id).
    refunds: Vec<(i64, String)>,
    /// What `getStarTransactions` lists, oldest first.
    star_transactions: Vec<Value>,
    /// Answers of a method held back this long.
    delays: HashMap<String, Duration>,
    /// `refundStarPayment` is refused with this description.
    refund_refusal: Option<String>,
}

#[derive(Clone, Copy, Debug)]
enum Failure {
    /// HTTP 500 with Telegram's error envelope.
    ServerError,
    /// HTTP 200 with a body that is not JSON (a proxy's error page, say).
    Garbled,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    token: String,
    inner: Arc<Mutex<Inner>>,
    next_id: Arc<AtomicI64>,
}

impl FakeTelegram {
    pub async fn start(token: &str) -> FakeTelegram {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let fake = FakeTelegram {
            url: format!("http://{}", listener.local_addr().expect("address")),
            token: token.to_owned(),
            inner: Arc::default(),
            next_id: Arc::new(AtomicI64::new(1000)),
        };
        let router = Router::new()
            .route("/{bot}/{method}", post(method))
            .route("/file/{bot}/{*path}", axum::routing::get(download))
            .with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, router).await.expect("fake Telegram serves") });
        fake
    }

    /// Keeps a file a user sends; returns its file id.
    pub fn add_file(&self, bytes: Vec<u8>) -> String {
        let id = format!("user-file-{}", self.next_id.fetch_add(1, Ordering::SeqCst));
        self.lock().files.insert(id.clone(), bytes);
        id
    }

    /// The next `n` calls of `method` are answered HTTP 500 (teloxide then waits 10 s).
    pub fn fail_next(&self, method: &str, n: usize) {
        self.lock()
            .failures
            .entry(method.to_lowercase())
            .or_default()
            .extend(std::iter::repeat_n(Failure::ServerError, n));
    }

    /// The next `n` calls of `method` are answered with a body that is not JSON.
    pub fn garble_next(&self, method: &str, n: usize) {
        self.lock().failures.entry(method.to_lowercase()).or_default().extend(std::iter::repeat_n(Failure::Garbled, n));
    }

    /// Calls of `method` are answered only after `delay`.
    pub fn delay(&self, method: &str, delay: Duration) {
        self.lock().delays.insert(method.to_lowercase(), delay);
    }

    /// Charges refunded so far: (user id, charge id).
    pub fn refunds(&self) -> Vec<(i64, String)> {
        self.lock().refunds.clone()
    }

    /// A user paid `stars` for an invoice with this payload (listed by `getStarTransactions`).
    pub fn add_star_payment(&self, charge_id: &str, user_id: i64, stars: i64, payload: &str) {
        let transaction = json!({
            "id": charge_id, "amount": stars, "date": now(),
            "source": { "type": "user", "transaction_type": "invoice_payment", "invoice_payload": payload,
                        "user": { "id": user_id, "is_bot": false, "first_name": "Payer", "username": format!("payer{user_id}") } }
        });
        self.lock().star_transactions.push(transaction);
    }

    /// Every `refundStarPayment` from now on is refused with this description (a 400).
    pub fn refuse_refunds(&self, description: &str) {
        self.lock().refund_refusal = Some(description.to_owned());
    }

    /// Stars went back to a user for this charge, outside our bot (listed by `getStarTransactions`).
    pub fn add_star_refund(&self, charge_id: &str, user_id: i64) {
        let transaction = json!({
            "id": charge_id, "amount": 0, "date": now(),
            "receiver": { "type": "user", "transaction_type": "invoice_payment", "user": { "id": user_id, "is_bot": false, "first_name": "Payer" } }
        });
        self.lock().star_transactions.push(transaction);
    }

    /// The next call of `method` is answered 429 with this `retry_after`.
    pub fn too_many_requests(&self, method: &str, retry_after: u64) {
        self.lock().too_many.entry(method.to_lowercase()).or_default().push_back(retry_after);
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// Whether the answer to this pre-checkout query said yes (None: not answered yet).
    pub fn pre_checkout_answer(&self, query_id: &str) -> Option<bool> {
        self.calls_to("answerPreCheckoutQuery")
            .iter()
            .find(|c| c.params["pre_checkout_query_id"] == query_id)
            .and_then(|c| c.params["ok"].as_bool())
    }

    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        let method = method.to_lowercase();
        self.calls().into_iter().filter(|c| c.method == method).collect()
    }

    /// Waits (up to 10 s) until `count` calls of `method` have been made to the chat; returns them.
    pub async fn wait_for(&self, method: &str, chat: i64, count: usize) -> Vec<Call> {
        let method = method.to_lowercase();
        for _ in 0..200 {
            let calls: Vec<Call> = self
                .calls()
                .into_iter()
                .filter(|c| c.method == method && c.params["chat_id"].as_i64() == Some(chat))
                .collect();
            if calls.len() >= count {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected {count} {method} calls to chat {chat}; calls: {:#?}", self.calls());
    }

    /// The bot's message as the user sees it now.
    pub fn message(&self, id: i64) -> Value {
        self.lock().messages.get(&id).cloned().unwrap_or_else(|| panic!("no message {id}"))
    }

    /// The bot's messages in the chat as the user sees them now, oldest first.
    pub fn messages_in(&self, chat: i64) -> Vec<Value> {
        let inner = self.lock();
        let mut found: Vec<Value> =
            inner.messages.values().filter(|m| m["chat"]["id"].as_i64() == Some(chat)).cloned().collect();
        found.sort_by_key(|m| m["message_id"].as_i64());
        found
    }

    /// The newest message of the bot in the chat whose text or caption contains `needle`.
    pub fn last_message_with(&self, chat: i64, needle: &str) -> Option<Value> {
        let inner = self.lock();
        let mut found: Vec<&Value> = inner
            .messages
            .values()
            .filter(|m| m["chat"]["id"].as_i64() == Some(chat))
            .filter(|m| m["text"].as_str().or(m["caption"].as_str()).is_some_and(|t| t.contains(needle)))
            .collect();
        found.sort_by_key(|m| m["message_id"].as_i64());
        found.last().map(|m| (*m).clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn new_message(&self, chat: i64, mut content: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        content["message_id"] = json!(id);
        content["date"] = json!(now());
        content["chat"] = json!({ "id": chat, "type": "private", "first_name": "Test" });
        content["from"] = json!({ "id": 1, "is_bot": true, "first_name": "AISHA", "username": "aisha_test_bot" });
        self.lock().messages.insert(id, content.clone());
        content
    }

    fn photo(&self) -> Value {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        json!([
            { "file_id": format!("small-{n}"), "file_unique_id": format!("us{n}"), "width": 90, "height": 90 },
            { "file_id": format!("photo-{n}"), "file_unique_id": format!("u{n}"), "width": 64, "height": 64 }
        ])
    }

    /// A clip as Telegram describes an `animation` or a `video`.
    fn clip(&self, kind: &str) -> Value {
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        json!({ "file_id": format!("{kind}-{n}"), "file_unique_id": format!("uc{n}"), "width": 160, "height": 160, "duration": 5, "mime_type": "video/mp4" })
    }

    /// Applies an edit to a remembered message.
    fn edit(&self, params: &Value, change: impl FnOnce(&mut Value)) -> Result<Value, Value> {
        let id =
            params["message_id"].as_i64().ok_or_else(|| bad("Bad Request: message identifier is not specified"))?;
        let mut inner = self.lock();
        let message = inner.messages.get_mut(&id).ok_or_else(|| bad("Bad Request: message to edit not found"))?;
        let before = message.clone();
        change(message);
        if let Some(markup) = params.get("reply_markup").filter(|m| !m.is_null()) {
            message["reply_markup"] = markup.clone();
        }
        if *message == before {
            return Err(bad(
                "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
            ));
        }
        Ok(message.clone())
    }

    fn answer(&self, method: &str, params: &Value) -> Result<Value, Value> {
        validate(params)?;
        let chat = params["chat_id"].as_i64().unwrap_or_default();
        let keep = |mut content: Value| {
            if let Some(markup) = params.get("reply_markup").filter(|m| !m.is_null()) {
                content["reply_markup"] = markup.clone();
            }
            content
        };
        match method {
            "getme" => Ok(json!({
                "id": 1, "is_bot": true, "first_name": "AISHA", "username": "aisha_test_bot",
                "can_join_groups": false, "can_read_all_group_messages": false,
                "supports_inline_queries": false, "has_main_web_app": false
            })),
            // The Bot API has answered on telegram.me; the server must hand out t.me links.
            "createinvoicelink" => {
                let n = self.next_id.fetch_add(1, Ordering::SeqCst);
                Ok(json!(format!("https://telegram.me/$fakeInvoice{n}")))
            }
            "setwebhook"
            | "deletewebhook"
            | "answercallbackquery"
            | "answerprecheckoutquery"
            | "sendchataction"
            | "setchatmenubutton" => Ok(json!(true)),
            "refundstarpayment" => {
                let (user, charge) = (
                    params["user_id"].as_i64().unwrap_or_default(),
                    params["telegram_payment_charge_id"].as_str().unwrap_or_default().to_owned(),
                );
                let mut inner = self.lock();
                if let Some(refusal) = &inner.refund_refusal {
                    return Err(bad(refusal));
                }
                if inner.refunds.iter().any(|(_, c)| *c == charge) {
                    return Err(bad("Bad Request: CHARGE_ALREADY_REFUNDED"));
                }
                inner.refunds.push((user, charge.clone()));
                let refund = json!({
                    "id": charge, "amount": 0, "date": now(),
                    "receiver": { "type": "user", "transaction_type": "invoice_payment", "user": { "id": user, "is_bot": false, "first_name": "Payer" } }
                });
                inner.star_transactions.push(refund);
                Ok(json!(true))
            }
            "getstartransactions" => {
                let offset = params["offset"].as_u64().unwrap_or(0) as usize;
                let limit = params["limit"].as_u64().unwrap_or(100) as usize;
                let all = self.lock().star_transactions.clone();
                Ok(json!({ "transactions": all.into_iter().skip(offset).take(limit).collect::<Vec<_>>() }))
            }
            "deletemessage" => {
                self.lock().messages.remove(&params["message_id"].as_i64().unwrap_or_default());
                Ok(json!(true))
            }
            "getfile" => {
                let id = params["file_id"].as_str().unwrap_or_default();
                match self.lock().files.get(id) {
                    Some(bytes) => Ok(json!({
                        "file_id": id, "file_unique_id": format!("u-{id}"), "file_size": bytes.len(), "file_path": format!("photos/{id}.jpg")
                    })),
                    None => Err(bad("Bad Request: invalid file_id")),
                }
            }
            "sendmessage" => Ok(self.new_message(chat, keep(json!({ "text": params["text"] })))),
            "sendphoto" => {
                let mut content = json!({ "photo": self.photo() });
                if let Some(caption) = params["caption"].as_str() {
                    content["caption"] = json!(caption);
                }
                Ok(self.new_message(chat, keep(content)))
            }
            "sendanimation" | "sendvideo" => {
                let field = method.trim_start_matches("send");
                let mut content = json!({ field: self.clip(field) });
                content[field]["file_name"] = params[field]["name"].clone();
                if let Some(caption) = params["caption"].as_str() {
                    content["caption"] = json!(caption);
                }
                Ok(self.new_message(chat, keep(content)))
            }
            "senddocument" => {
                let n = self.next_id.fetch_add(1, Ordering::SeqCst);
                let document = &params["document"];
                let mut content = json!({ "document": {
                    "file_id": format!("doc-{n}"), "file_unique_id": format!("ud{n}"),
                    "file_name": document["name"], "file_size": document["file"]
                } });
                if let Some(caption) = params["caption"].as_str() {
                    content["caption"] = json!(caption);
                }
                Ok(self.new_message(chat, keep(content)))
            }
            "sendmediagroup" => {
                let media = params["media"].as_array().cloned().unwrap_or_default();
                let messages = media.iter().map(|item| {
                    let mut content = json!({ "photo": self.photo(), "media_group_id": "album" });
                    if let Some(caption) = item["caption"].as_str() {
                        content["caption"] = json!(caption);
                    }
                    self.new_message(chat, content)
                });
                Ok(Value::Array(messages.collect()))
            }
            "sendinvoice" => Ok(self.new_message(
                chat,
                json!({
                    "invoice": {
                        "title": params["title"], "description": params["description"], "start_parameter": "",
                        "currency": params["currency"], "total_amount": params["prices"][0]["amount"]
                    }
                }),
            )),
            "editmessagetext" => self.edit(params, |m| m["text"] = params["text"].clone()),
            "editmessagecaption" => self.edit(params, |m| m["caption"] = params["caption"].clone()),
            "editmessagereplymarkup" => self.edit(params, |_| {}),
            "editmessagemedia" => {
                // The media may change kind (a photo becomes a clip and back), as Telegram allows.
                let kind = params["media"]["type"].as_str().unwrap_or("photo").to_owned();
                let media = match kind.as_str() {
                    "photo" => self.photo(),
                    _ => self.clip(&kind),
                };
                self.edit(params, |m| {
                    if let Some(message) = m.as_object_mut() {
                        message.retain(|key, _| !["photo", "animation", "video"].contains(&key.as_str()));
                    }
                    m[kind.as_str()] = media;
                    m["caption"] = params["media"]["caption"].clone();
                })
            }
            _ => Err(json!({ "ok": false, "error_code": 404, "description": "Not Found" })),
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(1)
}

fn bad(description: &str) -> Value {
    json!({ "ok": false, "error_code": 400, "description": description })
}

/// Telegram's checks on what a bot sends.
fn validate(params: &Value) -> Result<(), Value> {
    for row in params["reply_markup"]["inline_keyboard"].as_array().into_iter().flatten() {
        for button in row.as_array().into_iter().flatten() {
            let data = button["callback_data"].as_str().unwrap_or("x");
            if data.is_empty() || data.len() > 64 {
                return Err(bad("Bad Request: BUTTON_DATA_INVALID"));
            }
        }
    }
    if let Some(text) = params.get("text").and_then(Value::as_str) {
        let length = text.chars().count();
        if length == 0 {
            return Err(bad("Bad Request: message text is empty"));
        }
        if length > 4096 {
            return Err(bad("Bad Request: message is too long"));
        }
    }
    let captions = params
        .get("caption")
        .into_iter()
        .chain(params["media"].as_array().into_iter().flatten().map(|m| &m["caption"]));
    if captions.filter_map(Value::as_str).any(|c| c.chars().count() > 1024) {
        return Err(bad("Bad Request: message caption is too long"));
    }
    if let Some(media) = params["media"].as_array()
        && !(2..=10).contains(&media.len())
    {
        return Err(bad("Bad Request: wrong number of media in the album"));
    }
    if params.get("prices").is_some() {
        let prices = params["prices"].as_array().map_or(0, Vec::len);
        let payload = params["payload"].as_str().unwrap_or_default().len();
        if params["currency"] != "XTR" || prices != 1 || !(1..=128).contains(&payload) {
            return Err(bad("Bad Request: STARS_INVOICE_INVALID"));
        }
    }
    Ok(())
}

async fn method(
    State(fake): State<FakeTelegram>,
    Path((bot, method)): Path<(String, String)>,
    request: Request,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if bot != format!("bot{}", fake.token) {
        return Json(json!({ "ok": false, "error_code": 401, "description": "Unauthorized" })).into_response();
    }
    let method = method.to_lowercase();
    let params = parse_body(request).await;
    fake.lock().calls.push(Call { method: method.clone(), params: params.clone() });
    let delay = fake.lock().delays.get(&method).copied();
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let retry_after = fake.lock().too_many.get_mut(&method).and_then(VecDeque::pop_front);
    if let Some(retry_after) = retry_after {
        return Json(json!({
            "ok": false, "error_code": 429,
            "description": format!("Too Many Requests: retry after {retry_after}"),
            "parameters": { "retry_after": retry_after }
        }))
        .into_response();
    }
    let failure = fake.lock().failures.get_mut(&method).and_then(VecDeque::pop_front);
    match failure {
        Some(Failure::ServerError) => {
            let body = json!({ "ok": false, "error_code": 500, "description": "Internal Server Error" });
            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response();
        }
        Some(Failure::Garbled) => return "<html>502 Bad Gateway</html>".into_response(),
        None => {}
    }
    Json(match fake.answer(&method, &params) {
        Ok(result) => json!({ "ok": true, "result": result }),
        Err(error) => error,
    })
    .into_response()
}

/// `GET /file/bot<token>/photos/<file id>.jpg`: what a user sent.
async fn download(
    State(fake): State<FakeTelegram>,
    Path((bot, path)): Path<(String, String)>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let id = path.trim_start_matches("photos/").trim_end_matches(".jpg");
    match fake.lock().files.get(id) {
        Some(bytes) if bot == format!("bot{}", fake.token) => bytes.clone().into_response(),
        _ => (axum::http::StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

/// JSON, or multipart (fields holding JSON are parsed; uploaded files become
/// `{"file": <size>, "name": <file name>}`).
async fn parse_body(request: Request) -> Value {
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let bytes = axum::body::to_bytes(request.into_body(), 50 << 20).await.unwrap_or_default();
        return serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    }
    let mut fields = serde_json::Map::new();
    let Ok(mut form) = Multipart::from_request(request, &()).await else { return Value::Null };
    let mut files = HashMap::new();
    while let Ok(Some(field)) = form.next_field().await {
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        let bytes = field.bytes().await.unwrap_or_default();
        if let Some(file_name) = file_name {
            let file = json!({ "file": bytes.len(), "name": file_name });
            files.insert(name.clone(), file.clone());
            fields.insert(name, file);
        } else {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let value =
                serde_json::from_str::<Value>(&text).ok().filter(|v| v.is_object() || v.is_array() || v.is_number());
            fields.insert(name, value.unwrap_or(Value::String(text)));
        }
    }
    let mut params = Value::Object(fields);
    // `attach://name` points at an uploaded part.
    resolve_attachments(&mut params, &files);
    params
}

fn resolve_attachments(value: &mut Value, files: &HashMap<String, Value>) {
    match value {
        Value::String(s) => {
            if let Some(name) = s.strip_prefix("attach://")
                && let Some(file) = files.get(name)
            {
                *value = file.clone();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| resolve_attachments(v, files)),
        Value::Object(map) => map.values_mut().for_each(|v| resolve_attachments(v, files)),
        _ => {}
    }
}

/// A Telegram user talking to our bot through its webhook.
pub struct FakeUser {
    pub id: i64,
    pub language: &'static str,
    webhook: String,
    secret: String,
    http: reqwest::Client,
    next_update: Arc<AtomicI64>,
}

impl FakeUser {
    pub fn new(app_url: &str, secret: &str, id: i64, language: &'static str) -> FakeUser {
        FakeUser {
            id,
            language,
            webhook: format!("{app_url}/telegram/webhook"),
            secret: secret.to_owned(),
            http: reqwest::Client::new(),
            next_update: Arc::new(AtomicI64::new(id * 1000)),
        }
    }

    /// The same user (and update ids that go on counting) talking to another server.
    pub fn at(&self, app_url: &str) -> FakeUser {
        FakeUser {
            id: self.id,
            language: self.language,
            webhook: format!("{app_url}/telegram/webhook"),
            secret: self.secret.clone(),
            http: self.http.clone(),
            next_update: self.next_update.clone(),
        }
    }

    fn from(&self) -> Value {
        json!({ "id": self.id, "is_bot": false, "first_name": "Test", "username": format!("user{}", self.id), "language_code": self.language })
    }

    /// Sends an update with the next `update_id`; returns that id.
    pub async fn post(&self, mut update: Value) -> i64 {
        let id = self.next_update.fetch_add(1, Ordering::SeqCst);
        update["update_id"] = json!(id);
        let status = self.post_raw(&update, &self.secret).await;
        assert_eq!(status, 200, "the webhook refused update {update}");
        id
    }

    /// Posts exactly this update with this secret; returns the HTTP status.
    pub async fn post_raw(&self, update: &Value, secret: &str) -> u16 {
        let response = self
            .http
            .post(&self.webhook)
            .header("X-Telegram-Bot-Api-Secret-Token", secret)
            .json(update)
            .send()
            .await
            .expect("webhook reachable");
        response.status().as_u16()
    }

    pub fn message(&self, extra: Value) -> Value {
        let mut message = json!({
            "message_id": self.next_update.load(Ordering::SeqCst),
            "date": now(),
            "chat": { "id": self.id, "type": "private", "first_name": "Test" },
            "from": self.from(),
        });
        if let (Some(message), Some(extra)) = (message.as_object_mut(), extra.as_object()) {
            message.extend(extra.clone());
        }
        json!({ "message": message })
    }

    pub async fn says(&self, text: &str) -> i64 {
        self.post(self.message(json!({ "text": text }))).await
    }

    /// Presses the button whose text contains `label` on the bot's message.
    pub async fn press(&self, fake: &FakeTelegram, message_id: i64, label: &str) {
        let message = fake.message(message_id);
        let button = message["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .find(|b| b["text"].as_str().is_some_and(|t| t.contains(label)))
            .unwrap_or_else(|| panic!("no button {label:?} on {message:#}"));
        let query = json!({
            "id": format!("cq{}", self.next_update.load(Ordering::SeqCst)),
            "from": self.from(),
            "chat_instance": "ci",
            "data": button["callback_data"],
            "message": message,
        });
        self.post(json!({ "callback_query": query })).await;
    }

    /// Sends a photo (part of an album when `album` is given), as Telegram delivers it.
    pub async fn sends_photo(&self, fake: &FakeTelegram, bytes: Vec<u8>, album: Option<&str>) {
        let size = bytes.len();
        let id = fake.add_file(bytes);
        let mut extra = json!({ "photo": [{ "file_id": id, "file_unique_id": format!("u-{id}"), "width": 600, "height": 600, "file_size": size }] });
        if let Some(album) = album {
            extra["media_group_id"] = json!(album);
        }
        self.post(self.message(extra)).await;
    }

    /// Telegram's check before it takes the Stars; returns the query's id.
    pub async fn pre_checkout(&self, payload: &str, stars: i64) -> String {
        let id = format!("pcq-{}-{}", self.id, self.next_update.load(Ordering::SeqCst));
        let query = json!({ "id": id, "from": self.from(), "currency": "XTR", "total_amount": stars, "invoice_payload": payload });
        self.post(json!({ "pre_checkout_query": query })).await;
        id
    }

    /// Posts the update with this exact `update_id` again (Telegram redelivering it).
    pub async fn redeliver(&self, update_id: i64, mut update: Value) -> u16 {
        update["update_id"] = json!(update_id);
        self.post_raw(&update, &self.secret).await
    }

    /// Telegram's `successful_payment` service message.
    pub fn payment(&self, charge_id: &str, payload: &str, stars: i64) -> Value {
        self.message(json!({
            "successful_payment": {
                "currency": "XTR", "total_amount": stars, "invoice_payload": payload,
                "telegram_payment_charge_id": charge_id, "provider_payment_charge_id": ""
            }
        }))
    }
}
