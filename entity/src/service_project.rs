//! A social-work service project (社工服务项目, issue 20 part 3): run by an operator organization
//! for a station or room, paid from a funding source, over a period of city dates, with
//! deliverables and an evaluator organization's reviews.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_project")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The station or room the project serves (and whose managers own it).
    pub organization_id: i64,
    /// The organization running it (运营机构), usually a social organization.
    pub operator_id: Option<i64>,
    /// The third-party organization evaluating it (第三方评估机构).
    pub evaluator_id: Option<i64>,
    pub title: String,
    pub description: String,
    pub field: ServiceField,
    pub funding: FundingSource,
    /// Budget in fen.
    pub budget_fen: i64,
    pub starts_on: Date,
    /// Last day, inclusive.
    pub ends_on: Date,
    /// Who it is for (目标服务对象), in words.
    pub beneficiaries: String,
    /// How many people it means to reach.
    pub beneficiary_target: i32,
    /// The community need it was started for, if any.
    pub need_id: Option<i64>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// The field of social work a project, service, need or resource belongs to (服务领域).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceField {
    /// Social welfare (社会福利).
    #[sea_orm(string_value = "SOCIAL_WELFARE")]
    SocialWelfare,
    /// Social assistance for people on subsistence allowances and in hardship (社会救助).
    #[sea_orm(string_value = "SOCIAL_ASSISTANCE")]
    SocialAssistance,
    /// Community building and governance (社区建设).
    #[sea_orm(string_value = "COMMUNITY_BUILDING")]
    CommunityBuilding,
    /// Help for children in difficulty (困境儿童帮扶).
    #[sea_orm(string_value = "CHILDREN_IN_DIFFICULTY")]
    ChildrenInDifficulty,
    /// Rehabilitation for people with disabilities (残障康复).
    #[sea_orm(string_value = "DISABILITY_REHABILITATION")]
    DisabilityRehabilitation,
    /// Services for older people (为老服务).
    #[sea_orm(string_value = "ELDERLY_SERVICE")]
    ElderlyService,
    /// Anything else (其他).
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Where a project's money comes from (资金来源).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FundingSource {
    /// Government purchase of services (政府购买服务).
    #[sea_orm(string_value = "GOVERNMENT_PURCHASE")]
    GovernmentPurchase,
    /// The welfare lottery's public-welfare fund (福彩公益金).
    #[sea_orm(string_value = "WELFARE_LOTTERY")]
    WelfareLottery,
    /// A charity fund (慈善基金).
    #[sea_orm(string_value = "CHARITY_FUND")]
    CharityFund,
    /// Joint venture philanthropy (联合创投).
    #[sea_orm(string_value = "JOINT_VENTURE")]
    JointVenture,
    /// Anything else (其他).
    #[sea_orm(string_value = "OTHER")]
    Other,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
