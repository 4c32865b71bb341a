//! One channel's delivery of a notification (issue 19): unique per (notification, channel),
//! so a notification is sent at most once per channel however often it is planned. A worker
//! claims a due row by moving `next_at` past the end of its lease; a replica that dies
//! mid-send leaves the row due again when the lease ends, so nothing is lost.

use sea_orm::entity::prelude::*;

pub use super::notification::NotificationChannel;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub notification_id: i64,
    /// `SMS` or `WECHAT` (in-app needs no delivery).
    pub channel: NotificationChannel,
    pub status: DeliveryStatus,
    /// Sends tried so far (each claim counts one).
    pub attempts: i32,
    /// When it is due next: the first try, the next retry, or the end of a worker's lease.
    pub next_at: DateTimeUtc,
    /// Why the last try failed (never personal data).
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Where a delivery stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DeliveryStatus {
    /// Waiting to be sent (or being sent, under a lease).
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The provider accepted it.
    #[sea_orm(string_value = "SENT")]
    Sent,
    /// Not sent, and never will be: the person switched the channel off, or has no consent
    /// left for the template.
    #[sea_orm(string_value = "SKIPPED")]
    Skipped,
    /// Given up after the last try, or refused for good by the provider: a dead letter.
    #[sea_orm(string_value = "DEAD")]
    Dead,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::notification::Entity",
        from = "Column::NotificationId",
        to = "super::notification::Column::Id"
    )]
    Notification,
}

impl Related<super::notification::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Notification.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
