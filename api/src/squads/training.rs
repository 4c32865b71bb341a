//! Training (培训): courses people completed, and the courses a shift requires. A sign-up for
//! a shift that requires a course the volunteer has not completed is `FORBIDDEN`, naming the
//! missing courses — for a leader's squad sign-up too, member by member.

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use entity::{account, shift_training, training_record};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use crate::{
    authz,
    error::{AppError, AppResult, Noun},
};

/// A completed course to record.
#[derive(Clone, Debug)]
pub struct NewTraining {
    /// Who completed it.
    pub account: i64,
    /// The course (1 to 60 characters).
    pub course: String,
    /// When (not in the future).
    pub completed_on: NaiveDate,
    /// How long, in minutes (1 to 10,000).
    pub minutes: i32,
    /// The organization that gave it.
    pub issuer: i64,
}

/// A course name, trimmed and checked.
pub fn course(raw: &str, field: &str) -> AppResult<String> {
    let c = raw.trim();
    if c.is_empty() || c.chars().count() > 60 || c.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            msg!(
                "a course name of 1 to 60 characters",
                "课程名称须为 1 至 60 个字"
            ),
        ));
    }
    Ok(c.to_owned())
}

/// Record a completed course. The issuing organization's organizers and administrators, for
/// someone else.
pub async fn record(
    db: &DatabaseConnection,
    viewer: &account::Model,
    t: NewTraining,
) -> AppResult<training_record::Model> {
    let name = course(&t.course, "input.course")?;
    if !(1..=10_000).contains(&t.minutes) {
        return Err(AppError::bad_input(
            "input.minutes",
            msg!("1 to 10,000 minutes", "时长须为 1 至 10000 分钟"),
        ));
    }
    if t.completed_on > crate::staffing::service::today() {
        return Err(AppError::bad_input(
            "input.completedOn",
            msg!("must not be in the future", "完成日期不能晚于今天"),
        ));
    }
    crate::organizations::service::get(db, t.issuer)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    if !authz::manages(db, viewer, t.issuer).await? {
        return Err(AppError::Forbidden(msg!(
            "only the issuing organization's organizers record its courses",
            "只有培训机构的组织者可以登记培训记录"
        )));
    }
    if t.account == viewer.id && !viewer.is_system_admin {
        return Err(AppError::Forbidden(msg!(
            "nobody records their own training",
            "不能为自己登记培训记录"
        )));
    }
    if account::Entity::find_by_id(t.account)
        .one(db)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound(Noun::Account));
    }
    training_record::ActiveModel {
        account_id: Set(t.account),
        course: Set(name),
        completed_on: Set(t.completed_on),
        minutes: Set(t.minutes),
        issuer_id: Set(t.issuer),
        recorded_by: Set(viewer.id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        AppError::from_db_unique(e, || {
            AppError::Conflict(msg!(
                "this course is already recorded for that day",
                "该课程当天的培训记录已登记"
            ))
        })
    })
}

/// A person's completed courses, newest first.
pub async fn of_account<C: ConnectionTrait>(
    db: &C,
    account: i64,
) -> AppResult<Vec<training_record::Model>> {
    Ok(training_record::Entity::find()
        .filter(training_record::Column::AccountId.eq(account))
        .order_by_desc(training_record::Column::CompletedOn)
        .order_by_desc(training_record::Column::Id)
        .all(db)
        .await?)
}

/// The courses a shift requires, by name.
pub async fn required<C: ConnectionTrait>(db: &C, shift: i64) -> AppResult<Vec<String>> {
    Ok(shift_training::Entity::find()
        .select_only()
        .column(shift_training::Column::Course)
        .filter(shift_training::Column::ShiftId.eq(shift))
        .order_by_asc(shift_training::Column::Course)
        .into_tuple()
        .all(db)
        .await?)
}

/// Replace the courses shift `shift` requires (at most 10). The caller checked the viewer
/// manages the shift.
pub async fn set_required(
    db: &DatabaseConnection,
    shift: i64,
    courses: &[String],
) -> AppResult<Vec<String>> {
    if courses.len() > 10 {
        return Err(AppError::bad_input(
            "courses",
            msg!("at most 10 courses", "最多 10 门课程"),
        ));
    }
    let names: BTreeSet<String> = courses
        .iter()
        .map(|c| course(c, "courses"))
        .collect::<AppResult<_>>()?;
    let txn = crate::db::begin_write(db).await?;
    shift_training::Entity::delete_many()
        .filter(shift_training::Column::ShiftId.eq(shift))
        .exec(&txn)
        .await?;
    if !names.is_empty() {
        shift_training::Entity::insert_many(names.iter().map(|c| shift_training::ActiveModel {
            shift_id: Set(shift),
            course: Set(c.clone()),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(names.into_iter().collect())
}

/// `FORBIDDEN` unless `account` completed every course shift `shift` requires (two
/// statements; none when the shift requires nothing).
pub async fn check<C: ConnectionTrait>(db: &C, account: i64, shift: i64) -> AppResult<()> {
    let needed = required(db, shift).await?;
    if needed.is_empty() {
        return Ok(());
    }
    let done: BTreeSet<String> = training_record::Entity::find()
        .select_only()
        .column(training_record::Column::Course)
        .filter(training_record::Column::AccountId.eq(account))
        .filter(training_record::Column::Course.is_in(needed.iter().cloned()))
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let missing: Vec<&str> = needed
        .iter()
        .filter(|c| !done.contains(*c))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join("、");
    Err(AppError::Forbidden(msg!(
        "this shift requires training not completed: {list}",
        "该班次要求完成以下培训：{list}"
    )))
}

/// `Shift.requiredTraining` for every shift of a list in one statement.
pub struct RequiredOfShifts;

impl crate::batch::Loader for RequiredOfShifts {
    type Key = i64;
    type Value = Vec<String>;

    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<std::collections::HashMap<i64, Vec<String>>> {
        let rows: Vec<(i64, String)> = shift_training::Entity::find()
            .select_only()
            .column(shift_training::Column::ShiftId)
            .column(shift_training::Column::Course)
            .filter(shift_training::Column::ShiftId.is_in(keys))
            .order_by_asc(shift_training::Column::Course)
            .into_tuple()
            .all(&db)
            .await?;
        let mut out: std::collections::HashMap<i64, Vec<String>> = std::collections::HashMap::new();
        for (shift, course) in rows {
            out.entry(shift).or_default().push(course);
        }
        Ok(out)
    }
}
