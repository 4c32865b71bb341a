//! A node of the five-society hierarchy: city center, district center, station, room, and the
//! social organizations and charities attached to any of them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "organization")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub kind: OrganizationKind,
    pub parent_id: Option<i64>,
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Kind of an organization in the five-society hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum OrganizationKind {
    /// The city's social-work guidance center: the root of the hierarchy.
    #[sea_orm(string_value = "CITY_CENTER")]
    CityCenter,
    /// A district (county/city-level) center under the city center.
    #[sea_orm(string_value = "DISTRICT_CENTER")]
    DistrictCenter,
    /// A town or street social-work station (社工站) under a district center.
    #[sea_orm(string_value = "STATION")]
    Station,
    /// A village or community social-work room (社工室) under a station.
    #[sea_orm(string_value = "ROOM")]
    Room,
    /// A social organization attached to any node of the hierarchy.
    #[sea_orm(string_value = "SOCIAL_ORG")]
    SocialOrg,
    /// A charity attached to any node of the hierarchy.
    #[sea_orm(string_value = "CHARITY")]
    Charity,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "Entity",
        from = "Column::ParentId",
        to = "Column::Id",
        on_delete = "Restrict"
    )]
    Parent,
    #[sea_orm(has_many = "super::membership::Entity")]
    Membership,
}

impl Related<super::membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Membership.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
