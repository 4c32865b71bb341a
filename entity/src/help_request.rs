//! A need reported by staff or the hotline (求助), answered by the nearest volunteer.

use sea_orm::entity::prelude::*;

#[derive(Clone, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "help_request")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub organization_id: i64,
    pub title: String,
    /// Personal details of the person helped: staff and the assignee only.
    pub details: String,
    pub category: super::charity_event::EventCategory,
    pub urgency: Urgency,
    /// Exact location: staff and the assignee only.
    pub latitude: f64,
    pub longitude: f64,
    /// JSON array of normalized skill names.
    pub needed_skills: String,
    pub needed_by: Option<DateTimeUtc>,
    pub status: HelpStatus,
    pub reported_by: i64,
    /// The API client (hotline) it came through, if any.
    pub reported_via_client: Option<i64>,
    pub assignee_id: Option<i64>,
    pub reported_at: DateTimeUtc,
    pub dispatched_at: Option<DateTimeUtc>,
    pub accepted_at: Option<DateTimeUtc>,
    /// Seconds from report to acceptance.
    pub response_seconds: Option<i64>,
    pub completed_at: Option<DateTimeUtc>,
    pub completion_note: Option<String>,
    pub minutes_served: Option<i32>,
    pub cancel_reason: Option<String>,
    pub updated_at: DateTimeUtc,
    /// The service project it is part of.
    pub project_id: Option<i64>,
}

/// How soon help is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Urgency {
    /// Whenever someone can.
    #[sea_orm(string_value = "LOW")]
    Low,
    /// Within the day.
    #[sea_orm(string_value = "NORMAL")]
    Normal,
    /// Within hours.
    #[sea_orm(string_value = "HIGH")]
    High,
    /// Now (but call emergency services first when life is at risk).
    #[sea_orm(string_value = "CRITICAL")]
    Critical,
}

/// Where a help request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, async_graphql::Enum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum HelpStatus {
    /// Reported, not offered to anyone yet.
    #[sea_orm(string_value = "REPORTED")]
    Reported,
    /// Offered to one or more volunteers; nobody has accepted.
    #[sea_orm(string_value = "DISPATCHED")]
    Dispatched,
    /// A volunteer took it.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// The volunteer finished it; their service record waits for approval.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// Withdrawn by staff.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

// Details and the exact location are personal data: kept out of `{:?}`.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("help_request::Model")
            .field("id", &self.id)
            .field("organization_id", &self.organization_id)
            .field("status", &self.status)
            .field("assignee_id", &self.assignee_id)
            .field("details", &"[redacted]")
            .finish()
    }
}
