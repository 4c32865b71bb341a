//! Accounts and sessions: register, login, refresh-token rotation, logout, `me`.

pub mod codes;
pub mod domain;
pub mod graphql;
pub mod service;
