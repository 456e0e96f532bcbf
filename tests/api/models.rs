//! The catalogue's newer image models on the fake FAL: each gets the input its endpoint takes,
//! and its pictures get their own gallery type.

use std::time::Duration;

use serde_json::json;

use crate::db_test;
use crate::support::fake_fal::{FakeFal, Mode};
use crate::support::{Db, spawn_app_with, use_fal};

db_test!(flux_ultra_and_ideogram_get_their_inputs_and_gallery_types, |db: Db| async move {
    let fal = FakeFal::start(Mode::Succeed, Duration::from_millis(50)).await;
    let app = spawn_app_with(db, |c| use_fal(c, &fal)).await;
    let (token, user_id) = app.sign_in(7600, "models").await;
    app.give_credits(&user_id, 100).await;
    let models = app.gql(Some(&token), "{ models { id pricePerImage imageType } }", json!({})).await;
    let models = models.data("models").as_array().expect("a list").clone();
    let find = |id: &str| models.iter().find(|m| m["id"] == id).cloned().unwrap_or_else(|| panic!("{id} on offer"));
    assert_eq!(find("fal-ai/flux-pro/v1.1-ultra")["imageType"], "FLUX");
    assert_eq!(find("fal-ai/ideogram/v3")["imageType"], "IDEOGRAM");
    assert_eq!(find("fal-ai/ideogram/v3")["pricePerImage"], 8);

    for model in ["fal-ai/flux-pro/v1.1-ultra", "fal-ai/ideogram/v3"] {
        let input = json!({ "model": model, "prompt": "a poster saying HELLO", "aspectRatio": "9:16" });
        let id = app.create_generation(&token, input).await;
        app.wait_for_status(&token, &id, &["COMPLETED"]).await;
    }
    let sent = fal.with_submissions(|s| s.iter().map(|s| (s.model.clone(), s.input.clone())).collect::<Vec<_>>());
    let (ultra, ideogram) = (&sent[0], &sent[1]);
    assert_eq!(ultra.0, "fal-ai/flux-pro/v1.1-ultra");
    assert_eq!(ultra.1["aspect_ratio"], "9:16");
    assert_eq!(ultra.1["enable_safety_checker"], true);
    assert!(ultra.1.get("image_size").is_none());
    assert_eq!(ideogram.0, "fal-ai/ideogram/v3");
    assert_eq!(ideogram.1["image_size"], "portrait_16_9");
    assert_eq!(ideogram.1["rendering_speed"], "BALANCED");
    assert!(ideogram.1.get("aspect_ratio").is_none());

    let of_type = "query($t: [ImageType!]!) { gallery(filter: { types: $t }) { totalCount } }";
    for kind in ["FLUX", "IDEOGRAM"] {
        let answer = app.gql(Some(&token), of_type, json!({ "t": [kind] })).await;
        assert_eq!(answer.data("gallery")["totalCount"], 1, "{kind}");
    }
    assert_eq!(app.balance(&token).await, 10 + 100 - 16);
});
