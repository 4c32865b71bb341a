//! Calendars (RFC 5545 iCalendar) for volunteers' phones and desktops:
//! - a per-account secret feed, `GET /calendar/{token}.ics`, that calendar apps subscribe to:
//!   the shifts the person signed up for, with updates and cancellations;
//!   `Account.calendarFeed` shows its owner the address and `rotateCalendarFeed` replaces it;
//! - one shift's file, `GET /calendar/shifts/{id}.ics`, for an "add to my calendar" button
//!   (`Shift.calendarUrl`), open to anyone for shifts the public may see.
//!
//! [`token`] makes and checks the feed's secret (derived, never stored), [`ics`] writes
//! iCalendar text, [`service`] reads what a calendar shows and renders it, [`graphql`] and
//! [`web`] are the thin edges.

pub mod graphql;
pub mod ics;
pub mod service;
pub mod token;
pub mod web;
