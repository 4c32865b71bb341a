//! A social worker's assignment to a station or room (issue 20): resident there (驻站社工) or
//! dispatched by an operator organization (外派社工), from `starts_on` to `ends_on` (inclusive,
//! city dates; open-ended when `None`). While it runs, the worker is staff of the station.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "staff_assignment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The social worker.
    pub account_id: i64,
    /// The station or room served.
    pub station_id: i64,
    pub kind: AssignmentKind,
    /// The social organization that sent the worker (required when dispatched).
    pub operator_id: Option<i64>,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub qualification: Option<SocialWorkerLevel>,
    /// Personal data: the professional certificate's number.
    pub certificate_number: Option<String>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// How a social worker serves a station.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AssignmentKind {
    /// Stationed there (驻站社工).
    #[sea_orm(string_value = "RESIDENT")]
    Resident,
    /// Sent by an operator organization for a period (外派社工).
    #[sea_orm(string_value = "DISPATCHED")]
    Dispatched,
}

/// The national social-work qualification (社会工作者职业水平).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SocialWorkerLevel {
    /// 助理社会工作师.
    #[sea_orm(string_value = "ASSISTANT")]
    Assistant,
    /// 社会工作师.
    #[sea_orm(string_value = "INTERMEDIATE")]
    Intermediate,
    /// 高级社会工作师.
    #[sea_orm(string_value = "SENIOR")]
    Senior,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// The certificate number stays out of `{:?}`.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("staff_assignment::Model")
            .field("id", &self.id)
            .field("account_id", &self.account_id)
            .field("station_id", &self.station_id)
            .field("kind", &self.kind)
            .field("operator_id", &self.operator_id)
            .field("starts_on", &self.starts_on)
            .field("ends_on", &self.ends_on)
            .field("qualification", &self.qualification)
            .field("certificate_number", &"[redacted]")
            .finish()
    }
}
