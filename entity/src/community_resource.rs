//! One entry of a community's resources list (资源清单): a person, venue, fund or skill the
//! community can call on.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "community_resource")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub kind: ResourceKind,
    pub name: String,
    pub description: String,
    /// Comma-separated service fields it serves.
    pub fields: String,
    /// JSON array of normalized skill names.
    pub skills: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// When it is available (open on either side when `None`).
    pub available_from: Option<DateTimeUtc>,
    pub available_until: Option<DateTimeUtc>,
    /// People it can serve or hold at once, if that matters.
    pub capacity: Option<i32>,
    /// Personal data: how to reach it.
    pub contact: Option<String>,
    /// The person, when it is someone with an account.
    pub account_id: Option<i64>,
    /// The fund, when it is a charity fund.
    pub fund_id: Option<i64>,
    pub active: bool,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// What kind of resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ResourceKind {
    /// A person: a volunteer, a professional, a neighbour (人力).
    #[sea_orm(string_value = "PERSON")]
    Person,
    /// A place to meet or serve in (场地).
    #[sea_orm(string_value = "VENUE")]
    Venue,
    /// Money: a fund or a sponsor (资金).
    #[sea_orm(string_value = "FUND")]
    Fund,
    /// A skill or service offered by an organization or a team (技能).
    #[sea_orm(string_value = "SKILL")]
    Skill,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
