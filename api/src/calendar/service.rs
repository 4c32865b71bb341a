//! Calendar logic, independent of GraphQL and HTTP: feed generations and their rotation, the
//! rows a feed shows, and the iCalendar text of a feed or of one shift.

use chrono::{DateTime, Duration, Utc};
use entity::{
    account, calendar_feed, charity_event as event,
    charity_event::EventStatus,
    organization,
    shift::{self, ShiftStatus},
    signup::{self, SignupStatus},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryResult,
    Set,
    sea_query::{Alias, Expr, OnConflict, Order, Query, SelectStatement},
};

use super::{
    ics::Writer,
    token::{FeedClaim, FeedTokens},
};
use crate::{
    config::Config,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    ids::{self, NodeType},
};

/// How far back a feed reaches: shifts that ended up to this many days ago still show.
pub const PAST_DAYS: i64 = 90;
/// Cancelled sign-ups show (as `STATUS:CANCELLED`, so subscribed calendars drop or strike
/// them) for this many days after the cancellation.
pub const CANCELLED_DAYS: i64 = 30;
/// Most events in one feed: the soonest upcoming first, then the most recent past ones.
pub const MAX_EVENTS: u64 = 500;
/// `SEQUENCE` counts seconds from here (2024-01-01T00:00:00Z) to an event's last change: it
/// rises with every change, and stays within iCalendar's 32-bit INTEGER until 2092.
const SEQUENCE_EPOCH: i64 = 1_704_067_200;
/// How often subscribed calendars are asked to fetch the feed again.
const REFRESH: &str = "PT1H";
/// The calendar's name in subscribers' apps.
const CALENDAR_NAME: &str = "同行志愿服务";
/// `PRODID` of everything written here.
const PRODID: &str = "-//Tongxing//Volunteer shifts//ZH";

/// An account's feed: which generation of its URL is current, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedState {
    /// The current generation (0 until the first rotation).
    pub generation: u32,
    /// When the URL was last rotated; `None` if never.
    pub rotated_at: Option<DateTime<Utc>>,
}

/// The feed state of `account_id`.
pub async fn feed_state<C: ConnectionTrait>(db: &C, account_id: i64) -> AppResult<FeedState> {
    Ok(calendar_feed::Entity::find_by_id(account_id)
        .one(db)
        .await?
        .map_or(
            FeedState {
                generation: 0,
                rotated_at: None,
            },
            |row| FeedState {
                generation: u32::try_from(row.generation).unwrap_or(0),
                rotated_at: Some(row.rotated_at),
            },
        ))
}

/// Replace the account's feed URL: the generation goes up by one (one conditional statement,
/// so concurrent rotations each count), and every URL made before stops working.
#[tracing::instrument(skip_all, fields(account_id))]
pub async fn rotate(db: &DatabaseConnection, account_id: i64) -> AppResult<FeedState> {
    use sea_orm::sea_query::ExprTrait as _;
    let txn = begin_write(db).await?;
    calendar_feed::Entity::insert(calendar_feed::ActiveModel {
        account_id: Set(account_id),
        generation: Set(1),
        rotated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(calendar_feed::Column::AccountId)
            .value(
                calendar_feed::Column::Generation,
                Expr::col((calendar_feed::Entity, calendar_feed::Column::Generation)).add(1),
            )
            .update_column(calendar_feed::Column::RotatedAt)
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    let state = feed_state(&txn, account_id).await?;
    txn.commit().await?;
    tracing::info!(generation = state.generation, "calendar feed rotated");
    Ok(state)
}

/// Whether `claim` names the current generation of an account that still exists (a deleted
/// account's feed is gone, whatever its URL).
pub async fn claim_is_current<C: ConnectionTrait>(db: &C, claim: FeedClaim) -> AppResult<bool> {
    use sea_orm::sea_query::ExprTrait as _;
    #[derive(FromQueryResult)]
    struct Row {
        generation: Option<i32>,
    }
    let query = Query::select()
        .expr_as(
            Expr::col((calendar_feed::Entity, calendar_feed::Column::Generation)),
            Alias::new("generation"),
        )
        .from(account::Entity)
        .left_join(
            calendar_feed::Entity,
            Expr::col((calendar_feed::Entity, calendar_feed::Column::AccountId))
                .equals((account::Entity, account::Column::Id)),
        )
        .and_where(Expr::col((account::Entity, account::Column::Id)).eq(claim.account_id))
        .and_where(
            Expr::col((account::Entity, account::Column::PasswordHash))
                .ne(crate::privacy::DELETED_HASH),
        )
        .to_owned();
    let row = Row::find_by_statement(db.get_database_backend().build(&query))
        .one(db)
        .await?;
    Ok(
        row.is_some_and(|r| {
            u32::try_from(r.generation.unwrap_or(0)).ok() == Some(claim.generation)
        }),
    )
}

/// The absolute URL of a feed.
pub fn feed_url(config: &Config, tokens: &FeedTokens, account_id: i64, generation: u32) -> String {
    let token = tokens.issue(FeedClaim {
        account_id,
        generation,
    });
    format!("{}/calendar/{token}.ics", config.public_base_url())
}

/// The absolute URL of one shift's `.ics` file.
pub fn shift_url(config: &Config, shift_id: i64) -> String {
    shift_url_at(&config.public_base_url(), shift_id)
}

fn shift_url_at(base: &str, shift_id: i64) -> String {
    format!(
        "{base}/calendar/shifts/{}.ics",
        ids::encode(NodeType::Shift, shift_id).as_str()
    )
}

/// A shift with what a calendar event says about it: its event's title and place and the
/// organization running it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ShiftRow {
    /// The shift.
    pub shift_id: i64,
    /// Its title.
    pub shift_title: String,
    /// Its description.
    pub shift_description: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Whether it still runs.
    pub shift_status: ShiftStatus,
    /// Why it was called off.
    pub shift_cancel_reason: Option<String>,
    /// Last change of the shift.
    pub shift_updated_at: DateTime<Utc>,
    /// The event's title.
    pub event_title: String,
    /// The event's status.
    pub event_status: EventStatus,
    /// Where.
    pub address: String,
    /// Where, as coordinates.
    pub latitude: f64,
    /// Where, as coordinates.
    pub longitude: f64,
    /// Last change of the event.
    pub event_updated_at: DateTime<Utc>,
    /// The organization running the event.
    pub organization_name: String,
    /// Last change of the organization.
    pub organization_updated_at: DateTime<Utc>,
}

/// One row of a feed: a sign-up of the feed's owner and its shift.
#[derive(Debug, Clone)]
pub struct FeedRow {
    /// The sign-up.
    pub signup_id: i64,
    /// Where it stands.
    pub signup_status: SignupStatus,
    /// Why it was cancelled, in the words of whoever cancelled it.
    pub signup_cancel_reason: Option<String>,
    /// Last change of the sign-up (promotion, cancellation, check-in).
    pub signup_updated_at: DateTime<Utc>,
    /// The shift.
    pub shift: ShiftRow,
}

impl FromQueryResult for FeedRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            signup_id: res.try_get(pre, "signup_id")?,
            signup_status: res.try_get(pre, "signup_status")?,
            signup_cancel_reason: res.try_get(pre, "signup_cancel_reason")?,
            signup_updated_at: res.try_get(pre, "signup_updated_at")?,
            shift: ShiftRow::from_query_result(res, pre)?,
        })
    }
}

/// The columns of [`ShiftRow`], from a statement that joins shift, event and organization.
fn shift_select() -> SelectStatement {
    use sea_orm::sea_query::ExprTrait as _;
    let mut q = Query::select();
    let s = |c: shift::Column| Expr::col((shift::Entity, c));
    let e = |c: event::Column| Expr::col((event::Entity, c));
    let o = |c: organization::Column| Expr::col((organization::Entity, c));
    q.expr_as(s(shift::Column::Id), Alias::new("shift_id"))
        .expr_as(s(shift::Column::Title), Alias::new("shift_title"))
        .expr_as(
            s(shift::Column::Description),
            Alias::new("shift_description"),
        )
        .expr_as(s(shift::Column::StartsAt), Alias::new("starts_at"))
        .expr_as(s(shift::Column::EndsAt), Alias::new("ends_at"))
        .expr_as(s(shift::Column::Status), Alias::new("shift_status"))
        .expr_as(
            s(shift::Column::CancelReason),
            Alias::new("shift_cancel_reason"),
        )
        .expr_as(s(shift::Column::UpdatedAt), Alias::new("shift_updated_at"))
        .expr_as(e(event::Column::Title), Alias::new("event_title"))
        .expr_as(e(event::Column::Status), Alias::new("event_status"))
        .expr_as(e(event::Column::Address), Alias::new("address"))
        .expr_as(e(event::Column::Latitude), Alias::new("latitude"))
        .expr_as(e(event::Column::Longitude), Alias::new("longitude"))
        .expr_as(e(event::Column::UpdatedAt), Alias::new("event_updated_at"))
        .expr_as(
            o(organization::Column::Name),
            Alias::new("organization_name"),
        )
        .expr_as(
            o(organization::Column::UpdatedAt),
            Alias::new("organization_updated_at"),
        )
        .from(shift::Entity)
        .inner_join(
            event::Entity,
            Expr::col((event::Entity, event::Column::Id))
                .equals((shift::Entity, shift::Column::EventId)),
        )
        .inner_join(
            organization::Entity,
            Expr::col((organization::Entity, organization::Column::Id))
                .equals((event::Entity, event::Column::OrganizationId)),
        );
    q
}

/// What the feed of `account_id` shows at `now`: its sign-ups for shifts that end from
/// [`PAST_DAYS`] ago on — confirmed, waitlisted, attended or missed, and those cancelled in the
/// last [`CANCELLED_DAYS`] unless the person signed up for that shift again — at most
/// [`MAX_EVENTS`], upcoming ones first; in start order. Two statements.
pub async fn feed_rows<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<FeedRow>> {
    use sea_orm::sea_query::ExprTrait as _;
    let base = || {
        let mut q = shift_select();
        let g = |c: signup::Column| Expr::col((signup::Entity, c));
        q.expr_as(g(signup::Column::Id), Alias::new("signup_id"))
            .expr_as(g(signup::Column::Status), Alias::new("signup_status"))
            .expr_as(
                g(signup::Column::CancelReason),
                Alias::new("signup_cancel_reason"),
            )
            .expr_as(
                g(signup::Column::UpdatedAt),
                Alias::new("signup_updated_at"),
            )
            .inner_join(
                signup::Entity,
                Expr::col((signup::Entity, signup::Column::ShiftId))
                    .equals((shift::Entity, shift::Column::Id)),
            )
            .and_where(g(signup::Column::AccountId).eq(account_id))
            .cond_where(
                sea_orm::Condition::any()
                    .add(signup::Column::Status.is_in([
                        SignupStatus::Confirmed,
                        SignupStatus::Waitlisted,
                        SignupStatus::Attended,
                        SignupStatus::NoShow,
                    ]))
                    .add(
                        sea_orm::Condition::all()
                            .add(signup::Column::Status.eq(SignupStatus::Cancelled))
                            .add(
                                signup::Column::CancelledAt
                                    .gte(now - Duration::days(CANCELLED_DAYS)),
                            ),
                    ),
            );
        q
    };
    let backend = db.get_database_backend();
    let ends = || Expr::col((shift::Entity, shift::Column::EndsAt));
    let upcoming = base()
        .and_where(ends().gte(now))
        .order_by((shift::Entity, shift::Column::StartsAt), Order::Asc)
        .order_by((signup::Entity, signup::Column::Id), Order::Asc)
        .limit(MAX_EVENTS)
        .to_owned();
    let mut rows = FeedRow::find_by_statement(backend.build(&upcoming))
        .all(db)
        .await?;
    let room = MAX_EVENTS.saturating_sub(rows.len() as u64);
    if room > 0 {
        let past = base()
            .and_where(ends().lt(now))
            .and_where(ends().gte(now - Duration::days(PAST_DAYS)))
            .order_by((shift::Entity, shift::Column::StartsAt), Order::Desc)
            .order_by((signup::Entity, signup::Column::Id), Order::Desc)
            .limit(room)
            .to_owned();
        rows.extend(
            FeedRow::find_by_statement(backend.build(&past))
                .all(db)
                .await?,
        );
    }
    Ok(latest_per_shift(rows))
}

/// Keep, for each shift, the active sign-up if there is one, else the latest cancelled one,
/// in start order: a person who cancelled and signed up again sees one event, not two.
fn latest_per_shift(mut rows: Vec<FeedRow>) -> Vec<FeedRow> {
    use std::collections::HashMap;
    let mut keep: HashMap<i64, usize> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let better = match keep.get(&r.shift.shift_id) {
            None => true,
            Some(&j) => {
                let (a, b) = (&rows[j], r);
                let rank = |x: &FeedRow| (x.signup_status != SignupStatus::Cancelled, x.signup_id);
                rank(b) > rank(a)
            }
        };
        if better {
            keep.insert(r.shift.shift_id, i);
        }
    }
    let mut index = 0;
    rows.retain(|r| {
        let kept = keep.get(&r.shift.shift_id) == Some(&index);
        index += 1;
        kept
    });
    rows.sort_by_key(|r| (r.shift.starts_at, r.signup_id));
    rows
}

/// The shift `shift_id` if the public may see it (its event was published), with its event
/// and organization.
pub async fn public_shift<C: ConnectionTrait>(
    db: &C,
    shift_id: i64,
) -> AppResult<Option<ShiftRow>> {
    use sea_orm::sea_query::ExprTrait as _;
    let query = shift_select()
        .and_where(Expr::col((shift::Entity, shift::Column::Id)).eq(shift_id))
        .and_where(Expr::col((event::Entity, event::Column::PublishedAt)).is_not_null())
        .to_owned();
    Ok(
        ShiftRow::find_by_statement(db.get_database_backend().build(&query))
            .one(db)
            .await?,
    )
}

/// The whole feed of a genuine token at `now`: `NOT_FOUND` (as for a forged token) when the
/// token's generation is not the account's current one or the account was deleted.
pub async fn feed(
    db: &DatabaseConnection,
    config: &Config,
    claim: FeedClaim,
    now: DateTime<Utc>,
) -> AppResult<String> {
    if !claim_is_current(db, claim).await? {
        return Err(AppError::NotFound(Noun::CalendarFeed));
    }
    let rows = feed_rows(db, claim.account_id, now).await?;
    Ok(render_feed(&rows, &config.public_base_url()))
}

/// A feed's iCalendar text.
pub fn render_feed(rows: &[FeedRow], base: &str) -> String {
    let mut w = Writer::new();
    begin_calendar(&mut w);
    w.text("X-WR-CALNAME", CALENDAR_NAME);
    w.text("NAME", CALENDAR_NAME);
    w.text("X-WR-CALDESC", "你在同行报名的志愿服务班次");
    w.raw("X-WR-TIMEZONE", "Asia/Shanghai");
    w.raw("REFRESH-INTERVAL;VALUE=DURATION", REFRESH);
    w.raw("X-PUBLISHED-TTL", REFRESH);
    for r in rows {
        let (status, word) = match r.signup_status {
            SignupStatus::Confirmed => (Status::Confirmed, "报名已确认"),
            SignupStatus::Waitlisted => (Status::Tentative, "候补中：有空位时自动递补"),
            SignupStatus::Attended => (Status::Confirmed, "已签到"),
            SignupStatus::NoShow => (Status::Confirmed, "未到场"),
            SignupStatus::Cancelled => (Status::Cancelled, "报名已取消"),
        };
        let reason = match r.signup_status {
            SignupStatus::Cancelled => r
                .signup_cancel_reason
                .as_deref()
                .or(r.shift.shift_cancel_reason.as_deref()),
            _ => None,
        };
        write_event(
            &mut w,
            &Event {
                uid: format!("shift-{}-signup-{}@tongxing", r.shift.shift_id, r.signup_id),
                shift: &r.shift,
                status,
                status_word: Some(word),
                reason,
                modified: r.signup_updated_at.max(last_modified(&r.shift)),
                base,
            },
        );
    }
    w.end("VCALENDAR");
    w.finish()
}

/// One shift's iCalendar text, for "add to my calendar": the shift as the public sees it.
pub fn render_shift(row: &ShiftRow, base: &str) -> String {
    let mut w = Writer::new();
    begin_calendar(&mut w);
    let cancelled =
        row.shift_status == ShiftStatus::Cancelled || row.event_status == EventStatus::Cancelled;
    write_event(
        &mut w,
        &Event {
            uid: format!("shift-{}@tongxing", row.shift_id),
            shift: row,
            status: if cancelled {
                Status::Cancelled
            } else {
                Status::Confirmed
            },
            status_word: cancelled.then_some("班次已取消"),
            reason: if cancelled {
                row.shift_cancel_reason.as_deref()
            } else {
                None
            },
            modified: last_modified(row),
            base,
        },
    );
    w.end("VCALENDAR");
    w.finish()
}

fn begin_calendar(w: &mut Writer) {
    w.begin("VCALENDAR");
    w.raw("VERSION", "2.0");
    w.raw("PRODID", PRODID);
    w.raw("CALSCALE", "GREGORIAN");
    w.raw("METHOD", "PUBLISH");
}

/// When anything a calendar event shows of `row` last changed.
fn last_modified(row: &ShiftRow) -> DateTime<Utc> {
    row.shift_updated_at
        .max(row.event_updated_at)
        .max(row.organization_updated_at)
}

/// `STATUS` of a VEVENT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Confirmed,
    Tentative,
    Cancelled,
}

/// What one VEVENT says.
struct Event<'a> {
    uid: String,
    shift: &'a ShiftRow,
    status: Status,
    /// Where the person stands, first line of the description.
    status_word: Option<&'a str>,
    /// Why it was cancelled.
    reason: Option<&'a str>,
    /// Last change of anything shown: `LAST-MODIFIED`, `DTSTAMP` and `SEQUENCE` follow it.
    modified: DateTime<Utc>,
    base: &'a str,
}

fn write_event(w: &mut Writer, e: &Event<'_>) {
    let s = e.shift;
    let title = format!("{} — {}", s.event_title, s.shift_title);
    let summary = match e.status {
        Status::Confirmed => title,
        Status::Tentative => format!("[候补] {title}"),
        Status::Cancelled => format!("[已取消] {title}"),
    };
    let mut description = Vec::new();
    if let Some(word) = e.status_word {
        description.push(word.to_owned());
    }
    if let Some(reason) = e.reason.filter(|r| !r.trim().is_empty()) {
        description.push(format!("取消原因：{reason}"));
    }
    description.push(format!("活动：{}", s.event_title));
    description.push(format!("班次：{}", s.shift_title));
    description.push(format!("主办：{}", s.organization_name));
    description.push(format!("地点：{}", s.address));
    if !s.shift_description.trim().is_empty() {
        description.push(String::new());
        description.push(s.shift_description.clone());
    }
    w.begin("VEVENT");
    w.text("UID", &e.uid);
    // The time this version of the event was made, not the time of the request: the feed's
    // bytes change only when its data does, so `ETag` and `If-None-Match` work.
    w.utc("DTSTAMP", e.modified);
    w.utc("DTSTART", s.starts_at);
    w.utc("DTEND", s.ends_at);
    w.text("SUMMARY", &summary);
    w.text("LOCATION", &s.address);
    if s.latitude.is_finite() && s.longitude.is_finite() {
        w.raw("GEO", &format!("{:.6};{:.6}", s.latitude, s.longitude));
    }
    w.text("DESCRIPTION", &description.join("\n"));
    w.raw("URL", &shift_url_at(e.base, s.shift_id));
    w.raw("SEQUENCE", &sequence(e.modified).to_string());
    w.utc("LAST-MODIFIED", e.modified);
    w.raw(
        "STATUS",
        match e.status {
            Status::Confirmed => "CONFIRMED",
            Status::Tentative => "TENTATIVE",
            Status::Cancelled => "CANCELLED",
        },
    );
    if e.status == Status::Cancelled {
        w.raw("TRANSP", "TRANSPARENT");
    }
    w.end("VEVENT");
}

/// `SEQUENCE` of an event last changed at `modified`: whole seconds since `SEQUENCE_EPOCH`,
/// so it rises with every change a calendar should notice (two changes within one second share
/// a number; a subscribed calendar replaces its copy on every fetch anyway).
pub fn sequence(modified: DateTime<Utc>) -> i32 {
    i32::try_from((modified.timestamp() - SEQUENCE_EPOCH).max(0)).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn shift_row(id: i64) -> ShiftRow {
        ShiftRow {
            shift_id: id,
            shift_title: "助餐".into(),
            shift_description: String::new(),
            starts_at: at("2026-12-09T01:00:00Z"),
            ends_at: at("2026-12-09T03:00:00Z"),
            shift_status: ShiftStatus::Open,
            shift_cancel_reason: None,
            shift_updated_at: at("2026-12-01T00:00:00Z"),
            event_title: "敬老".into(),
            event_status: EventStatus::Published,
            address: "前进西路86号".into(),
            latitude: 31.38,
            longitude: 120.98,
            event_updated_at: at("2026-12-01T00:00:00Z"),
            organization_name: "亭林社工站".into(),
            organization_updated_at: at("2026-11-01T00:00:00Z"),
        }
    }

    fn feed_row(signup_id: i64, shift_id: i64, status: SignupStatus) -> FeedRow {
        FeedRow {
            signup_id,
            signup_status: status,
            signup_cancel_reason: None,
            signup_updated_at: at("2026-12-02T00:00:00Z"),
            shift: shift_row(shift_id),
        }
    }

    #[test]
    fn sequence_rises_with_time_and_stays_an_ical_integer() {
        assert_eq!(sequence(at("2024-01-01T00:00:00Z")), 0);
        assert_eq!(sequence(at("2023-06-01T00:00:00Z")), 0);
        assert!(sequence(at("2026-12-09T00:00:01Z")) > sequence(at("2026-12-09T00:00:00Z")));
        assert_eq!(sequence(at("2100-01-01T00:00:00Z")), i32::MAX);
    }

    #[test]
    fn one_event_per_shift_preferring_the_active_sign_up() {
        use SignupStatus::*;
        let rows = vec![
            feed_row(1, 10, Cancelled),
            feed_row(2, 10, Confirmed),
            feed_row(3, 11, Cancelled),
            feed_row(4, 11, Cancelled),
            feed_row(5, 12, Waitlisted),
        ];
        let kept: Vec<(i64, SignupStatus)> = latest_per_shift(rows)
            .iter()
            .map(|r| (r.signup_id, r.signup_status))
            .collect();
        assert_eq!(kept, vec![(2, Confirmed), (4, Cancelled), (5, Waitlisted)]);
    }

    #[test]
    fn the_same_data_renders_the_same_bytes() {
        let rows = vec![feed_row(2, 10, SignupStatus::Confirmed)];
        let a = render_feed(&rows, "https://api.example.org");
        assert_eq!(a, render_feed(&rows, "https://api.example.org"));
        assert!(a.contains("UID:shift-10-signup-2@tongxing\r\n"));
        assert!(a.contains("DTSTAMP:20261202T000000Z\r\n"), "{a}");
        assert!(a.contains("STATUS:CONFIRMED\r\n"));
        assert!(a.contains("URL:https://api.example.org/calendar/shifts/"));
    }
}
