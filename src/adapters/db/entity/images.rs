use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "images")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub generation_id: Option<i64>,
    pub avatar_id: Option<i64>,
    pub kind: String,
    pub model: String,
    pub prompt: String,
    /// The prompt folded to lower case (Unicode-aware), for `promptContains`.
    pub prompt_folded: String,
    pub aspect_ratio: String,
    /// The logical bucket (`images` or `photos`).
    pub bucket: String,
    pub storage_key: String,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub byte_size: i64,
    pub sha256: String,
    /// When the user marked it a favourite; NULL when it is not one.
    pub favorited_at: Option<i64>,
    pub telegram_file_id: Option<String>,
    pub created_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
