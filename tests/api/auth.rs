use serde_json::json;

use crate::db_test;
use crate::support::{ADMIN_TOKEN, Db, mini_app_init_data, now_secs, spawn_app};

const SIGN_IN: &str =
    "mutation($d: String!) { signInWithTelegram(initData: $d) { token user { id telegramId username balance } } }";
const ME: &str = "{ me { id telegramId username balance } }";

db_test!(sign_in_creates_the_user_with_the_welcome_bonus_and_a_working_token, |db: Db| async move {
    let app = spawn_app(db).await;
    let init_data = mini_app_init_data(4242, "ann", now_secs() - 60);

    let response = app.gql(None, SIGN_IN, json!({ "d": init_data })).await;

    let payload = response.data("signInWithTelegram");
    assert_eq!(payload["user"]["telegramId"], "4242");
    assert_eq!(payload["user"]["balance"], 10);
    let token = payload["token"].as_str().expect("token");
    let me = app.gql(Some(token), ME, json!({})).await;
    assert_eq!(me.data("me")["username"], "ann");
    assert_eq!(me.data("me")["id"], payload["user"]["id"]);
    // Signing in again is the same user, and the bonus is not paid twice.
    let again = app.gql(None, SIGN_IN, json!({ "d": mini_app_init_data(4242, "ann2", now_secs()) })).await;
    assert_eq!(again.data("signInWithTelegram")["user"]["id"], payload["user"]["id"]);
    assert_eq!(again.data("signInWithTelegram")["user"]["balance"], 10);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM ledger_entries").await, 1);
});

db_test!(login_widget_data_signs_in_too, |db: Db| async move {
    let app = spawn_app(db).await;
    let date = now_secs().to_string();
    let init_data = aisha::domain::auth::sign_telegram_data(
        &[("id", "777"), ("first_name", "Bo"), ("username", "bo"), ("auth_date", &date)],
        crate::support::BOT_TOKEN,
        false,
    );
    let response = app.gql(None, SIGN_IN, json!({ "d": init_data })).await;
    assert_eq!(response.data("signInWithTelegram")["user"]["telegramId"], "777");
});

db_test!(forged_and_stale_sign_in_data_is_refused_and_creates_nothing, |db: Db| async move {
    let app = spawn_app(db).await;
    let forged = mini_app_init_data(1, "eve", now_secs()).replace("eve", "mallory");
    let stale = mini_app_init_data(2, "old", now_secs() - 25 * 3600);
    let wrong_bot = aisha::domain::auth::sign_telegram_data(
        &[("auth_date", &now_secs().to_string()), ("user", r#"{"id":3}"#)],
        "999:another-bot",
        true,
    );

    for init_data in [forged, stale, wrong_bot, "garbage".to_owned()] {
        let response = app.gql(None, SIGN_IN, json!({ "d": init_data })).await;
        assert_eq!(response.error_code(), "BAD_USER_INPUT", "{}", response.body);
        assert!(response.body["data"].is_null());
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM users").await, 0);
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM auth_tokens").await, 0);
});

db_test!(me_needs_a_valid_token_and_sign_out_revokes_it, |db: Db| async move {
    let app = spawn_app(db).await;
    assert_eq!(app.gql(None, ME, json!({})).await.error_code(), "UNAUTHENTICATED");
    assert_eq!(app.gql(Some("aisha_not-a-token"), ME, json!({})).await.error_code(), "UNAUTHENTICATED");
    let (token, _) = app.sign_in(5, "sam").await;
    assert_eq!(app.gql(Some(&token), ME, json!({})).await.data("me")["username"], "sam");

    let signed_out = app.gql(Some(&token), "mutation { signOut }", json!({})).await;

    assert_eq!(signed_out.data("signOut"), true);
    assert_eq!(app.gql(Some(&token), ME, json!({})).await.error_code(), "UNAUTHENTICATED");
});

db_test!(the_admin_token_grants_the_admin_role_and_nothing_else, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, user_id) = app.sign_in(6, "una").await;
    let adjust = "mutation($u: ID!) { adjustBalance(userId: $u, amount: 5, reason: \"gift\", idempotencyKey: \"k1\") { amount balanceAfter kind } }";

    let as_user = app.gql(Some(&token), adjust, json!({ "u": user_id })).await;
    let anonymous = app.gql(None, adjust, json!({ "u": user_id })).await;
    let as_admin = app.gql(Some(ADMIN_TOKEN), adjust, json!({ "u": user_id })).await;

    assert_eq!(as_user.error_code(), "FORBIDDEN");
    assert_eq!(anonymous.error_code(), "UNAUTHENTICATED");
    assert_eq!(as_admin.data("adjustBalance")["balanceAfter"], 15);
    assert_eq!(as_admin.data("adjustBalance")["kind"], "ADJUSTMENT");
    // The admin is nobody's user.
    assert_eq!(app.gql(Some(ADMIN_TOKEN), ME, json!({})).await.error_code(), "FORBIDDEN");
});

#[tokio::test]
async fn the_cli_token_command_mints_a_token_that_signs_in() {
    let app = spawn_app(Db::Sqlite).await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_aisha"))
        .args(["token", "--telegram-id", "99", "--username", "cli_user"])
        .env("DATABASE_URL", &app.app.config.database_url)
        .env("AISHA_DATA_DIR", &app.app.config.data_dir)
        .env_remove("REDIS_URL")
        .output()
        .expect("aisha token runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let token = String::from_utf8(output.stdout).expect("utf-8");

    let me = app.gql(Some(token.trim()), "{ me { telegramId username balance } }", json!({})).await;

    assert_eq!(me.data("me")["telegramId"], "99");
    assert_eq!(me.data("me")["username"], "cli_user");
    assert_eq!(me.data("me")["balance"], 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_on_one_instance_revokes_the_token_on_every_instance() {
    let Some((first, second)) = crate::support::spawn_two_instances(|_| {}).await else { return };
    let (token, _) = first.sign_in(60, "everywhere").await;
    // Both instances have now resolved (and cached) the token.
    assert_eq!(first.gql(Some(&token), ME, json!({})).await.data("me")["username"], "everywhere");
    assert_eq!(second.gql(Some(&token), ME, json!({})).await.data("me")["username"], "everywhere");

    assert_eq!(second.gql(Some(&token), "mutation { signOut }", json!({})).await.data("signOut"), true);

    let refused = crate::support::eventually(|| async {
        first.gql(Some(&token), ME, json!({})).await.body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    });
    assert!(refused.await, "the other instance still accepts a signed-out token");
}
