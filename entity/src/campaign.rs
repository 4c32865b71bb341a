//! A "Charity Together, Volunteers Together" campaign: goals in hours and money, grouping events.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub title: String,
    pub description: String,
    pub status: CampaignStatus,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub volunteer_hours_goal: Option<i32>,
    pub fundraising_goal_fen: Option<i64>,
    pub cover_image_url: Option<String>,
    /// Set when first published: from then on the public may see it.
    pub published_at: Option<DateTimeUtc>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Fen donated to the campaign (kept with each donation, in its transaction).
    pub raised_fen: i64,
}

/// Where a campaign is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CampaignStatus {
    /// Being prepared; visible to its organizers only.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Open to the public; events may join it.
    #[sea_orm(string_value = "PUBLISHED")]
    Published,
    /// Over; kept for the record.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
    /// Called off.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::OrganizationId",
        to = "super::organization::Column::Id"
    )]
    Organization,
}

impl ActiveModelBehavior for ActiveModel {}
