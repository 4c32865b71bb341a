//! A person served (服务对象) on a station's or room's register (issue 21). Sensitive personal
//! information (PIPL art. 28): everything that identifies the person or says where they live is
//! sealed (AES-256-GCM, the recipient's id as associated data); only what statistics count —
//! age group, categories, status — is in the clear. Erasure drops the sealed part and keeps the
//! counts.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "care_recipient")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The station or room that keeps the record.
    pub organization_id: i64,
    pub age_group: AgeGroup,
    /// Comma-separated categories.
    pub categories: String,
    /// Nonce and ciphertext of the personal part (name, address, place, needs, contacts);
    /// `None` once erased.
    pub sealed: Option<Vec<u8>>,
    pub status: RecipientStatus,
    pub erased_at: Option<DateTimeUtc>,
    pub created_by: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// A person's age group (年龄段).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, async_graphql::Enum,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum AgeGroup {
    /// Under 18 (未成年人): consent comes from a guardian.
    #[sea_orm(string_value = "MINOR")]
    Minor,
    /// 18 to 59.
    #[sea_orm(string_value = "ADULT")]
    Adult,
    /// 60 to 79 (老年人).
    #[sea_orm(string_value = "SENIOR")]
    Senior,
    /// 80 and over (高龄老人).
    #[sea_orm(string_value = "ELDERLY_80_PLUS")]
    Elderly80Plus,
}

/// Where a record stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum RecipientStatus {
    /// On the register.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Erased on request: no personal data left, counted only.
    #[sea_orm(string_value = "ERASED")]
    Erased,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
