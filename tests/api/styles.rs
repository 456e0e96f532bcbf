//! Style templates: the shipped catalogue, a template filling the prompt and the model input,
//! favourites, the operator's edits (which a restart's seeding keeps), and the bot's "Styles"
//! path walked by a user who reads the buttons.

use std::time::Duration;

use serde_json::{Value, json};

use crate::db_test;
use crate::support::bot::{bot_app, id_of, screen, user};
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::{ADMIN_TOKEN, Db, TestApp, spawn_app, spawn_app_with, use_fal};

const TEMPLATES: &str = "query($c: ID) { styleTemplates(categoryId: $c) { id slug categoryId prompt model aspectRatio previewUrl favorite } }";
const CATEGORIES: &str = "{ styleCategories { id slug nameEn nameRu icon } }";
pub const CREATE: &str = "mutation($input: CreateGenerationInput!) { createGeneration(input: $input) { id prompt originalPrompt templateId aspectRatio model cost } }";
const PUT_TEMPLATE: &str =
    "mutation($input: StyleTemplateInput!) { adminPutStyleTemplate(input: $input) { id slug prompt active } }";

async fn template(app: &TestApp, token: &str, slug: &str) -> Value {
    let all = app.gql(Some(token), TEMPLATES, json!({})).await.data("styleTemplates").clone();
    all.as_array().expect("a list").iter().find(|t| t["slug"] == slug).cloned().unwrap_or(Value::Null)
}

db_test!(the_shipped_catalogue_lists_by_category_with_drawn_previews, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(7300, "styles").await;
    let categories = app.gql(Some(&token), CATEGORIES, json!({})).await.data("styleCategories").clone();
    let categories = categories.as_array().expect("a list");
    assert_eq!(categories.len(), 4, "{categories:?}");
    assert_eq!(categories[0]["slug"], "portraits", "in catalogue order");
    assert_eq!(categories[0]["nameRu"], "Портреты");
    let all = app.gql(Some(&token), TEMPLATES, json!({})).await.data("styleTemplates").clone();
    assert_eq!(all.as_array().map(Vec::len), Some(12));
    let portraits = app.gql(Some(&token), TEMPLATES, json!({ "c": categories[0]["id"] })).await;
    let portraits = portraits.data("styleTemplates").as_array().expect("a list").clone();
    assert_eq!(portraits.len(), 3);
    assert!(portraits.iter().all(|t| t["categoryId"] == categories[0]["id"]));
    let preview = portraits[0]["previewUrl"].as_str().expect("a preview");
    let response = app.http.get(preview).send().await.expect("the preview answers");
    assert_eq!(response.status(), 200, "{preview}");
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = response.bytes().await.expect("bytes");
    assert!(imagesize::blob_size(&png).is_ok(), "a real picture");
    let missing = app.http.get(format!("{}/styles/no-such-style/preview.png", app.url)).send().await.expect("answers");
    assert_eq!(missing.status(), 404);
});

db_test!(a_template_fills_the_prompt_and_the_model_input_exactly, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, user_id) = app.sign_in(7301, "noir").await;
    app.give_credits(&user_id, 100).await;
    let noir = template(&app, &token, "film-noir").await;
    let input = json!({ "templateId": noir["id"], "subject": "  a detective with a cat  " });
    let created = app.gql(Some(&token), CREATE, json!({ "input": input })).await.data("createGeneration").clone();
    let expected = "black and white film noir still of a detective with a cat, hard side light through venetian blinds, \
                    deep shadows, cigarette smoke haze, 35mm film grain, 1940s";
    assert_eq!(created["prompt"], expected);
    assert_eq!(created["originalPrompt"], "a detective with a cat");
    assert_eq!(created["templateId"], noir["id"]);
    assert_eq!(created["model"], "fal-ai/imagen4/preview", "the template's model");
    assert_eq!(created["aspectRatio"], "4:3", "the template's format");
    let id = created["id"].as_str().expect("an id");
    app.wait_for_status(&token, id, &["COMPLETED"]).await;
    let (model, sent) = fal.with_submissions(|s| (s[0].model.clone(), s[0].input.clone()));
    assert_eq!(model, "fal-ai/imagen4/preview");
    assert_eq!(sent["prompt"], expected);
    assert_eq!(sent["aspect_ratio"], "4:3");

    // The format and model can still be chosen.
    let input = json!({ "templateId": noir["id"], "subject": "a fox", "aspectRatio": "1:1", "model": "fal-ai/imagen4/preview/fast" });
    let chosen = app.gql(Some(&token), CREATE, json!({ "input": input })).await.data("createGeneration").clone();
    assert_eq!(
        (chosen["aspectRatio"].clone(), chosen["model"].clone()),
        (json!("1:1"), json!("fal-ai/imagen4/preview/fast"))
    );
    app.wait_for_status(&token, chosen["id"].as_str().expect("an id"), &["COMPLETED"]).await;
});

db_test!(a_bad_template_request_is_refused_and_charges_nothing, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(7302, "bad").await;
    let noir = template(&app, &token, "film-noir").await;
    let refused = [
        (json!({ "templateId": noir["id"], "subject": "x", "prompt": "both" }), "BAD_USER_INPUT"),
        (json!({ "templateId": noir["id"] }), "BAD_USER_INPUT"),
        (json!({ "templateId": noir["id"], "subject": "   " }), "BAD_USER_INPUT"),
        (json!({ "templateId": noir["id"], "subject": "я".repeat(501) }), "BAD_USER_INPUT"),
        (json!({ "prompt": "no model" }), "BAD_USER_INPUT"),
        (json!({ "templateId": "U3R5bGVUZW1wbGF0ZTo5OTk5", "subject": "x" }), "NOT_FOUND"),
        (json!({ "templateId": "bm9wZQ", "subject": "x" }), "BAD_USER_INPUT"),
    ];
    for (input, code) in refused {
        let answer = app.gql(Some(&token), CREATE, json!({ "input": input.clone() })).await;
        assert_eq!(answer.error_code(), code, "{input}");
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM generations").await, 0);
    assert_eq!(app.balance(&token).await, 10, "nothing charged");
});

db_test!(favourites_are_marked_listed_and_unmarked, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(7303, "fan").await;
    let (other, _) = app.sign_in(7304, "other").await;
    let sticker = template(&app, &token, "sticker").await;
    let anime = template(&app, &token, "anime").await;
    let set = "mutation($id: ID!, $f: Boolean!) { setStyleTemplateFavorite(templateId: $id, favorite: $f) { slug favorite } }";
    for id in [&sticker["id"], &anime["id"], &sticker["id"]] {
        let marked =
            app.gql(Some(&token), set, json!({ "id": id, "f": true })).await.data("setStyleTemplateFavorite").clone();
        assert_eq!(marked["favorite"], true);
    }
    let favorites = "{ favoriteStyleTemplates { slug } }";
    let listed = app.gql(Some(&token), favorites, json!({})).await.data("favoriteStyleTemplates").clone();
    let slugs: Vec<&str> = listed.as_array().expect("a list").iter().filter_map(|t| t["slug"].as_str()).collect();
    assert_eq!(slugs.len(), 2, "marking twice is one favourite: {slugs:?}");
    assert!(slugs.contains(&"sticker") && slugs.contains(&"anime"));
    assert_eq!(template(&app, &token, "sticker").await["favorite"], true);
    assert_eq!(template(&app, &other, "sticker").await["favorite"], false, "favourites are one's own");
    app.gql(Some(&token), set, json!({ "id": sticker["id"], "f": false })).await.data("setStyleTemplateFavorite");
    let listed = app.gql(Some(&token), favorites, json!({})).await.data("favoriteStyleTemplates").clone();
    assert_eq!(listed, json!([{ "slug": "anime" }]));
});

db_test!(the_operator_edits_the_catalogue_and_a_restart_keeps_the_edits, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(7305, "user").await;
    let input = |prompt: &str, active: bool| {
        json!({ "input": {
            "slug": "film-noir", "categorySlug": "portraits", "nameEn": "Noir", "nameRu": "Нуар", "icon": "🎬",
            "prompt": prompt, "model": "fal-ai/imagen4/preview/ultra", "aspectRatio": "16:9", "active": active,
        } })
    };
    assert_eq!(app.gql(Some(&token), PUT_TEMPLATE, input("noir of {subject}", true)).await.error_code(), "FORBIDDEN");
    let bad = app.gql(Some(ADMIN_TOKEN), PUT_TEMPLATE, input("no placeholder", true)).await;
    assert_eq!(bad.error_code(), "BAD_USER_INPUT");
    let edited = app.gql(Some(ADMIN_TOKEN), PUT_TEMPLATE, input("noir of {subject}", true)).await;
    assert_eq!(edited.data("adminPutStyleTemplate")["prompt"], "noir of {subject}");
    assert_eq!(app.app.services.styles.seed().await.expect("seeds"), 0, "nothing new, nothing overwritten");
    let now = template(&app, &token, "film-noir").await;
    assert_eq!((now["prompt"].clone(), now["aspectRatio"].clone()), (json!("noir of {subject}"), json!("16:9")));
    let audit = app.scalar_i64("SELECT COUNT(*) FROM admin_audit_log WHERE action = 'adminPutStyleTemplate'").await;
    assert_eq!(audit, 1, "the refused edit wrote nothing");

    // Switched off: out of the catalogue, and it cannot be used.
    app.gql(Some(ADMIN_TOKEN), PUT_TEMPLATE, input("noir of {subject}", false)).await.data("adminPutStyleTemplate");
    assert_eq!(template(&app, &token, "film-noir").await, Value::Null);
    let admin_list = app.gql(Some(ADMIN_TOKEN), "{ adminStyleTemplates { slug active } }", json!({})).await;
    let all = admin_list.data("adminStyleTemplates").as_array().expect("a list").clone();
    assert!(all.iter().any(|t| t["slug"] == "film-noir" && t["active"] == false));
    let id = app.scalar_i64("SELECT id FROM style_templates WHERE slug = 'film-noir'").await;
    let global = base64_id("StyleTemplate", id);
    let answer = app.gql(Some(&token), CREATE, json!({ "input": { "templateId": global, "subject": "x" } })).await;
    assert_eq!(answer.error_code(), "NOT_FOUND");
});

pub fn base64_id(kind: &str, id: i64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

db_test!(the_bot_walks_from_create_through_a_style_to_the_picture, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let kim = user(&app, 7306, "en");
    kim.says("/start").await;
    let menu = screen(&fake, kim.id, "Balance: 10").await;
    let (_, user_id) = app.sign_in(7306, "kim").await;
    app.give_credits(&user_id, 100).await;
    kim.press(&fake, id_of(&menu), "Create image").await;
    let create = screen(&fake, kim.id, "Describe the picture").await;
    kim.press(&fake, id_of(&create), "Ready-made styles").await;
    let categories = screen(&fake, kim.id, "Pick a category").await;
    kim.press(&fake, id_of(&categories), "Portraits").await;
    let list = screen(&fake, kim.id, "Portraits: pick a style").await;
    kim.press(&fake, id_of(&list), "Film noir").await;
    let card = screen(&fake, kim.id, "film noir still of …").await;
    let photo = fake.calls_to("sendPhoto").last().map(|c| c.params["photo"].clone()).expect("a preview was sent");
    assert!(photo["file"].as_u64().is_some_and(|size| size > 0), "the drawn preview, uploaded: {photo}");
    kim.press(&fake, id_of(&card), "Add to favourites").await;
    crate::support::eventually(|| async { app.scalar_i64("SELECT COUNT(*) FROM style_favorites").await == 1 }).await;
    kim.press(&fake, id_of(&card), "Create in this style").await;
    screen(&fake, kim.id, "Film noir: who or what is in the picture").await;
    kim.says("a detective").await;
    let ratios = screen(&fake, kim.id, "Which format").await;
    assert!(ratios.to_string().contains("✓ 4:3"), "the style's format is preselected: {ratios}");
    kim.press(&fake, id_of(&ratios), "✓ 4:3").await;
    let counts = screen(&fake, kim.id, "How many").await;
    kim.press(&fake, id_of(&counts), "1").await;
    let confirm = screen(&fake, kim.id, "Price:").await;
    kim.press(&fake, id_of(&confirm), "Create for 5").await;
    screen(&fake, kim.id, "Ready:").await;
    let prompt = "SELECT COUNT(*) FROM generations WHERE original_prompt = 'a detective' AND prompt LIKE 'black and white film noir still of a detective,%'";
    assert_eq!(app.scalar_i64(prompt).await, 1);
});
