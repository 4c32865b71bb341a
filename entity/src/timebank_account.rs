//! A time-bank account: a person's, or an organization's issuing account.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "timebank_account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub owner_account_id: Option<i64>,
    pub owner_organization_id: Option<i64>,
    /// Hundredths of a coin; equals the sum of the account's entries.
    pub balance: i64,
    /// Issuing accounts (organizations) may go below zero; people's never.
    pub allow_negative: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
