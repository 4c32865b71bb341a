//! One change of a service record: who, when, before, after, why.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_record_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub record_id: i64,
    pub actor_id: i64,
    /// `APPROVE`, `REJECT` or `CORRECT`.
    pub action: String,
    pub status_before: String,
    pub status_after: String,
    pub minutes_before: i32,
    pub minutes_after: i32,
    pub reason: Option<String>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
