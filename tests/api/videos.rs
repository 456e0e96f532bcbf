//! Videos: `animateImage` makes a clip of one of the user's pictures, charged per clip. The clip
//! is stored like an image (type `VIDEO`, its content type, length and poster frame), found by
//! the gallery's `VIDEO` filter, and delivered by the bot as an animation or a video. The local
//! provider animates the picture into a GIF; the fake FAL speaks Kling's image-to-video.

use std::time::Duration;

use aisha::domain::storage::Bucket;
use serde_json::{Value, json};

use crate::db_test;
use crate::support::bot::{ask_for_pictures, bot_app, id_of, screen, user};
use crate::support::fake_fal::{FAKE_MP4_MILLIS, FakeFal, Mode};
use crate::support::{Db, TestApp, spawn_app, spawn_app_with, use_fal};

const KLING: &str = "fal-ai/kling-video/v2.1/standard/image-to-video";
const ANIMATE: &str =
    "mutation($id: ID!, $p: String) { animateImage(imageId: $id, prompt: $p) { id status cost model sourceImageId } }";
const MADE: &str = "query($id: ID!) { generation(id: $id) { status error cost sourceImageId \
                    images { id type url posterUrl contentType durationMs width height sha256 } } }";
const PICTURE: &str = "query($id: ID!) { image(id: $id) { url sha256 } }";

/// A finished generation's first image.
async fn made(app: &TestApp, token: &str, id: &str) -> Value {
    let done = app.wait_for_status(token, id, &["COMPLETED", "FAILED", "CANCELLED"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let generation = app.gql(Some(token), MADE, json!({ "id": id })).await.data("generation").clone();
    generation["images"][0].clone()
}

async fn bytes(app: &TestApp, url: &str) -> Vec<u8> {
    let response = app.http.get(url).send().await.expect("fetched");
    assert!(response.status().is_success(), "{url}: {}", response.status());
    response.bytes().await.expect("bytes").to_vec()
}

db_test!(a_picture_is_animated_into_a_clip_stored_with_its_length_and_poster, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(7700, "vid").await;
    app.give_credits(&user_id, 100).await;
    let models =
        app.gql(Some(&token), "{ models { id pricePerImage imageType clipSeconds maxImages } }", json!({})).await;
    let kling = models.data("models").as_array().expect("a list").iter().find(|m| m["id"] == KLING).cloned();
    let kling = kling.expect("the video model is on offer");
    assert_eq!((kling["imageType"].clone(), kling["clipSeconds"].clone()), (json!("VIDEO"), json!(5)));
    assert_eq!((kling["pricePerImage"].clone(), kling["maxImages"].clone()), (json!(35), json!(1)));

    let picture_id = app.create_generation(&token, json!({ "model": "local/sketch", "prompt": "a red fox" })).await;
    let picture = made(&app, &token, &picture_id).await;
    let balance = app.balance(&token).await;

    // The video model is not for createGeneration: it needs a picture.
    let direct = app
        .gql(
            Some(&token),
            "mutation($m: String!) { createGeneration(input: { model: $m, prompt: \"x\" }) { id } }",
            json!({ "m": KLING }),
        )
        .await;
    assert_eq!(direct.error_code(), "BAD_USER_INPUT", "{}", direct.body);
    assert!(direct.body.to_string().contains("animateImage"), "{}", direct.body);
    assert_eq!(app.balance(&token).await, balance);

    let started = app.gql(Some(&token), ANIMATE, json!({ "id": picture["id"], "p": "the fox turns its head" })).await;
    let started = started.data("animateImage").clone();
    assert_eq!((started["cost"].clone(), started["model"].clone()), (json!(35), json!(KLING)));
    assert_eq!(started["sourceImageId"], picture["id"]);
    assert_eq!(app.balance(&token).await, balance - 35, "reserved at once");
    let clip = made(&app, &token, started["id"].as_str().expect("id")).await;
    assert_eq!(clip["type"], "VIDEO", "{clip}");
    assert_eq!(clip["contentType"], "image/gif");
    assert_eq!(clip["durationMs"], 5000, "5 s at 4 frames a second");
    // The picture's frame (the local clip only ever shrinks it, to 160 px at most).
    let size = |image: &Value| (image["width"].as_i64().expect("width"), image["height"].as_i64().expect("height"));
    assert_eq!(size(&clip), size(&picture));
    let gif = bytes(&app, clip["url"].as_str().expect("url")).await;
    assert_eq!(&gif[..6], b"GIF89a");
    // The poster is the picture it was animated from, stored beside the clip.
    let poster = bytes(&app, clip["posterUrl"].as_str().expect("a poster")).await;
    assert_eq!(poster, bytes(&app, picture["url"].as_str().expect("url")).await);
    assert_eq!(picture["posterUrl"], Value::Null);
    assert_eq!(picture["durationMs"], Value::Null);

    // The gallery tells clips from pictures.
    let of_type = "query($t: [ImageType!]) { gallery(filter: { types: $t }) { totalCount edges { node { id } } } }";
    let videos = app.gql(Some(&token), of_type, json!({ "t": ["VIDEO"] })).await;
    assert_eq!(videos.data("gallery")["totalCount"], 1);
    assert_eq!(videos.data("gallery")["edges"][0]["node"]["id"], clip["id"]);
    let all = app.gql(Some(&token), "{ gallery { totalCount } }", json!({})).await;
    assert_eq!(all.data("gallery")["totalCount"], 2);

    // A clip is not animated again; another's picture is not found; nothing is charged.
    let again = app.gql(Some(&token), ANIMATE, json!({ "id": clip["id"] })).await;
    assert_eq!(again.error_code(), "BAD_USER_INPUT", "{}", again.body);
    let (stranger, _) = app.sign_in(7701, "other").await;
    let theirs = app.gql(Some(&stranger), ANIMATE, json!({ "id": picture["id"] })).await;
    assert_eq!(theirs.error_code(), "NOT_FOUND", "{}", theirs.body);
    assert_eq!(app.balance(&token).await, balance - 35);

    // Deleting the clip removes its file and its poster; the picture stays.
    let keys = app.scalar_string("SELECT storage_key || ' ' || poster_key FROM images WHERE kind = 'VIDEO'").await;
    let (clip_key, poster_key) = keys.split_once(' ').expect("two keys");
    app.gql(Some(&token), "mutation($id: ID!) { deleteImage(id: $id) }", json!({ "id": clip["id"] }))
        .await
        .data("deleteImage");
    for key in [clip_key, poster_key] {
        assert!(app.app.storage.get(Bucket::Images, key).await.expect("get").is_none(), "{key} is left");
    }
    let still = app.gql(Some(&token), PICTURE, json!({ "id": picture["id"] })).await;
    assert_eq!(still.data("image")["sha256"], picture["sha256"]);
});

db_test!(kling_gets_the_picture_and_its_mp4_is_stored_with_length_and_size, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, user_id) = app.sign_in(7710, "kling").await;
    app.give_credits(&user_id, 100).await;
    let input = json!({ "model": "fal-ai/imagen4/preview/fast", "prompt": "a lighthouse", "aspectRatio": "16:9" });
    let picture_id = app.create_generation(&token, input).await;
    let picture = made(&app, &token, &picture_id).await;

    let started = app.gql(Some(&token), ANIMATE, json!({ "id": picture["id"] })).await.data("animateImage").clone();
    let clip = made(&app, &token, started["id"].as_str().expect("id")).await;
    let sent = fal.with_submissions(|s| s.iter().find(|s| s.model == KLING).map(|s| s.input.clone()));
    let sent = sent.expect("Kling was asked");
    assert_eq!(sent["prompt"], "a lighthouse", "the picture's own prompt when none is given");
    assert_eq!(sent["duration"], "5");
    assert!(sent.get("num_images").is_none() && sent.get("seed").is_none(), "{sent}");
    // FAL fetched the picture by its signed link: the very bytes of the picture.
    let fetched = fal.pictures();
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0].0, 200);
    assert_eq!(fetched[0].1, bytes(&app, picture["url"].as_str().expect("url")).await);

    assert_eq!(clip["type"], "VIDEO");
    assert_eq!(clip["contentType"], "video/mp4");
    assert_eq!(clip["durationMs"], FAKE_MP4_MILLIS, "read from the MP4's movie header");
    assert_eq!((clip["width"].clone(), clip["height"].clone()), (json!(1280), json!(720)));
    let mp4 = bytes(&app, clip["url"].as_str().expect("url")).await;
    assert_eq!(&mp4[4..8], b"ftyp");
    assert!(clip["posterUrl"].is_string(), "{clip}");
    assert_eq!(app.balance(&token).await, 10 + 100 - 3 - 35);
});

db_test!(a_clip_whose_picture_was_deleted_fails_and_is_refunded, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| {
        use_fal(c, &fal);
        c.job_per_user = 1;
    })
    .await;
    let (token, user_id) = app.sign_in(7720, "gone").await;
    app.give_credits(&user_id, 100).await;
    let fast = json!({ "model": "fal-ai/imagen4/preview/fast", "prompt": "a dune" });
    let picture = made(&app, &token, &app.create_generation(&token, fast.clone()).await).await;
    let balance = app.balance(&token).await;
    // One job of the user's in flight at FAL holds the clip back (QUEUED) while the picture goes.
    fal.set_mode(Mode::NeverFinish);
    let blocker = app.create_generation(&token, fast).await;
    app.wait_for_status(&token, &blocker, &["RUNNING"]).await;
    let started = app.gql(Some(&token), ANIMATE, json!({ "id": picture["id"] })).await.data("animateImage").clone();
    assert_eq!(started["status"], "QUEUED");
    app.gql(Some(&token), "mutation($id: ID!) { deleteImage(id: $id) }", json!({ "id": picture["id"] }))
        .await
        .data("deleteImage");
    let cancel = "mutation($id: ID!) { cancelGeneration(id: $id) { status } }";
    app.gql(Some(&token), cancel, json!({ "id": blocker })).await.data("cancelGeneration");

    let id = started["id"].as_str().expect("id");
    let done = app.wait_for_status(&token, id, &["COMPLETED", "FAILED", "CANCELLED"]).await;
    assert_eq!(done["status"], "FAILED", "{done}");
    let error = app.gql(Some(&token), "query($id: ID!) { generation(id: $id) { error } }", json!({ "id": id })).await;
    assert_eq!(error.data("generation")["error"], "the picture to animate was deleted");
    assert_eq!(app.balance(&token).await, balance, "both refunded");
    assert_eq!(fal.with_submissions(|s| s.iter().filter(|s| s.model == KLING).count()), 0);
});

db_test!(the_bot_animates_a_picture_and_shows_the_clip_in_the_gallery, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let eve = user(&app, 7730, "en");
    eve.says("/start").await;
    let menu = screen(&fake, eve.id, "Balance: 10").await;
    let (token, user_id) = app.sign_in(7730, "eve").await;
    app.give_credits(&user_id, 100).await;

    let confirm = ask_for_pictures(&fake, &eve, &menu, "a sleeping cat", "1:1", "1").await;
    eve.press(&fake, id_of(&confirm), "Create for 5").await;
    let result = screen(&fake, eve.id, "Ready: “a sleeping cat”").await;
    eve.press(&fake, id_of(&result), "🎬 Animate").await;
    screen(&fake, eve.id, "Animating your picture").await;
    screen(&fake, eve.id, "35 credits").await;
    // The clip arrives as an animation (the local provider makes a GIF), then its buttons.
    let sent = || fake.calls_to("sendAnimation").len();
    assert!(crate::support::eventually(|| async { sent() == 1 }).await, "one clip sent");
    assert_eq!(fake.calls_to("sendPhoto").len(), 1, "the picture went as a photo");
    let buttons = crate::support::eventually_found(|| async {
        let latest = fake.last_message_with(eve.id, "Ready: “a sleeping cat”")?;
        (id_of(&latest) > id_of(&result)).then(|| latest["reply_markup"].to_string())
    });
    let buttons = buttons.await.expect("the clip's own result message");
    assert!(buttons.contains("Another clip") && !buttons.contains("🎬 Animate"), "{buttons}");
    let remembered = "SELECT COUNT(*) FROM images WHERE kind = 'VIDEO' AND telegram_file_id LIKE 'animation-%'";
    let kept = crate::support::eventually(|| async { app.scalar_i64(remembered).await == 1 }).await;
    assert!(
        kept,
        "file id kept: {:?}",
        app.scalar_string("SELECT COALESCE(telegram_file_id, 'none') FROM images WHERE kind = 'VIDEO'").await
    );

    // The gallery card shows the clip first, as an animation; ▶️ turns the card into the picture.
    eve.says("/gallery").await;
    let card = screen(&fake, eve.id, "1/2").await;
    assert!(card.get("animation").is_some(), "{card}");
    let labels = card["reply_markup"].to_string();
    assert!(labels.contains("Another clip") && !labels.contains("🎬 Animate"), "{labels}");
    eve.press(&fake, id_of(&card), "▶️").await;
    let card = screen(&fake, eve.id, "2/2").await;
    assert!(card.get("photo").is_some() && card.get("animation").is_none(), "{card}");
    assert!(card["reply_markup"].to_string().contains("🎬 Animate"));

    // The filter finds clips only.
    eve.press(&fake, id_of(&card), "Filters").await;
    let filters = screen(&fake, eve.id, "Gallery filters").await;
    eve.press(&fake, id_of(&filters), "🎬 Video").await;
    screen(&fake, eve.id, "Gallery filters").await;
    eve.press(&fake, id_of(&filters), "Back").await;
    let only = screen(&fake, eve.id, "1/1").await;
    assert!(only.get("animation").is_some(), "{only}");
    assert_eq!(app.balance(&token).await, 10 + 100 - 5 - 35);

    // Create → 🎬 Video tells the way, and leads to the gallery.
    eve.says("/start").await;
    let menu = screen(&fake, eve.id, "Balance: 70").await;
    eve.press(&fake, id_of(&menu), "Create image").await;
    let create = screen(&fake, eve.id, "Describe the picture").await;
    eve.press(&fake, id_of(&create), "🎬 Video").await;
    let intro = screen(&fake, eve.id, "open one of your pictures in the gallery").await;
    assert!(intro["reply_markup"].to_string().contains("My works"), "{intro}");
});
