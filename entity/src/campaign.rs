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
    /// `DRAFT`, `PUBLISHED`, `CLOSED` or `CANCELLED`.
    pub status: String,
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
