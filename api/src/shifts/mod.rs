//! Shifts: the time slots of an event that volunteers sign up for, and recurring series.

pub mod graphql;
pub mod series;
pub mod service;
