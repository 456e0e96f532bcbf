//! Referrals: a new user who arrives through a code (the bot's `/start ref_<code>` or a Mini
//! App's `start_param`) is attributed once, to its owner, and never again; the referee's first
//! Stars top-up pays the referrer exactly once, however often or concurrently payments come;
//! and the bot's "Invite friends" screen.

use futures_util::future::join_all;
use serde_json::json;

use aisha::domain::auth::sign_telegram_data;

use crate::db_test;
use crate::support::bot::{bot_app, id_of, screen, user};
use crate::support::seed::pay_stars;
use crate::support::{BOT_TOKEN, Db, TestApp, now_secs};

const REFERRALS: &str =
    "{ me { referrals { code startParameter link count rewarded creditsEarned rewardCredits rewardPercent } } }";

/// Signs in through the Mini App, opened with `start_param` when given; the token.
async fn mini_app_sign_in(app: &TestApp, telegram_id: i64, start_param: Option<&str>) -> String {
    let user = json!({ "id": telegram_id, "first_name": "friend", "language_code": "en" }).to_string();
    let auth_date = now_secs().to_string();
    let mut fields = vec![("auth_date", auth_date.as_str()), ("user", user.as_str())];
    if let Some(param) = start_param {
        fields.push(("start_param", param));
    }
    let init_data = sign_telegram_data(&fields, BOT_TOKEN, true);
    let query = "mutation($d: String!) { signInWithTelegram(initData: $d) { token } }";
    let answer = app.gql(None, query, json!({ "d": init_data })).await;
    answer.data("signInWithTelegram")["token"].as_str().expect("a token").to_owned()
}

async fn referrer_of(app: &TestApp, telegram_id: i64) -> i64 {
    let sql = format!("SELECT COALESCE(referred_by, 0) FROM users WHERE telegram_id = {telegram_id}");
    app.scalar_i64(&sql).await
}

async fn id_of_user(app: &TestApp, telegram_id: i64) -> i64 {
    app.scalar_i64(&format!("SELECT id FROM users WHERE telegram_id = {telegram_id}")).await
}

async fn start_parameter(app: &TestApp, token: &str) -> String {
    let answer = app.gql(Some(token), REFERRALS, json!({})).await;
    answer.data("me")["referrals"]["startParameter"].as_str().expect("a parameter").to_owned()
}

/// Pays the first credit package in Stars for the user; the credits it bought.
async fn pay(app: &TestApp, user_id: i64, charge: &str) -> i64 {
    pay_stars(app, user_id, charge).await.0
}

db_test!(a_new_user_is_attributed_once_to_the_owner_of_the_code_they_came_with, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let ada = mini_app_sign_in(&app, 7100, None).await;
    let first = app.gql(Some(&ada), REFERRALS, json!({})).await;
    let referrals = first.data("me")["referrals"].clone();
    let code = referrals["code"].as_str().expect("a code").to_owned();
    assert_eq!(referrals["startParameter"], format!("ref_{code}"));
    assert_eq!(referrals["link"], format!("https://t.me/aisha_test_bot?start=ref_{code}"));
    assert_eq!((referrals["count"].clone(), referrals["rewardPercent"].clone()), (json!(0), json!(10)));
    assert_eq!(
        app.gql(Some(&ada), REFERRALS, json!({})).await.data("me")["referrals"]["code"],
        code.as_str(),
        "the code is kept"
    );
    let ada_id = id_of_user(&app, 7100).await;

    // Through the bot's deep link, and through the Mini App's start parameter.
    let ben = user(&app, 7101, "en");
    ben.says(&format!("/start ref_{code}")).await;
    screen(&fake, ben.id, "Balance: 10").await;
    let cat = mini_app_sign_in(&app, 7102, Some(&format!("ref_{code}"))).await;
    assert_eq!(referrer_of(&app, 7101).await, ada_id);
    assert_eq!(referrer_of(&app, 7102).await, ada_id);

    // Never again: not Ben through Cat's link, not Ada (who was there first) through Ben's.
    let cats = start_parameter(&app, &cat).await;
    ben.says(&format!("/start {cats}")).await;
    screen(&fake, ben.id, "What shall we make?").await;
    mini_app_sign_in(&app, 7100, Some(&start_parameter(&app, &mini_app_sign_in(&app, 7101, None).await).await)).await;
    assert_eq!(referrer_of(&app, 7101).await, ada_id);
    assert_eq!(referrer_of(&app, 7100).await, 0);
    // An unknown code, or a payload that is no referral, attributes nobody.
    mini_app_sign_in(&app, 7103, Some("ref_nosuchcode")).await;
    mini_app_sign_in(&app, 7104, Some("campaign-7")).await;
    assert_eq!(referrer_of(&app, 7103).await + referrer_of(&app, 7104).await, 0);
    assert_eq!(app.gql(Some(&ada), REFERRALS, json!({})).await.data("me")["referrals"]["count"], 2);
});

db_test!(the_referrer_is_rewarded_once_on_the_referees_first_top_up, |db: Db| async move {
    let (app, _fake) = bot_app(db).await;
    let ada = mini_app_sign_in(&app, 7200, None).await;
    let ben = mini_app_sign_in(&app, 7201, Some(&start_parameter(&app, &ada).await)).await;
    let cat = mini_app_sign_in(&app, 7202, Some(&start_parameter(&app, &ben).await)).await;
    let (ada_id, ben_id, cat_id) =
        (id_of_user(&app, 7200).await, id_of_user(&app, 7201).await, id_of_user(&app, 7202).await);

    // Ben pays twice at once, then that payment is delivered again, then he pays once more.
    let credits = join_all([pay(&app, ben_id, "ben-1"), pay(&app, ben_id, "ben-2")]).await[0];
    pay(&app, ben_id, "ben-1").await;
    pay(&app, ben_id, "ben-3").await;
    let reward = credits * 10 / 100;
    let rewards = |user: i64| {
        format!(
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM ledger_entries WHERE user_id = {user} AND kind = 'REFERRAL'"
        )
    };
    assert_eq!(app.scalar_i64(&rewards(ada_id)).await, reward, "one reward for Ben's first top-up");
    let count = format!("SELECT COUNT(*) FROM ledger_entries WHERE kind = 'REFERRAL' AND user_id = {ada_id}");
    assert_eq!(app.scalar_i64(&count).await, 1);
    // Cat's first top-up rewards Ben, who invited her, and not Ada.
    pay(&app, cat_id, "cat-1").await;
    assert_eq!(app.scalar_i64(&rewards(ben_id)).await, reward);
    assert_eq!(app.scalar_i64(&rewards(ada_id)).await, reward);

    let mine = app.gql(Some(&ada), REFERRALS, json!({})).await;
    let r = &mine.data("me")["referrals"];
    assert_eq!(
        (r["count"].clone(), r["rewarded"].clone(), r["creditsEarned"].clone()),
        (json!(1), json!(1), json!(reward))
    );
    assert_eq!(app.balance(&ada).await, 10 + reward);
    assert_eq!(app.balance(&cat).await, 10 + credits);
    let books =
        "SELECT CAST(SUM(balance) AS BIGINT) - (SELECT CAST(SUM(amount) AS BIGINT) FROM ledger_entries) FROM users";
    assert_eq!(app.scalar_i64(books).await, 0);
});

db_test!(the_bot_shows_the_invitation_with_its_link_and_counts, |db: Db| async move {
    let (app, fake) = bot_app(db).await;
    let dan = user(&app, 7300, "en");
    dan.says("/start").await;
    let menu = screen(&fake, dan.id, "Balance: 10").await;
    dan.press(&fake, id_of(&menu), "Invite friends").await;
    let invite = screen(&fake, dan.id, "Invite friends with your link:").await;
    let text = invite["text"].as_str().expect("text").to_owned();
    assert!(text.contains("https://t.me/aisha_test_bot?start=ref_"), "{text}");
    assert!(text.contains("you get 10% of their credits"), "{text}");
    assert!(text.contains("Friends who joined: 0"), "{text}");
    let code =
        text.split("?start=").nth(1).and_then(|rest| rest.split_whitespace().next()).expect("the code").to_owned();
    let eva = user(&app, 7301, "en");
    eva.says(&format!("/start {code}")).await;
    screen(&fake, eva.id, "Balance: 10").await;
    dan.says("/invite").await;
    screen(&fake, dan.id, "Friends who joined: 1").await;
});
