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
    /// How far the server can vouch for it.
    pub evidence: Evidence,
    /// The client's own ID of the event: retries and offline syncs count once.
    pub client_event_id: String,
    /// When it happened, by the client's clock.
    pub occurred_at: DateTimeUtc,
    /// When the server received it.
    pub received_at: DateTimeUtc,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub accuracy_meters: Option<f64>,
    /// How far the phone said it was from the venue (`GEO`), kept when the point is dropped.
    pub distance_meters: Option<f64>,
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

/// How far the server can vouch for a check event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[graphql(name = "CheckEvidence")]
pub enum Evidence {
    /// The kiosk's code, and it reached the server while the code was current.
    #[sea_orm(string_value = "CODE")]
    Code,
    /// A genuine code of the claimed time that reached the server after it expired (an
    /// offline phone's sync, or a photo of the kiosk): never verified, a reviewer decides.
    #[sea_orm(string_value = "LATE_CODE")]
    LateCode,
    /// The phone's location, within the shift's radius. Proof only where the event accepts
    /// location evidence; never approved automatically.
    #[sea_orm(string_value = "LOCATION")]
    Location,
    /// Recorded by staff.
    #[sea_orm(string_value = "STAFF")]
    Staff,
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
