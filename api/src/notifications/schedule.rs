//! Notifications that come from the clock, not from a change: reminders before confirmed
//! shifts (default 24 h and 2 h, per organization), a nudge after a shift with no check-out,
//! and at 09:00 city time a daily digest to staff of records waiting for approval, and the
//! morning's late care visits (to their assignees, and to the stations' staff).
//!
//! One mark in `scheduler_mark` says how far the schedule has got. Each run takes the moments
//! from the mark to now, writes what fell due in between and moves the mark, in one
//! transaction with the mark locked (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so a second replica
//! skips the round instead of waiting): a restart resumes where the last run stopped (nothing
//! skipped), and a moment is handled once (nothing doubled; the notifications' unique keys
//! would catch a repeat anyway). The first run starts the mark at now.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use entity::{
    charity_event, check_event, membership, micro_wish,
    notification::NotificationKind,
    organization_reminder, scheduler_mark, service_record,
    shift::{self, ShiftStatus},
    signup::{self, SignupStatus},
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, LockBehavior, LockType, OnConflict},
};

use super::service::{Notice, write};
use crate::{AppState, clock::city_offset, error::AppResult};

/// The schedule's mark.
const MARK: &str = "notifications";
/// Reminders before a shift when its organization set none: a day and two hours.
pub const DEFAULT_OFFSETS: [i32; 2] = [24 * 60, 2 * 60];
/// How long after a shift's end a volunteer still checked in is nudged (a few minutes late
/// is not forgetting).
pub const CHECKOUT_GRACE_MINUTES: i64 = 10;
/// How long before a micro-wish claim lapses its claimant is warned.
const CLAIM_LEAD_HOURS: i64 = 24;
/// The staff digest goes out at this hour, city time.
const DIGEST_HOUR: u32 = 9;

/// An organization's reminder offsets, in minutes before the shift.
pub fn parse_offsets(stored: &str) -> Vec<i32> {
    stored
        .split(',')
        .filter_map(|m| m.trim().parse().ok())
        .collect()
}

/// How long before its shifts `organization` reminds volunteers, in minutes, largest first.
pub async fn offsets_of<C: ConnectionTrait>(db: &C, organization: i64) -> AppResult<Vec<i32>> {
    Ok(organization_reminder::Entity::find_by_id(organization)
        .one(db)
        .await?
        .map_or_else(
            || DEFAULT_OFFSETS.to_vec(),
            |r| parse_offsets(&r.offsets_minutes),
        ))
}

/// Set how long before its shifts `organization` reminds volunteers (empty: never). At most
/// five, each 5 minutes to 7 days.
pub async fn set_offsets<C: ConnectionTrait>(
    db: &C,
    organization: i64,
    minutes: &[i32],
) -> AppResult<Vec<i32>> {
    let mut sorted: Vec<i32> = minutes.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    if sorted.len() > 5 || sorted.iter().any(|m| !(5..=7 * 24 * 60).contains(m)) {
        return Err(crate::error::AppError::bad_input(
            "minutesBefore",
            msg!(
                "at most five reminders, each 5 to 10,080 minutes (7 days) before the shift",
                "最多五次提醒，每次在班次开始前 5 至 10080 分钟（7 天）"
            ),
        ));
    }
    let stored = sorted
        .iter()
        .map(i32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    organization_reminder::Entity::insert(organization_reminder::ActiveModel {
        organization_id: Set(organization),
        offsets_minutes: Set(stored),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(organization_reminder::Column::OrganizationId)
            .update_columns([
                organization_reminder::Column::OffsetsMinutes,
                organization_reminder::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(sorted)
}

/// Run the schedule up to `now`; returns how many notifications it wrote.
pub async fn run(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    // The first run starts here: nothing before the schedule existed is sent.
    scheduler_mark::Entity::insert(scheduler_mark::ActiveModel {
        name: Set(MARK.to_owned()),
        until: Set(now),
    })
    .on_conflict(
        OnConflict::column(scheduler_mark::Column::Name)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    // Read what fell due without holding the write lock (SQLite has one writer)...
    let Some(mark) = scheduler_mark::Entity::find_by_id(MARK.to_owned())
        .one(&state.db)
        .await?
    else {
        return Ok(0);
    };
    let from = mark.until;
    if now <= from {
        return Ok(0);
    }
    let mut notices = reminders(&state.db, from, now).await?;
    notices.extend(missing_checkouts(&state.db, from, now).await?);
    notices.extend(digests(&state.db, from, now).await?);
    notices.extend(lapsing_claims(&state.db, from, now).await?);
    notices.extend(overdue_care(&state.db, from, now).await?);
    // ... then write it and move the mark, if the mark is still where it was read: another
    // replica that got there first has written the same, and this run leaves it be.
    let txn = crate::db::begin_write(&state.db).await?;
    let locked = scheduler_mark::Entity::find_by_id(MARK.to_owned())
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .one(&txn)
        .await?;
    if locked.is_none_or(|m| m.until != from) {
        txn.rollback().await?;
        return Ok(0);
    }
    let accounts: BTreeSet<i64> = notices.iter().map(|n| n.account_id).collect();
    let n = notices.len();
    write(&txn, notices).await?;
    scheduler_mark::Entity::update_many()
        .col_expr(scheduler_mark::Column::Until, Expr::value(now))
        .filter(scheduler_mark::Column::Name.eq(MARK))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    state.live.publish_all(
        &state.db,
        accounts
            .into_iter()
            .map(|account_id| crate::live::Change::Notification { account_id })
            .collect(),
    );
    Ok(n)
}

/// Reminders whose moment (start − offset) fell in `(from, to]`, for shifts not yet begun.
async fn reminders<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Notice>> {
    let custom: HashMap<i64, Vec<i32>> = organization_reminder::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.organization_id, parse_offsets(&r.offsets_minutes)))
        .collect();
    let offsets: BTreeSet<i32> = DEFAULT_OFFSETS
        .into_iter()
        .chain(custom.values().flatten().copied())
        .collect();
    let mut notices = Vec::new();
    for offset in offsets {
        let before = Duration::minutes(i64::from(offset));
        let shifts: Vec<(shift::Model, Option<charity_event::Model>)> = shift::Entity::find()
            .find_also_related(charity_event::Entity)
            .filter(shift::Column::StartsAt.gt(from + before))
            .filter(shift::Column::StartsAt.lte(to + before))
            .filter(shift::Column::StartsAt.gt(to))
            .filter(shift::Column::Status.eq(ShiftStatus::Open))
            .filter(charity_event::Column::Status.eq(charity_event::EventStatus::Published))
            .all(db)
            .await?;
        let due: HashMap<i64, (DateTime<Utc>, DateTime<Utc>)> = shifts
            .into_iter()
            .filter_map(|(s, e)| {
                let e = e?;
                let wanted = custom
                    .get(&e.organization_id)
                    .map_or(DEFAULT_OFFSETS.contains(&offset), |o| o.contains(&offset));
                wanted.then_some((s.id, (s.starts_at - before, s.starts_at)))
            })
            .collect();
        if due.is_empty() {
            continue;
        }
        for s in signup::Entity::find()
            .filter(signup::Column::ShiftId.is_in(due.keys().copied()))
            .filter(signup::Column::Status.eq(SignupStatus::Confirmed))
            .all(db)
            .await?
        {
            // Whoever signed up after the moment knows already. The key names the start: a
            // shift moved after its reminder is reminded again for the new time.
            if let Some((moment, starts)) = due.get(&s.shift_id)
                && s.created_at < *moment
            {
                notices.push(
                    Notice::signup(NotificationKind::ShiftReminder, &s)
                        .on(format!("{offset}@{}", starts.timestamp())),
                );
            }
        }
    }
    Ok(notices)
}

/// A nudge to each volunteer still checked in [`CHECKOUT_GRACE_MINUTES`] after their shift
/// ended, when that moment fell in `(from, to]`.
async fn missing_checkouts<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Notice>> {
    let grace = Duration::minutes(CHECKOUT_GRACE_MINUTES);
    let ended: Vec<i64> = shift::Entity::find()
        .select_only()
        .column(shift::Column::Id)
        .filter(shift::Column::EndsAt.gt(from - grace))
        .filter(shift::Column::EndsAt.lte(to - grace))
        .into_tuple()
        .all(db)
        .await?;
    if ended.is_empty() {
        return Ok(Vec::new());
    }
    let events = check_event::Entity::find()
        .filter(check_event::Column::ShiftId.is_in(ended))
        .all(db)
        .await?;
    let out: HashSet<i64> = events
        .iter()
        .filter(|e| e.kind == check_event::CheckKind::Out)
        .map(|e| e.signup_id)
        .collect();
    let ins: Vec<&check_event::Model> = events
        .iter()
        .filter(|e| e.kind == check_event::CheckKind::In && !out.contains(&e.signup_id))
        .collect();
    let recorded: HashSet<i64> = if ins.is_empty() {
        HashSet::new()
    } else {
        service_record::Entity::find()
            .select_only()
            .column(service_record::Column::SignupId)
            .filter(service_record::Column::SignupId.is_in(ins.iter().map(|e| e.signup_id)))
            .into_tuple::<Option<i64>>()
            .all(db)
            .await?
            .into_iter()
            .flatten()
            .collect()
    };
    let mut seen = HashSet::new();
    Ok(ins
        .into_iter()
        .filter(|e| !recorded.contains(&e.signup_id) && seen.insert(e.signup_id))
        .map(|e| {
            Notice::signup_of(
                NotificationKind::CheckoutMissing,
                e.account_id,
                e.shift_id,
                e.signup_id,
            )
        })
        .collect())
}

/// A day before a micro-wish claim lapses (the moment in `(from, to]`), its claimant hears
/// of it: fulfil it or let it go.
async fn lapsing_claims<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Notice>> {
    let lead = Duration::hours(CLAIM_LEAD_HOURS);
    let wishes = micro_wish::Entity::find()
        .filter(micro_wish::Column::Status.eq(micro_wish::WishStatus::Claimed))
        .filter(micro_wish::Column::ClaimExpiresAt.gt(from + lead))
        .filter(micro_wish::Column::ClaimExpiresAt.lte(to + lead))
        .all(db)
        .await?;
    Ok(wishes
        .into_iter()
        .filter_map(|w| {
            let (by, at, until) = (w.claimed_by?, w.claimed_at?, w.claim_expires_at?);
            // A claim shorter than the lead gets no warning: it was made knowing its end.
            (at < until - lead).then(|| {
                Notice::subject(NotificationKind::WishClaimLapsing, by, w.id).on(at.timestamp())
            })
        })
        .collect())
}

/// The staff digest, when 09:00 city time fell in `(from, to]`: each admin and organizer of an
/// organization with records waiting for approval hears of it once that day.
async fn digests<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Notice>> {
    let Some(day) = digest_moment(from, to) else {
        return Ok(Vec::new());
    };
    let waiting: Vec<i64> = service_record::Entity::find()
        .select_only()
        .column(service_record::Column::OrganizationId)
        .filter(service_record::Column::Status.eq(service_record::RecordStatus::Pending))
        .distinct()
        .into_tuple()
        .all(db)
        .await?;
    if waiting.is_empty() {
        return Ok(Vec::new());
    }
    let staff = membership::Entity::find()
        .filter(membership::Column::OrganizationId.is_in(waiting))
        .filter(membership::Column::Role.is_in([
            membership::MemberRole::Admin,
            membership::MemberRole::Organizer,
        ]))
        .all(db)
        .await?;
    Ok(staff
        .into_iter()
        .map(|m| {
            Notice::subject(
                NotificationKind::RecordsAwaitingReview,
                m.account_id,
                m.organization_id,
            )
            .on(day)
        })
        .collect())
}

/// Late care visits, when 09:00 city time fell in `(from, to]`: each assignee of a task of a
/// running plan past its day hears of it once per missed day, and the staff of each station
/// with late visits once that morning.
async fn overdue_care<C: ConnectionTrait>(
    db: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<Notice>> {
    use entity::{care_plan, care_task};
    let Some(day) = digest_moment(from, to) else {
        return Ok(Vec::new());
    };
    let late = care_task::Entity::find()
        .filter(care_task::Column::NextDueOn.lt(day))
        .filter(
            care_task::Column::PlanId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(care_plan::Column::Id)
                    .from(care_plan::Entity)
                    .and_where(care_plan::Column::EndedAt.is_null())
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    let mut notices: Vec<Notice> = late
        .iter()
        .map(|t| {
            Notice::subject(NotificationKind::CareVisitOverdue, t.assignee_id, t.id)
                .on(t.next_due_on)
        })
        .collect();
    let stations: BTreeSet<i64> = late.iter().map(|t| t.organization_id).collect();
    for org in stations {
        for account in crate::care::plans::staff_accounts(db, org).await? {
            notices.push(Notice::subject(NotificationKind::CareTasksOverdue, account, org).on(day));
        }
    }
    Ok(notices)
}

/// The city date whose digest moment (09:00) lies in `(from, to]`, the latest if several.
pub fn digest_moment(from: DateTime<Utc>, to: DateTime<Utc>) -> Option<chrono::NaiveDate> {
    let at = NaiveTime::from_hms_opt(DIGEST_HOUR, 0, 0)?;
    let day = to.with_timezone(&city_offset()).date_naive();
    [day, day.pred_opt()?].into_iter().find(|d| {
        city_offset()
            .from_local_datetime(&d.and_time(at))
            .single()
            .is_some_and(|m| {
                let m = m.with_timezone(&Utc);
                m > from && m <= to
            })
    })
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
    fn the_digest_goes_out_once_a_day_at_nine() {
        let d = |a, b| digest_moment(city(a), city(b)).map(|d| d.to_string());
        assert_eq!(
            d("2026-12-07T08:59:00", "2026-12-07T09:00:00").as_deref(),
            Some("2026-12-07")
        );
        assert_eq!(d("2026-12-07T09:00:00", "2026-12-07T09:01:00"), None);
        assert_eq!(d("2026-12-07T08:00:00", "2026-12-07T08:59:59"), None);
        // A run that spans a night (the server was down): that morning's.
        assert_eq!(
            d("2026-12-06T20:00:00", "2026-12-07T10:00:00").as_deref(),
            Some("2026-12-07")
        );
    }

    #[test]
    fn offsets_read_leniently() {
        assert_eq!(parse_offsets("1440, 120"), vec![1440, 120]);
        assert_eq!(parse_offsets(""), Vec::<i32>::new());
    }
}
