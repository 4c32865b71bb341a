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
    /// A `CLAIMED` row whose `claim_expires_at` has passed counts as `OPEN` (upkeep rewrites it).
    pub status: WishStatus,
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

/// Where a wish stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum WishStatus {
    /// Waiting for someone (also a claim that lapsed).
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Someone took it on and has until `claimExpiresAt`.
    #[sea_orm(string_value = "CLAIMED")]
    Claimed,
    /// The claimant says it is done; staff have not confirmed yet.
    #[sea_orm(string_value = "FULFILLED")]
    Fulfilled,
    /// Staff confirmed it was fulfilled.
    #[sea_orm(string_value = "CONFIRMED")]
    Confirmed,
    /// Withdrawn by staff.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
