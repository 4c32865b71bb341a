//! Station staffing (issue 20, part 1): social workers resident at a station or room (驻站社工)
//! or dispatched to it by an operator organization (外派社工) for a period. While an assignment
//! runs, the worker is staff of the station ([`crate::authz::is_staff`]); it ends by itself on
//! its end date.

pub mod graphql;
pub mod service;
