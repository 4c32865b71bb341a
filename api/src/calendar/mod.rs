//! Calendars (RFC 5545 iCalendar) for volunteers' phones and desktops.
//!
//! [`token`] makes and checks the secret of a person's feed URL (derived, never stored), and
//! [`ics`] writes iCalendar text.

pub mod ics;
pub mod token;
