//! The words of the events domain: an event's category and where it is in its life, with
//! their stored values. Nothing here reads the database or the configuration.

use async_graphql::Enum;

/// What kind of service an event is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventCategory {
    /// Elderly care (为老服务).
    ElderlyCare,
    /// Children and youth (儿童关爱).
    Children,
    /// Disability support (助残).
    Disability,
    /// Environment (环保).
    Environment,
    /// Community governance (社区治理).
    CommunityGovernance,
    /// Health (健康).
    Health,
    /// Education (教育).
    Education,
    /// Emergency response (应急).
    Emergency,
    /// Anything else.
    Other,
}

impl EventCategory {
    const ALL: [Self; 9] = [
        Self::ElderlyCare,
        Self::Children,
        Self::Disability,
        Self::Environment,
        Self::CommunityGovernance,
        Self::Health,
        Self::Education,
        Self::Emergency,
        Self::Other,
    ];

    /// The stored value.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::ElderlyCare => "ELDERLY_CARE",
            Self::Children => "CHILDREN",
            Self::Disability => "DISABILITY",
            Self::Environment => "ENVIRONMENT",
            Self::CommunityGovernance => "COMMUNITY_GOVERNANCE",
            Self::Health => "HEALTH",
            Self::Education => "EDUCATION",
            Self::Emergency => "EMERGENCY",
            Self::Other => "OTHER",
        }
    }

    /// Read a stored value.
    pub fn from_db(v: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_db() == v)
    }
}

pub use entity::charity_event::EventStatus;
