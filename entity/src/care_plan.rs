//! A care plan (四方关爱): a person served, from a day, with the tasks of the four parties.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_plan")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub recipient_id: i64,
    /// The recipient's organization (kept here for the staff checks and counts).
    pub organization_id: i64,
    /// First day (city date): the tasks' schedules count from it.
    pub starts_on: Date,
    pub ended_at: Option<DateTimeUtc>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
