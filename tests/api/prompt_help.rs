//! Prompt help: a prompt that is not in English reaches the model translated (by the language
//! model on FAL's queue, or the local stand-in), with both prompts stored; an enhanced prompt is
//! only a suggestion until the user creates with it.

use std::time::Duration;

use serde_json::{Value, json};

use crate::db_test;
use crate::support::bot::{ask_for_pictures, bot_app, id_of, screen, user};
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::{Db, TestApp, spawn_app, spawn_app_with, use_fal};

const RUSSIAN: &str = "рыжий кот в шляпе";
const ENGLISH: &str = "a ginger cat in a hat";
const PROMPTS: &str = "query($id: ID!) { generation(id: $id) { status prompt originalPrompt images { id } } }";
const ENHANCE: &str = "mutation($p: String!) { enhancePrompt(prompt: $p) { original enhanced } }";

async fn finished(app: &TestApp, token: &str, id: &str) -> Value {
    app.wait_for_status(token, id, &["COMPLETED", "FAILED"]).await;
    app.gql(Some(token), PROMPTS, json!({ "id": id })).await.data("generation").clone()
}

/// What the fake FAL was sent for images, in order (language-model requests aside).
fn image_prompts(fal: &FakeFal) -> Vec<Value> {
    fal.with_submissions(|s| {
        s.iter().filter(|s| s.model != "fal-ai/any-llm").map(|s| s.input["prompt"].clone()).collect()
    })
}

db_test!(a_russian_prompt_reaches_the_model_in_english_and_both_are_stored, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    fal.llm_answers(RUSSIAN, &format!("\"{ENGLISH}\"\n"));
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, user_id) = app.sign_in(7400, "ru").await;
    app.give_credits(&user_id, 100).await;
    let id = app.create_generation(&token, json!({ "model": "fal-ai/imagen4/preview", "prompt": RUSSIAN })).await;
    let done = finished(&app, &token, &id).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!((done["prompt"].clone(), done["originalPrompt"].clone()), (json!(ENGLISH), json!(RUSSIAN)));
    assert_eq!(image_prompts(&fal), vec![json!(ENGLISH)], "the image model got English only");
    let llm = fal.with_submissions(|s| s.iter().find(|s| s.model == "fal-ai/any-llm").map(|s| s.input.clone()));
    let llm = llm.expect("the language model was asked");
    assert_eq!(llm["prompt"], RUSSIAN);
    assert!(llm["system_prompt"].as_str().is_some_and(|p| p.contains("into English")), "{llm}");
    assert!(llm["model"].is_string());

    // English goes as it is, with no language model.
    let asked = fal.submissions();
    let id = app.create_generation(&token, json!({ "model": "fal-ai/imagen4/preview", "prompt": "a red fox" })).await;
    let done = finished(&app, &token, &id).await;
    assert_eq!((done["prompt"].clone(), done["originalPrompt"].clone()), (json!("a red fox"), Value::Null));
    assert_eq!(fal.submissions(), asked + 1, "one submission: the image");
});

db_test!(a_template_with_a_russian_subject_is_translated_whole_and_keeps_the_subject, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, user_id) = app.sign_in(7401, "ru").await;
    app.give_credits(&user_id, 100).await;
    let id = app.scalar_i64("SELECT id FROM style_templates WHERE slug = 'sticker'").await;
    let template = crate::styles::base64_id("StyleTemplate", id);
    let filled = format!(
        "cute die-cut sticker of {RUSSIAN}, thick white border, bold outlines, cheerful colours, plain background"
    );
    fal.llm_answers(&filled, "cute die-cut sticker of a ginger cat in a hat, thick white border");
    let input = json!({ "templateId": template, "subject": RUSSIAN });
    let created = app.gql(Some(&token), crate::styles::CREATE, json!({ "input": input })).await;
    let id = created.data("createGeneration")["id"].as_str().expect("an id").to_owned();
    let done = finished(&app, &token, &id).await;
    assert_eq!(done["prompt"], "cute die-cut sticker of a ginger cat in a hat, thick white border");
    assert_eq!(done["originalPrompt"], RUSSIAN, "the user's words are the subject");
    assert_eq!(image_prompts(&fal), vec![done["prompt"].clone()]);
});

db_test!(offline_the_local_stand_in_translates_and_enhances, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(7402, "offline").await;
    app.give_credits(&user_id, 100).await;
    let id = app.create_generation(&token, json!({ "model": "local/sketch", "prompt": "Рыжий кот" })).await;
    let done = finished(&app, &token, &id).await;
    assert_eq!((done["prompt"].clone(), done["originalPrompt"].clone()), (json!("Ryzhiy kot"), json!("Рыжий кот")));

    let before = (app.scalar_i64("SELECT COUNT(*) FROM generations").await, app.balance(&token).await);
    let suggestion = app.gql(Some(&token), ENHANCE, json!({ "p": "a fox" })).await.data("enhancePrompt").clone();
    assert_eq!(suggestion["original"], "a fox");
    let enhanced = suggestion["enhanced"].as_str().expect("a suggestion").to_owned();
    assert!(enhanced.starts_with("a fox, ") && enhanced.contains("lens"), "{enhanced}");
    let after = (app.scalar_i64("SELECT COUNT(*) FROM generations").await, app.balance(&token).await);
    assert_eq!(before, after, "a suggestion creates and charges nothing");

    let input = json!({ "model": "local/sketch", "prompt": enhanced, "originalPrompt": "a fox" });
    let id = app.create_generation(&token, input).await;
    let done = finished(&app, &token, &id).await;
    assert_eq!((done["prompt"].clone(), done["originalPrompt"].clone()), (json!(enhanced), json!("a fox")));
    assert_eq!(app.gql(Some(&token), ENHANCE, json!({ "p": "  " })).await.error_code(), "BAD_USER_INPUT");
});

db_test!(an_enhancement_the_model_cannot_give_is_unavailable_and_changes_nothing, |db: Db| async move {
    let fal = FakeFal::start(Mode::StatusError, Duration::from_millis(20)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, _) = app.sign_in(7403, "unlucky").await;
    let answer = app.gql(Some(&token), ENHANCE, json!({ "p": "a fox" })).await;
    assert_eq!(answer.error_code(), "UNAVAILABLE");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM generations").await, 0);
});

db_test!(the_bot_offers_an_enhanced_prompt_and_shows_both_prompts, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let lea = user(&app, 7404, "en");
    lea.says("/start").await;
    let menu = screen(&fake, lea.id, "Balance: 10").await;
    let confirm = ask_for_pictures(&fake, &lea, &menu, "a fox", "1:1", "1").await;
    lea.press(&fake, id_of(&confirm), "Improve the prompt").await;
    let suggestion = screen(&fake, lea.id, "How about this prompt").await;
    assert!(suggestion["text"].as_str().is_some_and(|t| t.contains("a fox, highly detailed")), "{suggestion}");
    lea.press(&fake, id_of(&suggestion), "Yes, use this prompt").await;
    let confirm = screen(&fake, lea.id, "“a fox, highly detailed").await;
    lea.press(&fake, id_of(&confirm), "Create for 5").await;
    let result = screen(&fake, lea.id, "Ready:").await;
    lea.press(&fake, id_of(&result), "📝 Prompt").await;
    let shown = screen(&fake, lea.id, "Your words:").await;
    assert!(shown["text"].as_str().is_some_and(|t| t.ends_with("Your words:\na fox")), "{shown}");
});
