//! GraphQL surface of calendar feeds: `Account.calendarFeed` (the account itself only) and
//! `rotateCalendarFeed`. `Shift.calendarUrl` lives with the shift.

use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};

use super::service::{self, FeedState};
use crate::{context::ContextExt, error::AppError};

/// A person's calendar feed: a secret address that calendar apps (Apple Calendar, Google
/// Calendar, Outlook, phones' built-in calendars) subscribe to, listing the shifts the person
/// signed up for — confirmed and waitlisted ones, the recent past, and cancellations (so a
/// subscribed calendar removes them). Anyone holding the address can read the feed: it is
/// shown to its owner only, and `rotateCalendarFeed` replaces it.
pub struct CalendarFeed {
    url: String,
    rotated_at: Option<DateTime<Utc>>,
}

impl CalendarFeed {
    fn new(ctx: &Context<'_>, account_id: i64, feed: FeedState) -> Self {
        let state = ctx.state();
        Self {
            url: service::feed_url(&state.config, &state.calendar, account_id, feed.generation),
            rotated_at: feed.rotated_at,
        }
    }
}

/// A person's calendar feed: a secret address that calendar apps (Apple Calendar, Google
/// Calendar, Outlook, phones' built-in calendars) subscribe to, listing the shifts the person
/// signed up for — confirmed and waitlisted ones, the recent past, and cancellations (so a
/// subscribed calendar removes them). Anyone holding the address can read the feed: it is
/// shown to its owner only, and `rotateCalendarFeed` replaces it.
#[Object]
impl CalendarFeed {
    /// The feed's address (`https://…/calendar/….ics`, an iCalendar file of RFC 5545): the
    /// same every time it is asked for, until `rotateCalendarFeed`. Its last part is the
    /// credential — treat the whole address like a password.
    async fn url(&self) -> &str {
        &self.url
    }

    /// The same address with the `webcal://` scheme, which phones and desktop calendar apps
    /// open as "subscribe to this calendar" (a link to `url` downloads a copy instead).
    async fn webcal_url(&self) -> String {
        let rest = self
            .url
            .strip_prefix("https://")
            .or_else(|| self.url.strip_prefix("http://"))
            .unwrap_or(&self.url);
        format!("webcal://{rest}")
    }

    /// When the address was last replaced by `rotateCalendarFeed`; `null` if never.
    async fn rotated_at(&self) -> Option<DateTime<Utc>> {
        self.rotated_at
    }
}

/// The calendar feed of `account_id`, for `Account.calendarFeed` (the caller is the account
/// itself, checked there).
pub async fn feed_of(ctx: &Context<'_>, account_id: i64) -> Result<CalendarFeed> {
    let feed = service::feed_state(&ctx.state().db, account_id).await?;
    Ok(CalendarFeed::new(ctx, account_id, feed))
}

/// Calendar mutations.
#[derive(Default)]
pub struct CalendarMutation;

#[Object]
impl CalendarMutation {
    /// Replace your calendar feed's address, e.g. after sharing it by mistake: the old address
    /// stops working at once (`404`, as for an address that never existed), and calendars
    /// subscribed to it must subscribe to the new one. Returns the new feed.
    async fn rotate_calendar_feed(&self, ctx: &Context<'_>) -> Result<CalendarFeed> {
        let viewer = ctx.require_account().await?;
        if crate::clients::confined_to().is_some() {
            return Err(AppError::Forbidden(msg!(
                "a person rotates their own calendar feed",
                "日历订阅地址只能由本人重置"
            ))
            .into());
        }
        let account_id = viewer.id;
        let feed = Box::pin(service::rotate(&ctx.state().db, account_id)).await?;
        Ok(CalendarFeed::new(ctx, account_id, feed))
    }
}
