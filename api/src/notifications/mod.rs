//! Notifications (issue 19): what a person is told about a change that concerns them.
//!
//! - **Written with the change**: the service that makes a change writes its notification in
//!   its own transaction ([`service::write`]), once per person and subject (a unique key), so a
//!   retried mutation or a repeated trigger tells nobody twice.
//! - **Read in the app**: `me.notifications`, `markNotificationsRead`, and the
//!   `notificationReceived` subscription.
//! - **Delivered beyond the app** by an outbox worker on every replica ([`worker`],
//!   [`outbox`]): SMS for what matters and WeChat mini-program subscribe messages
//!   ([`wechat`]), at least once, once per notification and channel, with retries, dead letters,
//!   quiet hours ([`quiet`]) and the person's preferences ([`prefs`]).
//! - **From the clock** ([`schedule`]): reminders before shifts, missing check-outs and the
//!   staff digest, scheduled from the database.

pub mod graphql;
pub mod outbox;
pub mod prefs;
pub mod quiet;
pub mod schedule;
pub mod service;
pub mod templates;
pub mod texts;
pub mod wechat;
pub mod worker;
