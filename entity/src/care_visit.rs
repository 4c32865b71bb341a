//! A visit or call made under a care plan: when, by whom, what was observed, and the alert it
//! raised.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_visit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub task_id: i64,
    pub recipient_id: i64,
    pub organization_id: i64,
    pub visitor_id: i64,
    /// The day (city date).
    pub visited_on: Date,
    pub health: Observation,
    pub safety: Observation,
    pub living: Observation,
    pub mood: Observation,
    /// Sealed notes (about the person); `None` once the record is erased.
    pub sealed_notes: Option<Vec<u8>>,
    /// The help request it raised, when something was wrong.
    pub help_request_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// Something was marked as a concern or urgent: an alert to the staff.
    pub alert: bool,
    /// The day the task was due when the visit was logged (`None` before it was kept).
    pub due_on: Option<Date>,
    /// When a staff member handled the alert.
    pub alert_handled_at: Option<DateTimeUtc>,
    /// Who handled it.
    pub alert_handled_by: Option<i64>,
}

/// One point of the visit checklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Observation {
    /// Fine (正常).
    #[sea_orm(string_value = "OK")]
    Ok,
    /// Worth watching (需关注).
    #[sea_orm(string_value = "CONCERN")]
    Concern,
    /// Needs help now (需立即处理): raises a help request.
    #[sea_orm(string_value = "URGENT")]
    Urgent,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
