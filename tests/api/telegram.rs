//! The bot, end to end: a fake Telegram Bot API on 127.0.0.1 plays Telegram and the user, our
//! server runs the real webhook, per-chat queues, GraphQL operations, storage and jobs.

use std::time::Duration;

use serde_json::json;

use crate::db_test;
use crate::support::bot::{ask_for_pictures, bot_app, bot_app_with, id_of, screen, user};
use crate::support::{WEBHOOK_SECRET, eventually};

async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

db_test!(start_shows_the_menu_in_the_users_language_and_keeps_the_deep_link, |db| async move {
    let (app, fake) = bot_app(db).await;
    let anna = user(&app, 7001, "ru");
    anna.says("/start ref-42").await;
    let menu = screen(&fake, anna.id, "Баланс: 10").await;
    assert!(menu.to_string().contains("Творчество"), "{menu}");
    let payload = app.scalar_string("SELECT start_payload FROM users WHERE telegram_id = 7001").await;
    assert_eq!(payload, "ref-42");

    let bob = user(&app, 7002, "en");
    bob.says("/start").await;
    let menu = screen(&fake, bob.id, "Balance: 10").await;
    // /language switches, and the choice is kept by the API.
    bob.press(&fake, id_of(&menu), "Language").await;
    let picker = screen(&fake, bob.id, "Choose a language").await;
    bob.press(&fake, id_of(&picker), "Русский").await;
    screen(&fake, bob.id, "Баланс").await;
    let language = app.scalar_string("SELECT language_code FROM users WHERE telegram_id = 7002").await;
    assert_eq!(language, "ru");
});

db_test!(a_wrong_secret_is_refused_and_a_repeated_update_is_handled_once, |db| async move {
    let (app, fake) = bot_app(db).await;
    let carol = user(&app, 7003, "en");
    let update = json!({ "update_id": 555, "message": carol.message(json!({ "text": "/start" }))["message"] });
    assert_eq!(carol.post_raw(&update, "wrong-secret").await, 401);
    let unsigned = app.http.post(format!("{}/telegram/webhook", app.url)).json(&update).send().await.expect("post");
    assert_eq!(unsigned.status().as_u16(), 401);
    settle().await;
    assert!(fake.calls_to("sendMessage").is_empty(), "a refused update was processed");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM users WHERE telegram_id = 7003").await, 0);

    for _ in 0..3 {
        assert_eq!(carol.post_raw(&update, WEBHOOK_SECRET).await, 200);
    }
    fake.wait_for("sendMessage", carol.id, 1).await;
    settle().await;
    assert_eq!(fake.calls_to("sendMessage").len(), 1, "a duplicate update was processed");
    let metrics =
        app.http.get(format!("{}/metrics", app.url)).send().await.expect("metrics").text().await.expect("text");
    assert!(metrics.contains("aisha_telegram_updates_total{outcome=\"duplicate\"} 2"), "{metrics}");
    assert!(metrics.contains("aisha_telegram_updates_total{outcome=\"processed\"} 1"), "{metrics}");
    for (outcome, n) in [("refused", 2), ("accepted", 1), ("duplicate", 2)] {
        let series = format!("aisha_webhook_deliveries_total{{source=\"telegram\",outcome=\"{outcome}\"}} {n}");
        assert!(metrics.contains(&series), "{series}:\n{metrics}");
    }
    assert!(metrics.contains("aisha_telegram_update_lag_seconds_count{outcome=\"handled\"} 1"), "{metrics}");
});

db_test!(the_imagen_flow_delivers_photos_that_the_api_gallery_shows, |db| async move {
    let (app, fake) = bot_app(db).await;
    let dana = user(&app, 7004, "en");
    dana.says("/start").await;
    let menu = screen(&fake, dana.id, "Balance: 10").await;
    let confirm = ask_for_pictures(&fake, &dana, &menu, "a red fox in the snow", "16:9", "2").await;
    assert!(confirm["text"].as_str().is_some_and(|t| t.contains("Price: 10 credits (balance 10)")), "{confirm}");
    dana.press(&fake, id_of(&confirm), "Create for 10").await;

    // One album of two photos, uploaded as bytes (our links are local), then the result keyboard.
    let albums = fake.wait_for("sendMediaGroup", dana.id, 1).await;
    let media = albums[0].params["media"].as_array().expect("media").clone();
    assert_eq!(media.len(), 2);
    assert!(media.iter().all(|m| m["media"]["file"].as_u64().is_some_and(|n| n > 0)), "{media:?}");
    let result = screen(&fake, dana.id, "Ready").await;
    assert!(result.to_string().contains("Open in gallery"), "{result}");
    // The confirmation became the progress message and ends "Done".
    assert_eq!(fake.message(id_of(&confirm))["text"], "✅ Done!");

    // The same user, through the API: both images, with Telegram's file ids remembered.
    let (token, _) = app.sign_in(dana.id, "user7004").await;
    let gallery = app
        .gql(
            Some(&token),
            "{ gallery { totalCount edges { node { prompt aspectRatio telegramFileId } } } me { balance } }",
            json!({}),
        )
        .await;
    assert_eq!(gallery.data("gallery")["totalCount"], 2);
    for edge in gallery.data("gallery")["edges"].as_array().expect("edges") {
        assert_eq!(edge["node"]["prompt"], "a red fox in the snow");
        assert_eq!(edge["node"]["aspectRatio"], "16:9");
        assert!(edge["node"]["telegramFileId"].as_str().is_some_and(|f| f.starts_with("photo-")), "{edge}");
    }
    assert_eq!(gallery.data("me")["balance"], 0);

    // ❤️ under the result toggles the image's favourite.
    dana.press(&fake, id_of(&result), "🤍 1").await;
    let app_ref = &app;
    let favourite = move || async move {
        app_ref.scalar_i64("SELECT COUNT(*) FROM images WHERE favorited_at IS NOT NULL").await == 1
    };
    assert!(eventually(favourite).await, "the ❤️ was not applied");

    // No credits left: "again" says so and offers a top-up, and nothing is charged.
    dana.press(&fake, id_of(&result), "Again").await;
    let again = screen(&fake, dana.id, "Price: 10 credits (balance 0)").await;
    dana.press(&fake, id_of(&again), "Create for 10").await;
    screen(&fake, dana.id, "Not enough credits: 10 needed, 0 available").await;
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM generations").await, 1);
});

db_test!(the_progress_message_follows_the_generation_through_its_subscription, |db| async move {
    // Slow enough that the generation is seen running before it ends.
    let (app, fake) = bot_app_with(db, |config| config.local.latency = Duration::from_millis(3000)).await;
    let finn = user(&app, 7010, "en");
    finn.says("/start").await;
    let menu = screen(&fake, finn.id, "Balance: 10").await;
    let confirm = ask_for_pictures(&fake, &finn, &menu, "a lighthouse at dusk", "1:1", "1").await;
    finn.press(&fake, id_of(&confirm), "Create for 5").await;
    screen(&fake, finn.id, "Ready").await;

    let edits_of_progress: Vec<String> = fake
        .calls_to("editMessageText")
        .into_iter()
        .filter(|call| call.params["message_id"].as_i64() == Some(id_of(&confirm)))
        .filter_map(|call| call.params["text"].as_str().map(str::to_owned))
        .collect();
    assert!(edits_of_progress.iter().any(|text| text.starts_with("⏳ Drawing… ")), "{edits_of_progress:?}");
    // The end is the last word: no progress edit came after it.
    assert_eq!(edits_of_progress.last().map(String::as_str), Some("✅ Done!"), "{edits_of_progress:?}");
    app.assert_no_job_running().await;
});

db_test!(the_gallery_card_navigates_filters_favourites_deletes_and_goes_back, |db| async move {
    let (app, fake) = bot_app(db).await;
    let erin = user(&app, 7005, "en");
    erin.says("/start").await;
    let menu = screen(&fake, erin.id, "Balance").await;
    let user_id = app.scalar_i64("SELECT id FROM users WHERE telegram_id = 7005").await;
    // Newest first: #2 (LOCAL), #1 (AVATAR), #0 (IMAGEN4, a favourite).
    crate::support::seed::seed_images(&app, user_id, 3).await;

    erin.press(&fake, id_of(&menu), "My works").await;
    let card = screen(&fake, erin.id, "1/3").await;
    assert!(card["caption"].as_str().expect("caption").contains("picture number 2"));
    let card_id = id_of(&card);
    let first_file_id = card["photo"][1]["file_id"].as_str().expect("file id").to_owned();

    erin.press(&fake, card_id, "▶️").await;
    screen(&fake, erin.id, "2/3 ").await;
    // Back to the first: this time the photo goes by the file id Telegram gave it.
    erin.press(&fake, card_id, "◀️").await;
    screen(&fake, erin.id, "1/3 ").await;
    let edits = fake.calls_to("editMessageMedia");
    assert_eq!(edits.last().expect("an edit").params["media"]["media"], first_file_id.as_str());
    erin.press(&fake, card_id, "▶️").await;
    screen(&fake, erin.id, "2/3 ").await;

    // ❤️ on #1, then "favourites only": #1 and #0.
    erin.press(&fake, card_id, "🤍").await;
    let card_shows = |needle: &'static str| {
        let fake = fake.clone();
        move || {
            let fake = fake.clone();
            async move { fake.message(card_id).to_string().contains(needle) }
        }
    };
    assert!(eventually(card_shows("❤️")).await, "the card's heart did not turn red");
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM images WHERE favorited_at IS NOT NULL").await, 2);
    erin.press(&fake, card_id, "Filters").await;
    screen(&fake, erin.id, "Gallery filters").await;
    erin.press(&fake, card_id, "Favourites only").await;
    assert!(eventually(card_shows("✓ ❤️ Favourites only")).await, "the filter is not marked chosen");
    erin.press(&fake, card_id, "Back").await;
    let card = screen(&fake, erin.id, "1/2 ").await;
    assert!(card["caption"].as_str().expect("caption").contains("picture number 1"), "{card}");
    erin.press(&fake, card_id, "▶️").await;
    screen(&fake, erin.id, "2/2 ").await;

    // 🗑 asks first; "Delete" removes #0 and shows its neighbour.
    erin.press(&fake, card_id, "🗑").await;
    screen(&fake, erin.id, "Delete this picture").await;
    erin.press(&fake, card_id, "Delete").await;
    let card = screen(&fake, erin.id, "1/1 ").await;
    assert!(card["caption"].as_str().expect("caption").contains("picture number 1"), "{card}");
    assert_eq!(app.scalar_i64(&format!("SELECT COUNT(*) FROM images WHERE user_id = {user_id}")).await, 2);

    erin.press(&fake, card_id, "Stats").await;
    let stats = screen(&fake, erin.id, "Total: 1").await;
    assert!(stats["caption"].as_str().expect("caption").contains("Favourites: 1"), "{stats}");
    erin.press(&fake, card_id, "Back").await;
    screen(&fake, erin.id, "1/1 ").await;

    // Back leaves the gallery: the card goes, the menu comes.
    let menus_before = fake.calls_to("sendMessage").len();
    erin.press(&fake, card_id, "Back").await;
    let fake_ref = &fake;
    assert!(
        eventually(move || async move { fake_ref.calls_to("sendMessage").len() > menus_before }).await,
        "no menu after Back"
    );
    let last = fake.calls_to("sendMessage").last().cloned().expect("a message");
    assert!(last.params["text"].as_str().expect("text").contains("Balance"), "{last:?}");
    // The menu is sent first, then the card deleted: wait for that too.
    let deleted =
        move || async move { fake_ref.calls_to("deleteMessage").iter().any(|c| c.params["message_id"] == card_id) };
    assert!(eventually(deleted).await, "the card was not deleted");
});

db_test!(a_stars_top_up_is_credited_once_per_charge, |db| async move {
    let (app, fake) = bot_app(db).await;
    let finn = user(&app, 7006, "en");
    finn.says("/start").await;
    let menu = screen(&fake, finn.id, "Balance").await;
    finn.press(&fake, id_of(&menu), "Balance").await;
    let balance = screen(&fake, finn.id, "Latest transactions").await;
    assert!(balance["text"].as_str().expect("text").contains("BONUS"), "{balance}");
    finn.press(&fake, id_of(&balance), "Top up").await;
    let packages = screen(&fake, finn.id, "Top up with Telegram Stars").await;
    finn.press(&fake, id_of(&packages), "110 credits for 100").await;
    let invoice = fake.wait_for("sendInvoice", finn.id, 1).await.remove(0).params;
    assert_eq!(invoice["currency"], "XTR");
    assert_eq!(invoice["prices"][0]["amount"], 100);
    let payload = invoice["payload"].as_str().expect("payload").to_owned();

    // Pre-checkout: the right amount is accepted, a tampered one refused.
    // Pre-checks are answered as they come, each in its own lane: match answers by query id.
    let right = finn.pre_checkout(&payload, 100).await;
    let tampered = finn.pre_checkout(&payload, 1).await;
    let fake_ref = &fake;
    assert!(eventually(move || async move { fake_ref.calls_to("answerPreCheckoutQuery").len() == 2 }).await);
    assert_eq!(fake.calls_to("answerPreCheckoutQuery").len(), 2);
    assert_eq!(fake.pre_checkout_answer(&right), Some(true));
    assert_eq!(fake.pre_checkout_answer(&tampered), Some(false));
    let refusal = fake
        .calls_to("answerPreCheckoutQuery")
        .into_iter()
        .find(|c| c.params["pre_checkout_query_id"] == tampered.as_str());
    assert!(refusal.is_some_and(|c| c.params["error_message"].as_str().is_some_and(|m| !m.is_empty())));

    // The payment, delivered twice (two update ids): credited once.
    let payment = finn.payment("charge-1", &payload, 100);
    finn.post(payment.clone()).await;
    finn.post(payment).await;
    screen(&fake, finn.id, "Paid: +110 credits. Balance: 120.").await;
    settle().await;
    assert_eq!(app.scalar_i64("SELECT balance FROM users WHERE telegram_id = 7006").await, 120);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'TOP_UP'").await, 1);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM payments").await, 1);
    let paid_messages = fake
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.params["text"].as_str().is_some_and(|t| t.contains("Paid")))
        .count();
    assert_eq!(paid_messages, 1);

    // Nobody else can record a payment: the API takes it from the bot only.
    let (token, _) = app.sign_in(7006, "user7006").await;
    let forged = app
        .gql(
            Some(&token),
            "mutation($p: String!) { recordStarsPayment(input: { telegramPaymentChargeId: \"x\", invoicePayload: $p, currency: \"XTR\", totalAmount: 100 }) { id } }",
            json!({ "p": payload }),
        )
        .await;
    assert_eq!(forged.error_code(), "FORBIDDEN");
    assert_eq!(app.scalar_i64("SELECT balance FROM users WHERE telegram_id = 7006").await, 120);
});

db_test!(a_429_is_waited_out_and_the_message_still_arrives, |db| async move {
    let (app, fake) = bot_app(db).await;
    fake.too_many_requests("sendMessage", 1);
    let gus = user(&app, 7007, "en");
    gus.says("/start").await;
    let calls = fake.wait_for("sendMessage", gus.id, 2).await;
    assert_eq!(calls.len(), 2, "one refused with 429, then one delivered");
    screen(&fake, gus.id, "Balance: 10").await;
});

db_test!(a_generation_made_through_the_api_is_delivered_to_the_chat_once, |db| async move {
    let (app, fake) = bot_app(db).await;
    let (token, _) = app.sign_in(7008, "hana").await;
    let created = app
        .gql(
            Some(&token),
            "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"made on the web\" }) { id } }",
            json!({}),
        )
        .await;
    created.data("createGeneration");
    let photos = fake.wait_for("sendPhoto", 7008, 1).await;
    assert_eq!(photos[0].params["caption"], "made on the web");
    screen(&fake, 7008, "Ready").await;
    settle().await;
    assert_eq!(fake.calls_to("sendPhoto").len(), 1);
});

#[test]
fn every_bot_operation_is_valid_against_schema_graphql() {
    use apollo_compiler::{ExecutableDocument, Schema};
    let root = env!("CARGO_MANIFEST_DIR");
    let sdl = std::fs::read_to_string(format!("{root}/schema.graphql")).expect("schema.graphql");
    let schema = Schema::parse_and_validate(sdl, "schema.graphql").expect("schema.graphql is valid");
    let dir = format!("{root}/src/telegram/operations");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("operations folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "graphql") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("operation file");
        if let Err(errors) = ExecutableDocument::parse_and_validate(&schema, text, &path) {
            panic!("{} does not validate against schema.graphql:\n{}", path.display(), errors.errors);
        }
        files += 1;
    }
    // Each file is compiled into the bot; a file here that the bot does not load is a mistake.
    assert_eq!(files, aisha::telegram::client::OPERATION_FILES.len());
}

#[test]
fn the_bots_enums_have_the_values_of_schema_graphql() {
    use aisha::telegram::operations as ops;
    let root = env!("CARGO_MANIFEST_DIR");
    let sdl = std::fs::read_to_string(format!("{root}/schema.graphql")).expect("schema.graphql");
    let schema = apollo_compiler::Schema::parse_and_validate(sdl, "schema.graphql").expect("schema.graphql is valid");
    let ours: [(&str, Vec<&str>); 7] = [
        ("GenerationStatus", ops::GenerationStatus::ALL.iter().map(|v| v.wire_name()).collect()),
        ("AvatarStatus", ops::AvatarStatus::ALL.iter().map(|v| v.wire_name()).collect()),
        ("ImageType", ops::ImageType::ALL.iter().map(|v| v.wire_name()).collect()),
        ("PhotoStatus", ops::PhotoStatus::ALL.iter().map(|v| v.wire_name()).collect()),
        ("RefundStatus", ops::RefundStatus::ALL.iter().map(|v| v.wire_name()).collect()),
        ("TrainingType", ops::TrainingType::ALL.iter().map(|v| v.wire_name()).collect()),
        ("TransactionKind", ops::TransactionKind::ALL.iter().map(|v| v.wire_name()).collect()),
    ];
    for (name, values) in ours {
        let Some(apollo_compiler::schema::ExtendedType::Enum(schema_enum)) = schema.types.get(name) else {
            panic!("schema.graphql has no enum {name}");
        };
        let in_schema: Vec<&str> = schema_enum.values.keys().map(|v| v.as_str()).collect();
        assert_eq!(values, in_schema, "the bot's {name} differs from schema.graphql's");
    }
}

db_test!(an_avatar_is_made_trained_and_used_from_the_chat, |db| async move {
    use aisha::domain::generations::AspectRatio;
    use aisha::providers::local::render_png;
    let (app, fake) = bot_app(db).await;
    let ivy = user(&app, 7009, "en");
    ivy.says("/start").await;
    let menu = screen(&fake, ivy.id, "Balance").await;
    let user_id = app.scalar_i64("SELECT id FROM users WHERE telegram_id = 7009").await;
    // Credits for the training (150) and a picture.
    app.app
        .services
        .credits
        .apply(
            user_id,
            aisha::domain::credits::BalanceChange {
                kind: aisha::domain::credits::EntryKind::Adjustment,
                amount: 500,
                reason: "test".into(),
                key: aisha::domain::credits::IdempotencyKey::parse("test-credits").expect("key"),
            },
        )
        .await
        .expect("credits");

    ivy.press(&fake, id_of(&menu), "My avatars").await;
    let avatars = screen(&fake, ivy.id, "An avatar learns").await;
    ivy.press(&fake, id_of(&avatars), "New avatar").await;
    screen(&fake, ivy.id, "What shall we call").await;
    ivy.says("Ivy").await;
    let kinds = screen(&fake, ivy.id, "What will it learn").await;
    ivy.press(&fake, id_of(&kinds), "A person").await;
    let count = screen(&fake, ivy.id, "Accepted: 0/20").await;

    // An album of 10 photos, then a duplicate and a tiny one: refused with reasons.
    let photo = |n: i64| render_png(&format!("ivy {n}"), Some(n), 0, AspectRatio::Square.size(600));
    for n in 0..10 {
        ivy.sends_photo(&fake, photo(n), Some("album-1")).await;
    }
    ivy.sends_photo(&fake, photo(3), None).await;
    ivy.sends_photo(&fake, render_png("tiny", None, 0, AspectRatio::Square.size(10)), None).await;
    screen(&fake, ivy.id, "already there").await;
    screen(&fake, ivy.id, "10×10").await;
    // The count is one message, edited as photos come.
    let counted = screen(&fake, ivy.id, "Accepted: 10/20").await;
    assert_eq!(id_of(&counted), id_of(&count));
    let count = id_of(&count);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM avatar_photos WHERE status = 'ACCEPTED'").await, 10);

    ivy.press(&fake, count, "Train for 150").await;
    let ready = screen(&fake, ivy.id, "is ready").await;
    assert_eq!(id_of(&ready), count, "the training message itself turns into the result");
    assert_eq!(app.scalar_i64(&format!("SELECT balance FROM users WHERE id = {user_id}")).await, 10 + 500 - 150);

    // "Create with it": the same steps, on FLUX with the avatar.
    ivy.press(&fake, count, "Create with it").await;
    screen(&fake, ivy.id, "Describe the picture").await;
    ivy.says("on the moon").await;
    let ratio = screen(&fake, ivy.id, "Which format").await;
    ivy.press(&fake, id_of(&ratio), "1:1").await;
    let counts = screen(&fake, ivy.id, "How many").await;
    ivy.press(&fake, id_of(&counts), "1").await;
    let confirm = screen(&fake, ivy.id, "FLUX with your avatar").await;
    ivy.press(&fake, id_of(&confirm), "Create for 6").await;
    fake.wait_for("sendPhoto", ivy.id, 1).await;
    let avatar_id = app.scalar_i64("SELECT id FROM avatars").await;
    let made =
        app.scalar_i64(&format!("SELECT COUNT(*) FROM images WHERE avatar_id = {avatar_id} AND kind = 'AVATAR'")).await;
    assert_eq!(made, 1);
});
