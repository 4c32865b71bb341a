//! A movement of time coins between two accounts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "timebank_transfer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub from_account_id: i64,
    pub to_account_id: i64,
    /// Hundredths of a coin, positive.
    pub amount: i64,
    /// `SERVICE`, `GIFT`, `REDEEM` or `CORRECTION`.
    pub kind: String,
    pub memo: String,
    pub service_record_id: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
