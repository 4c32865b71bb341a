//! "Charity Together, Volunteers Together" campaigns.

pub mod graphql;
pub mod service;
