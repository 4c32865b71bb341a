//! A person's real-name identity (实名信息). The ID number is stored only encrypted, with a
//! masked form for display and a keyed digest for uniqueness.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    pub legal_name: String,
    /// `MAINLAND_ID`, `HONG_KONG_MACAO_PERMIT`, `TAIWAN_PERMIT`, `PASSPORT` or
    /// `FOREIGN_PERMANENT_RESIDENT`.
    pub id_type: String,
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

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
