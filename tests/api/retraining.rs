//! Training a `READY` avatar anew: it stays `READY` and generates with its old weights until
//! the new ones are ready; a retraining that fails or is cancelled leaves the old weights, and
//! refunds; the bot's avatar card offers it.

use std::time::Duration;

use aisha::domain::storage::Bucket;
use serde_json::{Value, json};

use crate::avatars::{avatar, avatar_with_photos, photo, upload, wait_for_avatar};
use crate::db_test;
use crate::support::bot::{bot_app, id_of, screen, user};
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::{Db, TestApp, eventually, eventually_found_within, spawn_app_with, use_fal};

const TRAINER: &str = "fal-ai/flux-lora-portrait-trainer";
const START: &str = "mutation($id: ID!) { startAvatarTraining(avatarId: $id) { status retraining } }";
const STATE: &str = "query($id: ID!) { avatar(id: $id) { status retraining progress error canTrain \
                     trainingSettings { trainer triggerPhrase trainingType photoCount } } }";

async fn state(app: &TestApp, token: &str, id: &str) -> Value {
    app.gql(Some(token), STATE, json!({ "id": id })).await.data("avatar").clone()
}

async fn until_retrained(app: &TestApp, token: &str, id: &str) -> Value {
    let done = eventually_found_within(Duration::from_secs(12), || async {
        let now = state(app, token, id).await;
        (now["retraining"] == false).then_some(now)
    });
    done.await.expect("the retraining ended")
}

async fn weights(app: &TestApp) -> (String, Option<Vec<u8>>) {
    let key = app.scalar_string("SELECT lora_key FROM avatars").await;
    let object = app.app.storage.get(Bucket::Photos, &key).await.expect("get").map(|o| o.bytes.to_vec());
    (key, object)
}

db_test!(a_ready_avatar_trains_anew_and_keeps_its_old_weights_until_the_new_ones_are_ready, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(100)).await;
    let app = spawn_app_with(db, |c| {
        use_fal(c, &fal);
        c.training_price = 150;
    })
    .await;
    let (token, id) = avatar_with_photos(&app, 7500, 10).await;
    app.gql(Some(&token), START, json!({ "id": id })).await.data("startAvatarTraining");
    wait_for_avatar(&app, &token, &id, &["READY"]).await;
    let (old_key, old_weights) = weights(&app).await;
    let old_weights = old_weights.expect("stored");
    let settings = state(&app, &token, &id).await["trainingSettings"].clone();
    assert_eq!(settings["trainer"], TRAINER);
    assert_eq!(settings["trainingType"], "PORTRAIT");

    // A READY avatar takes new photos for the next training, and can train again.
    let body = upload(&app, &token, &id, vec![("more.png".into(), photo(50))]).await;
    assert_eq!(body["data"]["addAvatarPhotos"]["photoCount"], 11, "{body}");
    assert_eq!(state(&app, &token, &id).await["canTrain"], true);
    let before = app.balance(&token).await;
    fal.set_latency_for(TRAINER, Duration::from_secs(2));
    let started = app.gql(Some(&token), START, json!({ "id": id })).await.data("startAvatarTraining").clone();
    assert_eq!(started, json!({ "status": "READY", "retraining": true }));
    assert_eq!(app.balance(&token).await, before - 150, "charged as any training");

    // Meanwhile: no photo changes, no second training, and generations use the old weights.
    let late = upload(&app, &token, &id, vec![("late.png".into(), photo(51))]).await;
    assert_eq!(late["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(app.gql(Some(&token), START, json!({ "id": id })).await.error_code(), "BAD_USER_INPUT");
    let create = "mutation($i: CreateGenerationInput!) { createGeneration(input: $i) { id } }";
    let input = json!({ "model": "fal-ai/flux-lora", "prompt": "at sea", "avatarId": id });
    let generation = app.gql(Some(&token), create, json!({ "i": input })).await.data("createGeneration")["id"].clone();
    app.wait_for_status(&token, generation.as_str().expect("an id"), &["COMPLETED"]).await;
    let lora = fal.with_submissions(|s| {
        s.iter().rev().find(|s| s.model == "fal-ai/flux-lora").map(|s| s.input["loras"][0]["path"].clone())
    });
    let lora = lora.and_then(|p| p.as_str().map(str::to_owned)).expect("a LoRA link");
    let fetched = app.http.get(&lora).send().await.expect("get").bytes().await.expect("bytes");
    assert_eq!(&fetched[..], &old_weights[..], "the old weights serve while it retrains");

    let done = until_retrained(&app, &token, &id).await;
    assert_eq!((done["status"].clone(), done["error"].clone()), (json!("READY"), Value::Null), "{done}");
    let (new_key, new_weights) = weights(&app).await;
    assert_ne!(new_key, old_key);
    assert!(new_weights.is_some(), "the new weights are stored");
    assert!(app.app.storage.get(Bucket::Photos, &old_key).await.expect("get").is_none(), "the old ones are gone");
    let archives = fal.archives();
    assert_eq!(archives.len(), 2);
    assert_eq!(archives[1].1.windows(4).filter(|w| *w == b"PK\x03\x04").count(), 11, "trained on the photos now");
});

db_test!(a_retraining_that_fails_or_is_cancelled_keeps_the_old_weights_and_refunds, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(100)).await;
    let app = spawn_app_with(db, |c| {
        use_fal(c, &fal);
        c.training_price = 150;
    })
    .await;
    let (token, id) = avatar_with_photos(&app, 7501, 10).await;
    app.gql(Some(&token), START, json!({ "id": id })).await.data("startAvatarTraining");
    wait_for_avatar(&app, &token, &id, &["READY"]).await;
    let (key, _) = weights(&app).await;
    let balance = app.balance(&token).await;

    fal.set_mode(Mode::StatusError);
    app.gql(Some(&token), START, json!({ "id": id })).await.data("startAvatarTraining");
    let failed = until_retrained(&app, &token, &id).await;
    assert_eq!(failed["status"], "READY", "{failed}");
    assert!(failed["error"].is_string(), "it says why: {failed}");
    assert_eq!(weights(&app).await.0, key, "the old weights stay");
    assert!(eventually(|| async { app.balance(&token).await == balance }).await, "refunded");

    fal.set_mode(Mode::NeverFinish);
    app.gql(Some(&token), START, json!({ "id": id })).await.data("startAvatarTraining");
    let cancel = "mutation($id: ID!) { cancelAvatarTraining(avatarId: $id) { status retraining } }";
    let cancelled = app.gql(Some(&token), cancel, json!({ "id": id })).await.data("cancelAvatarTraining").clone();
    assert_eq!(cancelled, json!({ "status": "READY", "retraining": false }));
    assert_eq!(weights(&app).await.0, key);
    assert_eq!(app.balance(&token).await, balance);
    assert_eq!(avatar(&app, &token, &id).await["status"], "READY");
});

db_test!(the_bot_card_of_a_ready_avatar_trains_it_anew, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let (token, id) = avatar_with_photos(&app, 7502, 10).await;
    app.gql(Some(&token), START, json!({ "id": id })).await.data("startAvatarTraining");
    wait_for_avatar(&app, &token, &id, &["READY"]).await;
    let ada = user(&app, 7502, "en");
    ada.says("/avatars").await;
    let list = screen(&fake, ada.id, "Your avatars").await;
    ada.press(&fake, id_of(&list), "Me").await;
    let card = screen(&fake, ada.id, "Trained with: fal-ai/flux-lora-portrait-trainer").await;
    ada.press(&fake, id_of(&card), "Train anew for").await;
    let trained = "SELECT COUNT(*) FROM generations WHERE purpose = 'TRAINING' AND status = 'COMPLETED'";
    assert!(eventually(|| async { app.scalar_i64(trained).await == 2 }).await, "the retraining did not finish");
    // The news of this training, on the card it started from (the first one's came before it).
    let told = eventually_found_within(Duration::from_secs(10), || async {
        fake.last_message_with(ada.id, "is ready").filter(|m| id_of(m) >= id_of(&card))
    });
    assert!(told.await.is_some(), "the chat was not told the retraining is done");
});
