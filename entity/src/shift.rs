//! A time slot of an event with a capacity: what volunteers sign up for.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "shift")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_id: i64,
    /// Set for shifts made by a recurring series: one shift per (series, start).
    pub series_key: Option<String>,
    pub title: String,
    pub description: String,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub capacity: i32,
    /// Maintained by conditional updates; `CHECK (confirmed_count <= capacity)`.
    pub confirmed_count: i32,
    pub waitlist_enabled: bool,
    /// Last waitlist ticket handed out (tickets order the waitlist).
    pub waitlist_seq: i64,
    /// JSON array of normalized skill names.
    pub required_skills: String,
    pub check_in_radius_meters: i32,
    /// How many minutes before the start check-in opens.
    pub check_in_opens_minutes: i32,
    pub status: ShiftStatus,
    pub cancel_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Whether a shift still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ShiftStatus {
    /// Takes sign-ups (while its event is published and it has not started).
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Called off; its sign-ups were cancelled.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::charity_event::Entity",
        from = "Column::EventId",
        to = "super::charity_event::Column::Id"
    )]
    Event,
}

impl Related<super::charity_event::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Event.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
