//! One entry of a community's needs list (需求清单): something the community needs, until it is
//! turned into a help request, an event or a project, or closed.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "community_need")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub title: String,
    pub description: String,
    pub field: super::service_project::ServiceField,
    /// JSON array of normalized skill names.
    pub skills: String,
    /// Where (the organization's place when not given).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// When it is needed (open on either side when `None`).
    pub needed_from: Option<DateTimeUtc>,
    pub needed_until: Option<DateTimeUtc>,
    /// How many people it concerns.
    pub people: i32,
    pub status: NeedStatus,
    pub help_request_id: Option<i64>,
    pub event_id: Option<i64>,
    pub project_id: Option<i64>,
    pub raised_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Where a need stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[graphql(name = "CommunityNeedStatus")]
pub enum NeedStatus {
    /// Waiting for someone to take it up (待对接).
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Turned into a help request, an event or a project (已对接).
    #[sea_orm(string_value = "ADDRESSED")]
    Addressed,
    /// Closed without one (已关闭).
    #[sea_orm(string_value = "CLOSED")]
    Closed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
