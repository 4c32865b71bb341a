//! The volunteer side of an account: number, skills, home area.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_profile")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub account_id: i64,
    pub volunteer_number: String,
    /// JSON array of normalized skill names.
    pub skills: String,
    pub bio: String,
    pub home_latitude: Option<f64>,
    pub home_longitude: Option<f64>,
    /// The volunteer agrees to be proposed for help requests near home.
    pub available_for_dispatch: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// The home location is personal data: kept out of `{:?}`.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("volunteer_profile::Model")
            .field("account_id", &self.account_id)
            .field("volunteer_number", &self.volunteer_number)
            .field("skills", &self.skills)
            .field("home", &"[redacted]")
            .finish()
    }
}
