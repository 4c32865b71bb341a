//! An evaluator organization's review of a service project (第三方评估).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_review")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    /// The evaluator organization at the time of the review.
    pub evaluator_id: i64,
    /// Who wrote it (a manager of the evaluator).
    pub reviewer_id: i64,
    pub stage: ReviewStage,
    pub grade: ReviewGrade,
    pub comments: String,
    pub reviewed_at: DateTimeUtc,
}

/// When in a project a review is made; one review per stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ReviewStage {
    /// Mid-term evaluation (中期评估).
    #[sea_orm(string_value = "MID_TERM")]
    MidTerm,
    /// Final evaluation at the end (结项评估).
    #[sea_orm(string_value = "FINAL")]
    Final,
}

/// An evaluation's grade (评估等级).
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ReviewGrade {
    /// Excellent (优秀).
    #[sea_orm(string_value = "EXCELLENT")]
    Excellent,
    /// Good (良好).
    #[sea_orm(string_value = "GOOD")]
    Good,
    /// Pass (合格).
    #[sea_orm(string_value = "PASS")]
    Pass,
    /// Fail (不合格).
    #[sea_orm(string_value = "FAIL")]
    Fail,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
