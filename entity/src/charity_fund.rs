//! A community charity fund (社区慈善基金) of an organization, with its running totals.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "charity_fund")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub name: String,
    pub purpose: String,
    /// Fen available: always `donated_fen - disbursed_fen`, never negative (database checks).
    pub balance_fen: i64,
    pub donated_fen: i64,
    pub disbursed_fen: i64,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    /// The service project it is tagged to: its disbursements count towards it.
    pub project_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
