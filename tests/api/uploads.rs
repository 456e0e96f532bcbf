//! Upload bounds, black-box over HTTP: who asks and how big the request says it is are decided
//! before its body is read, files are counted exactly and capped while they stream, and the
//! avatar an upload is for is checked before any file arrives. The "before" is proved the only
//! way a client can see it: the server answers while the rest of the body is still unsent.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::avatars::create_avatar;
use crate::db_test;
use crate::support::{Db, TestApp, spawn_app_with};

const BOUNDARY: &str = "aisha-test-boundary";
const ADD: &str =
    "mutation($id: ID!, $photos: [Upload!]!) { addAvatarPhotos(avatarId: $id, photos: $photos) { photoCount } }";

/// `operations` and `map` for `files` photos sent to `avatar_id`, as multipart parts.
fn head_parts(avatar_id: &str, files: usize) -> String {
    let nulls: Vec<Value> = (0..files).map(|_| Value::Null).collect();
    let operations = json!({ "query": ADD, "variables": { "id": avatar_id, "photos": nulls } });
    let map: serde_json::Map<String, Value> =
        (0..files).map(|i| (i.to_string(), json!([format!("variables.photos.{i}")]))).collect();
    format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n{operations}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n",
        Value::Object(map)
    )
}

/// Everything before the first file's bytes: what the server decides on.
fn up_to_the_files(avatar_id: &str, files: usize) -> String {
    let mut sent = head_parts(avatar_id, files);
    sent.push_str(&format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"0.png\"\r\n\r\n"));
    sent
}

fn file_part(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut part = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{name}.png\"\r\nContent-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    part.extend_from_slice(bytes);
    part.extend_from_slice(b"\r\n");
    part
}

fn closing() -> Vec<u8> {
    format!("--{BOUNDARY}--\r\n").into_bytes()
}

/// Posts a whole multipart body and reads the answer while it is still being sent (a server
/// that refuses early closes the connection on the rest, which an ordinary client reports as
/// an error instead of the answer).
async fn post(app: &TestApp, token: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    exchange(app, token, body.len() as u64, body, true).await
}

/// Sends a request head announcing `length` bytes and only `sent` of them, then waits for the
/// answer with the rest unsent: an answer means the server decided without the rest.
async fn answer_without_the_rest(app: &TestApp, token: Option<&str>, length: u64, sent: &[u8]) -> (u16, Value) {
    exchange(app, token, length, sent.to_vec(), false).await
}

async fn exchange(app: &TestApp, token: Option<&str>, length: u64, sent: Vec<u8>, whole: bool) -> (u16, Value) {
    let (mut reader, mut writer) = TcpStream::connect(app.addr).await.expect("connect").into_split();
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: {length}\r\n{auth}\r\n",
        app.addr
    );
    // The writer may be cut off by the refusal: its errors are expected.
    let writing = tokio::spawn(async move {
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&sent).await;
        writer
    });
    let mut answer = Vec::new();
    let mut buffer = [0u8; 8192];
    let read = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let n = reader.read(&mut buffer).await.unwrap_or(0);
            answer.extend_from_slice(&buffer[..n]);
            if n == 0 || complete(&answer) {
                break;
            }
        }
    })
    .await;
    let what = if whole { "no answer" } else { "no answer while the body was incomplete" };
    assert!(read.is_ok(), "{what}: {}", String::from_utf8_lossy(&answer));
    drop(writing.await);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let body = text.split_once("\r\n\r\n").map(|(_, body)| body).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Whether a response with a `content-length` has fully arrived.
fn complete(answer: &[u8]) -> bool {
    let text = String::from_utf8_lossy(answer);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return false };
    let length = head.lines().find_map(|l| {
        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))
    });
    length.is_some_and(|length| body.len() >= length)
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or_default()
}

db_test!(an_anonymous_upload_is_refused_before_its_body_is_read, |db: Db| async move {
    let app = spawn_app_with(db, |_| {}).await;
    // 3,000 one-byte parts without a token: 401, whatever the parts.
    let mut body = head_parts("QXZhdGFyOjE", 1).into_bytes();
    for n in 0..3000 {
        body.extend(file_part(&n.to_string(), b"x"));
    }
    body.extend(closing());
    let (status, answer) = post(&app, None, body.clone()).await;
    assert_eq!((status, code(&answer)), (401, "UNAUTHENTICATED"), "{answer}");
    let (status, answer) = post(&app, Some("not-a-token"), body).await;
    assert_eq!((status, code(&answer)), (401, "UNAUTHENTICATED"), "{answer}");

    // A body announced at 2 GB: refused from its head, for the anonymous (401) and the signed-in (413).
    let two_gb = 2 * 1024 * 1024 * 1024;
    let (status, answer) = answer_without_the_rest(&app, None, two_gb, b"").await;
    assert_eq!((status, code(&answer)), (401, "UNAUTHENTICATED"), "{answer}");
    let (token, _) = app.sign_in(9100, "big").await;
    let (status, answer) = answer_without_the_rest(&app, Some(&token), two_gb, b"").await;
    assert_eq!((status, code(&answer)), (413, "PAYLOAD_TOO_LARGE"), "{answer}");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM avatar_photos").await, 0);
});

db_test!(files_are_counted_exactly_and_capped_while_they_stream, |db: Db| async move {
    let app = spawn_app_with(db, |c| c.limits.max_upload_bytes = 64 * 1024).await;
    let (token, _) = app.sign_in(9110, "counted").await;
    let avatar = create_avatar(&app, &token, "Me").await;

    // A map naming 21 files is refused before the first of them.
    let (status, answer) =
        answer_without_the_rest(&app, Some(&token), 1_000_000, up_to_the_files(&avatar, 21).as_bytes()).await;
    assert_eq!((status, code(&answer)), (413, "PAYLOAD_TOO_LARGE"), "{answer}");
    assert!(answer["errors"][0]["message"].as_str().unwrap_or_default().contains("at most 20 files"), "{answer}");

    // One file in the map, 3,000 parts in the body: the second part is one too many.
    let mut body = head_parts(&avatar, 1).into_bytes();
    for n in 0..3000 {
        body.extend(file_part(&n.to_string(), b"x"));
    }
    body.extend(closing());
    let (status, answer) = post(&app, Some(&token), body).await;
    assert_eq!((status, code(&answer)), (400, "BAD_REQUEST"), "{answer}");

    // A file over the cap is cut off as it streams: 413, and nothing stored.
    let mut big = b"\x89PNG\r\n\x1a\n".to_vec();
    big.resize(200 * 1024, 7);
    let mut body = head_parts(&avatar, 1).into_bytes();
    body.extend(file_part("0", &big));
    body.extend(closing());
    let (status, answer) = post(&app, Some(&token), body).await;
    assert_eq!((status, code(&answer)), (413, "PAYLOAD_TOO_LARGE"), "{answer}");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM avatar_photos").await, 0);

    // Under the cap, the same request goes through to the API, which judges the bytes.
    let mut body = head_parts(&avatar, 1).into_bytes();
    body.extend(file_part("0", &big[..32 * 1024]));
    body.extend(closing());
    let (status, answer) = post(&app, Some(&token), body).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["addAvatarPhotos"]["photoCount"], 0, "{answer}");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM avatar_photos WHERE status = 'REJECTED'").await, 1);
});

db_test!(an_upload_to_an_avatar_that_cannot_take_it_is_refused_before_its_files, |db: Db| async move {
    let app = spawn_app_with(db, |_| {}).await;
    let (owner, _) = app.sign_in(9120, "owner").await;
    let (intruder, _) = app.sign_in(9121, "intruder").await;
    let avatar = create_avatar(&app, &owner, "Me").await;
    // Only `operations` and `map` are sent: the verdict comes without a byte of the photos.
    let head = up_to_the_files(&avatar, 3);
    let (status, answer) = answer_without_the_rest(&app, Some(&intruder), 30_000_000, head.as_bytes()).await;
    assert_eq!((status, code(&answer)), (200, "NOT_FOUND"), "{answer}");
    assert_eq!(answer["errors"][0]["path"], json!(["addAvatarPhotos"]), "{answer}");
    let (status, answer) =
        answer_without_the_rest(&app, Some(&owner), 30_000_000, up_to_the_files("QXZhdGFyOjk5OTk", 3).as_bytes()).await;
    assert_eq!((status, code(&answer)), (200, "NOT_FOUND"), "{answer}");
    // The owner's own avatar waits for the photos (no answer until they come).
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    let request = format!(
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\n\
         Content-Length: 30000000\r\nAuthorization: Bearer {owner}\r\n\r\n{head}",
        app.addr
    );
    stream.write_all(request.as_bytes()).await.expect("head");
    let mut byte = [0u8; 1];
    let waited = tokio::time::timeout(Duration::from_millis(500), stream.read(&mut byte)).await;
    assert!(waited.is_err(), "the owner's upload was answered before its photos came");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM avatar_photos").await, 0);
});
