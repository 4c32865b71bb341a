//! A help request offered to one volunteer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "help_offer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub help_request_id: i64,
    pub volunteer_id: i64,
    pub status: OfferStatus,
    pub offered_by: i64,
    pub offered_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
}

/// Where an offer stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OfferStatus {
    /// Waiting for the volunteer.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// The volunteer took the request.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// The volunteer said no.
    #[sea_orm(string_value = "DECLINED")]
    Declined,
    /// Someone else took it, or it was cancelled.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
