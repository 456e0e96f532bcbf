//! A Mini App's top-up: `createStarsInvoiceLink` records the offer as the bot's invoices do and
//! asks Telegram for a link (`createInvoiceLink`, in Stars), handed out on `t.me` as the Mini App
//! SDKs require; the payment then arrives through the bot's webhook and is credited by that offer.

use serde_json::json;

use crate::db_test;
use crate::support::bot::{bot_app, screen, user};
use crate::support::{Db, eventually, spawn_app};

const LINK: &str = "mutation($p: String!) { createStarsInvoiceLink(packageId: $p) { link payload stars credits } }";

db_test!(an_invoice_link_is_made_in_stars_and_its_payment_is_credited, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let mia = user(&app, 7800, "ru");
    mia.says("/start").await;
    screen(&fake, mia.id, "Баланс").await;
    let (token, _) = app.sign_in(7800, "mia").await;
    let russian = "mutation { setLanguage(languageCode: \"ru\") { languageCode } }";
    assert_eq!(app.gql(Some(&token), russian, json!({})).await.data("setLanguage")["languageCode"], "ru");
    let packages = app.gql(Some(&token), "{ creditPackages { id stars credits } }", json!({})).await;
    let package = packages.data("creditPackages")[0].clone();

    let made = app.gql(Some(&token), LINK, json!({ "p": package["id"] })).await;
    let made = made.data("createStarsInvoiceLink").clone();
    let link = made["link"].as_str().expect("a link");
    assert!(link.starts_with("https://t.me/$fakeInvoice"), "{link}");
    assert_eq!(
        (made["stars"].clone(), made["credits"].clone()),
        (package["stars"].clone(), package["credits"].clone())
    );
    let asked = fake.calls_to("createInvoiceLink");
    assert_eq!(asked.len(), 1);
    let asked = &asked[0].params;
    assert_eq!(asked["currency"], "XTR");
    assert_eq!(asked["prices"].as_array().map(Vec::len), Some(1), "exactly one price in Stars");
    assert_eq!(asked["prices"][0]["amount"], package["stars"]);
    assert_eq!(asked["payload"], made["payload"]);
    assert!(asked["title"].as_str().is_some_and(|t| t.contains("кредитов")), "in the payer's language: {asked}");
    assert!(asked.get("provider_token").is_none_or(|t| t == ""), "{asked}");

    // Paying it is a Stars payment like any other: the offer it recorded is credited.
    let before = app.balance(&token).await;
    let payload = made["payload"].as_str().expect("payload");
    let stars = made["stars"].as_i64().expect("stars");
    mia.post(mia.payment("charge-link-1", payload, stars)).await;
    let credited = || async { app.balance(&token).await == before + package["credits"].as_i64().expect("credits") };
    assert!(eventually(credited).await, "the payment was not credited");
});

db_test!(an_invoice_link_needs_the_bot_and_a_known_package, |db: Db| async move {
    let (app, _fake) = bot_app(db).await;
    let (token, _) = app.sign_in(7810, "nopkg").await;
    let unknown = app.gql(Some(&token), LINK, json!({ "p": "nope" })).await;
    assert_eq!(unknown.error_code(), "NOT_FOUND", "{}", unknown.body);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM star_invoices").await, 0, "no offer recorded");

    // Without the bot there is no one to ask Telegram.
    let plain = spawn_app(Db::Sqlite).await;
    let (token, _) = plain.sign_in(7811, "nobot").await;
    let package =
        plain.gql(Some(&token), "{ creditPackages { id } }", json!({})).await.data("creditPackages")[0]["id"].clone();
    let refused = plain.gql(Some(&token), LINK, json!({ "p": package })).await;
    assert_eq!(refused.error_code(), "UNAVAILABLE", "{}", refused.body);
});
