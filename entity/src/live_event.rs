//! A change announced to live subscribers on other replicas (PostgreSQL only; ids, not rows).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "live_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub kind: LiveKind,
    pub shift_id: Option<i64>,
    pub event_id: Option<i64>,
    pub signup_id: Option<i64>,
    pub account_id: Option<i64>,
    /// The check event of a `CHECK_IN`, the offer of a `HELP_OFFER`.
    pub ref_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

/// What changed. Readers skip kinds they do not know (a newer replica may write them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum LiveKind {
    /// A shift's capacity or details.
    #[sea_orm(string_value = "SHIFT")]
    Shift,
    /// A sign-up made, changed or cancelled.
    #[sea_orm(string_value = "SIGNUP")]
    Signup,
    /// A volunteer arrived.
    #[sea_orm(string_value = "CHECK_IN")]
    CheckIn,
    /// A help request offered to a volunteer.
    #[sea_orm(string_value = "HELP_OFFER")]
    HelpOffer,
    /// An account was closed: its sessions end.
    #[sea_orm(string_value = "ACCOUNT_CLOSED")]
    AccountClosed,
    /// An account's sessions or roles changed (logout, revoked session, new password, removal
    /// from an organization): its live connections end and must sign in again.
    #[sea_orm(string_value = "ACCESS_CHANGED")]
    AccessChanged,
    /// A notification was written for an account.
    #[sea_orm(string_value = "NOTIFICATION")]
    Notification,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
