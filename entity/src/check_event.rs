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
    pub kind: CheckKind,
    pub method: CheckMethod,
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

/// Arrival or departure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[graphql(name = "CheckEventKind")]
pub enum CheckKind {
    /// A check-in.
    #[sea_orm(string_value = "CHECK_IN")]
    #[graphql(name = "CHECK_IN")]
    In,
    /// A check-out.
    #[sea_orm(string_value = "CHECK_OUT")]
    #[graphql(name = "CHECK_OUT")]
    Out,
}

/// How presence was proven.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CheckMethod {
    /// Scanned the kiosk's QR code (or typed its PIN).
    #[sea_orm(string_value = "QR")]
    Qr,
    /// Was within the shift's radius of the event.
    #[sea_orm(string_value = "GEO")]
    Geo,
    /// Recorded by staff.
    #[sea_orm(string_value = "MANUAL")]
    Manual,
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
