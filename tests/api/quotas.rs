//! What accumulates has a ceiling: avatars per user (racing creations count each other) and
//! the refused photos remembered per avatar.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::avatars::{create_avatar, upload};
use crate::db_test;
use crate::support::{Db, spawn_app};

const CREATE: &str = "mutation($n: String!) { createAvatar(input: { name: $n, trainingType: PORTRAIT }) { id } }";

db_test!(a_user_keeps_at_most_twenty_avatars_even_when_creations_race, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(9700, "collector").await;
    let app_ref = &app;
    let token_ref = &token;
    let answers = join_all(
        (0..25).map(|n| async move { app_ref.gql(Some(token_ref), CREATE, json!({ "n": format!("A{n}") })).await }),
    )
    .await;
    let created: Vec<String> =
        answers.iter().filter_map(|a| a.body["data"]["createAvatar"]["id"].as_str().map(str::to_owned)).collect();
    let refused: Vec<&Value> = answers.iter().filter(|a| a.body["errors"].is_array()).map(|a| &a.body).collect();
    assert_eq!((created.len(), refused.len()), (20, 5), "{refused:?}");
    assert!(refused.iter().all(|r| r["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"), "{refused:?}");
    assert!(
        refused[0]["errors"][0]["message"].as_str().unwrap_or_default().contains("at most 20 avatars"),
        "{:?}",
        refused[0]
    );
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM avatars").await, 20);
    // Deleting one makes room for one.
    app.gql(Some(&token), "mutation($id: ID!) { deleteAvatar(id: $id) }", json!({ "id": created[0] }))
        .await
        .data("deleteAvatar");
    assert!(app.gql(Some(&token), CREATE, json!({ "n": "again" })).await.body["errors"].is_null());
    assert_eq!(app.gql(Some(&token), CREATE, json!({ "n": "one more" })).await.error_code(), "BAD_USER_INPUT");
});

db_test!(an_avatar_remembers_only_its_newest_twenty_refused_photos, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(9710, "clumsy").await;
    let id = create_avatar(&app, &token, "Me").await;
    for batch in 0..3 {
        let files =
            (0..10).map(|i| (format!("{batch}-{i}.txt"), format!("not a photo {batch}-{i}").into_bytes())).collect();
        let body = upload(&app, &token, &id, files).await;
        assert!(body["errors"].is_null(), "{body}");
    }
    assert_eq!(app.scalar_i64("SELECT COUNT(*) FROM avatar_photos WHERE status = 'REJECTED'").await, 20);
    // The newest are the ones kept: the last batch is there whole.
    let last = app.scalar_i64("SELECT COUNT(*) FROM avatar_photos WHERE reject_reason LIKE '2-%'").await;
    assert_eq!(last, 10);
});
