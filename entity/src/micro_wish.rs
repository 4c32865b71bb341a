//! A micro-wish (微心愿) of a resident, shown under an alias.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "micro_wish")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub title: String,
    pub story: String,
    pub budget_fen: i64,
    /// How the resident appears (never their name).
    pub beneficiary_alias: String,
    /// The organization's location when posted (for `near`).
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// `OPEN`, `CLAIMED`, `FULFILLED`, `CONFIRMED` or `CANCELLED`. A `CLAIMED` row whose
    /// `claim_expires_at` has passed counts as `OPEN` (upkeep rewrites it).
    pub status: String,
    pub claimed_by: Option<i64>,
    pub claimed_at: Option<DateTimeUtc>,
    pub claim_expires_at: Option<DateTimeUtc>,
    pub fulfilled_at: Option<DateTimeUtc>,
    pub fulfilment_note: Option<String>,
    pub confirmed_at: Option<DateTimeUtc>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
