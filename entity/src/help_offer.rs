//! A help request offered to one volunteer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "help_offer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub help_request_id: i64,
    pub volunteer_id: i64,
    /// `OPEN`, `ACCEPTED`, `DECLINED` or `CLOSED` (someone else took it, or it was cancelled).
    pub status: String,
    pub offered_by: i64,
    pub offered_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
