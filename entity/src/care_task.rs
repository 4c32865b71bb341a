//! One party's part of a care plan: who, what (a call or a home visit), how often, and when it
//! is next due.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_task")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub plan_id: i64,
    pub recipient_id: i64,
    pub organization_id: i64,
    pub party: CareParty,
    pub kind: CareTaskKind,
    pub cadence: Cadence,
    /// Who does it.
    pub assignee_id: i64,
    /// Next due day (city date).
    pub next_due_on: Date,
    pub last_done_on: Option<Date>,
    pub created_at: DateTimeUtc,
}

/// The four parties of 四方关爱.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CareParty {
    /// The civil-affairs officer (民政干部).
    #[sea_orm(string_value = "CIVIL_AFFAIRS")]
    CivilAffairs,
    /// The community worker (社区工作者).
    #[sea_orm(string_value = "COMMUNITY_WORKER")]
    CommunityWorker,
    /// The third-party organization's social worker (第三方机构).
    #[sea_orm(string_value = "THIRD_PARTY")]
    ThirdParty,
    /// A volunteer (志愿者).
    #[sea_orm(string_value = "VOLUNTEER")]
    Volunteer,
}

/// What a task is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CareTaskKind {
    /// A phone call (电话问候).
    #[sea_orm(string_value = "PHONE_CALL")]
    PhoneCall,
    /// A home visit (入户探访).
    #[sea_orm(string_value = "HOME_VISIT")]
    HomeVisit,
}

/// How often.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Cadence {
    /// Every week.
    #[sea_orm(string_value = "WEEKLY")]
    Weekly,
    /// Every two weeks.
    #[sea_orm(string_value = "FORTNIGHTLY")]
    Fortnightly,
    /// Every month, on the plan's start day (the month's last day when it has no such day).
    #[sea_orm(string_value = "MONTHLY")]
    Monthly,
    /// Every three months, likewise.
    #[sea_orm(string_value = "QUARTERLY")]
    Quarterly,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
