//! Closure of the organization hierarchy: one row per ancestor/descendant pair, including each
//! organization with itself at depth 0.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization_closure")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub ancestor_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub descendant_id: i64,
    pub depth: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::AncestorId",
        to = "super::organization::Column::Id"
    )]
    Ancestor,
    #[sea_orm(
        belongs_to = "super::organization::Entity",
        from = "Column::DescendantId",
        to = "super::organization::Column::Id"
    )]
    Descendant,
}

impl ActiveModelBehavior for ActiveModel {}
