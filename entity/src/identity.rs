//! A person's real-name identity (实名信息). The ID number is stored only encrypted, with a
//! masked form for display and a keyed digest for uniqueness.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    pub legal_name: String,
    pub id_type: IdType,
    /// 12-byte nonce followed by the AES-256-GCM ciphertext of the ID number.
    pub id_ciphertext: Vec<u8>,
    /// The ID number as shown: all but its first 3 and last 4 characters starred.
    pub id_masked: String,
    /// Hex HMAC-SHA256 of type and number under a server key (unique).
    #[sea_orm(unique)]
    pub id_digest: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Kinds of identity document accepted for real-name registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum IdType {
    /// Resident identity card of the mainland (居民身份证): 18 characters with a checksum.
    #[sea_orm(string_value = "MAINLAND_ID")]
    MainlandId,
    /// Mainland travel permit for Hong Kong and Macao residents (港澳居民来往内地通行证).
    #[sea_orm(string_value = "HONG_KONG_MACAO_PERMIT")]
    HongKongMacaoPermit,
    /// Mainland travel permit for Taiwan residents (台湾居民来往大陆通行证).
    #[sea_orm(string_value = "TAIWAN_PERMIT")]
    TaiwanPermit,
    /// Passport.
    #[sea_orm(string_value = "PASSPORT")]
    Passport,
    /// Foreigner's permanent residence ID card (外国人永久居留身份证).
    #[sea_orm(string_value = "FOREIGN_PERMANENT_RESIDENT")]
    ForeignPermanentResident,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
