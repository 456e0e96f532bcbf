//! Seeds a user's gallery straight into the database (fast, and every attribute known), so
//! tests can compare what the API returns with what they expect.

use aisha::adapters::db::statement;
use sea_orm::{ConnectionTrait, Value};

use super::TestApp;

#[derive(Clone, Debug)]
pub struct Seeded {
    pub id: i64,
    pub kind: &'static str,
    pub model: &'static str,
    pub prompt: String,
    pub aspect_ratio: &'static str,
    pub favorite: bool,
    pub avatar_id: Option<i64>,
    pub created_at: i64,
}

pub const BASE_TIME: i64 = 1_790_000_000_000_000;
const RATIOS: [&str; 5] = ["1:1", "16:9", "9:16", "3:4", "4:3"];

/// Inserts `n` images for `user_id` with varied attributes; pairs share a `created_at`, so the
/// id decides their order. Returns them as inserted.
pub async fn seed_images(app: &TestApp, user_id: i64, n: usize) -> Vec<Seeded> {
    let db = &app.app.db;
    let mut avatars = Vec::new();
    for name in ["Me", "Style"] {
        let sql = "INSERT INTO avatars (user_id, name, training_type, status, trigger_phrase, created_at, updated_at) \
                   VALUES ($1, $2, 'PORTRAIT', 'READY', 'tok', 0, 0) RETURNING id";
        let row =
            db.query_one_raw(statement(db, sql, [user_id.into(), name.into()])).await.expect("avatar").expect("row");
        avatars.push(row.try_get_by_index::<i64>(0).expect("id"));
    }
    let mut seeded = Vec::with_capacity(n);
    for i in 0..n {
        let (kind, model, avatar_id) = match i % 3 {
            0 => ("IMAGEN4", "fal-ai/imagen4/preview", None),
            1 => ("AVATAR", "fal-ai/flux-lora", Some(avatars[i % 2])),
            _ => ("LOCAL", "local/sketch", None),
        };
        let mut prompt = format!("picture number {i}");
        if i % 7 == 0 {
            prompt.push_str(" with a Кот");
        }
        if i % 5 == 0 {
            prompt.push_str(" and a FOX_100%");
        }
        let image = Seeded {
            id: 0,
            kind,
            model,
            prompt,
            aspect_ratio: RATIOS[i % 5],
            favorite: i % 4 == 0,
            avatar_id,
            created_at: BASE_TIME + (i as i64 / 2) * 1_000_000,
        };
        let sql = "INSERT INTO images (user_id, avatar_id, kind, model, prompt, prompt_folded, aspect_ratio, bucket, storage_key, \
                   content_type, width, height, byte_size, sha256, favorited_at, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, 'images', $8, 'image/png', 64, 64, 100, 'x', $9, $10) RETURNING id";
        let values: Vec<Value> = vec![
            user_id.into(),
            image.avatar_id.into(),
            kind.into(),
            model.into(),
            image.prompt.clone().into(),
            image.prompt.to_lowercase().into(),
            image.aspect_ratio.into(),
            format!("seed/{user_id}/{i}.png").into(),
            image.favorite.then_some(image.created_at).into(),
            image.created_at.into(),
        ];
        let row = db.query_one_raw(statement(db, sql, values)).await.expect("insert").expect("row");
        seeded.push(Seeded { id: row.try_get_by_index(0).expect("id"), ..image });
    }
    seeded
}

/// The seeded images in the gallery's order: newest first, then the higher id.
pub fn newest_first(images: &[Seeded]) -> Vec<Seeded> {
    let mut sorted = images.to_vec();
    sorted.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.id)));
    sorted
}

/// A Stars payment of the first credit package by `user_id`, recorded as the bot records one
/// (`charge` is Telegram's charge id: the same charge again is a redelivery). The credits it
/// bought, and its `TOP_UP` row.
pub async fn pay_stars(app: &TestApp, user_id: i64, charge: &str) -> (i64, aisha::domain::credits::LedgerEntry) {
    let payments = &app.app.services.payments;
    let invoice = payments.create_invoice(user_id, &payments.packages()[0].id).await.expect("an invoice");
    let payment = aisha::domain::payments::StarsPayment {
        telegram_payment_charge_id: charge.into(),
        provider_payment_charge_id: None,
        invoice_payload: invoice.payload,
        currency: "XTR".into(),
        total_amount: invoice.offer.stars,
    };
    let entry = payments.record_stars(user_id, &payment).await.expect("credited");
    (invoice.offer.credits, entry)
}
