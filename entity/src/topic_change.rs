//! One change of a topic's status: from what, to what, by whom, why, when.

use sea_orm::entity::prelude::*;

use crate::topic::TopicStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "topic_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub topic_id: i64,
    /// `None` for the raising.
    pub from_status: Option<TopicStatus>,
    pub to_status: TopicStatus,
    pub changed_by: i64,
    pub note: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
