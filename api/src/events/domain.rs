//! The words of the events domain: an event's category and where it is in its life, with
//! their stored values. Nothing here reads the database or the configuration.

pub use entity::charity_event::{EventCategory, EventStatus};
