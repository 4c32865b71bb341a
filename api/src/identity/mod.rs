//! Real-name identity (实名信息): a legal name and an ID document whose number is validated,
//! stored encrypted, and only ever shown masked.

pub mod domain;
pub mod graphql;
pub mod service;
pub mod vault;
