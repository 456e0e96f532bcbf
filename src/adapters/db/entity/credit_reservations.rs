use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "credit_reservations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub amount: i64,
    /// `HELD`, then exactly one of `CAPTURED` or `RELEASED`.
    pub state: String,
    pub purpose: String,
    pub created_at: i64,
    pub settled_at: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
