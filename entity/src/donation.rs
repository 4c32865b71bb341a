//! A donation to a charity fund or to a campaign, with its receipt number.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "donation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `TXR-2026-…`, unique, for the donor's records.
    pub receipt_number: String,
    /// Exactly one of `fund_id` and `campaign_id` is set.
    pub fund_id: Option<i64>,
    pub campaign_id: Option<i64>,
    /// Who gave (always kept; hidden from the public when `anonymous`).
    pub account_id: i64,
    pub amount_fen: i64,
    pub donor_name: String,
    pub anonymous: bool,
    pub message: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
