//! One step in a help request's history: reported, dispatched, accepted, completed, cancelled.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "help_request_step")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub help_request_id: i64,
    /// The status the request entered.
    pub step: super::help_request::HelpStatus,
    pub actor_id: Option<i64>,
    pub note: Option<String>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
