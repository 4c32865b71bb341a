//! Recurring shifts: a template and a rule expand into concrete shifts, each keyed by
//! (series key, start) so that sending the same series again creates nothing new.

use async_graphql::Enum;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use entity::{account, shift};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, sea_query::OnConflict,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::service::{ShiftSpec, active_model, check_inside_event, check_numbers};
use crate::{
    clock::city_offset,
    db::begin_write,
    error::{AppError, AppResult},
    events::service as events,
};

/// Most shifts one series may create.
pub const MAX_OCCURRENCES: usize = 366;

/// How often a series repeats.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Frequency {
    /// Every day.
    Daily,
    /// On the given weekdays each week.
    Weekly,
}

/// A day of the week.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DayOfWeek {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl DayOfWeek {
    fn weekday(self) -> Weekday {
        match self {
            Self::Monday => Weekday::Mon,
            Self::Tuesday => Weekday::Tue,
            Self::Wednesday => Weekday::Wed,
            Self::Thursday => Weekday::Thu,
            Self::Friday => Weekday::Fri,
            Self::Saturday => Weekday::Sat,
            Self::Sunday => Weekday::Sun,
        }
    }
}

/// A validated recurrence rule.
#[derive(Debug, Clone, Serialize)]
pub struct Recurrence {
    /// Daily or weekly.
    pub frequency: Frequency,
    /// Weekdays (weekly only; empty means the template's weekday).
    pub by_weekday: Vec<DayOfWeek>,
    /// Last day an occurrence may start on (in city time), or
    pub until: Option<DateTime<Utc>>,
    /// how many occurrences.
    pub count: Option<u32>,
}

/// Start times of the occurrences: the template's start first, then every matching day at the
/// same local time, until `until` or `count` (at most [`MAX_OCCURRENCES`]).
pub fn occurrences(first: DateTime<Utc>, rule: &Recurrence) -> AppResult<Vec<DateTime<Utc>>> {
    match (rule.until, rule.count) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(AppError::bad_input(
                "input.recurrence",
                msg!(
                    "give exactly one of until and count",
                    "请在截止日期和重复次数中选择且只选择一个"
                ),
            ));
        }
        (None, Some(c)) if c == 0 || c as usize > MAX_OCCURRENCES => {
            return Err(AppError::bad_input(
                "input.recurrence.count",
                msg!(
                    "must be between 1 and {MAX_OCCURRENCES}",
                    "重复次数须为 1 至 {MAX_OCCURRENCES}"
                ),
            ));
        }
        _ => {}
    }
    let tz = city_offset();
    let local = first.with_timezone(&tz);
    let time = local.time();
    let mut days: Vec<Weekday> = rule.by_weekday.iter().map(|d| d.weekday()).collect();
    if days.is_empty() {
        days.push(local.weekday());
    }
    let matches = |d: NaiveDate| match rule.frequency {
        Frequency::Daily => true,
        Frequency::Weekly => days.contains(&d.weekday()),
    };
    // With `until`, look for one more than allowed, to tell "exactly the maximum" from "too many".
    let limit = rule.count.map_or(MAX_OCCURRENCES + 1, |c| c as usize);
    let mut out = Vec::new();
    let mut day = local.date_naive();
    // Look at most a little over a year ahead.
    for _ in 0..((MAX_OCCURRENCES + 1) * 7) {
        if out.len() >= limit {
            break;
        }
        if matches(day) {
            let start = tz
                .from_local_datetime(&day.and_time(time))
                .single()
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("ambiguous local time")))?
                .with_timezone(&Utc);
            if let Some(until) = rule.until
                && start > until
            {
                break;
            }
            if start >= first {
                out.push(start);
            }
        }
        day = match day.succ_opt() {
            Some(d) => d,
            None => break,
        };
    }
    if out.len() > MAX_OCCURRENCES {
        return Err(AppError::bad_input(
            "input.recurrence.until",
            msg!(
                "a series makes at most {MAX_OCCURRENCES} shifts",
                "一次最多生成 {MAX_OCCURRENCES} 个班次"
            ),
        ));
    }
    Ok(out)
}

/// Create the shifts of a series; the same request again creates none and returns the same
/// shifts.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, event_id))]
pub async fn create_series(
    db: &DatabaseConnection,
    viewer: &account::Model,
    event_id: i64,
    template: ShiftSpec,
    rule: Recurrence,
) -> AppResult<Vec<shift::Model>> {
    let e = events::get_managed(db, viewer, event_id).await?;
    if !matches!(
        e.status,
        entity::charity_event::EventStatus::Draft | entity::charity_event::EventStatus::Published
    ) {
        let (is, is_zh) = crate::lifecycle::word(&e.status);
        return Err(AppError::Conflict(msg!(
            "the event is {is}; shifts cannot be added",
            "该活动{is_zh}，不能再添加班次"
        )));
    }
    check_numbers(
        Some(template.capacity),
        Some(template.check_in_radius_meters),
    )?;
    check_inside_event(&e, template.starts_at, template.ends_at, "input.template")?;
    let duration: Duration = template.ends_at - template.starts_at;
    let starts = occurrences(template.starts_at, &rule)?;
    for s in &starts {
        check_inside_event(&e, *s, *s + duration, "input.template")?;
    }
    let key = series_key(event_id, &template, &rule)?;
    let rows: Vec<shift::ActiveModel> = starts
        .iter()
        .map(|s| {
            let spec = ShiftSpec {
                starts_at: *s,
                ends_at: *s + duration,
                ..template.clone()
            };
            active_model(event_id, Some(key.clone()), &spec)
        })
        .collect();
    let txn = begin_write(db).await?;
    shift::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([shift::Column::SeriesKey, shift::Column::StartsAt])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let shifts = shift::Entity::find()
        .filter(shift::Column::SeriesKey.eq(key.as_str()))
        .order_by_asc(shift::Column::StartsAt)
        .all(&txn)
        .await?;
    txn.commit().await?;
    Ok(shifts)
}

fn series_key(event_id: i64, template: &ShiftSpec, rule: &Recurrence) -> AppResult<String> {
    let json = serde_json::to_vec(&(event_id, template, rule))
        .map_err(|e| AppError::Internal(e.into()))?;
    let digest = Sha256::digest(&json);
    Ok(digest.iter().take(16).map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn daily_by_count() {
        let first = at("2026-12-01T09:00:00+08:00");
        let rule = Recurrence {
            frequency: Frequency::Daily,
            by_weekday: vec![],
            until: None,
            count: Some(3),
        };
        let got = occurrences(first, &rule).unwrap();
        assert_eq!(
            got,
            vec![
                at("2026-12-01T09:00:00+08:00"),
                at("2026-12-02T09:00:00+08:00"),
                at("2026-12-03T09:00:00+08:00")
            ]
        );
    }

    #[test]
    fn weekly_on_weekdays_in_city_time_until() {
        // 2026-12-01 is a Tuesday. 07:30 in Suzhou is still Monday 23:30 in UTC: weekdays
        // must be the city's, not UTC's.
        let first = at("2026-12-01T07:30:00+08:00");
        let rule = Recurrence {
            frequency: Frequency::Weekly,
            by_weekday: vec![DayOfWeek::Tuesday, DayOfWeek::Saturday],
            until: Some(at("2026-12-12T23:59:00+08:00")),
            count: None,
        };
        let got = occurrences(first, &rule).unwrap();
        assert_eq!(
            got,
            vec![
                at("2026-12-01T07:30:00+08:00"),
                at("2026-12-05T07:30:00+08:00"),
                at("2026-12-08T07:30:00+08:00"),
                at("2026-12-12T07:30:00+08:00"),
            ]
        );
    }

    #[test]
    fn until_allows_exactly_the_maximum() {
        let first = at("2026-01-01T09:00:00+08:00");
        let rule = |until: &str| Recurrence {
            frequency: Frequency::Daily,
            by_weekday: vec![],
            until: Some(at(until)),
            count: None,
        };
        // 2026-01-01 … 2027-01-01 is 366 days.
        assert_eq!(
            occurrences(first, &rule("2027-01-01T09:00:00+08:00"))
                .unwrap()
                .len(),
            366
        );
        assert!(occurrences(first, &rule("2027-01-02T09:00:00+08:00")).is_err());
    }

    #[test]
    fn until_or_count_exactly_once() {
        let first = at("2026-12-01T09:00:00+08:00");
        let both = Recurrence {
            frequency: Frequency::Daily,
            by_weekday: vec![],
            until: Some(first),
            count: Some(2),
        };
        assert!(occurrences(first, &both).is_err());
        let too_many = Recurrence {
            frequency: Frequency::Daily,
            by_weekday: vec![],
            until: None,
            count: Some(1000),
        };
        assert!(occurrences(first, &too_many).is_err());
    }
}
