//! One access by staff to personal data (reading it, exporting it), or a person's own export
//! or deletion.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub actor_id: i64,
    /// What was done, e.g. `EXPORT_SERVICE_RECORDS`.
    pub action: String,
    /// The organization whose data it was, if any.
    pub organization_id: Option<i64>,
    /// The person whose data it was, if one.
    pub subject_account_id: Option<i64>,
    /// Which object or period (no personal data itself).
    pub detail: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
