//! Quiet hours: push messages (SMS, mini-program) wait until the person's quiet hours end,
//! except urgent help offers. Times are the city's (China Standard Time, no daylight saving).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Timelike, Utc};

use crate::clock::city_offset;

/// Default quiet hours: 22:00 to 08:00.
pub const DEFAULT: Quiet = Quiet {
    from: 22 * 60,
    until: 8 * 60,
};

/// Quiet from `from` until `until`, minutes after midnight, city time (may wrap midnight).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quiet {
    /// Start, minutes after midnight.
    pub from: u16,
    /// End, minutes after midnight.
    pub until: u16,
}

impl Quiet {
    /// Quiet hours from stored minutes; `None` when either is missing or out of range, or they
    /// are equal (no quiet time).
    pub fn new(from: Option<i16>, until: Option<i16>) -> Option<Self> {
        let (from, until) = (u16::try_from(from?).ok()?, u16::try_from(until?).ok()?);
        (from < 1440 && until < 1440 && from != until).then_some(Self { from, until })
    }

    fn contains(self, minute: u16) -> bool {
        if self.from < self.until {
            (self.from..self.until).contains(&minute)
        } else {
            minute >= self.from || minute < self.until
        }
    }
}

/// The earliest moment at or after `at` outside `quiet` (`at` itself when not quiet).
pub fn release(at: DateTime<Utc>, quiet: Option<Quiet>) -> DateTime<Utc> {
    let Some(quiet) = quiet else {
        return at;
    };
    let local = at.with_timezone(&city_offset());
    let minute = u16::try_from(local.hour() * 60 + local.minute()).unwrap_or(0);
    if !quiet.contains(minute) {
        return at;
    }
    let end = NaiveTime::from_hms_opt(u32::from(quiet.until / 60), u32::from(quiet.until % 60), 0)
        .unwrap_or(NaiveTime::MIN);
    let day = if minute < quiet.until {
        local.date_naive()
    } else {
        local.date_naive() + Duration::days(1)
    };
    city_offset()
        .from_local_datetime(&day.and_time(end))
        .single()
        .map_or(at, |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn city(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(&format!("{s}+08:00"))
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn night_waits_for_the_morning() {
        let q = Some(DEFAULT);
        assert_eq!(
            release(city("2026-12-06T23:30:00"), q),
            city("2026-12-07T08:00:00")
        );
        assert_eq!(
            release(city("2026-12-07T02:00:00"), q),
            city("2026-12-07T08:00:00")
        );
        assert_eq!(
            release(city("2026-12-06T22:00:00"), q),
            city("2026-12-07T08:00:00")
        );
        // Outside: at once.
        assert_eq!(
            release(city("2026-12-07T08:00:00"), q),
            city("2026-12-07T08:00:00")
        );
        assert_eq!(
            release(city("2026-12-07T21:59:59"), q),
            city("2026-12-07T21:59:59")
        );
        // None: never quiet.
        assert_eq!(
            release(city("2026-12-07T03:00:00"), None),
            city("2026-12-07T03:00:00")
        );
    }

    #[test]
    fn daytime_quiet_hours_do_not_wrap() {
        let q = Quiet::new(Some(12 * 60), Some(14 * 60));
        assert_eq!(
            release(city("2026-12-07T13:00:00"), q),
            city("2026-12-07T14:00:00")
        );
        assert_eq!(
            release(city("2026-12-07T23:00:00"), q),
            city("2026-12-07T23:00:00")
        );
        assert_eq!(Quiet::new(Some(60), Some(60)), None);
        assert_eq!(Quiet::new(Some(1440), Some(60)), None);
        assert_eq!(Quiet::new(None, Some(60)), None);
    }
}
