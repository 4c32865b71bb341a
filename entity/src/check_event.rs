//! An arrival or departure on a sign-up, as the phone (or staff) recorded it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "check_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub signup_id: i64,
    pub shift_id: i64,
    /// The volunteer.
    pub account_id: i64,
    /// `CHECK_IN` or `CHECK_OUT`.
    pub kind: String,
    /// `QR`, `GEO` or `MANUAL`.
    pub method: String,
    /// The client's own ID of the event: retries and offline syncs count once.
    pub client_event_id: String,
    /// When it happened, by the client's clock.
    pub occurred_at: DateTimeUtc,
    /// When the server received it.
    pub received_at: DateTimeUtc,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accuracy_meters: Option<f64>,
    /// Who recorded it: the volunteer, or staff for `MANUAL`.
    pub recorded_by: i64,
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
