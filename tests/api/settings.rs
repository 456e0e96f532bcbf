//! User settings: read and changed through GraphQL (a bad value changes nothing, changes of
//! different settings never undo each other, a chosen language outlives Telegram's), and used by
//! the bot: the default format and count preselected, quick mode without a confirmation,
//! technical details under a result, and a settings screen.

use futures_util::future::join_all;
use serde_json::json;

use crate::db_test;
use crate::support::bot::{bot_app, id_of, screen, user};
use crate::support::{Db, mini_app_init_data, now_secs, spawn_app};

const SETTINGS: &str = "{ me { languageCode settings { defaultAspectRatio defaultNumImages quickMode quickModeMaxPrice showTechnicalDetails languageCode } } }";
const UPDATE: &str = "mutation($i: SettingsInput!) { updateSettings(input: $i) { defaultAspectRatio defaultNumImages quickMode quickModeMaxPrice showTechnicalDetails languageCode } }";

db_test!(settings_change_one_at_a_time_and_a_bad_value_changes_nothing, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(6100, "chooser").await;
    let defaults = json!({
        "defaultAspectRatio": "1:1", "defaultNumImages": 1, "quickMode": false, "quickModeMaxPrice": 10,
        "showTechnicalDetails": false, "languageCode": "en"
    });
    assert_eq!(app.gql(Some(&token), SETTINGS, json!({})).await.data("me")["settings"], defaults);

    let changed =
        app.gql(Some(&token), UPDATE, json!({ "i": { "defaultAspectRatio": "16:9", "quickMode": true } })).await;
    let mut wanted = defaults.clone();
    wanted["defaultAspectRatio"] = json!("16:9");
    wanted["quickMode"] = json!(true);
    assert_eq!(changed.data("updateSettings"), &wanted);

    let bad = [
        json!({ "defaultAspectRatio": "2:1" }),
        json!({ "defaultNumImages": 5, "quickMode": false }),
        json!({ "defaultNumImages": 0 }),
        json!({ "quickModeMaxPrice": 0 }),
        json!({ "languageCode": "x", "showTechnicalDetails": true }),
    ];
    for input in bad {
        let answer = app.gql(Some(&token), UPDATE, json!({ "i": input })).await;
        assert_eq!(answer.error_code(), "BAD_USER_INPUT", "{input}: {}", answer.body);
    }
    assert_eq!(app.gql(Some(&token), SETTINGS, json!({})).await.data("me")["settings"], wanted);

    // Twenty changes of two different settings at once: both end as their last change set them.
    let changes = (0..20).map(|n| {
        let input = if n % 2 == 0 { json!({ "defaultNumImages": 3 }) } else { json!({ "showTechnicalDetails": true }) };
        app.gql(Some(&token), UPDATE, json!({ "i": input }))
    });
    for answer in join_all(changes).await {
        answer.data("updateSettings");
    }
    let settings = app.gql(Some(&token), SETTINGS, json!({})).await.data("me")["settings"].clone();
    assert_eq!(
        (settings["defaultNumImages"].clone(), settings["showTechnicalDetails"].clone()),
        (json!(3), json!(true))
    );
    assert_eq!(settings["defaultAspectRatio"], "16:9");
});

db_test!(a_chosen_language_outlives_the_language_telegram_reports, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(6200, "polyglot").await;
    let changed = app.gql(Some(&token), UPDATE, json!({ "i": { "languageCode": "RU" } })).await;
    assert_eq!(changed.data("updateSettings")["languageCode"], "ru");
    // Signing in again, Telegram says the client is in English: the user's choice stands.
    let query = "mutation($d: String!) { signInWithTelegram(initData: $d) { user { languageCode } } }";
    let init_data = mini_app_init_data(6200, "polyglot", now_secs());
    let again = app.gql(None, query, json!({ "d": init_data })).await;
    assert_eq!(again.data("signInWithTelegram")["user"]["languageCode"], "ru");
    assert_eq!(app.gql(Some(&token), SETTINGS, json!({})).await.data("me")["languageCode"], "ru");
    // A user who never chose follows Telegram.
    let (other, _) = app.sign_in(6201, "follower").await;
    assert_eq!(app.gql(Some(&other), SETTINGS, json!({})).await.data("me")["settings"]["languageCode"], "en");
});

db_test!(the_bot_preselects_the_defaults_skips_the_confirmation_in_quick_mode_and_shows_details, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let eve = user(&app, 6300, "en");
    eve.says("/start").await;
    let menu = screen(&fake, eve.id, "Balance: 10").await;

    // The settings screen: the format goes to the next one, quick mode and details switch on.
    eve.press(&fake, id_of(&menu), "Settings").await;
    let settings = screen(&fake, eve.id, "Default format: 1:1").await;
    eve.press(&fake, id_of(&settings), "Format: 1:1").await;
    let settings = screen(&fake, eve.id, "Default format: 16:9").await;
    eve.press(&fake, id_of(&settings), "Quick mode: off").await;
    let settings = screen(&fake, eve.id, "(no confirmation up to 10 credits): on").await;
    eve.press(&fake, id_of(&settings), "Details: off").await;
    screen(&fake, eve.id, "Technical details: on").await;
    eve.press(&fake, id_of(&settings), "Images: 1").await;
    screen(&fake, eve.id, "Default number of images: 2").await;

    eve.says("/start").await;
    let menu = screen(&fake, eve.id, "What shall we make?").await;
    eve.press(&fake, id_of(&menu), "Create image").await;
    screen(&fake, eve.id, "Describe the picture").await;
    eve.says("a quick sketch").await;
    let ratios = screen(&fake, eve.id, "Which format").await;
    assert!(labels(&ratios).contains(&"✓ 16:9".to_owned()), "{:?}", labels(&ratios));
    eve.press(&fake, id_of(&ratios), "16:9").await;
    let counts = screen(&fake, eve.id, "How many").await;
    assert!(labels(&counts).contains(&"✓ 2".to_owned()), "{:?}", labels(&counts));
    // One Imagen 4 picture (5 credits) is within the quick limit of 10: no "Price:" screen.
    eve.press(&fake, id_of(&counts), "1").await;
    let result = screen(&fake, eve.id, "Ready: “a quick sketch”").await;
    let text = result["text"].as_str().expect("text");
    assert!(text.contains("\n🔧 fal-ai/imagen4/preview · "), "{text}");
    assert_eq!(crate::support::bot::sent_with(&fake, eve.id, "Price:"), 0, "quick mode asked for a confirmation");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM generations").await, 1);
});

/// The texts of a message's buttons.
fn labels(message: &serde_json::Value) -> Vec<String> {
    message["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["text"].as_str().map(str::to_owned))
        .collect()
}
