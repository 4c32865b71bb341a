//! Help requests and dispatch to the nearest volunteers (就近调动).

pub mod dispatch;
pub mod domain;
pub mod graphql;
pub mod service;
