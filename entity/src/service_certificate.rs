//! A service certificate (志愿服务证明): a snapshot of approved service in a period, issued by an
//! organization, verifiable by its number.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "service_certificate")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique, unguessable certificate number.
    #[sea_orm(unique)]
    pub number: String,
    /// The volunteer.
    pub account_id: i64,
    /// The issuing organization.
    pub organization_id: i64,
    /// Who asked for it.
    pub issued_by: i64,
    pub period_from: Date,
    pub period_to: Date,
    pub legal_name: String,
    pub volunteer_number: String,
    pub id_type: super::identity::IdType,
    pub id_masked: String,
    pub total_minutes: i64,
    /// JSON array of the certified lines by event.
    pub items: String,
    pub issued_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
