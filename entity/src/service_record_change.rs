//! One change of a service record: who, when, before, after, why.

use sea_orm::entity::prelude::*;

pub use super::service_record::RecordStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_record_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub record_id: i64,
    pub actor_id: i64,
    pub action: RecordAction,
    pub status_before: RecordStatus,
    pub status_after: RecordStatus,
    pub minutes_before: i32,
    pub minutes_after: i32,
    pub reason: Option<String>,
    pub at: DateTimeUtc,
}

/// What a review did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[graphql(name = "ServiceRecordAction")]
pub enum RecordAction {
    /// Counted the minutes (recorded for on-site-verified records approved automatically too).
    #[sea_orm(string_value = "APPROVE")]
    Approve,
    /// Did not count them.
    #[sea_orm(string_value = "REJECT")]
    Reject,
    /// Changed the minutes.
    #[sea_orm(string_value = "CORRECT")]
    Correct,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
