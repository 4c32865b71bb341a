//! Sign-ups: capacity, waitlist, cancellation with promotion, no-shows.

pub mod graphql;
pub mod service;
