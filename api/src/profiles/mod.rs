//! Volunteer profiles: number, skills, bio, home location.

pub mod graphql;
pub mod service;
