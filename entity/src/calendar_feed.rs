//! The generation of an account's secret calendar-feed URL. The URL is derived from the account
//! and this number (an HMAC under the server's key), so nothing secret is stored here; rotating
//! the URL increments it. An account without a row is at generation 0.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_feed")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    /// Incremented by every rotation; only the URL of the current one works.
    pub generation: i32,
    /// When the URL was last rotated.
    pub rotated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
