//! A consent to keep and use a person's record (知情同意): who gave it, when, to what and how.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_consent")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub recipient_id: i64,
    pub given_by: ConsentGiver,
    /// Sealed name of whoever consented (the guardian's, for a minor); `None` once erased.
    pub sealed_name: Option<Vec<u8>>,
    /// Comma-separated purposes consented to.
    pub purposes: String,
    pub means: ConsentMeans,
    /// The day it was given (city date).
    pub given_on: Date,
    pub recorded_by: i64,
    pub created_at: DateTimeUtc,
    pub withdrawn_at: Option<DateTimeUtc>,
}

/// Who consented.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ConsentGiver {
    /// The person themself (本人).
    #[sea_orm(string_value = "PERSON")]
    Person,
    /// A parent or legal guardian (监护人): required for a minor.
    #[sea_orm(string_value = "GUARDIAN")]
    Guardian,
    /// Someone the person authorized (委托代理人).
    #[sea_orm(string_value = "AGENT")]
    Agent,
}

/// How consent was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ConsentMeans {
    /// A signed form (书面).
    #[sea_orm(string_value = "WRITTEN")]
    Written,
    /// Spoken and recorded (口头并录音).
    #[sea_orm(string_value = "ORAL_RECORDED")]
    OralRecorded,
    /// Electronically, e.g. in a mini program (电子).
    #[sea_orm(string_value = "ELECTRONIC")]
    Electronic,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
