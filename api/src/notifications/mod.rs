//! Notifications (issue 19): what a person is told about a change that concerns them. The
//! change writes its notification in its own transaction ([`service::notify`]), once per
//! person and subject; the person reads them in the app (`me.notifications`) and marks them
//! read. Delivery beyond the app (SMS, mini-program messages, reminders) builds on these rows.

pub mod graphql;
pub mod service;
