//! The WeChat mini-program user (`openid`) an account signed in as, for subscribe messages.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wechat_link")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    /// Personal data: an identifier WeChat gives this mini-program for the person.
    #[sea_orm(unique)]
    pub openid: String,
    pub linked_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("wechat_link::Model")
            .field("account_id", &self.account_id)
            .field("openid", &"[redacted]")
            .finish()
    }
}
