//! A notification: what a person is told about a change that concerns them (issue 19). Written
//! in the transaction of the change; `(account_id, dedupe)` is unique, so a repeated trigger
//! writes it once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Who is told.
    pub account_id: i64,
    /// What happened.
    pub kind: NotificationKind,
    /// The shift it is about.
    pub shift_id: Option<i64>,
    /// The sign-up it is about.
    pub signup_id: Option<i64>,
    /// What makes it one notification: the kind and the subject (`PROMOTED:signup:12`).
    pub dedupe: String,
    /// When it was written (with the change).
    pub created_at: DateTimeUtc,
    /// When the person marked it read.
    pub read_at: Option<DateTimeUtc>,
}

/// What a notification tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum NotificationKind {
    /// You have a place on a shift.
    #[sea_orm(string_value = "SIGNED_UP")]
    SignedUp,
    /// You are on a shift's waitlist.
    #[sea_orm(string_value = "WAITLISTED")]
    Waitlisted,
    /// A place came free and is yours now.
    #[sea_orm(string_value = "PROMOTED")]
    Promoted,
    /// The organizers cancelled your sign-up.
    #[sea_orm(string_value = "SIGNUP_CANCELLED")]
    SignupCancelled,
    /// The shift you signed up for was cancelled.
    #[sea_orm(string_value = "SHIFT_CANCELLED")]
    ShiftCancelled,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
