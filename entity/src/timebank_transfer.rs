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
    pub kind: TransferKind,
    pub memo: String,
    pub service_record_id: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

/// Why coins moved.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(name = "TimeCoinTransferKind")]
pub enum TransferKind {
    /// Pay for approved service.
    #[sea_orm(string_value = "SERVICE")]
    Service,
    /// A gift from one person to another.
    #[sea_orm(string_value = "GIFT")]
    Gift,
    /// Spent at an organization.
    #[sea_orm(string_value = "REDEEM")]
    Redeem,
    /// A correction of service already paid.
    #[sea_orm(string_value = "CORRECTION")]
    Correction,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
