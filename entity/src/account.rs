//! A person who can log in. The phone number is the login and is personal data.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Normalized mainland mobile number: 11 digits, no country code.
    #[sea_orm(unique)]
    pub phone: String,
    /// PHC string of an argon2id hash.
    pub password_hash: String,
    pub display_name: String,
    pub is_system_admin: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::membership::Entity")]
    Membership,
    #[sea_orm(has_many = "super::refresh_token::Entity")]
    RefreshToken,
}

impl Related<super::membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Membership.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

// Personal data and the password hash stay out of `{:?}`, so a stray debug log leaks nothing.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("account::Model")
            .field("id", &self.id)
            .field("phone", &"[redacted]")
            .field("password_hash", &"[redacted]")
            .field("display_name", &self.display_name)
            .field("is_system_admin", &self.is_system_admin)
            .finish()
    }
}
