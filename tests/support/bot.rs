//! The bot under test: our server with a fake Bot API, and users who talk to it.

use serde_json::Value;

use super::fake_telegram::{FakeTelegram, FakeUser};
use super::{BOT_TOKEN, Db, TestApp, WEBHOOK_SECRET, spawn_app_with};

/// The server with its bot talking to a fake Bot API (no message limits: the fake is not
/// Telegram), changed by `adjust`.
pub async fn bot_app_with(db: Db, adjust: impl FnOnce(&mut aisha::config::Config)) -> (TestApp, FakeTelegram) {
    let fake = FakeTelegram::start(BOT_TOKEN).await;
    let url = fake.url.parse().expect("url");
    let app = spawn_app_with(db, |config| {
        let telegram = config.telegram.as_mut().expect("the test config has a bot");
        telegram.api_url = url;
        telegram.messages_per_sec_chat = 1000;
        telegram.messages_per_sec_overall = 10_000;
        adjust(config);
    })
    .await;
    (app, fake)
}

pub async fn bot_app(db: Db) -> (TestApp, FakeTelegram) {
    bot_app_with(db, |_| {}).await
}

pub fn user(app: &TestApp, id: i64, language: &'static str) -> FakeUser {
    FakeUser::new(&app.url, WEBHOOK_SECRET, id, language)
}

pub fn id_of(message: &Value) -> i64 {
    message["message_id"].as_i64().expect("message id")
}

/// The bot's newest message in the chat containing `needle`, waiting for it (up to 10 s).
pub async fn screen(fake: &FakeTelegram, chat: i64, needle: &str) -> Value {
    let found = super::eventually_found(|| async { fake.last_message_with(chat, needle) });
    if let Some(message) = found.await {
        return message;
    }
    panic!("no message with {needle:?} in chat {chat}; calls: {:#?}", fake.calls());
}

/// Messages the bot sent to the chat whose text contains `needle`, as sent (edits aside).
pub fn sent_with(fake: &FakeTelegram, chat: i64, needle: &str) -> usize {
    fake.calls_to("sendMessage")
        .iter()
        .filter(|c| {
            c.params["chat_id"].as_i64() == Some(chat) && c.params["text"].as_str().is_some_and(|t| t.contains(needle))
        })
        .count()
}

/// From the main menu to the confirmation of a picture: "Create image", the prompt, the format
/// and the count. Returns the confirmation screen.
pub async fn ask_for_pictures(
    fake: &FakeTelegram,
    user: &FakeUser,
    menu: &Value,
    prompt: &str,
    ratio: &str,
    count: &str,
) -> Value {
    user.press(fake, id_of(menu), "Create image").await;
    screen(fake, user.id, "Describe the picture").await;
    user.says(prompt).await;
    let ratios = screen(fake, user.id, "Which format").await;
    user.press(fake, id_of(&ratios), ratio).await;
    let counts = screen(fake, user.id, "How many").await;
    user.press(fake, id_of(&counts), count).await;
    screen(fake, user.id, "Price:").await
}
