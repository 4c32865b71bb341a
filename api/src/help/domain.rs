//! The words of help requests: where a request stands, how urgent it is, where an offer
//! stands, and the time rules (how long a volunteer must be free, how long the assignee keeps
//! access). Nothing here reads the database.

use chrono::{DateTime, Duration, Utc};
use entity::help_request as request;

pub use entity::help_request::{HelpStatus, Urgency};

pub use entity::help_offer::OfferStatus;

/// Most volunteers one dispatch offers a request to, and most `nearbyVolunteers` returns.
pub const MAX_OFFERS: usize = 50;

/// How far ahead a confirmed shift makes a volunteer busy (less when `neededBy` is sooner).
pub(super) const DEFAULT_WINDOW_HOURS: i64 = 2;

/// How long after completing a request its volunteer still sees the personal details.
pub const ASSIGNEE_ACCESS_AFTER_COMPLETION_DAYS: i64 = 7;

/// Whether the volunteer who took `r` still sees its personal details at `now`: while it is
/// theirs to do, and for a week after they complete it; not once it is cancelled.
pub fn assignee_may_see(r: &request::Model, now: DateTime<Utc>) -> bool {
    match r.status {
        HelpStatus::Accepted => true,
        HelpStatus::Completed => r
            .completed_at
            .is_some_and(|t| now - t <= Duration::days(ASSIGNEE_ACCESS_AFTER_COMPLETION_DAYS)),
        _ => false,
    }
}

/// The time a volunteer must be free to answer `r`: the next two hours, or until `neededBy`
/// when that is sooner. (A shift tomorrow does not stop anyone helping now.)
pub fn busy_window(r: &request::Model, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let soon = now + Duration::hours(DEFAULT_WINDOW_HOURS);
    let end = r
        .needed_by
        .filter(|t| *t > now)
        .map_or(soon, |t| std::cmp::min(t, soon));
    (now, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(needed_by: Option<DateTime<Utc>>) -> request::Model {
        let now = Utc::now();
        request::Model {
            id: 1,
            organization_id: 1,
            title: "t".into(),
            details: String::new(),
            category: entity::charity_event::EventCategory::ElderlyCare,
            urgency: Urgency::Normal,
            latitude: 31.3,
            longitude: 120.6,
            needed_skills: "[]".into(),
            needed_by,
            status: HelpStatus::Reported,
            reported_by: 1,
            reported_via_client: None,
            assignee_id: None,
            reported_at: now,
            dispatched_at: None,
            accepted_at: None,
            response_seconds: None,
            completed_at: None,
            completion_note: None,
            minutes_served: None,
            cancel_reason: None,
            updated_at: now,
            project_id: None,
        }
    }

    #[test]
    fn a_volunteer_must_be_free_for_two_hours_or_until_a_sooner_needed_by() {
        let now = Utc::now();
        assert_eq!(
            busy_window(&row(Some(now + Duration::hours(5))), now),
            (now, now + Duration::hours(2))
        );
        assert_eq!(
            busy_window(&row(Some(now + Duration::minutes(30))), now),
            (now, now + Duration::minutes(30))
        );
        assert_eq!(
            busy_window(&row(None), now),
            (now, now + Duration::hours(2))
        );
        // A past `neededBy` (the request is late) still asks for the next two hours.
        assert_eq!(
            busy_window(&row(Some(now - Duration::hours(1))), now),
            (now, now + Duration::hours(2))
        );
    }

    #[test]
    fn the_assignee_sees_details_while_doing_it_and_a_week_after() {
        let now = Utc::now();
        let mut r = row(None);
        r.assignee_id = Some(2);
        r.status = HelpStatus::Accepted;
        assert!(assignee_may_see(&r, now));
        r.status = HelpStatus::Completed;
        r.completed_at = Some(now - Duration::days(6));
        assert!(assignee_may_see(&r, now));
        r.completed_at = Some(now - Duration::days(8));
        assert!(!assignee_may_see(&r, now));
        r.status = HelpStatus::Cancelled;
        assert!(!assignee_may_see(&r, now));
    }
}
