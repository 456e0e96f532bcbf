//! Analytics: every arrival is counted under its source (the bot's `/start` payload, the Mini
//! App's `start_param`, the web client's `utm_source`, `referral`, or `direct`), the funnel
//! follows those users to their first generation and their first payment, and retention counts
//! them week by week; all for a scripted set of users.

use serde_json::{Value, json};

use aisha::domain::auth::sign_telegram_data;

use crate::db_test;
use crate::support::bot::{bot_app, screen, user};
use crate::support::seed::pay_stars;
use crate::support::{ADMIN_TOKEN, BOT_TOKEN, Db, TestApp, now_secs};

const REPORT: &str = "query($f: DateTime!, $t: DateTime!) { adminAnalytics(from: $f, to: $t) { funnel { source arrived generated paid } retention { weekStart users active } } }";
const GENERATE: &str = "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"counted\" }) { id } }";

/// Signs in through the Mini App (with a `start_param`) or the web client (with a
/// `utm_source`); the token and the user's id.
async fn arrive(app: &TestApp, telegram_id: i64, start_param: Option<&str>, utm: Option<&str>) -> (String, i64) {
    let user = json!({ "id": telegram_id, "first_name": "visitor", "language_code": "en" }).to_string();
    let auth_date = now_secs().to_string();
    let mut fields = vec![("auth_date", auth_date.as_str()), ("user", user.as_str())];
    if let Some(param) = start_param {
        fields.push(("start_param", param));
    }
    let query =
        "mutation($d: String!, $u: String) { signInWithTelegram(initData: $d, utmSource: $u) { token user { id } } }";
    let answer = app.gql(None, query, json!({ "d": sign_telegram_data(&fields, BOT_TOKEN, true), "u": utm })).await;
    let token = answer.data("signInWithTelegram")["token"].as_str().expect("a token").to_owned();
    let id = app.scalar_i64(&format!("SELECT id FROM users WHERE telegram_id = {telegram_id}")).await;
    (token, id)
}

fn funnel_of(report: &Value) -> Vec<(String, i64, i64, i64)> {
    let rows = report["funnel"].as_array().expect("funnel");
    let int = |v: &Value| v.as_i64().expect("an int");
    let mut rows: Vec<_> = rows
        .iter()
        .map(|r| {
            (
                r["source"].as_str().expect("source").to_owned(),
                int(&r["arrived"]),
                int(&r["generated"]),
                int(&r["paid"]),
            )
        })
        .collect();
    rows.sort();
    rows
}

db_test!(the_funnel_and_retention_count_a_scripted_set_of_users_by_source, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let (ads_1, ads_1_id) = arrive(&app, 9100, Some("ads-spring"), None).await;
    let (ads_2, _) = arrive(&app, 9101, Some("ads-spring"), None).await;
    let (_letter, _) = arrive(&app, 9102, None, Some("newsletter")).await;
    let (_walk_in, _) = arrive(&app, 9103, None, None).await;
    let code = app.gql(Some(&ads_1), "{ me { referrals { startParameter } } }", json!({})).await;
    let code = code.data("me")["referrals"]["startParameter"].as_str().expect("code").to_owned();
    let (friend, friend_id) = arrive(&app, 9104, Some(&code), None).await;
    let bot_user = user(&app, 9105, "en");
    bot_user.says("/start ads-spring").await;
    screen(&fake, bot_user.id, "Balance: 10").await;
    // Signing in again later is no second arrival.
    arrive(&app, 9100, Some("other-campaign"), None).await;

    for token in [&ads_1, &ads_2, &friend, &ads_1] {
        app.gql(Some(token), GENERATE, json!({})).await.data("createGeneration");
    }
    pay_stars(&app, ads_1_id, "analytics-1").await;
    pay_stars(&app, friend_id, "analytics-2").await;
    pay_stars(&app, friend_id, "analytics-3").await;

    let now = chrono::Utc::now();
    let day = chrono::Duration::days(1);
    let answer = app.gql(Some(ADMIN_TOKEN), REPORT, json!({ "f": now - day, "t": now + day })).await;
    let report = answer.data("adminAnalytics");
    let wanted = [("ads-spring", 3, 2, 1), ("direct", 1, 0, 0), ("referral", 1, 1, 1), ("utm:newsletter", 1, 0, 0)];
    assert_eq!(funnel_of(report), wanted.map(|(s, a, g, p)| (s.to_owned(), a, g, p)));
    let retention = report["retention"].as_array().expect("retention");
    assert_eq!(retention.len(), 1, "{retention:?}");
    assert_eq!((retention[0]["users"].clone(), retention[0]["active"].clone()), (json!(6), json!([3])));

    // The first user arrived and generated three weeks ago; the recent generation is week 3.
    let weeks = 21 * 86_400_000_000_i64;
    let earlier = format!(
        "UPDATE analytics_events SET created_at = created_at - {weeks} WHERE user_id = {ads_1_id} AND kind = 'ARRIVED' RETURNING user_id"
    );
    app.scalar_i64(&earlier).await;
    let first_charge = format!("SELECT MIN(id) FROM ledger_entries WHERE user_id = {ads_1_id} AND kind = 'CHARGE'");
    let first_charge = app.scalar_i64(&first_charge).await;
    let moved =
        format!("UPDATE ledger_entries SET created_at = created_at - {weeks} WHERE id = {first_charge} RETURNING id");
    app.scalar_i64(&moved).await;
    let month = chrono::Duration::days(30);
    let answer = app.gql(Some(ADMIN_TOKEN), REPORT, json!({ "f": now - month, "t": now + day })).await;
    let retention = answer.data("adminAnalytics")["retention"].as_array().expect("retention").clone();
    assert_eq!(retention.len(), 2, "{retention:?}");
    assert_eq!((retention[0]["users"].clone(), retention[0]["active"].clone()), (json!(1), json!([1, 0, 0, 1])));
    assert_eq!((retention[1]["users"].clone(), retention[1]["active"].clone()), (json!(5), json!([2])));
    let week_start =
        chrono::DateTime::parse_from_rfc3339(retention[0]["weekStart"].as_str().expect("a time")).expect("RFC 3339");
    assert_eq!(chrono::Datelike::weekday(&week_start), chrono::Weekday::Mon);
    // A period of the past only leaves everyone out; a backwards one is refused.
    let past = app.gql(Some(ADMIN_TOKEN), REPORT, json!({ "f": now - month * 2, "t": now - month })).await;
    assert_eq!(past.data("adminAnalytics")["funnel"], json!([]));
    let backwards = app.gql(Some(ADMIN_TOKEN), REPORT, json!({ "f": now, "t": now - day })).await;
    assert_eq!(backwards.error_code(), "BAD_USER_INPUT");
    assert_eq!(app.gql(Some(&ads_2), REPORT, json!({ "f": now - day, "t": now })).await.error_code(), "FORBIDDEN");
    app.leaves_jobs_running("the analytics do not wait for the pictures");
});
