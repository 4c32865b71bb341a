//! On-site check-in (issue 4, in progress): rotating signed check-in codes for now.

pub mod code;
pub mod graphql;
