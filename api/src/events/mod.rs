//! Charity events: dated, located, in a category, optionally part of a campaign.

pub mod domain;
pub mod graphql;
pub mod service;
