//! A topic residents deliberate (议事议题) for a community: what it is, who raised it, how
//! many support it, where it stands, and what paid for it (微更新/微治理).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topic")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The community (station, room, or any organization of the hierarchy).
    pub organization_id: i64,
    pub title: String,
    pub description: String,
    pub category: TopicCategory,
    /// Photo URLs, one per line.
    pub photo_urls: String,
    pub raised_by: i64,
    pub status: TopicStatus,
    /// How many people support it (kept with each support, in its transaction).
    pub supporters: i32,
    /// The service project that paid for it.
    pub project_id: Option<i64>,
    /// The micro-wish that paid for it.
    pub wish_id: Option<i64>,
    /// The fund disbursement that paid for it.
    pub disbursement_id: Option<i64>,
    /// Hidden by the staff (moderation): off the public lists.
    pub hidden_at: Option<DateTimeUtc>,
    pub hidden_by: Option<i64>,
    pub hidden_reason: Option<HideReason>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// What a topic is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum TopicCategory {
    /// Public spaces and facilities: fitness equipment, benches (公共设施).
    #[sea_orm(string_value = "FACILITIES")]
    Facilities,
    /// Environment and sanitation: rubbish sorting (环境卫生).
    #[sea_orm(string_value = "ENVIRONMENT")]
    Environment,
    /// Safety: an e-bike charging shed, lighting (安全).
    #[sea_orm(string_value = "SAFETY")]
    Safety,
    /// Neighbourhood life: dog-keeping, noise (邻里关系).
    #[sea_orm(string_value = "NEIGHBOURHOOD")]
    Neighbourhood,
    /// Services for residents: elderly meals, childcare (居民服务).
    #[sea_orm(string_value = "SERVICES")]
    Services,
    /// Anything else (其他).
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Where a topic stands: `RAISED → DISCUSSING → RESOLVED → IMPLEMENTED`, or `FOLLOWING_UP`
/// (持续跟进) or `DECLINED` on the way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum TopicStatus {
    /// Raised, not yet taken up (已提出).
    #[sea_orm(string_value = "RAISED")]
    Raised,
    /// Being discussed (议事中).
    #[sea_orm(string_value = "DISCUSSING")]
    Discussing,
    /// Decided (已议定).
    #[sea_orm(string_value = "RESOLVED")]
    Resolved,
    /// Done (已落实).
    #[sea_orm(string_value = "IMPLEMENTED")]
    Implemented,
    /// Followed up over time (持续跟进).
    #[sea_orm(string_value = "FOLLOWING_UP")]
    FollowingUp,
    /// Not taken up (不予采纳).
    #[sea_orm(string_value = "DECLINED")]
    Declined,
}

/// Why the staff hid a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum HideReason {
    /// Not a matter for the community.
    #[sea_orm(string_value = "OFF_TOPIC")]
    OffTopic,
    /// The same as another topic.
    #[sea_orm(string_value = "DUPLICATE")]
    Duplicate,
    /// It names or exposes a person.
    #[sea_orm(string_value = "PERSONAL_DATA")]
    PersonalData,
    /// Abusive or unlawful.
    #[sea_orm(string_value = "ABUSIVE")]
    Abusive,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
