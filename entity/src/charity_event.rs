//! A dated charity event at a place, in a category, with shifts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "charity_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub campaign_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub category: EventCategory,
    pub address: String,
    pub latitude: f64,
    pub longitude: f64,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub status: EventStatus,
    pub cancel_reason: Option<String>,
    pub published_at: Option<DateTimeUtc>,
    /// Approve service records verified on site (QR/GEO at both ends) without review.
    pub auto_approve_verified: bool,
    /// A phone's location within a shift's radius counts as proof of presence.
    pub accept_location_evidence: bool,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The service project it is part of.
    pub project_id: Option<i64>,
}

/// What kind of service an event (or a help request, or a service record) is.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventCategory {
    /// Elderly care (为老服务).
    #[sea_orm(string_value = "ELDERLY_CARE")]
    ElderlyCare,
    /// Children and youth (儿童关爱).
    #[sea_orm(string_value = "CHILDREN")]
    Children,
    /// Disability support (助残).
    #[sea_orm(string_value = "DISABILITY")]
    Disability,
    /// Environment (环保).
    #[sea_orm(string_value = "ENVIRONMENT")]
    Environment,
    /// Community governance (社区治理).
    #[sea_orm(string_value = "COMMUNITY_GOVERNANCE")]
    CommunityGovernance,
    /// Health (健康).
    #[sea_orm(string_value = "HEALTH")]
    Health,
    /// Education (教育).
    #[sea_orm(string_value = "EDUCATION")]
    Education,
    /// Emergency response (应急).
    #[sea_orm(string_value = "EMERGENCY")]
    Emergency,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Where an event is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum EventStatus {
    /// Being prepared; visible to its organizers only.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Public; its shifts take sign-ups.
    #[sea_orm(string_value = "PUBLISHED")]
    Published,
    /// Called off; its shifts and sign-ups were cancelled.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// Done.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
    #[sea_orm(
        belongs_to = "super::campaign::Entity",
        from = "Column::CampaignId",
        to = "super::campaign::Column::Id"
    )]
    Campaign,
    #[sea_orm(has_many = "super::shift::Entity")]
    Shift,
}

impl Related<super::shift::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Shift.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
