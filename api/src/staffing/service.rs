//! Assigning social workers to stations, ending assignments, and who serves where.

use chrono::{NaiveDate, Utc};
use entity::{
    account,
    organization::{self, OrganizationKind},
    staff_assignment::{self as assignment, AssignmentKind, SocialWorkerLevel},
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
    sea_query::{Expr, Func, Query, SelectStatement},
};

use crate::{
    authz,
    clock::city_offset,
    error::{AppError, AppResult, Noun},
};

/// Longest assignment: ten years.
const MAX_YEARS: i32 = 10;

/// Today, as the city reads it.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&city_offset()).date_naive()
}

/// Assignments running on `day`: begun, and not ended before it.
pub fn running_on(day: NaiveDate) -> Condition {
    Condition::all()
        .add(assignment::Column::StartsOn.lte(day))
        .add(
            Condition::any()
                .add(assignment::Column::EndsOn.is_null())
                .add(assignment::Column::EndsOn.gte(day)),
        )
}

/// The stations where `account` has an assignment running `day`, as a subquery (for the
/// authority checks).
pub fn stations_served(account: i64, day: NaiveDate) -> SelectStatement {
    Query::select()
        .column(assignment::Column::StationId)
        .from(assignment::Entity)
        .and_where(assignment::Column::AccountId.eq(account))
        .cond_where(running_on(day))
        .to_owned()
}

/// A new assignment.
#[derive(Clone, Debug)]
pub struct Assign {
    /// The station or room.
    pub station: i64,
    /// The social worker.
    pub account: i64,
    /// Resident or dispatched.
    pub kind: AssignmentKind,
    /// The operator (required when dispatched; a social organization).
    pub operator: Option<i64>,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (inclusive); open-ended when `None`.
    pub ends_on: Option<NaiveDate>,
    /// Qualification level.
    pub qualification: Option<SocialWorkerLevel>,
    /// Certificate number (with a qualification only).
    pub certificate_number: Option<String>,
}

/// Check an assignment's own fields (no database).
pub fn check(a: &Assign) -> AppResult<()> {
    if a.kind == AssignmentKind::Resident && a.operator.is_some() {
        return Err(AppError::bad_input(
            "input.operatorId",
            msg!(
                "a resident social worker is the station's own: no operator",
                "驻站社工属本站，无需注明运营机构"
            ),
        ));
    }
    if a.kind == AssignmentKind::Dispatched && a.operator.is_none() {
        return Err(AppError::bad_input(
            "input.operatorId",
            msg!(
                "a dispatched social worker comes from an operator organization",
                "外派社工须注明派出的运营机构"
            ),
        ));
    }
    if let Some(end) = a.ends_on {
        if end < a.starts_on {
            return Err(AppError::bad_input(
                "input.endsOn",
                msg!("must not be before startsOn", "结束日期不能早于开始日期"),
            ));
        }
        let limit = a
            .starts_on
            .checked_add_months(chrono::Months::new(12 * MAX_YEARS as u32))
            .unwrap_or(NaiveDate::MAX);
        if end > limit {
            return Err(AppError::bad_input(
                "input.endsOn",
                msg!("an assignment lasts at most ten years", "派驻期限最长十年"),
            ));
        }
    }
    if let Some(number) = &a.certificate_number {
        if a.qualification.is_none() {
            return Err(AppError::bad_input(
                "input.certificateNumber",
                msg!(
                    "a certificate number goes with a qualification",
                    "填写证书编号时须注明职业水平等级"
                ),
            ));
        }
        if !(4..=32).contains(&number.len())
            || !number
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(AppError::bad_input(
                "input.certificateNumber",
                msg!(
                    "4 to 32 letters, digits or hyphens",
                    "证书编号须为 4 至 32 位字母、数字或连字符"
                ),
            ));
        }
    }
    Ok(())
}

/// Assign a social worker to a station or room. Needs an administrator of the station (or
/// above). The same worker cannot hold two assignments to one station at once (`CONFLICT`).
pub async fn assign(
    db: &DatabaseConnection,
    viewer: &account::Model,
    a: Assign,
) -> AppResult<assignment::Model> {
    check(&a)?;
    let station = organization::Entity::find_by_id(a.station)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    authz::require_admin(db, viewer, station.id).await?;
    if !matches!(
        station.kind,
        OrganizationKind::Station | OrganizationKind::Room
    ) {
        return Err(AppError::bad_input(
            "input.stationId",
            msg!(
                "social workers are assigned to a station or a room",
                "社工只能派驻到社工站或社工室"
            ),
        ));
    }
    if account::Entity::find_by_id(a.account)
        .one(db)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound(Noun::Account));
    }
    if let Some(op) = a.operator {
        let operator = organization::Entity::find_by_id(op).one(db).await?;
        if operator.is_none_or(|o| o.kind != OrganizationKind::SocialOrg) {
            return Err(AppError::bad_input(
                "input.operatorId",
                msg!(
                    "the operator must be a social organization",
                    "运营机构须为社会组织"
                ),
            ));
        }
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    // Overlapping periods of the same worker at the same station.
    let mut overlap = Condition::all()
        .add(assignment::Column::AccountId.eq(a.account))
        .add(assignment::Column::StationId.eq(a.station))
        .add(
            Condition::any()
                .add(assignment::Column::EndsOn.is_null())
                .add(assignment::Column::EndsOn.gte(a.starts_on)),
        );
    if let Some(end) = a.ends_on {
        overlap = overlap.add(assignment::Column::StartsOn.lte(end));
    }
    if assignment::Entity::find()
        .filter(overlap)
        .one(&txn)
        .await?
        .is_some()
    {
        return Err(AppError::Conflict(msg!(
            "this social worker is already assigned to the station for part of that period",
            "该社工在此期间已派驻本站"
        )));
    }
    let row = assignment::ActiveModel {
        account_id: Set(a.account),
        station_id: Set(a.station),
        kind: Set(a.kind),
        operator_id: Set(a.operator),
        starts_on: Set(a.starts_on),
        ends_on: Set(a.ends_on),
        qualification: Set(a.qualification),
        certificate_number: Set(a.certificate_number),
        created_by: Set(viewer.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    tracing::info!(assignment = row.id, kind = ?row.kind, "social worker assigned");
    Ok(row)
}

/// End an assignment on `on` (its last day; never later than it was to end). The station's
/// administrators may, and so may the operator's, which recalls its worker.
pub async fn end(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    on: NaiveDate,
) -> AppResult<assignment::Model> {
    let current = assignment::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::StaffAssignment))?;
    let may = authz::administers(db, viewer, current.station_id).await?
        || match current.operator_id {
            Some(op) => authz::administers(db, viewer, op).await?,
            None => false,
        };
    if !may {
        return Err(AppError::Forbidden(msg!(
            "only the station's or the operator's administrators end an assignment",
            "只有社工站或运营机构的管理员可以结束派驻"
        )));
    }
    if on < current.starts_on {
        return Err(AppError::bad_input(
            "endsOn",
            msg!(
                "must not be before the assignment's first day",
                "结束日期不能早于派驻开始日期"
            ),
        ));
    }
    let last = current.ends_on.map_or(on, |e| e.min(on));
    let mut row: assignment::ActiveModel = current.into();
    row.ends_on = Set(Some(last));
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}

/// One assignment.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<assignment::Model>> {
    Ok(assignment::Entity::find_by_id(id).one(db).await?)
}

/// The assignments to `station` running on `day`, resident first, then by start.
pub async fn of_station<C: ConnectionTrait>(
    db: &C,
    station: i64,
    day: NaiveDate,
) -> AppResult<Vec<assignment::Model>> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::StationId.eq(station))
        .filter(running_on(day))
        .order_by_desc(assignment::Column::Kind)
        .order_by_asc(assignment::Column::StartsOn)
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await?)
}

/// The workers `operator` has dispatched, running on `day`, across all stations.
pub async fn of_operator<C: ConnectionTrait>(
    db: &C,
    operator: i64,
    day: NaiveDate,
) -> AppResult<Vec<assignment::Model>> {
    Ok(assignment::Entity::find()
        .filter(assignment::Column::OperatorId.eq(operator))
        .filter(assignment::Column::Kind.eq(AssignmentKind::Dispatched))
        .filter(running_on(day))
        .order_by_asc(assignment::Column::StationId)
        .order_by_asc(assignment::Column::Id)
        .all(db)
        .await?)
}

/// Staffing of a subtree over a period of days.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Staffing {
    /// Distinct resident social workers.
    pub resident: i64,
    /// Distinct dispatched social workers.
    pub dispatched: i64,
    /// Distinct workers (either kind) with a qualification.
    pub certified: i64,
    /// Distinct workers of either kind.
    pub workers: i64,
}

impl From<(i64, i64, i64, i64)> for Staffing {
    fn from((resident, dispatched, certified, workers): (i64, i64, i64, i64)) -> Self {
        Self {
            resident,
            dispatched,
            certified,
            workers,
        }
    }
}

/// Distinct social workers with an assignment in `org`'s subtree running at some time in
/// `[from, to)` (days), as one statement: `(resident, dispatched, certified, workers)`.
pub fn staffing_query(
    org: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> sea_orm::Selector<sea_orm::SelectGetableTuple<(i64, i64, i64, i64)>> {
    let distinct_where = |c: Condition| -> Expr {
        let case: Expr = Expr::case(c, Expr::col(assignment::Column::AccountId))
            .finally(Expr::cust("NULL"))
            .into();
        Expr::from(Func::count_distinct(case))
    };
    assignment::Entity::find()
        .select_only()
        .column_as(
            distinct_where(
                Condition::all().add(assignment::Column::Kind.eq(AssignmentKind::Resident)),
            ),
            "resident",
        )
        .column_as(
            distinct_where(
                Condition::all().add(assignment::Column::Kind.eq(AssignmentKind::Dispatched)),
            ),
            "dispatched",
        )
        .column_as(
            distinct_where(Condition::all().add(assignment::Column::Qualification.is_not_null())),
            "certified",
        )
        .column_as(
            Expr::from(Func::count_distinct(Expr::col(
                assignment::Column::AccountId,
            ))),
            "workers",
        )
        .filter(authz::in_subtree(assignment::Column::StationId, org))
        .filter(assignment::Column::StartsOn.lt(to))
        .filter(
            Condition::any()
                .add(assignment::Column::EndsOn.is_null())
                .add(assignment::Column::EndsOn.gte(from)),
        )
        .into_tuple::<(i64, i64, i64, i64)>()
}

/// `number` as others see it: its last four characters.
pub fn mask_certificate(number: &str) -> String {
    let tail: String = number
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn base() -> Assign {
        Assign {
            station: 1,
            account: 2,
            kind: AssignmentKind::Resident,
            operator: None,
            starts_on: day("2026-01-01"),
            ends_on: Some(day("2026-12-31")),
            qualification: Some(SocialWorkerLevel::Intermediate),
            certificate_number: Some("SW-2023-0042".into()),
        }
    }

    #[test]
    fn assignments_are_checked_before_the_database() {
        assert!(check(&base()).is_ok());
        let field = |a: Assign| match check(&a) {
            Err(AppError::BadUserInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(Assign {
                kind: AssignmentKind::Dispatched,
                ..base()
            }),
            "input.operatorId"
        );
        assert_eq!(
            field(Assign {
                ends_on: Some(day("2025-12-31")),
                ..base()
            }),
            "input.endsOn"
        );
        assert_eq!(
            field(Assign {
                ends_on: Some(day("2036-01-02")),
                ..base()
            }),
            "input.endsOn"
        );
        assert_eq!(
            field(Assign {
                qualification: None,
                ..base()
            }),
            "input.certificateNumber"
        );
        assert_eq!(
            field(Assign {
                certificate_number: Some("证书".into()),
                ..base()
            }),
            "input.certificateNumber"
        );
    }

    #[test]
    fn certificates_show_their_last_four() {
        assert_eq!(mask_certificate("SW-2023-0042"), "****0042");
        assert_eq!(mask_certificate("AB1"), "****AB1");
    }
}
