//! Creating from what was made: every generation keeps the seed sent to the provider,
//! `regenerate` asks for the same picture again (same seed, or a new one, or an edited prompt)
//! and `variations` for new seeds of one image — each a new generation, charged, the original
//! untouched.

use std::time::Duration;

use serde_json::{Value, json};

use crate::db_test;
use crate::support::bot::{ask_for_pictures, bot_app, id_of, screen, user};
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::{Db, TestApp, eventually, spawn_app_with, use_fal};

const REGENERATE: &str = "mutation($id: ID!, $same: Boolean = true, $p: String) { regenerate(generationId: $id, sameSeed: $same, prompt: $p) { id prompt seed numImages cost } }";
const VARIATIONS: &str =
    "mutation($id: ID!, $n: Int = 3) { variations(imageId: $id, count: $n) { id prompt seed numImages cost } }";

/// The seed of each submission to the fake FAL, in order.
fn seeds_sent(fal: &FakeFal) -> Vec<Value> {
    fal.with_submissions(|s| s.iter().map(|s| s.input["seed"].clone()).collect())
}

async fn finished(app: &TestApp, token: &str, id: &Value) -> Value {
    let id = id.as_str().expect("an id");
    let done = app.wait_for_status(token, id, &["COMPLETED", "FAILED"]).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let query = "query($id: ID!) { generation(id: $id) { id status seed prompt images { id } } }";
    app.gql(Some(token), query, json!({ "id": id })).await.data("generation").clone()
}

db_test!(regenerate_sends_the_same_seed_and_variations_distinct_ones_each_charged, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, user_id) = app.sign_in(6600, "again").await;
    app.give_credits(&user_id, 100).await;
    let id = app
        .create_generation(&token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "a fox", "numImages": 2 }))
        .await;
    let original = finished(&app, &token, &json!(id)).await;
    let seed = original["seed"].clone();
    assert!(seed.as_i64().is_some(), "a seed is chosen when none is asked for: {original}");
    assert_eq!(seeds_sent(&fal), std::slice::from_ref(&seed), "and it is the one sent");

    // The same picture again: the same seed, prompt and count, charged anew.
    let again = app.gql(Some(&token), REGENERATE, json!({ "id": id })).await.data("regenerate").clone();
    assert_ne!(again["id"], json!(id));
    assert_eq!(
        (again["seed"].clone(), again["prompt"].clone(), again["numImages"].clone()),
        (seed.clone(), json!("a fox"), json!(2))
    );
    finished(&app, &token, &again["id"]).await;
    // A new seed, an edited prompt.
    let edited = json!({ "id": id, "same": false, "p": "a fox in the rain" });
    let edited = app.gql(Some(&token), REGENERATE, edited).await.data("regenerate").clone();
    assert_ne!(edited["seed"], seed);
    assert_eq!(edited["prompt"], "a fox in the rain");
    finished(&app, &token, &edited["id"]).await;
    let sent = seeds_sent(&fal);
    assert_eq!((sent[1].clone(), sent[2].clone()), (seed.clone(), edited["seed"].clone()));
    let prompts = fal.with_submissions(|s| s.iter().map(|s| s.input["prompt"].clone()).collect::<Vec<_>>());
    assert_eq!(prompts[2], "a fox in the rain");

    // Three variations of the first image: one picture each, three new seeds, three charges.
    let image = original["images"][0]["id"].clone();
    let balance = app.balance(&token).await;
    let made = app.gql(Some(&token), VARIATIONS, json!({ "id": image, "n": 3 })).await.data("variations").clone();
    let made = made.as_array().expect("a list").clone();
    assert_eq!(made.len(), 3);
    let mut seeds: Vec<i64> = made.iter().map(|g| g["seed"].as_i64().expect("seed")).collect();
    seeds.sort();
    seeds.dedup();
    assert_eq!(seeds.len(), 3, "distinct seeds: {made:?}");
    assert!(!seeds.contains(&seed.as_i64().expect("seed")), "none is the original's");
    assert!(made.iter().all(|g| g["numImages"] == 1 && g["cost"] == 5 && g["prompt"] == "a fox"), "{made:?}");
    assert_eq!(app.balance(&token).await, balance - 15);
    for generation in &made {
        finished(&app, &token, &generation["id"]).await;
    }
    let sent: Vec<i64> = seeds_sent(&fal)[3..].iter().map(|s| s.as_i64().expect("seed")).collect();
    let mut sent_sorted = sent.clone();
    sent_sorted.sort();
    assert_eq!(sent_sorted, seeds, "each variation's seed reached FAL");

    // The original is untouched.
    let still = app
        .gql(Some(&token), "query($id: ID!) { generation(id: $id) { prompt seed numImages } }", json!({ "id": id }))
        .await;
    assert_eq!(still.data("generation"), &json!({ "prompt": "a fox", "seed": seed, "numImages": 2 }));
});

db_test!(variations_the_balance_cannot_pay_for_make_nothing_and_others_images_are_not_found, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, _) = app.sign_in(6700, "short").await; // 10 credits
    let id = app.create_generation(&token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "one" })).await;
    let image = finished(&app, &token, &json!(id)).await["images"][0]["id"].clone();
    let balance = app.balance(&token).await;
    assert_eq!(balance, 5);
    let refused = app.gql(Some(&token), VARIATIONS, json!({ "id": image, "n": 2 })).await;
    assert_eq!(refused.error_code(), "INSUFFICIENT_CREDITS", "{}", refused.body);
    for n in [0, 5] {
        assert_eq!(
            app.gql(Some(&token), VARIATIONS, json!({ "id": image, "n": n })).await.error_code(),
            "BAD_USER_INPUT"
        );
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM generations").await, 1, "nothing was made");
    assert_eq!(app.balance(&token).await, balance);

    let (stranger, _) = app.sign_in(6701, "stranger").await;
    assert_eq!(app.gql(Some(&stranger), VARIATIONS, json!({ "id": image, "n": 1 })).await.error_code(), "NOT_FOUND");
    assert_eq!(app.gql(Some(&stranger), REGENERATE, json!({ "id": id })).await.error_code(), "NOT_FOUND");
    let empty = app.gql(Some(&token), REGENERATE, json!({ "id": id, "p": "   " })).await;
    assert_eq!(empty.error_code(), "BAD_USER_INPUT");
});

db_test!(the_bot_makes_a_result_again_with_its_seed_with_an_edited_prompt_and_as_variations, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let eve = user(&app, 6800, "en");
    eve.says("/start").await;
    let menu = screen(&fake, eve.id, "Balance: 10").await;
    let (_, user_id) = app.sign_in(6800, "eve").await;
    app.give_credits(&user_id, 100).await;
    let confirm = ask_for_pictures(&fake, &eve, &menu, "a calm lake", "1:1", "1").await;
    eve.press(&fake, id_of(&confirm), "Create for 5").await;
    let result = screen(&fake, eve.id, "Ready: “a calm lake”").await;
    let seeds = "SELECT COUNT(DISTINCT seed) FROM generations";

    // The same seed: a second picture of the same lake.
    eve.press(&fake, id_of(&result), "Same seed").await;
    let made = || async { app.scalar_i64("SELECT COUNT(*) FROM generations WHERE status = 'COMPLETED'").await };
    assert!(eventually(|| async { made().await == 2 }).await, "no second picture");
    assert_eq!(app.scalar_i64(seeds).await, 1);

    // An edited prompt keeps the seed too.
    eve.press(&fake, id_of(&result), "Edit prompt").await;
    screen(&fake, eve.id, "Send the new prompt").await;
    eve.says("a stormy lake").await;
    screen(&fake, eve.id, "Ready: “a stormy lake”").await;
    assert_eq!(app.scalar_i64(seeds).await, 1);

    // Variations: three more pictures, three new seeds.
    eve.press(&fake, id_of(&result), "Variations").await;
    screen(&fake, eve.id, "Making 3 variations").await;
    assert!(eventually(|| async { made().await == 6 }).await, "not three variations");
    assert_eq!(app.scalar_i64(seeds).await, 4);
    let charged = "SELECT CAST(-SUM(amount) AS BIGINT) FROM ledger_entries WHERE kind = 'CHARGE'";
    assert_eq!(app.scalar_i64(charged).await, 6 * 5, "each picture charged");

    // The gallery card offers the same: its image's seed again.
    eve.says("/gallery").await;
    let card = screen(&fake, eve.id, "1/6").await;
    eve.press(&fake, id_of(&card), "Same seed").await;
    assert!(eventually(|| async { made().await == 7 }).await, "nothing made from the card");
    assert_eq!(app.scalar_i64(seeds).await, 4, "the card's image's seed, again");
});

db_test!(an_avatar_is_renamed_and_the_main_one_is_used_when_none_is_named, |db: Db| async move {
    use crate::avatars::{avatar_with_photos, wait_for_avatar};
    let app = spawn_app_with(db, |_| {}).await;
    let (token, avatar) = avatar_with_photos(&app, 6900, 10).await;
    let rename = "mutation($id: ID!, $n: String!) { renameAvatar(id: $id, name: $n) { name } }";
    let renamed = app.gql(Some(&token), rename, json!({ "id": avatar, "n": "  Holiday me " })).await;
    assert_eq!(renamed.data("renameAvatar")["name"], "Holiday me");
    for bad in ["   ", &"x".repeat(65)] {
        assert_eq!(
            app.gql(Some(&token), rename, json!({ "id": avatar, "n": bad })).await.error_code(),
            "BAD_USER_INPUT"
        );
    }
    let (stranger, _) = app.sign_in(6901, "stranger").await;
    assert_eq!(app.gql(Some(&stranger), rename, json!({ "id": avatar, "n": "Mine" })).await.error_code(), "NOT_FOUND");

    let train = "mutation($id: ID!) { startAvatarTraining(avatarId: $id) { status } }";
    app.gql(Some(&token), train, json!({ "id": avatar })).await.data("startAvatarTraining");
    wait_for_avatar(&app, &token, &avatar, &["READY"]).await;
    let create =
        "mutation { createGeneration(input: { model: \"fal-ai/flux-lora\", prompt: \"at the sea\" }) { id avatarId } }";
    // No avatar named and none main: refused.
    assert_eq!(app.gql(Some(&token), create, json!({})).await.error_code(), "BAD_USER_INPUT");
    let main = "mutation($id: ID!) { setMainAvatar(id: $id) { isMain } }";
    assert_eq!(app.gql(Some(&token), main, json!({ "id": avatar })).await.data("setMainAvatar")["isMain"], true);
    let made = app.gql(Some(&token), create, json!({})).await.data("createGeneration").clone();
    assert_eq!(made["avatarId"], json!(avatar), "the main avatar is used");
    finished(&app, &token, &made["id"]).await;
});

db_test!(the_bot_renames_an_avatar_and_makes_it_the_main_one, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let ana = user(&app, 6950, "en");
    ana.says("/start").await;
    screen(&fake, ana.id, "Balance: 10").await;
    crate::avatars::avatar_with_photos(&app, 6950, 10).await;
    ana.says("/avatars").await;
    let list = screen(&fake, ana.id, "avatars").await;
    ana.press(&fake, id_of(&list), "Me").await;
    let card = screen(&fake, ana.id, "Photos: 10/20").await;
    ana.press(&fake, id_of(&card), "Rename").await;
    screen(&fake, ana.id, "What should “Me” be called?").await;
    ana.says(&"x".repeat(65)).await;
    screen(&fake, ana.id, "name must be 1-64 characters").await;
    ana.says("Beach me").await;
    let card = screen(&fake, ana.id, "🧑‍🎨 Beach me").await;
    assert!(!card["text"].as_str().expect("text").contains("Main avatar"));
    ana.press(&fake, id_of(&card), "Make main").await;
    screen(&fake, ana.id, "⭐ Main avatar").await;
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM avatars WHERE is_main = TRUE AND name = 'Beach me'").await, 1);
});
