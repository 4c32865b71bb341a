//! On-site check-in (issue 4, in progress): rotating signed check-in codes, check-in and
//! check-out with QR / GEO / MANUAL proof, and the service records check-outs create.

pub mod code;
pub mod graphql;
pub mod records;
pub mod service;
