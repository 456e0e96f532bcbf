//! A user's own data: `exportMyData` holds every row and file of theirs (and nobody else's),
//! and `deleteMyAccount` cancels and refunds their running work, leaves no object of theirs in
//! storage (the local folder, and a real S3 server) and no row that says who they were, while
//! the ledger and payments stay.

use std::collections::BTreeMap;
use std::time::Duration;

use aisha::domain::storage::Bucket;
use serde_json::{Value, json};

use crate::avatars::avatar_with_photos;
use crate::db_test;
use crate::storage::s3_config;
use crate::support::bot::{bot_app, id_of, screen, user};
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::seed::pay_stars;
use crate::support::{Db, TestApp, eventually, spawn_app_with, use_fal};

const EXPORT: &str = "mutation { exportMyData { url expiresAt byteSize images photos } }";
const DELETE: &str = "mutation($c: String!) { deleteMyAccount(confirm: $c) { cancelledJobs removedFiles } }";
const GALLERY: &str = "{ gallery(first: 50) { edges { node { url } } } }";

/// The entries of a zip whose entries are stored (as ours are), read from the local headers.
fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut entries = BTreeMap::new();
    let mut at = 0;
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().expect("4 bytes")) as usize;
    let u16_at = |i: usize| u16::from_le_bytes(bytes[i..i + 2].try_into().expect("2 bytes")) as usize;
    while bytes.len() >= at + 30 && u32_at(at) == 0x0403_4b50 {
        let (size, name_len, extra_len) = (u32_at(at + 18), u16_at(at + 26), u16_at(at + 28));
        let name = String::from_utf8(bytes[at + 30..at + 30 + name_len].to_vec()).expect("a UTF-8 name");
        let data = at + 30 + name_len + extra_len;
        entries.insert(name, bytes[data..data + size].to_vec());
        at = data + size;
    }
    entries
}

fn json_of(entries: &BTreeMap<String, Vec<u8>>, name: &str) -> Value {
    serde_json::from_slice(entries.get(name).unwrap_or_else(|| panic!("{name} in the archive"))).expect("JSON")
}

/// The bytes behind each of the user's gallery links, sorted.
async fn gallery_files(app: &TestApp, token: &str) -> Vec<Vec<u8>> {
    let gallery = app.gql(Some(token), GALLERY, json!({})).await;
    let mut files = Vec::new();
    for edge in gallery.data("gallery")["edges"].as_array().expect("edges") {
        let url = edge["node"]["url"].as_str().expect("url");
        files.push(app.http.get(url).send().await.expect("download").bytes().await.expect("bytes").to_vec());
    }
    files.sort();
    files
}

/// A user with two finished generations (three images), an avatar of `photos` photos, a
/// favourite style and a Stars payment; the fake FAL serves the pictures. Their token and database id.
async fn user_with_everything(app: &TestApp, telegram_id: i64, photos: usize) -> (String, i64) {
    let (token, _avatar) = avatar_with_photos(app, telegram_id, photos).await;
    let user_id = app.scalar_i64(&format!("SELECT id FROM users WHERE telegram_id = {telegram_id}")).await;
    for n in [1, 2] {
        let input = json!({ "model": "fal-ai/imagen4/preview", "prompt": format!("mine {n}"), "numImages": n });
        let id = app.create_generation(&token, input).await;
        assert_eq!(app.wait_for_status(&token, &id, &["COMPLETED", "FAILED"]).await["status"], "COMPLETED");
    }
    pay_stars(app, user_id, &format!("charge-{telegram_id}")).await;
    let sticker = app.scalar_i64("SELECT id FROM style_templates WHERE slug = 'sticker'").await;
    let favorite = "mutation($id: ID!) { setStyleTemplateFavorite(templateId: $id, favorite: true) { favorite } }";
    let variables = json!({ "id": crate::styles::base64_id("StyleTemplate", sticker) });
    app.gql(Some(&token), favorite, variables).await.data("setStyleTemplateFavorite");
    (token, user_id)
}

db_test!(an_export_holds_every_row_and_file_of_the_user_and_nothing_of_anyone_else, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, user_id) = user_with_everything(&app, 7100, 3).await;
    let (other, _) = user_with_everything(&app, 7101, 2).await;
    assert_eq!(app.gql(None, EXPORT, json!({})).await.error_code(), "UNAUTHENTICATED");

    let export = app.gql(Some(&token), EXPORT, json!({})).await.data("exportMyData").clone();
    assert_eq!((export["images"].clone(), export["photos"].clone()), (json!(3), json!(3)), "{export}");
    let zip = app.http.get(export["url"].as_str().expect("url")).send().await.expect("download");
    assert_eq!(zip.status(), 200);
    let zip = zip.bytes().await.expect("bytes");
    assert_eq!(export["byteSize"], zip.len());
    let entries = unzip(&zip);

    // Every image of the gallery, byte for byte, and every accepted photo.
    let mut images: Vec<Vec<u8>> =
        entries.iter().filter(|(n, _)| n.starts_with("images/")).map(|(_, b)| b.clone()).collect();
    images.sort();
    assert_eq!(images, gallery_files(&app, &token).await);
    assert_eq!(entries.keys().filter(|n| n.starts_with("photos/")).count(), 3);
    assert!(images.iter().all(|i| i.starts_with(b"\x89PNG")), "pictures, not empty files");

    // The rows: the account, the whole ledger, the payment, the generations and the avatar.
    let account = json_of(&entries, "account.json");
    assert_eq!((account["telegram_id"].clone(), account["username"].clone()), (json!(7100), json!("trainer")));
    let ledger = json_of(&entries, "ledger.json");
    let rows = app.scalar_i64(&format!("SELECT COUNT(*) FROM ledger_entries WHERE user_id = {user_id}")).await;
    assert_eq!(ledger.as_array().expect("rows").len() as i64, rows);
    assert_eq!(json_of(&entries, "payments.json")[0]["telegram_payment_charge_id"], "charge-7100");
    let prompts: Vec<Value> =
        json_of(&entries, "generations.json").as_array().expect("rows").iter().map(|g| g["prompt"].clone()).collect();
    assert_eq!(prompts, [json!("mine 1"), json!("mine 2")]);
    assert_eq!(json_of(&entries, "avatars.json")[0]["name"], "Me");
    assert_eq!(json_of(&entries, "favorite_styles.json")[0]["slug"], "sticker");
    for name in ["settings.json", "images.json", "avatar_photos.json", "saved_filters.json", "promo_redemptions.json"] {
        assert!(entries.contains_key(name), "{name}");
    }
    // Nothing of the other user's, whose export is theirs alone.
    let others = app.gql(Some(&other), EXPORT, json!({})).await.data("exportMyData").clone();
    assert_eq!((others["images"].clone(), others["photos"].clone()), (json!(3), json!(2)));
    assert_ne!(others["url"], export["url"]);
});

/// Everything `deleteMyAccount` promises, on the storage the app was given.
async fn an_account_is_erased(app: &TestApp, fal: &FakeFal, telegram_id: i64) {
    let (token, id) = user_with_everything(app, telegram_id, 10).await;
    let me = app.gql(Some(&token), "{ me { id } }", json!({})).await.data("me")["id"].clone();
    let (neighbour, _) = user_with_everything(app, telegram_id + 1, 2).await;
    let neighbours_files = gallery_files(app, &neighbour).await;
    app.gql(Some(&token), EXPORT, json!({})).await.data("exportMyData");
    // Work that is still running: a generation and a training.
    fal.set_mode(Mode::NeverFinish);
    let running = app.create_generation(&token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "late" })).await;
    let avatar = app.gql(Some(&token), "{ avatars { id } }", json!({})).await.data("avatars")[0]["id"].clone();
    let train = "mutation($id: ID!) { startAvatarTraining(avatarId: $id) { status } }";
    assert_eq!(
        app.gql(Some(&token), train, json!({ "id": avatar })).await.data("startAvatarTraining")["status"],
        "TRAINING"
    );
    let running_before = app.wait_for_status(&token, &running, &["QUEUED", "RUNNING"]).await;
    assert_ne!(running_before["status"], "COMPLETED");
    let balance = app.balance(&token).await;
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table} WHERE user_id = {id}");
    let images = app.scalar_i64(&count("images")).await;
    assert_eq!(images, 3);

    // A wrong confirmation changes nothing.
    let refused = app.gql(Some(&token), DELETE, json!({ "c": "delete" })).await;
    assert_eq!(refused.error_code(), "BAD_USER_INPUT", "{}", refused.body);
    assert_eq!(app.scalar_i64(&count("images")).await, images);
    assert_eq!(app.balance(&token).await, balance);

    let erased = app.gql(Some(&token), DELETE, json!({ "c": "DELETE" })).await.data("deleteMyAccount").clone();
    assert_eq!(erased["cancelledJobs"], 2, "{erased}");
    // 3 images, 10 photos and the export, at least.
    assert!(erased["removedFiles"].as_i64().expect("count") >= 14, "{erased}");

    // No object of theirs is left in either bucket, once a step that was running settles (a
    // training archive written meanwhile is removed by the step that wrote it).
    let folder = format!("u/{id}/");
    for bucket in [Bucket::Images, Bucket::Photos] {
        let list = || async { app.app.storage.list(bucket, &folder).await.expect("list") };
        let emptied = eventually(|| async { list().await.is_empty() }).await;
        assert!(emptied, "{bucket:?} still holds {:?}", list().await);
    }
    // No row that says who they were, or what they made.
    for table in [
        "images",
        "generations",
        "avatars",
        "avatar_photos",
        "saved_filters",
        "user_settings",
        "notifications",
        "style_favorites",
    ] {
        assert_eq!(app.scalar_i64(&count(table)).await, 0, "{table}");
    }
    let personal = format!(
        "SELECT COUNT(*) FROM users WHERE id = {id} AND telegram_id IS NULL AND username IS NULL AND first_name IS NULL \
         AND last_name IS NULL AND referral_code IS NULL AND erased_at IS NOT NULL"
    );
    assert_eq!(app.scalar_i64(&personal).await, 1, "the user row is anonymised");
    // What money law needs stays: the ledger, with both jobs refunded before the end, and the payment.
    let refunds = format!("SELECT COUNT(*) FROM ledger_entries WHERE user_id = {id} AND kind = 'REFUND'");
    assert_eq!(app.scalar_i64(&refunds).await, 2);
    let worded = format!("SELECT COUNT(*) FROM ledger_entries WHERE user_id = {id} AND reason <> kind");
    assert_eq!(app.scalar_i64(&worded).await, 0, "no reason in words is left");
    assert_eq!(app.scalar_i64(&count("payments")).await, 1);
    // Every token is revoked; the same Telegram account signing in again is a new user.
    assert_eq!(app.gql(Some(&token), "{ me { id } }", json!({})).await.error_code(), "UNAUTHENTICATED");
    let (_, again) = app.sign_in(telegram_id, "trainer").await;
    assert_ne!(json!(again), me, "a new user");
    // The neighbour keeps everything.
    assert_eq!(gallery_files(app, &neighbour).await, neighbours_files);
}

db_test!(
    deleting_an_account_cancels_its_work_with_refunds_and_leaves_no_object_and_no_personal_row,
    |db: Db| async move {
        let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
        let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
        an_account_is_erased(&app, &fal, 7200).await;
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_account_leaves_no_object_in_a_real_s3_server() {
    let Some(config) = s3_config() else {
        eprintln!("AISHA_TEST_S3_ENDPOINT is not set: not run");
        return;
    };
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(Db::Sqlite, |c| {
        use_fal(c, &fal);
        c.s3 = Some(config);
    })
    .await;
    an_account_is_erased(&app, &fal, 7300).await;
}

db_test!(the_bot_sends_the_archive_and_erases_the_account_after_asking, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let eve = user(&app, 7400, "en");
    eve.says("/start").await;
    screen(&fake, eve.id, "Balance: 10").await;
    let (token, _) = app.sign_in(7400, "eve").await;
    let id = app.create_generation(&token, json!({ "model": "local/sketch", "prompt": "mine" })).await;
    assert_eq!(app.wait_for_status(&token, &id, &["COMPLETED", "FAILED"]).await["status"], "COMPLETED");

    // "My data": the archive arrives as a document, with its link.
    eve.says("/mydata").await;
    let sent = screen(&fake, eve.id, "Your data: 1 images, 0 photos").await;
    assert_eq!(sent["document"]["file_name"], "aisha-data.zip", "{sent}");
    assert!(sent["document"]["file_size"].as_u64().is_some_and(|n| n > 1000), "{sent}");

    // Settings → Delete my account asks first; "No" keeps everything.
    eve.says("/settings").await;
    let settings = screen(&fake, eve.id, "Default format").await;
    eve.press(&fake, id_of(&settings), "Delete my account").await;
    let ask = screen(&fake, eve.id, "Delete your account?").await;
    eve.press(&fake, id_of(&ask), "No, keep it").await;
    screen(&fake, eve.id, "Default format").await;
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM images").await, 1);
    eve.press(&fake, id_of(&settings), "Delete my account").await;
    let ask = screen(&fake, eve.id, "Delete your account?").await;
    eve.press(&fake, id_of(&ask), "Yes, delete everything").await;
    let deleted = screen(&fake, eve.id, "Your account is deleted").await;
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM images").await, 0);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM users WHERE telegram_id = 7400").await, 0);
    assert_eq!(app.gql(Some(&token), "{ me { id } }", json!({})).await.error_code(), "UNAUTHENTICATED");

    // Coming back is a new account, with the welcome bonus of a new one.
    eve.says("/start").await;
    let menu = crate::support::eventually_found(|| async {
        fake.last_message_with(eve.id, "Balance: 10").filter(|m| id_of(m) > id_of(&deleted))
    });
    assert!(menu.await.is_some(), "no new main menu");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM users WHERE telegram_id = 7400").await, 1);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM users WHERE erased_at IS NOT NULL").await, 1);
});
