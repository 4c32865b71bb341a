//! A person's place in a squad: applied, invited, active, left or removed; leader or member.
//! One row per (squad, person), moved between states.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "squad_member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub squad_id: i64,
    pub account_id: i64,
    pub role: SquadRole,
    pub status: SquadMemberStatus,
    /// When the person last became active.
    pub joined_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// A member's role in a squad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SquadRole {
    /// Leads the squad (队长): approves, invites, removes, signs members up.
    #[sea_orm(string_value = "LEADER")]
    Leader,
    /// A member (队员).
    #[sea_orm(string_value = "MEMBER")]
    Member,
}

/// Where a person stands with a squad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SquadMemberStatus {
    /// Asked to join; a leader approves.
    #[sea_orm(string_value = "APPLIED")]
    Applied,
    /// Invited by a leader; the person accepts.
    #[sea_orm(string_value = "INVITED")]
    Invited,
    /// A member.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Left of their own accord.
    #[sea_orm(string_value = "LEFT")]
    Left,
    /// Removed by a leader.
    #[sea_orm(string_value = "REMOVED")]
    Removed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
