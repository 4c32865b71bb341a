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
    /// What else it is about, by the kind: the help offer, service record, certificate,
    /// micro-wish or invitation.
    pub subject_id: Option<i64>,
    /// Passes quiet hours (urgent help offers).
    pub urgent: bool,
    /// When its channels were decided (`None`: still in the outbox's queue).
    pub planned_at: Option<DateTimeUtc>,
    /// What makes it one notification: the kind and the subject (`PROMOTED:signup:12`).
    pub dedupe: String,
    /// When it was written (with the change).
    pub created_at: DateTimeUtc,
    /// When the person marked it read.
    pub read_at: Option<DateTimeUtc>,
}

/// What a notification tells.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
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
    /// The time or place of your shift changed.
    #[sea_orm(string_value = "SHIFT_CHANGED")]
    ShiftChanged,
    /// Your shift starts soon.
    #[sea_orm(string_value = "SHIFT_REMINDER")]
    ShiftReminder,
    /// Your shift is over and you have not checked out.
    #[sea_orm(string_value = "CHECKOUT_MISSING")]
    CheckoutMissing,
    /// A help request was offered to you.
    #[sea_orm(string_value = "HELP_OFFERED")]
    HelpOffered,
    /// A help request offered to you was withdrawn (taken by someone else, or closed).
    #[sea_orm(string_value = "HELP_WITHDRAWN")]
    HelpWithdrawn,
    /// Your service hours were approved.
    #[sea_orm(string_value = "RECORD_APPROVED")]
    RecordApproved,
    /// Your service hours were rejected.
    #[sea_orm(string_value = "RECORD_REJECTED")]
    RecordRejected,
    /// Your service hours were corrected.
    #[sea_orm(string_value = "RECORD_CORRECTED")]
    RecordCorrected,
    /// A service certificate was issued to you.
    #[sea_orm(string_value = "CERTIFICATE_ISSUED")]
    CertificateIssued,
    /// Your claim on a micro-wish lapses soon.
    #[sea_orm(string_value = "WISH_CLAIM_LAPSING")]
    WishClaimLapsing,
    /// You were invited to join an organization.
    #[sea_orm(string_value = "INVITED")]
    Invited,
    /// Staff: service records are waiting for your approval (daily digest).
    #[sea_orm(string_value = "RECORDS_AWAITING_REVIEW")]
    RecordsAwaitingReview,
    /// Staff: a care visit marked something as a concern or urgent (关爱预警).
    #[sea_orm(string_value = "CARE_ALERT")]
    CareAlert,
    /// A care call or visit assigned to you is past its day.
    #[sea_orm(string_value = "CARE_VISIT_OVERDUE")]
    CareVisitOverdue,
    /// Staff: care visits of your station are past their day (daily digest).
    #[sea_orm(string_value = "CARE_TASKS_OVERDUE")]
    CareTasksOverdue,
}

/// What a notification is about, for preferences: each kind belongs to one category.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum NotificationCategory {
    /// Your sign-ups: placed, waitlisted, promoted, cancelled by the organizers.
    #[sea_orm(string_value = "SIGNUPS")]
    Signups,
    /// Your shifts changed or were cancelled.
    #[sea_orm(string_value = "SHIFT_CHANGES")]
    ShiftChanges,
    /// Reminders before a shift and about a missing check-out.
    #[sea_orm(string_value = "REMINDERS")]
    Reminders,
    /// Help requests offered to you.
    #[sea_orm(string_value = "HELP")]
    Help,
    /// Your service hours reviewed, and (staff) records waiting for review.
    #[sea_orm(string_value = "RECORDS")]
    Records,
    /// Certificates issued to you.
    #[sea_orm(string_value = "CERTIFICATES")]
    Certificates,
    /// Micro-wishes you claimed.
    #[sea_orm(string_value = "WISHES")]
    Wishes,
    /// Invitations to organizations.
    #[sea_orm(string_value = "INVITATIONS")]
    Invitations,
    /// Care visits (四方关爱): yours past their day, and (staff) alerts and late visits.
    #[sea_orm(string_value = "CARE")]
    Care,
}

/// Where a notification goes.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum NotificationChannel {
    /// In the app: `me.notifications` and the `notificationReceived` subscription.
    #[sea_orm(string_value = "IN_APP")]
    InApp,
    /// A text message to the account's phone.
    #[sea_orm(string_value = "SMS")]
    Sms,
    /// A WeChat mini-program subscribe message.
    #[sea_orm(string_value = "WECHAT")]
    Wechat,
}

impl NotificationKind {
    /// The category preferences switch this kind by.
    pub fn category(self) -> NotificationCategory {
        use NotificationCategory as C;
        match self {
            Self::SignedUp | Self::Waitlisted | Self::Promoted | Self::SignupCancelled => {
                C::Signups
            }
            Self::ShiftCancelled | Self::ShiftChanged => C::ShiftChanges,
            Self::ShiftReminder | Self::CheckoutMissing => C::Reminders,
            Self::HelpOffered | Self::HelpWithdrawn => C::Help,
            Self::RecordApproved
            | Self::RecordRejected
            | Self::RecordCorrected
            | Self::RecordsAwaitingReview => C::Records,
            Self::CertificateIssued => C::Certificates,
            Self::WishClaimLapsing => C::Wishes,
            Self::Invited => C::Invitations,
            Self::CareAlert | Self::CareVisitOverdue | Self::CareTasksOverdue => C::Care,
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
