//! A person's quiet hours and global unsubscribe (no row: quiet 22:00–08:00 China time,
//! subscribed). Minutes are minutes after midnight, China time; both `None`: no quiet hours.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_setting")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    pub quiet_from_minute: Option<i16>,
    pub quiet_until_minute: Option<i16>,
    /// Nothing beyond the app (no SMS, no mini-program message), from the moment it is set.
    pub unsubscribed: bool,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
