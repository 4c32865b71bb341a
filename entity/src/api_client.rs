//! A third-party system registered by an organization's staff.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_client")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Public identifier used at `/oauth/token`.
    #[sea_orm(unique)]
    pub client_id: String,
    pub organization_id: i64,
    pub name: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// The staff member who registered it; the client acts with their authority, narrowed to
    /// its organization and scopes.
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
