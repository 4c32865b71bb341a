//! Statistics up the hierarchy: the figures a room, station, district or city reports for a
//! period, over the organization and everything below it.
//!
//! Each figure is one aggregate statement whose organization condition is the closure-table
//! subquery ([`authz::in_subtree`]), so a city of thousands of rooms costs the same number of
//! statements as a single room, and the statements run concurrently.

use chrono::{DateTime, Utc};
use entity::{
    charity_event as event, disbursement, donation, help_request as request,
    service_record as record, shift, signup,
};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Func, Query, UnionType},
};

use crate::{
    authz,
    error::{AppError, AppResult},
};

/// Longest period one query covers.
pub const MAX_PERIOD_DAYS: i64 = 3_660;

/// The figures of an organization's subtree over a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Distinct volunteers who took part: a confirmed or attended sign-up for a shift starting
    /// in the period, or a help request accepted in it.
    pub volunteer_count: i64,
    /// Distinct volunteers with approved service that began in the period.
    pub active_volunteer_count: i64,
    /// Approved minutes of service that began in the period.
    pub approved_minutes: i64,
    /// Published or completed events starting in the period.
    pub event_count: i64,
    /// Shifts (not cancelled) starting in the period with every place taken.
    pub shifts_filled: i64,
    /// Confirmed donations (money that arrived) in the period to the subtree's funds and campaigns.
    pub donations_fen: i64,
    /// Disbursements made in the period from the subtree's funds.
    pub disbursed_fen: i64,
    /// Help requests completed in the period.
    pub help_requests_resolved: i64,
    /// Median minutes from report to acceptance of help requests accepted in the period.
    pub median_response_minutes: Option<f64>,
    /// Social workers assigned in the subtree at some time in the period (issue 20).
    pub staffing: crate::staffing::service::Staffing,
    /// Service projects and community needs of the subtree (issue 20).
    pub projects: crate::projects::service::Figures,
    /// Care plans and visits of the subtree (issue 21).
    pub care: crate::care::plans::Figures,
}

/// Check a period: `from` before `to`, at most [`MAX_PERIOD_DAYS`].
pub fn check_period(from: DateTime<Utc>, to: DateTime<Utc>) -> AppResult<()> {
    if from >= to {
        return Err(AppError::bad_input(
            "to",
            msg!("must be after `from`", "结束时间须晚于开始时间"),
        ));
    }
    if to - from > chrono::Duration::days(MAX_PERIOD_DAYS) {
        return Err(AppError::bad_input(
            "from",
            msg!("a period is at most ten years", "统计区间最长十年"),
        ));
    }
    Ok(())
}

/// `SUM(col)`, 0 over no rows, as a 64-bit integer on both backends (PostgreSQL sums
/// `bigint` into `numeric`).
fn sum_or_zero(col: Expr) -> Expr {
    Expr::from(Func::coalesce([
        Expr::from(Func::sum(col)),
        Expr::val(0i64),
    ]))
    .cast_as(Alias::new("BIGINT"))
}

/// Compute the figures of `org` and its subtree for `[from, to)`.
pub async fn of_subtree<C: ConnectionTrait>(
    db: &C,
    org: i64,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Stats> {
    check_period(from, to)?;

    // Approved service: minutes and distinct volunteers in one pass.
    let approved = record::Entity::find()
        .select_only()
        .column_as(
            sum_or_zero(Expr::col((record::Entity, record::Column::Minutes))),
            "minutes",
        )
        .column_as(
            Expr::from(Func::count_distinct(Expr::col((
                record::Entity,
                record::Column::AccountId,
            )))),
            "volunteers",
        )
        .filter(authz::in_subtree(record::Column::OrganizationId, org))
        .filter(record::Column::Status.eq(record::RecordStatus::Approved))
        .filter(record::Column::ServedAt.gte(from))
        .filter(record::Column::ServedAt.lt(to))
        .into_tuple::<(i64, i64)>()
        .one(db);

    // Volunteers who took part: sign-ups and accepted help requests, de-duplicated by UNION.
    let mut signed_up = Query::select()
        .column((signup::Entity, signup::Column::AccountId))
        .from(signup::Entity)
        .inner_join(
            shift::Entity,
            Expr::col((shift::Entity, shift::Column::Id))
                .equals((signup::Entity, signup::Column::ShiftId)),
        )
        .inner_join(
            event::Entity,
            Expr::col((event::Entity, event::Column::Id))
                .equals((shift::Entity, shift::Column::EventId)),
        )
        .and_where(authz::in_subtree(event::Column::OrganizationId, org))
        .and_where(signup::Column::Status.is_in([
            entity::signup::SignupStatus::Confirmed,
            entity::signup::SignupStatus::Attended,
        ]))
        .and_where(shift::Column::StartsAt.gte(from))
        .and_where(shift::Column::StartsAt.lt(to))
        .to_owned();
    let helped = Query::select()
        .expr_as(
            Expr::col((request::Entity, request::Column::AssigneeId)),
            Alias::new("account_id"),
        )
        .from(request::Entity)
        .and_where(authz::in_subtree(request::Column::OrganizationId, org))
        .and_where(request::Column::AcceptedAt.gte(from))
        .and_where(request::Column::AcceptedAt.lt(to))
        .and_where(request::Column::AssigneeId.is_not_null())
        .to_owned();
    let people = Query::select()
        .expr(Func::count(Expr::col(Alias::new("account_id"))))
        .from_subquery(
            signed_up.union(UnionType::Distinct, helped).to_owned(),
            Alias::new("people"),
        )
        .to_owned();
    let volunteers = db.query_one(&people);

    let events = event::Entity::find()
        .select_only()
        .column_as(Expr::from(Func::count(Expr::col(event::Column::Id))), "n")
        .filter(authz::in_subtree(event::Column::OrganizationId, org))
        .filter(event::Column::Status.is_in([
            entity::charity_event::EventStatus::Published,
            entity::charity_event::EventStatus::Completed,
        ]))
        .filter(event::Column::StartsAt.gte(from))
        .filter(event::Column::StartsAt.lt(to))
        .into_tuple::<i64>()
        .one(db);

    let filled = shift::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::count(Expr::col((shift::Entity, shift::Column::Id)))),
            "n",
        )
        .inner_join(event::Entity)
        .filter(authz::in_subtree(event::Column::OrganizationId, org))
        .filter(shift::Column::Status.ne(shift::ShiftStatus::Cancelled))
        .filter(shift::Column::StartsAt.gte(from))
        .filter(shift::Column::StartsAt.lt(to))
        .filter(
            Expr::col((shift::Entity, shift::Column::ConfirmedCount))
                .gte(Expr::col((shift::Entity, shift::Column::Capacity))),
        )
        .into_tuple::<i64>()
        .one(db);

    let donated = donation::Entity::find()
        .select_only()
        .column_as(sum_or_zero(Expr::col(donation::Column::AmountFen)), "fen")
        .filter(crate::funds::service::donated_within(org))
        .filter(donation::Column::Status.eq(donation::DonationStatus::Confirmed))
        .filter(donation::Column::ConfirmedAt.gte(from))
        .filter(donation::Column::ConfirmedAt.lt(to))
        .into_tuple::<i64>()
        .one(db);

    let disbursed = disbursement::Entity::find()
        .select_only()
        .column_as(
            sum_or_zero(Expr::col(disbursement::Column::AmountFen)),
            "fen",
        )
        .filter(disbursement::Column::FundId.in_subquery(crate::funds::service::funds_within(org)))
        .filter(disbursement::Column::CreatedAt.gte(from))
        .filter(disbursement::Column::CreatedAt.lt(to))
        .into_tuple::<i64>()
        .one(db);

    // Resolved requests and how many responses the median is over, in one pass.
    let count_where = |c: Condition| {
        sum_or_zero(
            Expr::case(c, Expr::val(1i64))
                .finally(Expr::val(0i64))
                .into(),
        )
    };
    let help = request::Entity::find()
        .select_only()
        .column_as(
            count_where(
                Condition::all()
                    .add(request::Column::Status.eq(entity::help_request::HelpStatus::Completed))
                    .add(request::Column::CompletedAt.gte(from))
                    .add(request::Column::CompletedAt.lt(to)),
            ),
            "resolved",
        )
        .column_as(
            count_where(
                Condition::all()
                    .add(request::Column::ResponseSeconds.is_not_null())
                    .add(request::Column::AcceptedAt.gte(from))
                    .add(request::Column::AcceptedAt.lt(to)),
            ),
            "responses",
        )
        .filter(authz::in_subtree(request::Column::OrganizationId, org))
        .into_tuple::<(i64, i64)>()
        .one(db);

    // Assignments are by city day: the days the period touches.
    let city = |t: DateTime<Utc>| t.with_timezone(&crate::clock::city_offset()).date_naive();
    let staffing = crate::staffing::service::staffing_query(
        org,
        city(from),
        city(to - chrono::Duration::nanoseconds(1)) + chrono::Duration::days(1),
    )
    .one(db);
    let projects_query = crate::projects::service::figures_query(
        org,
        city(from),
        city(to - chrono::Duration::nanoseconds(1)) + chrono::Duration::days(1),
        from,
        to,
    );
    let projects = crate::projects::service::Figures::find_by_statement(
        db.get_database_backend().build(&projects_query),
    )
    .one(db);
    let care_query = crate::care::plans::figures_query(
        org,
        city(from),
        city(to - chrono::Duration::nanoseconds(1)) + chrono::Duration::days(1),
    );
    let care = crate::care::plans::Figures::find_by_statement(
        db.get_database_backend().build(&care_query),
    )
    .one(db);
    let (approved, volunteers, events, filled, donated, disbursed, help, staffing, projects, care) =
        tokio::try_join!(
            approved, volunteers, events, filled, donated, disbursed, help, staffing, projects,
            care
        )?;
    let (approved_minutes, active_volunteer_count) = approved.unwrap_or((0, 0));
    let volunteer_count = match volunteers {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => 0,
    };
    let (help_requests_resolved, responses) = help.unwrap_or((0, 0));

    // The median: the middle one or two response times, read by offset (portable SQL; no
    // percentile function on SQLite).
    let median_response_minutes = if responses == 0 {
        None
    } else {
        let middle: Vec<i64> = request::Entity::find()
            .select_only()
            .column(request::Column::ResponseSeconds)
            .filter(authz::in_subtree(request::Column::OrganizationId, org))
            .filter(request::Column::ResponseSeconds.is_not_null())
            .filter(request::Column::AcceptedAt.gte(from))
            .filter(request::Column::AcceptedAt.lt(to))
            .order_by_asc(request::Column::ResponseSeconds)
            .offset(((responses - 1) / 2) as u64)
            .limit(if responses % 2 == 0 { 2 } else { 1 })
            .into_tuple::<i64>()
            .all(db)
            .await?;
        Some(median_minutes(&middle))
    };

    Ok(Stats {
        volunteer_count,
        active_volunteer_count,
        approved_minutes,
        event_count: events.unwrap_or(0),
        shifts_filled: filled.unwrap_or(0),
        donations_fen: donated.unwrap_or(0),
        disbursed_fen: disbursed.unwrap_or(0),
        help_requests_resolved,
        median_response_minutes,
        staffing: staffing.map(Into::into).unwrap_or_default(),
        projects: projects.unwrap_or_default(),
        care: care.unwrap_or_default(),
    })
}

/// The median, in minutes, of the one or two middle values (seconds).
fn median_minutes(middle: &[i64]) -> f64 {
    if middle.is_empty() {
        return 0.0;
    }
    middle.iter().map(|&s| s as f64).sum::<f64>() / middle.len() as f64 / 60.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_one_or_two_middle_values() {
        assert_eq!(median_minutes(&[600]), 10.0);
        assert_eq!(median_minutes(&[600, 1_200]), 15.0);
        assert_eq!(median_minutes(&[]), 0.0);
    }

    #[test]
    fn periods_are_checked() {
        let now = Utc::now();
        assert!(check_period(now, now).is_err());
        assert!(check_period(now, now - chrono::Duration::days(1)).is_err());
        assert!(check_period(now - chrono::Duration::days(4_000), now).is_err());
        assert!(check_period(now - chrono::Duration::days(30), now).is_ok());
    }
}
