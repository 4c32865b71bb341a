//! Money paid out of a charity fund to a project, by one of its managers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "disbursement")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub fund_id: i64,
    pub amount_fen: i64,
    /// Why the money went out.
    pub purpose: String,
    /// The project it went to (the funder's reference).
    pub project_ref: String,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    /// The service project the money went to (counted in its progress).
    pub project_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
