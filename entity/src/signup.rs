//! A volunteer's sign-up for a shift.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "signup")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub shift_id: i64,
    pub account_id: i64,
    pub status: SignupStatus,
    /// Waitlist order (first come, first served); set only while `WAITLISTED`.
    pub waitlist_ticket: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When a waitlisted sign-up was promoted to `CONFIRMED`.
    pub promoted_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub cancel_reason: Option<String>,
    pub cancelled_by: Option<i64>,
}

/// Where a sign-up stands.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
// Sign-ups are kept as JSON in idempotency records: the same strings as the column.
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SignupStatus {
    /// Has a place.
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    /// Waits for a place, in `waitlistPosition` order.
    #[sea_orm(string_value = "WAITLISTED")]
    Waitlisted,
    /// Cancelled by the volunteer or the organizers.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// Checked in.
    #[sea_orm(string_value = "ATTENDED")]
    Attended,
    /// Did not come.
    #[sea_orm(string_value = "NO_SHOW")]
    NoShow,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::shift::Entity",
        from = "Column::ShiftId",
        to = "super::shift::Column::Id"
    )]
    Shift,
    #[sea_orm(
        belongs_to = "super::account::Entity",
        from = "Column::AccountId",
        to = "super::account::Column::Id"
    )]
    Account,
}

impl Related<super::shift::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Shift.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
