//! The operator's console: a blocked user is refused everywhere (and on every instance) until
//! unblocked, while what they already paid is still credited; users are found by Telegram id or
//! username; every admin mutation is refused to users and written, by the admin, to an audit log
//! that the database keeps append-only.

use serde_json::json;

use crate::db_test;
use crate::support::bot::{bot_app, screen, user};
use crate::support::{ADMIN_TOKEN, Db, spawn_app, spawn_two_instances};

const BLOCK: &str = "mutation($u: ID!, $r: String!) { blockUser(userId: $u, reason: $r) { id blockedReason } }";
const UNBLOCK: &str = "mutation($u: ID!) { unblockUser(userId: $u) { id blockedReason } }";
const LOG: &str = "{ adminAuditLog(first: 10) { edges { node { action target reason details actor } } } }";
const GENERATE: &str = "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"anything\" }) { id } }";

db_test!(a_blocked_user_is_refused_until_unblocked_and_every_admin_action_is_in_the_audit_log, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(8100, "blocky").await;
    let (bystander, _) = app.sign_in(8101, "bystander").await;

    let blocked = app.gql(Some(ADMIN_TOKEN), BLOCK, json!({ "u": user_id, "r": "spam" })).await;
    assert_eq!(blocked.data("blockUser")["blockedReason"], "spam");
    for query in ["{ me { id } }", GENERATE] {
        let refused = app.gql(Some(&token), query, json!({})).await;
        assert_eq!(refused.error_code(), "FORBIDDEN", "{query}: {}", refused.body);
        assert_eq!(refused.body["errors"][0]["message"], "this account is blocked: spam");
    }
    assert!(app.gql(Some(&bystander), "{ me { id } }", json!({})).await.body.get("errors").is_none());
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM generations").await, 0);
    let unblocked = app.gql(Some(ADMIN_TOKEN), UNBLOCK, json!({ "u": user_id })).await;
    assert!(unblocked.data("unblockUser")["blockedReason"].is_null());
    assert_eq!(app.gql(Some(&token), "{ me { id } }", json!({})).await.data("me")["id"], user_id.as_str());

    // Found by Telegram id and by the start of the username, with or without "@".
    let find = "query($s: String!) { adminUsers(search: $s) { id username } }";
    let by_id = app.gql(Some(ADMIN_TOKEN), find, json!({ "s": "8100" })).await;
    assert_eq!(by_id.data("adminUsers"), &json!([{ "id": user_id, "username": "blocky" }]));
    let by_name = app.gql(Some(ADMIN_TOKEN), find, json!({ "s": "@BLO" })).await;
    assert_eq!(by_name.data("adminUsers").as_array().expect("list").len(), 1);
    assert_eq!(app.gql(Some(ADMIN_TOKEN), find, json!({ "s": "%" })).await.data("adminUsers"), &json!([]));

    // Every admin mutation: refused to a user (changing nothing), audited for the admin.
    let adjust = "mutation($u: ID!) { adjustBalance(userId: $u, amount: 5, reason: \"goodwill\", idempotencyKey: \"k1\") { id } }";
    let promo = "mutation { createPromoCode(input: { code: \"audit-me\", kind: CREDITS, value: 3 }) { code } }";
    let switch = "mutation { setPromoCodeActive(code: \"audit-me\", active: false) { active } }";
    let before = app.scalar_i64("SELECT COUNT(*) FROM admin_audit_log").await;
    for (query, vars) in [
        (BLOCK, json!({ "u": user_id, "r": "x" })),
        (UNBLOCK, json!({ "u": user_id })),
        (adjust, json!({ "u": user_id })),
        (promo, json!({})),
        (LOG, json!({})),
    ] {
        assert_eq!(app.gql(Some(&bystander), query, vars).await.error_code(), "FORBIDDEN", "{query}");
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM admin_audit_log").await, before);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM promo_codes").await, 0);
    app.gql(Some(ADMIN_TOKEN), adjust, json!({ "u": user_id })).await.data("adjustBalance");
    app.gql(Some(ADMIN_TOKEN), promo, json!({})).await.data("createPromoCode");
    app.gql(Some(ADMIN_TOKEN), switch, json!({})).await.data("setPromoCodeActive");
    let log = app.gql(Some(ADMIN_TOKEN), LOG, json!({})).await;
    let actions: Vec<(String, String, String)> = log.data("adminAuditLog")["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| {
            let n = &e["node"];
            assert_eq!(n["actor"], "admin");
            (value(&n["action"]), value(&n["target"]), value(&n["reason"]))
        })
        .collect();
    let user = user_id.clone();
    let wanted = [
        ("setPromoCodeActive", "AUDIT-ME", ""),
        ("createPromoCode", "AUDIT-ME", ""),
        ("adjustBalance", user.as_str(), "goodwill"),
        ("unblockUser", user.as_str(), ""),
        ("blockUser", user.as_str(), "spam"),
    ];
    let wanted: Vec<(String, String, String)> =
        wanted.iter().map(|(a, t, r)| (a.to_string(), t.to_string(), r.to_string())).collect();
    assert_eq!(actions, wanted);

    // The database refuses to change the log.
    use sea_orm::ConnectionTrait;
    let db = &app.app.db;
    assert!(db.execute_unprepared("UPDATE admin_audit_log SET reason = 'forged'").await.is_err());
    assert!(db.execute_unprepared("DELETE FROM admin_audit_log").await.is_err());
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM admin_audit_log").await, 5);
});

fn value(v: &serde_json::Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_a_block_on_one_instance_refuses_the_next_request_on_another() {
    let Some((a, b)) = spawn_two_instances(|_| {}).await else { return };
    let (token, user_id) = a.sign_in(8200, "roamer").await;
    // Both instances have seen the user as not blocked (and cached it).
    assert!(a.gql(Some(&token), "{ me { id } }", json!({})).await.body.get("errors").is_none());
    assert!(b.gql(Some(&token), "{ me { id } }", json!({})).await.body.get("errors").is_none());
    a.gql(Some(ADMIN_TOKEN), BLOCK, json!({ "u": user_id, "r": "fraud" })).await.data("blockUser");
    assert_eq!(b.gql(Some(&token), "{ me { id } }", json!({})).await.error_code(), "FORBIDDEN");
    b.gql(Some(ADMIN_TOKEN), UNBLOCK, json!({ "u": user_id })).await.data("unblockUser");
    assert!(a.gql(Some(&token), "{ me { id } }", json!({})).await.body.get("errors").is_none());
}

db_test!(the_bot_tells_a_blocked_user_why_and_still_credits_what_they_paid, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let max = user(&app, 8300, "en");
    max.says("/start").await;
    screen(&fake, max.id, "Balance: 10").await;
    let id = app.scalar_i64("SELECT id FROM users WHERE telegram_id = 8300").await;
    let payments = &app.app.services.payments;
    let invoice = payments.create_invoice(id, &payments.packages()[0].id).await.expect("an invoice");
    let user_id = {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("User:{id}"))
    };
    app.gql(Some(ADMIN_TOKEN), BLOCK, json!({ "u": user_id, "r": "chargebacks" })).await.data("blockUser");

    max.says("/start").await;
    screen(&fake, max.id, "Sorry — this account is blocked: chargebacks.").await;
    // Telegram took his Stars before the block: the payment is credited all the same.
    max.post(max.payment("charge-of-a-blocked-user", &invoice.payload, invoice.offer.stars)).await;
    let credited = crate::support::eventually(|| async {
        app.scalar_i64("SELECT COUNT(*) FROM payments WHERE telegram_payment_charge_id = 'charge-of-a-blocked-user'")
            .await
            == 1
    });
    assert!(credited.await, "the payment of a blocked user was lost");
    assert_eq!(app.scalar_i64("SELECT balance FROM users WHERE telegram_id = 8300").await, 10 + invoice.offer.credits);
});

/// Runs `aisha <args>` against the app's database and Redis, as an operator on the server would.
fn cli(app: &crate::support::TestApp, redis: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_aisha"))
        .args(args)
        .env("DATABASE_URL", &app.app.config.database_url)
        .env("AISHA_DATA_DIR", &app.app.config.data_dir)
        .env("REDIS_URL", redis)
        .env("AISHA_REDIS_PREFIX", &app.app.config.redis_prefix)
        .output()
        .expect("aisha runs");
    assert!(output.status.success(), "aisha {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).expect("utf-8")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_the_cli_blocks_unblocks_and_grants_into_the_audit_log() {
    let Some(redis) = crate::support::redis_url() else { return };
    let redis_for_app = redis.clone();
    let app = crate::support::spawn_app_with(Db::Sqlite, move |c| c.redis_url = Some(redis_for_app)).await;
    let (token, _) = app.sign_in(8400, "operated").await;
    assert!(app.gql(Some(&token), "{ me { id } }", json!({})).await.body.get("errors").is_none());

    cli(&app, &redis, &["block", "--telegram-id", "8400", "--reason", "abuse"]);
    let refused = app.gql(Some(&token), "{ me { id } }", json!({})).await;
    assert_eq!(
        (refused.error_code(), refused.body["errors"][0]["message"].clone()),
        ("FORBIDDEN", json!("this account is blocked: abuse"))
    );
    cli(&app, &redis, &["unblock", "--telegram-id", "8400"]);
    cli(&app, &redis, &["grant", "--telegram-id", "8400", "--credits", "7", "--reason", "sorry"]);
    assert_eq!(app.balance(&token).await, 17);

    let log = app.gql(Some(ADMIN_TOKEN), LOG, json!({})).await;
    let actions: Vec<(String, String)> = log.data("adminAuditLog")["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| (value(&e["node"]["action"]), value(&e["node"]["reason"])))
        .collect();
    let wanted = [("grant", "sorry"), ("unblockUser", ""), ("blockUser", "abuse")];
    assert_eq!(actions, wanted.map(|(a, r)| (a.to_owned(), r.to_owned())));
}
