//! On-site check-in: rotating signed check-in codes, check-in and check-out with QR / GEO /
//! MANUAL proof and the evidence each gives, limits on PIN guesses, and the service records
//! check-outs create.

pub mod code;
pub mod graphql;
pub mod guesses;
pub mod records;
pub mod service;
