//! Something a service project promised by a date (项目产出), and whether it was met.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "project_deliverable")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub project_id: i64,
    pub title: String,
    /// Due day (city date).
    pub due_on: Date,
    pub status: DeliverableStatus,
    /// What was delivered, or why not.
    pub note: Option<String>,
    pub settled_by: Option<i64>,
    pub settled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

/// Where a deliverable stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum DeliverableStatus {
    /// Not settled yet (未完成); overdue once its day has passed.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Delivered (已达成).
    #[sea_orm(string_value = "MET")]
    Met,
    /// Not delivered (未达成).
    #[sea_orm(string_value = "MISSED")]
    Missed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
