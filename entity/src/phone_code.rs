//! A one-time code sent by SMS to prove a phone number.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "phone_code")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// E.164.
    pub phone: String,
    pub purpose: CodePurpose,
    /// Hex SHA-256 of the code with its row's phone and purpose.
    pub code_digest: String,
    /// Wrong codes tried against it.
    pub attempts: i32,
    /// The client address that asked for it (for the per-address limit).
    pub requested_from: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub consumed_at: Option<DateTimeUtc>,
}

/// What a code proves the number for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[graphql(name = "PhoneCodePurpose")]
pub enum CodePurpose {
    /// Registering an account with the number.
    #[sea_orm(string_value = "REGISTER")]
    Register,
    /// Setting a new password for the number's account.
    #[sea_orm(string_value = "RESET_PASSWORD")]
    ResetPassword,
    /// Moving the signed-in account to this number.
    #[sea_orm(string_value = "CHANGE_PHONE")]
    ChangePhone,
    /// Signing in with the number's password when failed guesses from elsewhere have spent the
    /// number's hourly budget (`login(input: {smsCode})`).
    #[sea_orm(string_value = "LOGIN")]
    Login,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
