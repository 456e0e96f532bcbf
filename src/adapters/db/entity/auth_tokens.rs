use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "auth_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    /// SHA-256 (hex) of the bearer token; the token itself is never stored.
    pub token_hash: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
