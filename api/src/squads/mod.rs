//! Volunteer squads (志愿分队, issue 20 part 2): standing teams of an organization. People apply
//! (a leader approves) or are invited (they accept), stay, leave or are removed; leaders sign
//! several members up for a shift in one call, each seat taken as a single sign-up would be.
//! Members' training records ([`training`]) are what shifts may require.

pub mod graphql;
pub mod service;
pub mod training;
