//! A change announced to live subscribers on other replicas (PostgreSQL only; ids, not rows).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "live_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// `SHIFT`, `SIGNUP` or `CHECK_IN`.
    pub kind: String,
    pub shift_id: Option<i64>,
    pub event_id: Option<i64>,
    pub signup_id: Option<i64>,
    pub account_id: Option<i64>,
    /// The check event of a `CHECK_IN`.
    pub ref_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
