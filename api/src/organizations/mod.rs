//! The organization hierarchy and memberships.

pub mod domain;
pub mod graphql;
pub mod service;
