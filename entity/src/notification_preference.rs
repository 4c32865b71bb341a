//! A person's choice for one category of notifications on one channel (no row: on).

use sea_orm::entity::prelude::*;

pub use super::notification::{NotificationCategory, NotificationChannel};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_preference")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub category: NotificationCategory,
    #[sea_orm(primary_key, auto_increment = false)]
    pub channel: NotificationChannel,
    pub enabled: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
