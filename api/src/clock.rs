//! City time. The city keeps China Standard Time, UTC+8 all year (no daylight saving): "every
//! Tuesday at 09:00" means 09:00 in Suzhou, and printed dates (certificates, exports, identity
//! ages) are the city's.

use chrono::FixedOffset;

/// The city's offset from UTC.
pub fn city_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
}
