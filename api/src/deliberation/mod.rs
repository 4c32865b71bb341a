//! Residents' deliberation (议事, issue 21 part 3): topics raised for a community, supported
//! once per person, discussed at meetings, moved through their statuses by the staff with a
//! history, and linked to what paid for them.

pub mod graphql;
pub mod service;
