//! A course a shift requires of whoever signs up for it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shift_training")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub shift_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub course: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
