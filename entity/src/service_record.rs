//! Service time to be approved (志愿服务记录): from a shift's check-in and check-out, or from a
//! completed help request.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_record")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The sign-up it came from (with `shift_id`), or none for a help request.
    #[sea_orm(unique)]
    pub signup_id: Option<i64>,
    /// The help request it came from, or none for a shift.
    #[sea_orm(unique)]
    pub help_request_id: Option<i64>,
    pub account_id: i64,
    pub shift_id: Option<i64>,
    /// Where the service was: the event's or the help request's organization.
    pub organization_id: i64,
    /// The event's or the help request's category.
    pub category: super::charity_event::EventCategory,
    /// When the service began: the shift's start, or the help request's acceptance.
    pub served_at: DateTimeUtc,
    /// Minutes actually served, clipped to the shift's window.
    pub minutes: i32,
    pub status: RecordStatus,
    /// Both ends were verified on site (QR or GEO).
    pub verified: bool,
    /// Needs a human look (e.g. closed automatically).
    pub flagged: bool,
    /// Hundredths of a coin per hour, fixed at the first approval; corrections settle at it.
    pub coin_cents_per_hour: Option<i32>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Status of a service record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[graphql(name = "ServiceRecordStatus")]
pub enum RecordStatus {
    /// Waiting for review.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Counted.
    #[sea_orm(string_value = "APPROVED")]
    Approved,
    /// Not counted.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::shift::Entity",
        from = "Column::ShiftId",
        to = "super::shift::Column::Id"
    )]
    Shift,
}

impl Related<super::shift::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Shift.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
