use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use crate::db_test;
use crate::support::seed::{BASE_TIME, Seeded, newest_first, seed_images};
use crate::support::{Db, TestApp, spawn_app, spawn_app_with};

fn image_id(global: &Value) -> i64 {
    let raw = URL_SAFE_NO_PAD.decode(global.as_str().expect("id")).expect("base64");
    String::from_utf8(raw).expect("utf-8").strip_prefix("Image:").expect("an Image id").parse().expect("number")
}

fn global(kind: &str, id: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}:{id}"))
}

fn iso(micros: i64) -> String {
    chrono::DateTime::from_timestamp_micros(micros).expect("time").to_rfc3339()
}

const PAGE: &str = "query($f: GalleryFilter, $first: Int, $after: String, $last: Int, $before: String) {
  gallery(filter: $f, first: $first, after: $after, last: $last, before: $before) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id } } } }";

/// Pages forwards with `first`, then backwards with `last`; returns both orders of ids.
async fn page_both_ways(app: &TestApp, token: &str, filter: &Value, size: i64) -> (Vec<i64>, Vec<i64>, i64) {
    let mut forwards = Vec::new();
    let mut after = Value::Null;
    let total;
    loop {
        let response = app.gql(Some(token), PAGE, json!({ "f": filter, "first": size, "after": after })).await;
        let gallery = response.data("gallery");
        forwards.extend(gallery["edges"].as_array().expect("edges").iter().map(|e| image_id(&e["node"]["id"])));
        if !gallery["pageInfo"]["hasNextPage"].as_bool().expect("bool") {
            total = gallery["totalCount"].as_i64().expect("total");
            break;
        }
        after = gallery["pageInfo"]["endCursor"].clone();
    }
    let mut backwards = Vec::new();
    let mut before = Value::Null;
    loop {
        let response = app.gql(Some(token), PAGE, json!({ "f": filter, "last": size, "before": before })).await;
        let gallery = response.data("gallery");
        let page: Vec<i64> =
            gallery["edges"].as_array().expect("edges").iter().map(|e| image_id(&e["node"]["id"])).collect();
        backwards.splice(0..0, page);
        if !gallery["pageInfo"]["hasPreviousPage"].as_bool().expect("bool") {
            break;
        }
        before = gallery["pageInfo"]["startCursor"].clone();
    }
    (forwards, backwards, total)
}

type Case = (Value, Box<dyn Fn(&Seeded) -> bool>);

fn cases(avatar: i64) -> Vec<Case> {
    let window = (BASE_TIME + 20_000_000, BASE_TIME + 80_000_000);
    vec![
        (json!({}), Box::new(|_| true)),
        (json!({ "types": ["AVATAR"] }), Box::new(|s| s.kind == "AVATAR")),
        (json!({ "types": ["IMAGEN4", "LOCAL"] }), Box::new(|s| s.kind != "AVATAR")),
        (json!({ "models": ["local/sketch"] }), Box::new(|s| s.model == "local/sketch")),
        (json!({ "favoritesOnly": true }), Box::new(|s| s.favorite)),
        (json!({ "aspectRatios": ["16:9", "1:1"] }), Box::new(|s| ["16:9", "1:1"].contains(&s.aspect_ratio))),
        (json!({ "avatarIds": [global("Avatar", avatar)] }), Box::new(move |s| s.avatar_id == Some(avatar))),
        (json!({ "promptContains": "кОт" }), Box::new(|s| s.prompt.contains("Кот"))),
        (json!({ "promptContains": "fox_100%" }), Box::new(|s| s.prompt.contains("FOX_100%"))),
        (json!({ "promptContains": "x_1" }), Box::new(|s| s.prompt.to_lowercase().contains("x_1"))),
        (
            json!({ "createdAfter": iso(window.0), "createdBefore": iso(window.1) }),
            Box::new(move |s| s.created_at >= window.0 && s.created_at < window.1),
        ),
        (
            json!({ "types": ["IMAGEN4"], "favoritesOnly": true, "aspectRatios": ["1:1", "4:3"] }),
            Box::new(|s| s.kind == "IMAGEN4" && s.favorite && ["1:1", "4:3"].contains(&s.aspect_ratio)),
        ),
        (
            json!({ "types": ["AVATAR"], "promptContains": "кот", "createdAfter": iso(window.0) }),
            Box::new(move |s| s.kind == "AVATAR" && s.prompt.contains("Кот") && s.created_at >= window.0),
        ),
    ]
}

db_test!(paging_both_ways_returns_every_image_once_in_order_under_every_filter, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(400, "collector").await;
    let user = app.scalar_i64("SELECT id FROM users").await;
    let seeded = seed_images(&app, user, 250).await;
    let avatar = seeded.iter().find_map(|s| s.avatar_id).expect("an avatar image");

    for (filter, keep) in cases(avatar) {
        let expected: Vec<i64> = newest_first(&seeded).into_iter().filter(|s| keep(s)).map(|s| s.id).collect();
        assert!(!expected.is_empty(), "{filter} matches nothing: a weak case");
        let (forwards, backwards, total) = page_both_ways(&app, &token, &filter, 17).await;
        assert_eq!(forwards, expected, "forwards under {filter}");
        assert_eq!(backwards, expected, "backwards under {filter}");
        assert_eq!(total, expected.len() as i64, "totalCount under {filter}");
    }
});

db_test!(previous_next_and_position_agree_with_the_connection, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(401, "navigator").await;
    let user = app.scalar_i64("SELECT id FROM users").await;
    let seeded = seed_images(&app, user, 60).await;
    let query = "query($id: ID!, $f: GalleryFilter) { image(id: $id) { previous(filter: $f) { id } next(filter: $f) { id } position(filter: $f) { index total } } }";

    for (filter, keep) in cases(seeded.iter().find_map(|s| s.avatar_id).expect("avatar")).into_iter().take(6) {
        let order: Vec<i64> = newest_first(&seeded).into_iter().filter(|s| keep(s)).map(|s| s.id).collect();
        for (index, id) in order.iter().enumerate() {
            let response = app.gql(Some(&token), query, json!({ "id": global("Image", *id), "f": filter })).await;
            let image = response.data("image");
            let previous = (index > 0).then(|| order[index - 1]);
            let next = order.get(index + 1).copied();
            assert_eq!(
                image["previous"]["id"].as_str().map(|_| image_id(&image["previous"]["id"])),
                previous,
                "{filter}"
            );
            assert_eq!(image["next"]["id"].as_str().map(|_| image_id(&image["next"]["id"])), next, "{filter}");
            assert_eq!(image["position"], json!({ "index": index + 1, "total": order.len() }), "{filter}");
        }
    }
    // An image the filter hides has no position.
    let hidden = seeded.iter().find(|s| !s.favorite).expect("a non-favourite");
    let response =
        app.gql(Some(&token), query, json!({ "id": global("Image", hidden.id), "f": { "favoritesOnly": true } })).await;
    assert!(response.data("image")["position"].is_null());
});

db_test!(stats_equal_direct_counts_and_follow_every_change, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(402, "counter").await;
    let user = app.scalar_i64("SELECT id FROM users").await;
    let seeded = seed_images(&app, user, 90).await;
    let query = "query($f: GalleryFilter) { galleryStats(filter: $f) { total favorites byType { type count } byModel { model count } last30Days creditsSpent lastGeneratedAt } }";
    let stats = |filter: Value| {
        let app = &app;
        let token = token.clone();
        async move { app.gql(Some(&token), query, json!({ "f": filter })).await.data("galleryStats").clone() }
    };

    let all = stats(json!({})).await;
    assert_eq!(all["total"], 90);
    assert_eq!(all["favorites"], seeded.iter().filter(|s| s.favorite).count());
    assert_eq!(
        all["byType"],
        json!([{ "type": "AVATAR", "count": 30 }, { "type": "IMAGEN4", "count": 30 }, { "type": "LOCAL", "count": 30 }])
    );
    assert_eq!(all["byModel"].as_array().expect("models").len(), 3);
    assert_eq!(all["last30Days"], 0, "the seeded images are from 2026-09");
    assert_eq!(all["lastGeneratedAt"], iso(seeded.iter().map(|s| s.created_at).max().expect("max")));
    let avatars = stats(json!({ "types": ["AVATAR"] })).await;
    assert_eq!(avatars["total"], 30);

    // A favourite, a delete and a new image each show at once, although stats are cached.
    let target = seeded.iter().find(|s| !s.favorite).expect("a non-favourite");
    let favorite = "mutation($id: ID!) { setFavorite(imageId: $id, favorite: true) { favorite } }";
    assert_eq!(
        app.gql(Some(&token), favorite, json!({ "id": global("Image", target.id) })).await.data("setFavorite")["favorite"],
        true
    );
    assert_eq!(stats(json!({})).await["favorites"], all["favorites"].as_i64().expect("int") + 1);
    let delete = "mutation($id: ID!) { deleteImage(id: $id) }";
    assert_eq!(
        app.gql(Some(&token), delete, json!({ "id": global("Image", seeded[1].id) })).await.data("deleteImage"),
        true
    );
    assert_eq!(stats(json!({})).await["total"], 89);
    assert_eq!(stats(json!({ "types": ["AVATAR"] })).await["total"], 29);
    let create =
        "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"fresh\", numImages: 2 }) { id } }";
    app.gql(Some(&token), create, json!({})).await.data("createGeneration");
    let counted = crate::support::eventually(|| async { stats(json!({})).await["total"] == 91 });
    assert!(counted.await, "the two new images were not counted");
    let now = stats(json!({})).await;
    assert_eq!(now["last30Days"], 2);
    assert_eq!(now["creditsSpent"], 2);
});

db_test!(favourites_are_idempotent_and_delete_removes_the_file, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(403, "tidy").await;
    let create = "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"to delete\" }) { id } }";
    app.gql(Some(&token), create, json!({})).await.data("createGeneration");
    let edges = crate::support::eventually_found(|| async {
        let edges = app
            .gql(Some(&token), "{ gallery { edges { node { id favorite } } } }", json!({}))
            .await
            .data("gallery")["edges"]
            .clone();
        edges.as_array().is_some_and(|e| !e.is_empty()).then_some(edges)
    });
    let edges = edges.await.expect("the image reached the gallery");
    let id = edges[0]["node"]["id"].clone();
    let set = "mutation($id: ID!, $f: Boolean!) { setFavorite(imageId: $id, favorite: $f) { favorite } }";
    for favorite in [true, true, false, false, true] {
        let response = app.gql(Some(&token), set, json!({ "id": id, "f": favorite })).await;
        assert_eq!(response.data("setFavorite")["favorite"], favorite);
    }
    let key = app.scalar_string("SELECT storage_key FROM images").await;
    let path = app.app.config.data_dir.join("storage/images").join(&key);
    assert!(path.exists(), "{path:?}");

    let deleted = app.gql(Some(&token), "mutation($id: ID!) { deleteImage(id: $id) }", json!({ "id": id })).await;

    assert_eq!(deleted.data("deleteImage"), true);
    assert!(!path.exists(), "the stored file is gone");
    assert_eq!(app.gql(Some(&token), "{ gallery { totalCount } }", json!({})).await.data("gallery")["totalCount"], 0);
    let again = app.gql(Some(&token), "mutation($id: ID!) { deleteImage(id: $id) }", json!({ "id": id })).await;
    assert_eq!(again.error_code(), "NOT_FOUND");
});

db_test!(saved_filters_have_unique_names_and_a_limit, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(404, "organised").await;
    let save = "mutation($n: String!, $f: GalleryFilter!) { saveFilter(input: { name: $n, filter: $f }) { id name filter { types favoritesOnly aspectRatios promptContains } } }";
    let filter =
        json!({ "types": ["AVATAR"], "favoritesOnly": true, "aspectRatios": ["9:16"], "promptContains": "кот" });

    let saved = app.gql(Some(&token), save, json!({ "n": "  Cats  ", "f": filter })).await;
    let saved = saved.data("saveFilter").clone();
    assert_eq!(saved["name"], "Cats");
    assert_eq!(
        saved["filter"],
        json!({ "types": ["AVATAR"], "favoritesOnly": true, "aspectRatios": ["9:16"], "promptContains": "кот" })
    );
    for (name, code) in [("Cats", "BAD_USER_INPUT"), ("", "BAD_USER_INPUT"), (&"x".repeat(65)[..], "BAD_USER_INPUT")] {
        assert_eq!(app.gql(Some(&token), save, json!({ "n": name, "f": {} })).await.error_code(), code, "{name:?}");
    }
    for i in 1..20 {
        app.gql(Some(&token), save, json!({ "n": format!("f{i}"), "f": {} })).await.data("saveFilter");
    }
    assert_eq!(
        app.gql(Some(&token), save, json!({ "n": "one too many", "f": {} })).await.error_code(),
        "BAD_USER_INPUT"
    );
    let list = app.gql(Some(&token), "{ savedFilters { id name } }", json!({})).await;
    assert_eq!(list.data("savedFilters").as_array().expect("list").len(), 20);

    let delete = "mutation($id: ID!) { deleteSavedFilter(id: $id) }";
    assert_eq!(app.gql(Some(&token), delete, json!({ "id": saved["id"] })).await.data("deleteSavedFilter"), true);
    assert_eq!(app.gql(Some(&token), delete, json!({ "id": saved["id"] })).await.error_code(), "NOT_FOUND");
    assert_eq!(
        app.gql(Some(&token), "{ savedFilters { id } }", json!({}))
            .await
            .data("savedFilters")
            .as_array()
            .expect("list")
            .len(),
        19
    );
});

db_test!(bad_gallery_arguments_are_refused, |db: Db| async move {
    let app = spawn_app(db).await;
    let (token, _) = app.sign_in(405, "fussy").await;
    let cases = [
        json!({ "first": 5, "last": 5 }),
        json!({ "after": "x", "before": "y" }),
        json!({ "first": 5, "before": "aW1nOjE6MQ" }),
        json!({ "after": "not-a-cursor" }),
        json!({ "after": "aW1nOm5vcGU" }),
        json!({ "first": 101 }),
        json!({ "first": -1 }),
        json!({ "f": { "createdAfter": iso(BASE_TIME + 10), "createdBefore": iso(BASE_TIME) } }),
        json!({ "f": { "aspectRatios": ["2:1"] } }),
        json!({ "f": { "avatarIds": ["bm9wZQ"] } }),
    ];
    for vars in cases {
        let response = app.gql(Some(&token), PAGE, vars.clone()).await;
        assert_eq!(response.error_code(), "BAD_USER_INPUT", "{vars}: {}", response.body);
    }
});

db_test!(a_page_costs_the_same_sql_statements_for_20_and_100_images, |db: Db| async move {
    let app = spawn_app_with(db, |c| {
        // No background work: only the request's statements are counted.
        c.workers = 0;
        c.job_idle_interval = std::time::Duration::from_secs(3600);
    })
    .await;
    let (token, _) = app.sign_in(406, "bulk").await;
    let user = app.scalar_i64("SELECT id FROM users").await;
    seed_images(&app, user, 120).await;
    let make_generation = "INSERT INTO generations (user_id, model, prompt, aspect_ratio, num_images, status, progress, cost, provider, deadline_at, created_at, updated_at) \
                           VALUES ($1, 'local/sketch', 'g', '1:1', 1, 'COMPLETED', 100, 1, 'local', 0, 0, 0) RETURNING id";
    let db = &app.app.db;
    use sea_orm::ConnectionTrait;
    let row = db
        .query_one_raw(aisha::adapters::db::statement(db, make_generation, [user.into()]))
        .await
        .expect("insert")
        .expect("row");
    let generation: i64 = row.try_get_by_index(0).expect("id");
    db.execute_raw(aisha::adapters::db::statement(db, "UPDATE images SET generation_id = $1", [generation.into()]))
        .await
        .expect("link");
    let query = "query($n: Int!) { gallery(first: $n) { totalCount edges { node { id url width height type favorite generation { id status } } } } }";

    // The first request resolves (and caches) the token; measure the ones after it.
    app.gql(Some(&token), "{ me { id } }", json!({})).await.data("me");
    let mut statements = Vec::new();
    for n in [20, 100] {
        // The fewest of three runs: on a loaded machine a DataLoader's 1 ms window can close
        // between two keys and split one batch in two, which is timing, not a statement per row.
        let mut fewest = u64::MAX;
        for _ in 0..3 {
            let before = app.app.metrics.sql_statements();
            let response = app.gql(Some(&token), query, json!({ "n": n })).await;
            assert_eq!(response.data("gallery")["edges"].as_array().expect("edges").len(), n);
            fewest = fewest.min(app.app.metrics.sql_statements() - before);
        }
        statements.push(fewest);
    }
    assert_eq!(statements[0], statements[1], "statements for 20 and 100 images: {statements:?}");
    // The page, its total count, and the generations with their images: four statements.
    assert_eq!(statements[0], 4, "{statements:?}");
});

db_test!(another_users_ids_are_not_found_anywhere_and_change_nothing, |db: Db| async move {
    let app = spawn_app(db).await;
    let (owner, owner_id) = app.sign_in(410, "owner").await;
    let (intruder, _) = app.sign_in(411, "intruder").await;
    let create = "mutation { createGeneration(input: { model: \"local/sketch\", prompt: \"private\" }) { id } }";
    let generation = app.gql(Some(&owner), create, json!({})).await.data("createGeneration")["id"].clone();
    let image = crate::support::eventually_found(|| async {
        let edges =
            app.gql(Some(&owner), "{ gallery { edges { node { id } } } }", json!({})).await.data("gallery")["edges"]
                .clone();
        edges.get(0).map(|first| first["node"]["id"].clone())
    });
    let image = image.await.expect("the image reached the gallery");
    let save = "mutation { saveFilter(input: { name: \"mine\", filter: { favoritesOnly: true } }) { id } }";
    let filter = app.gql(Some(&owner), save, json!({})).await.data("saveFilter")["id"].clone();
    let transaction = app
        .gql(Some(&owner), "{ me { transactions(first: 1) { edges { node { id } } } } }", json!({}))
        .await
        .data("me")["transactions"]["edges"][0]["node"]["id"]
        .clone();

    let attempts = [
        ("query($id: ID!) { generation(id: $id) { id } }", generation.clone()),
        ("query($id: ID!) { image(id: $id) { id } }", image.clone()),
        ("query($id: ID!) { node(id: $id) { id } }", generation.clone()),
        ("query($id: ID!) { node(id: $id) { id } }", image.clone()),
        ("query($id: ID!) { node(id: $id) { id } }", filter.clone()),
        ("query($id: ID!) { node(id: $id) { id } }", transaction.clone()),
        ("query($id: ID!) { node(id: $id) { id } }", Value::String(owner_id.clone())),
        ("mutation($id: ID!) { cancelGeneration(id: $id) { id } }", generation.clone()),
        ("mutation($id: ID!) { setFavorite(imageId: $id, favorite: true) { id } }", image.clone()),
        ("mutation($id: ID!) { deleteImage(id: $id) }", image.clone()),
        ("mutation($id: ID!) { deleteSavedFilter(id: $id) }", filter.clone()),
    ];
    for (query, id) in attempts {
        let response = app.gql(Some(&intruder), query, json!({ "id": id })).await;
        assert_eq!(response.error_code(), "NOT_FOUND", "{query}: {}", response.body);
    }
    let stats = app
        .gql(Some(&intruder), "{ galleryStats { total } gallery { totalCount } savedFilters { id } }", json!({}))
        .await;
    assert_eq!(
        stats.body["data"],
        json!({ "galleryStats": { "total": 0 }, "gallery": { "totalCount": 0 }, "savedFilters": [] })
    );

    let check =
        "query($i: ID!, $g: ID!) { image(id: $i) { favorite } generation(id: $g) { status } savedFilters { id } }";
    let after = app.gql(Some(&owner), check, json!({ "i": image, "g": generation })).await;
    assert_eq!(after.data("image")["favorite"], false);
    assert_eq!(after.data("generation")["status"], "COMPLETED");
    assert_eq!(after.data("savedFilters").as_array().expect("list").len(), 1);
});
