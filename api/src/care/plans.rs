//! Care plans and visits (四方关爱), independent of GraphQL: a plan names a person served and
//! the tasks of the four parties; each task is due on its schedule, counted in city days from
//! the plan's first day; a visit logged against a task moves it on, and raises a help request
//! when something is wrong.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, Utc};
use entity::{
    account, care_consent as consent, care_plan as plan,
    care_recipient::{self as recipient, RecipientStatus},
    care_task::{self as task, Cadence, CareParty, CareTaskKind},
    care_visit::{self as visit, Observation},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

use super::register::{self, ConsentPurpose, require_staff};
use crate::notifications::service::Notice;
use crate::{
    authz,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    identity::vault::IdentityVault,
};

/// The `k`-th scheduled day of a task that starts on `start`.
fn scheduled(start: NaiveDate, cadence: Cadence, k: u32) -> NaiveDate {
    match cadence {
        Cadence::Weekly => start + Duration::days(7 * i64::from(k)),
        Cadence::Fortnightly => start + Duration::days(14 * i64::from(k)),
        Cadence::Monthly => start
            .checked_add_months(Months::new(k))
            .unwrap_or(NaiveDate::MAX),
        Cadence::Quarterly => start
            .checked_add_months(Months::new(3 * k))
            .unwrap_or(NaiveDate::MAX),
    }
}

/// The first scheduled day after `after` (the plan's first day when `after` is before it).
/// Months count from the start day: a plan starting on 31 January is due on 28 (or 29)
/// February, 31 March, 30 April…
pub fn next_due(start: NaiveDate, cadence: Cadence, after: NaiveDate) -> NaiveDate {
    if after < start {
        return start;
    }
    let mut k: u32 = match cadence {
        Cadence::Weekly => ((after - start).num_days() / 7) as u32,
        Cadence::Fortnightly => ((after - start).num_days() / 14) as u32,
        Cadence::Monthly | Cadence::Quarterly => {
            let months =
                (after.year() - start.year()) * 12 + after.month() as i32 - start.month() as i32;
            let per = if cadence == Cadence::Monthly { 1 } else { 3 };
            (months.max(0) / per) as u32
        }
    };
    while scheduled(start, cadence, k) <= after {
        k += 1;
    }
    scheduled(start, cadence, k)
}

/// One party's task in a new plan.
#[derive(Clone, Debug)]
pub struct NewTask {
    /// Which party.
    pub party: CareParty,
    /// A call or a home visit.
    pub kind: CareTaskKind,
    /// How often.
    pub cadence: Cadence,
    /// Who does it.
    pub assignee: i64,
}

/// A new plan.
#[derive(Clone, Debug)]
pub struct NewPlan {
    /// The person served.
    pub recipient: i64,
    /// First day: today or later, or at most 30 days back.
    pub starts_on: NaiveDate,
    /// The tasks, 1 to 8.
    pub tasks: Vec<NewTask>,
}

/// Whether the record holds a consent, not withdrawn, to each of `purposes`.
async fn consented<C: ConnectionTrait>(
    db: &C,
    recipient_id: i64,
    purposes: &[ConsentPurpose],
) -> AppResult<bool> {
    let given: Vec<String> = consent::Entity::find()
        .select_only()
        .column(consent::Column::Purposes)
        .filter(consent::Column::RecipientId.eq(recipient_id))
        .filter(consent::Column::WithdrawnAt.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let held: Vec<ConsentPurpose> = given
        .iter()
        .flat_map(|p| ConsentPurpose::list_from_db(p))
        .collect();
    Ok(purposes.iter().all(|p| held.contains(p)))
}

async fn active_recipient<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<recipient::Model> {
    let r = register::recipient_of(db, id).await?;
    if r.status == RecipientStatus::Erased {
        return Err(register::erased());
    }
    Ok(r)
}

/// Start a plan (the staff of the person's station or room). It needs a consent to care
/// visits on record — and, with a volunteer among the parties, to sharing what a visit needs
/// with them — else `CONFLICT`; one plan runs per person.
pub async fn create(
    db: &DatabaseConnection,
    viewer: &account::Model,
    n: NewPlan,
) -> AppResult<(plan::Model, Vec<task::Model>)> {
    if n.tasks.is_empty() || n.tasks.len() > 8 {
        return Err(AppError::bad_input(
            "input.tasks",
            msg!("1 to 8 tasks", "须有 1 至 8 项任务"),
        ));
    }
    let today = crate::staffing::service::today();
    if n.starts_on < today - Duration::days(30) || n.starts_on > today + Duration::days(365) {
        return Err(AppError::bad_input(
            "input.startsOn",
            msg!(
                "from 30 days ago to a year from now",
                "开始日期须在 30 天前至一年后之间"
            ),
        ));
    }
    let r = active_recipient(db, n.recipient).await?;
    require_staff(
        db,
        viewer,
        r.organization_id,
        &format!("start a plan for care recipient {}", r.id),
    )
    .await?;
    let mut needed = vec![ConsentPurpose::CareVisits];
    if n.tasks.iter().any(|t| t.party == CareParty::Volunteer) {
        needed.push(ConsentPurpose::ShareWithVolunteers);
    }
    if !consented(db, r.id, &needed).await? {
        return Err(AppError::Conflict(msg!(
            "no consent on record to care visits (and, with a volunteer, to sharing with them): record one first",
            "尚无探访关爱（及向志愿者提供信息）的同意记录，请先登记同意"
        )));
    }
    let mut assignees: Vec<i64> = n.tasks.iter().map(|t| t.assignee).collect();
    assignees.sort_unstable();
    assignees.dedup();
    let known = account::Entity::find()
        .filter(account::Column::Id.is_in(assignees.iter().copied()))
        .filter(account::Column::PasswordHash.ne(crate::privacy::DELETED_HASH))
        .all(db)
        .await?
        .len();
    if known != assignees.len() {
        return Err(AppError::bad_input(
            "input.tasks",
            msg!("names an account that does not exist", "其中有不存在的账号"),
        ));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let p = plan::ActiveModel {
        recipient_id: Set(r.id),
        organization_id: Set(r.organization_id),
        starts_on: Set(n.starts_on),
        ended_at: Set(None),
        created_by: Set(viewer.id),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        AppError::from_db_unique(e, || {
            AppError::Conflict(msg!(
                "the person already has a running plan",
                "该服务对象已有执行中的关爱计划"
            ))
        })
    })?;
    let mut tasks = Vec::with_capacity(n.tasks.len());
    for t in &n.tasks {
        tasks.push(
            task::ActiveModel {
                plan_id: Set(p.id),
                recipient_id: Set(r.id),
                organization_id: Set(r.organization_id),
                party: Set(t.party),
                kind: Set(t.kind),
                cadence: Set(t.cadence),
                assignee_id: Set(t.assignee),
                next_due_on: Set(n.starts_on),
                last_done_on: Set(None),
                created_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await?,
        );
    }
    crate::privacy::audit(
        &txn,
        viewer.id,
        "care.plan",
        Some(r.organization_id),
        None,
        format!("care recipient {}: plan {}", r.id, p.id),
    )
    .await?;
    txn.commit().await?;
    Ok((p, tasks))
}

/// Tasks of running plans for people still on the register, due by `until`.
fn due_by(until: NaiveDate) -> sea_orm::Select<task::Entity> {
    task::Entity::find()
        .filter(task::Column::NextDueOn.lte(until))
        .filter(
            task::Column::PlanId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(plan::Column::Id)
                    .from(plan::Entity)
                    .and_where(plan::Column::EndedAt.is_null())
                    .to_owned(),
            ),
        )
        .order_by_asc(task::Column::NextDueOn)
        .order_by_asc(task::Column::Id)
}

/// How far ahead the due lists look: a week.
pub const HORIZON_DAYS: i64 = 7;

/// The caller's tasks due within the coming week (overdue ones first).
pub async fn due_for(
    db: &DatabaseConnection,
    viewer: &account::Model,
) -> AppResult<Vec<task::Model>> {
    let until = crate::staffing::service::today() + Duration::days(HORIZON_DAYS);
    Ok(due_by(until)
        .filter(task::Column::AssigneeId.eq(viewer.id))
        .limit(200)
        .all(db)
        .await?)
}

/// The tasks due within the coming week in an organization and below it (its staff), overdue
/// ones first; `overdue_only` for the station's list of late visits.
pub async fn due_in(
    db: &DatabaseConnection,
    viewer: &account::Model,
    org: i64,
    overdue_only: bool,
) -> AppResult<Vec<task::Model>> {
    require_staff(db, viewer, org, "list the visits due").await?;
    let today = crate::staffing::service::today();
    let until = if overdue_only {
        today - Duration::days(1)
    } else {
        today + Duration::days(HORIZON_DAYS)
    };
    Ok(due_by(until)
        .filter(authz::in_subtree(task::Column::OrganizationId, org))
        .limit(500)
        .all(db)
        .await?)
}

/// Whether `viewer` may see the person's record for `t`: the staff of its organization, or the
/// task's assignee from two days before it is due until it is done (a volunteer only with the
/// consent to share).
pub async fn may_open_for_task<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    t: &task::Model,
) -> AppResult<bool> {
    if crate::clients::confined_to().is_some() {
        return Ok(false);
    }
    if authz::is_staff(db, viewer, t.organization_id).await? {
        return Ok(true);
    }
    if t.assignee_id != viewer.id
        || crate::staffing::service::today() < t.next_due_on - Duration::days(2)
    {
        return Ok(false);
    }
    if t.party == CareParty::Volunteer
        && !consented(db, t.recipient_id, &[ConsentPurpose::ShareWithVolunteers]).await?
    {
        return Ok(false);
    }
    Ok(true)
}

/// A visit as logged.
#[derive(Clone, Debug)]
pub struct LoggedVisit {
    /// The task.
    pub task: i64,
    /// The day: not in the future, at most 30 days back, not before the plan.
    pub visited_on: NaiveDate,
    /// Health (健康).
    pub health: Observation,
    /// Safety (安全).
    pub safety: Observation,
    /// Living conditions (居住环境).
    pub living: Observation,
    /// Mood (情绪).
    pub mood: Observation,
    /// Notes, at most 1,000 characters (sealed).
    pub notes: String,
    /// Ask for help even if nothing is marked urgent.
    pub raise_help: bool,
}

/// Whether a visit is an alert to the staff: anything marked as a concern or urgent, or help
/// asked for.
pub fn is_alert(v: &LoggedVisit) -> bool {
    v.raise_help
        || [v.health, v.safety, v.living, v.mood]
            .iter()
            .any(|o| *o != Observation::Ok)
}

/// Whether a visit's checklist calls for a help request.
pub fn needs_help(v: &LoggedVisit) -> bool {
    v.raise_help || [v.health, v.safety, v.living, v.mood].contains(&Observation::Urgent)
}

/// Log a visit (the task's assignee or the organization's staff). The task moves on to its
/// next scheduled day after both the visit and the day it was due, in a conditional update, so
/// two logs of one due visit cannot both move it (`CONFLICT`). An urgent observation (or
/// `raise_help`) raises a help request for the staff in the same transaction.
pub async fn log_visit(
    db: &DatabaseConnection,
    vault: &IdentityVault,
    viewer: &account::Model,
    v: LoggedVisit,
) -> AppResult<(visit::Model, Option<entity::help_request::Model>)> {
    let notes = v.notes.trim().to_owned();
    if notes.chars().count() > 1000 {
        return Err(AppError::bad_input(
            "input.notes",
            msg!("at most 1,000 characters", "记录最多 1000 字"),
        ));
    }
    let t = task::Entity::find_by_id(v.task)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::CareRecipient))?;
    if t.assignee_id != viewer.id || crate::clients::confined_to().is_some() {
        require_staff(
            db,
            viewer,
            t.organization_id,
            &format!("log a visit of care task {}", t.id),
        )
        .await?;
    }
    let p = plan::Entity::find_by_id(t.plan_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::CareRecipient))?;
    if p.ended_at.is_some() {
        return Err(AppError::Conflict(msg!(
            "the plan has ended",
            "该关爱计划已结束"
        )));
    }
    let r = active_recipient(db, t.recipient_id).await?;
    let today = crate::staffing::service::today();
    if v.visited_on > today
        || v.visited_on < today - Duration::days(30)
        || v.visited_on < p.starts_on
    {
        return Err(AppError::bad_input(
            "input.visitedOn",
            msg!(
                "the day of the visit: not in the future, at most 30 days back, not before the plan",
                "探访日期不能晚于今天、不能早于 30 天前或计划开始之前"
            ),
        ));
    }
    let help = if needs_help(&v) {
        let o = crate::organizations::service::get(db, r.organization_id)
            .await?
            .ok_or(AppError::NotFound(Noun::Organization))?;
        let home = register::open(vault, &r);
        let place = home
            .as_ref()
            .and_then(|h| Some((h.latitude?, h.longitude?)))
            .or_else(|| Some((o.latitude?, o.longitude?)));
        let Some((lat, lng)) = place else {
            return Err(AppError::bad_input(
                "input.raiseHelp",
                msg!(
                    "neither the home nor the station has a place to send help to",
                    "服务对象住址和站点均无定位，无法派单"
                ),
            ));
        };
        Some(crate::help::service::NewHelpRequest {
            organization_id: r.organization_id,
            title: "关爱探访发现需协助".into(),
            details: notes.clone(),
            category: entity::charity_event::EventCategory::ElderlyCare,
            urgency: entity::help_request::Urgency::High,
            location: crate::geo::GeoPoint::new(lat, lng, "location")?,
            needed_skills: Vec::new(),
            needed_by: None,
            via_client: None,
            project_id: None,
            need_id: None,
        })
    } else {
        None
    };
    let now = Utc::now();
    let next = next_due(p.starts_on, t.cadence, v.visited_on.max(t.next_due_on));
    let txn = begin_write(db).await?;
    let moved = task::Entity::update_many()
        .col_expr(task::Column::NextDueOn, Expr::value(next))
        .col_expr(
            task::Column::LastDoneOn,
            Expr::value(Some(
                t.last_done_on.map_or(v.visited_on, |d| d.max(v.visited_on)),
            )),
        )
        .filter(task::Column::Id.eq(t.id))
        .filter(task::Column::NextDueOn.eq(t.next_due_on))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        return Err(AppError::Conflict(msg!(
            "this visit was just logged by someone else: reload the task",
            "该次探访刚由他人登记，请刷新"
        )));
    }
    let request = match help {
        Some(h) => Some(crate::help::service::insert(&txn, viewer.id, h, now).await?),
        None => None,
    };
    let row = visit::ActiveModel {
        task_id: Set(t.id),
        recipient_id: Set(r.id),
        organization_id: Set(r.organization_id),
        visitor_id: Set(viewer.id),
        visited_on: Set(v.visited_on),
        health: Set(v.health),
        safety: Set(v.safety),
        living: Set(v.living),
        mood: Set(v.mood),
        sealed_notes: Set((!notes.is_empty())
            .then(|| vault.seal_for(&register::aad("care_visit.sealed_notes", r.id), &notes))),
        help_request_id: Set(request.as_ref().map(|h| h.id)),
        created_at: Set(now),
        alert: Set(is_alert(&v)),
        due_on: Set(Some(t.next_due_on)),
        alert_handled_at: Set(None),
        alert_handled_by: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if row.alert {
        // The station's staff hear of it at once (an urgent one even in quiet hours); the
        // notice names no one, the app opens the alert for those who may see it.
        let urgent = [v.health, v.safety, v.living, v.mood].contains(&Observation::Urgent);
        let staff = staff_accounts(&txn, r.organization_id).await?;
        crate::notifications::service::write(
            &txn,
            staff
                .into_iter()
                .filter(|a| *a != viewer.id)
                .map(|a| {
                    Notice::subject(entity::notification::NotificationKind::CareAlert, a, row.id)
                        .urgent(urgent)
                })
                .collect(),
        )
        .await?;
    }
    crate::privacy::audit(
        &txn,
        viewer.id,
        "care.visit",
        Some(r.organization_id),
        None,
        format!("care recipient {}: visit {}", r.id, row.id),
    )
    .await?;
    txn.commit().await?;
    Ok((row, request))
}

/// Who is told of a station's care alerts and late visits: its members, and the social
/// workers assigned to it while the assignment runs — for a room, its station's too (a room
/// may have no staff of its own).
pub async fn staff_accounts<C: ConnectionTrait>(db: &C, org: i64) -> AppResult<Vec<i64>> {
    use entity::{membership, organization, staff_assignment};
    let mut orgs = vec![org];
    if let Some(o) = organization::Entity::find_by_id(org).one(db).await?
        && o.kind == organization::OrganizationKind::Room
        && let Some(parent) = o.parent_id
    {
        orgs.push(parent);
    }
    let mut ids: Vec<i64> = membership::Entity::find()
        .select_only()
        .column(membership::Column::AccountId)
        .filter(membership::Column::OrganizationId.is_in(orgs.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    ids.extend(
        staff_assignment::Entity::find()
            .select_only()
            .column(staff_assignment::Column::AccountId)
            .filter(staff_assignment::Column::StationId.is_in(orgs.iter().copied()))
            .filter(crate::staffing::service::running_on(
                crate::staffing::service::today(),
            ))
            .into_tuple::<i64>()
            .all(db)
            .await?,
    );
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// The alerts of an organization and below it (its staff), newest first; `open_only` for
/// those nobody has handled and whose help request (if any) no volunteer has taken.
pub async fn alerts_in(
    db: &DatabaseConnection,
    viewer: &account::Model,
    org: i64,
    open_only: bool,
) -> AppResult<Vec<visit::Model>> {
    require_staff(db, viewer, org, "list the care alerts").await?;
    let mut q = visit::Entity::find()
        .filter(authz::in_subtree(visit::Column::OrganizationId, org))
        .filter(visit::Column::Alert.eq(true));
    if open_only {
        q = q.filter(visit::Column::AlertHandledAt.is_null()).filter(
            sea_orm::Condition::any()
                .add(visit::Column::HelpRequestId.is_null())
                .add(
                    visit::Column::HelpRequestId.not_in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(entity::help_request::Column::Id)
                            .from(entity::help_request::Entity)
                            .and_where(entity::help_request::Column::AcceptedAt.is_not_null())
                            .to_owned(),
                    ),
                ),
        );
    }
    Ok(q.order_by_desc(visit::Column::CreatedAt)
        .order_by_desc(visit::Column::Id)
        .limit(200)
        .all(db)
        .await?)
}

/// Mark an alert handled (the staff of the person's organization): once — a second hand is
/// `CONFLICT`, and so is a visit that raised no alert.
pub async fn handle_alert(
    db: &DatabaseConnection,
    viewer: &account::Model,
    visit_id: i64,
) -> AppResult<visit::Model> {
    let v = visit::Entity::find_by_id(visit_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::CareRecipient))?;
    require_staff(
        db,
        viewer,
        v.organization_id,
        &format!("handle care alert {}", v.id),
    )
    .await?;
    if !v.alert {
        return Err(AppError::Conflict(msg!(
            "this visit raised no alert",
            "该次探访未发出预警"
        )));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let done = visit::Entity::update_many()
        .col_expr(visit::Column::AlertHandledAt, Expr::value(Some(now)))
        .col_expr(visit::Column::AlertHandledBy, Expr::value(Some(viewer.id)))
        .filter(visit::Column::Id.eq(v.id))
        .filter(visit::Column::AlertHandledAt.is_null())
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::Conflict(msg!(
            "this alert was already handled",
            "该预警已有人处理"
        )));
    }
    crate::privacy::audit(
        &txn,
        viewer.id,
        "care.alert.handle",
        Some(v.organization_id),
        None,
        format!("care recipient {}: visit {}", v.recipient_id, v.id),
    )
    .await?;
    txn.commit().await?;
    Ok(visit::Model {
        alert_handled_at: Some(now),
        alert_handled_by: Some(viewer.id),
        ..v
    })
}

/// End the person's running plan (the staff of their organization): its tasks fall off the
/// due lists; its visits stay. `NOT_FOUND` when no plan runs.
pub async fn end_plan(
    db: &DatabaseConnection,
    viewer: &account::Model,
    recipient_id: i64,
) -> AppResult<plan::Model> {
    let r = register::recipient_of(db, recipient_id).await?;
    require_staff(
        db,
        viewer,
        r.organization_id,
        &format!("end the plan of care recipient {}", r.id),
    )
    .await?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let Some(p) = plan::Entity::find()
        .filter(plan::Column::RecipientId.eq(r.id))
        .filter(plan::Column::EndedAt.is_null())
        .one(&txn)
        .await?
    else {
        return Err(AppError::NotFound(Noun::CarePlan));
    };
    let ended = plan::Entity::update_many()
        .col_expr(plan::Column::EndedAt, Expr::value(Some(now)))
        .filter(plan::Column::Id.eq(p.id))
        .filter(plan::Column::EndedAt.is_null())
        .exec(&txn)
        .await?;
    if ended.rows_affected == 0 {
        return Err(AppError::NotFound(Noun::CarePlan));
    }
    crate::privacy::audit(
        &txn,
        viewer.id,
        "care.plan.end",
        Some(r.organization_id),
        None,
        format!("care recipient {}: plan {}", r.id, p.id),
    )
    .await?;
    txn.commit().await?;
    Ok(plan::Model {
        ended_at: Some(now),
        ..p
    })
}

/// How many of a task's scheduled days fall in `[from, to)`: from the plan's first day, and
/// before the city day it ended (a plan ended on a day owes nothing that day).
pub fn due_count(
    start: NaiveDate,
    cadence: Cadence,
    ended_on: Option<NaiveDate>,
    from: NaiveDate,
    to: NaiveDate,
) -> u32 {
    let to = ended_on.map_or(to, |e| e.min(to));
    let mut day = if from <= start {
        start
    } else {
        next_due(start, cadence, from.pred_opt().unwrap_or(from))
    };
    let mut n = 0;
    while day < to {
        n += 1;
        day = next_due(start, cadence, day);
    }
    n
}

/// A care report over a period: what was due against what was done, and how alerts fared.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Calls and visits scheduled in the period by the plans that ran then, up to today.
    pub visits_due: i64,
    /// Calls and visits made in the period.
    pub visits_done: i64,
    /// Of those, the ones made by the day they were due.
    pub visits_on_time: i64,
    /// Visits in the period that raised an alert.
    pub alerts_raised: i64,
    /// Of those, the ones handled: by a staff member, or by a volunteer taking the help
    /// request.
    pub alerts_handled: i64,
    /// The median minutes from a visit being logged to its alert being handled.
    pub median_minutes_to_handle: Option<i64>,
}

/// The longest period a report covers.
pub const REPORT_MAX_DAYS: i64 = 366;

/// The care report of an organization and below it for `[from, to)` (its staff): three
/// statements (the schedules that ran, the visits made, the alerts raised).
pub async fn report(
    db: &DatabaseConnection,
    viewer: &account::Model,
    org: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Report> {
    if to <= from || (to - from).num_days() > REPORT_MAX_DAYS {
        return Err(AppError::bad_input(
            "to",
            msg!(
                "a period of 1 to 366 days, `to` after `from`",
                "统计期须为 1 至 366 天，结束日须晚于开始日"
            ),
        ));
    }
    require_staff(db, viewer, org, "read the care report").await?;
    let offset = crate::clock::city_offset();
    let schedules: Vec<(NaiveDate, Cadence, Option<DateTime<Utc>>)> = task::Entity::find()
        .select_only()
        .column(plan::Column::StartsOn)
        .column(task::Column::Cadence)
        .column(plan::Column::EndedAt)
        .join(
            sea_orm::JoinType::InnerJoin,
            task::Entity::belongs_to(plan::Entity)
                .from(task::Column::PlanId)
                .to(plan::Column::Id)
                .into(),
        )
        .filter(authz::in_subtree(task::Column::OrganizationId, org))
        .filter(plan::Column::StartsOn.lt(to))
        .into_tuple()
        .all(db)
        .await?;
    // Nothing is owed before its day: a period reaching past today counts what fell due so far.
    let due_until = to.min(crate::staffing::service::today() + Duration::days(1));
    let visits_due = schedules
        .into_iter()
        .map(|(start, cadence, ended)| {
            let ended_on = ended.map(|e| e.with_timezone(&offset).date_naive());
            i64::from(due_count(start, cadence, ended_on, from, due_until))
        })
        .sum();
    let done: Vec<(NaiveDate, Option<NaiveDate>)> = visit::Entity::find()
        .select_only()
        .column(visit::Column::VisitedOn)
        .column(visit::Column::DueOn)
        .filter(authz::in_subtree(visit::Column::OrganizationId, org))
        .filter(visit::Column::VisitedOn.gte(from))
        .filter(visit::Column::VisitedOn.lt(to))
        .into_tuple()
        .all(db)
        .await?;
    // (logged, handled by staff, help taken)
    type Alert = (DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let alerts: Vec<Alert> = visit::Entity::find()
        .select_only()
        .column(visit::Column::CreatedAt)
        .column(visit::Column::AlertHandledAt)
        .column(entity::help_request::Column::AcceptedAt)
        .join(
            sea_orm::JoinType::LeftJoin,
            visit::Entity::belongs_to(entity::help_request::Entity)
                .from(visit::Column::HelpRequestId)
                .to(entity::help_request::Column::Id)
                .into(),
        )
        .filter(authz::in_subtree(visit::Column::OrganizationId, org))
        .filter(visit::Column::Alert.eq(true))
        .filter(visit::Column::VisitedOn.gte(from))
        .filter(visit::Column::VisitedOn.lt(to))
        .into_tuple()
        .all(db)
        .await?;
    let mut minutes: Vec<i64> = alerts
        .iter()
        .filter_map(|(logged, handled, accepted)| {
            let at = match (handled, accepted) {
                (Some(h), Some(a)) => Some(*h.min(a)),
                (h, a) => h.or(*a),
            }?;
            Some((at - *logged).num_minutes().max(0))
        })
        .collect();
    Ok(Report {
        visits_due,
        visits_done: done.len() as i64,
        visits_on_time: done
            .iter()
            .filter(|(on, due)| due.is_some_and(|d| *on <= d))
            .count() as i64,
        alerts_raised: alerts.len() as i64,
        alerts_handled: minutes.len() as i64,
        median_minutes_to_handle: median(&mut minutes),
    })
}

/// The median of `xs` (of an even count, the mean of the middle two, rounded down), `None`
/// when empty.
pub fn median(xs: &mut [i64]) -> Option<i64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_unstable();
    let n = xs.len();
    Some((xs[(n - 1) / 2] + xs[n / 2]).div_euclid(2))
}

/// The care figures of a subtree, one statement: people with a running plan, visits made in
/// `[from_day, to_day)`, tasks past their day now, and the visits of the period that raised an
/// alert, and of those the ones handled (by staff, or by a volunteer taking the help request).
pub fn figures_query(
    org: i64,
    from_day: NaiveDate,
    to_day: NaiveDate,
) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::{Alias, Asterisk, Func, Query, SelectStatement};
    let sub = |q: SelectStatement| Expr::SubQuery(None, Box::new(q.into()));
    let count = || Func::count(Expr::col(Asterisk));
    let visits = |alerts: bool, answered: bool| {
        let mut q = Query::select();
        q.expr(count())
            .from(visit::Entity)
            .and_where(authz::in_subtree(visit::Column::OrganizationId, org))
            .and_where(visit::Column::VisitedOn.gte(from_day))
            .and_where(visit::Column::VisitedOn.lt(to_day));
        if alerts {
            q.and_where(visit::Column::Alert.eq(true));
        }
        if answered {
            q.cond_where(
                sea_orm::Condition::any()
                    .add(visit::Column::AlertHandledAt.is_not_null())
                    .add(
                        visit::Column::HelpRequestId.in_subquery(
                            Query::select()
                                .column(entity::help_request::Column::Id)
                                .from(entity::help_request::Entity)
                                .and_where(entity::help_request::Column::AcceptedAt.is_not_null())
                                .to_owned(),
                        ),
                    ),
            );
        }
        q.to_owned()
    };
    let covered = Query::select()
        .expr(Func::count_distinct(Expr::col(plan::Column::RecipientId)))
        .from(plan::Entity)
        .and_where(authz::in_subtree(plan::Column::OrganizationId, org))
        .and_where(plan::Column::EndedAt.is_null())
        .to_owned();
    let late = Query::select()
        .expr(count())
        .from(task::Entity)
        .and_where(authz::in_subtree(task::Column::OrganizationId, org))
        .and_where(task::Column::NextDueOn.lt(crate::staffing::service::today()))
        .and_where(
            task::Column::PlanId.in_subquery(
                Query::select()
                    .column(plan::Column::Id)
                    .from(plan::Entity)
                    .and_where(plan::Column::EndedAt.is_null())
                    .to_owned(),
            ),
        )
        .to_owned();
    Query::select()
        .expr_as(sub(covered), Alias::new("people_with_plan"))
        .expr_as(sub(visits(false, false)), Alias::new("visits_done"))
        .expr_as(sub(late), Alias::new("tasks_overdue"))
        .expr_as(sub(visits(true, false)), Alias::new("alerts_raised"))
        .expr_as(sub(visits(true, true)), Alias::new("alerts_answered"))
        .to_owned()
}

/// What [`figures_query`] reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct Figures {
    /// People served with a running plan (coverage: with `peopleRegistered`).
    pub people_with_plan: i64,
    /// Visits and calls made in the period.
    pub visits_done: i64,
    /// Tasks of running plans past their day now.
    pub tasks_overdue: i64,
    /// Visits in the period that raised an alert (a concern, something urgent, or help asked).
    pub alerts_raised: i64,
    /// Of those, the ones handled: by a staff member, or by a volunteer taking the help
    /// request.
    pub alerts_answered: i64,
}

/// Whether a task is past its day, as the city reads today.
pub fn overdue(t: &task::Model, now: DateTime<Utc>) -> bool {
    t.next_due_on < now.with_timezone(&crate::clock::city_offset()).date_naive()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_count_from_the_start_day_across_month_ends() {
        let start = d("2026-01-31");
        assert_eq!(next_due(start, Cadence::Monthly, d("2026-01-30")), start);
        assert_eq!(
            next_due(start, Cadence::Monthly, d("2026-01-31")),
            d("2026-02-28")
        );
        assert_eq!(
            next_due(start, Cadence::Monthly, d("2026-02-28")),
            d("2026-03-31")
        );
        assert_eq!(
            next_due(start, Cadence::Monthly, d("2026-04-15")),
            d("2026-04-30")
        );
        assert_eq!(
            next_due(d("2027-01-31"), Cadence::Monthly, d("2028-02-01")),
            d("2028-02-29")
        );
        assert_eq!(
            next_due(start, Cadence::Quarterly, d("2026-02-01")),
            d("2026-04-30")
        );
        assert_eq!(
            next_due(start, Cadence::Quarterly, d("2026-12-31")),
            d("2027-01-31")
        );
    }

    #[test]
    fn weeks_count_from_the_start_day() {
        let start = d("2026-12-01");
        assert_eq!(
            next_due(start, Cadence::Weekly, d("2026-12-01")),
            d("2026-12-08")
        );
        assert_eq!(
            next_due(start, Cadence::Weekly, d("2026-12-07")),
            d("2026-12-08")
        );
        assert_eq!(
            next_due(start, Cadence::Weekly, d("2026-12-20")),
            d("2026-12-22")
        );
        assert_eq!(
            next_due(start, Cadence::Fortnightly, d("2026-12-15")),
            d("2026-12-29")
        );
        assert_eq!(next_due(start, Cadence::Weekly, d("2025-12-31")), start);
    }

    #[test]
    fn due_counts_expand_the_schedule_over_a_period() {
        let start = d("2026-01-31");
        // Monthly from 31 January: 31 Jan, 28 Feb, 31 Mar, 30 Apr in [1 Jan, 1 May).
        assert_eq!(
            due_count(
                start,
                Cadence::Monthly,
                None,
                d("2026-01-01"),
                d("2026-05-01")
            ),
            4
        );
        // A period that begins after the start counts from the first day in it.
        assert_eq!(
            due_count(
                start,
                Cadence::Monthly,
                None,
                d("2026-03-01"),
                d("2026-05-01")
            ),
            2
        );
        // Ended on 31 March: that day is not owed.
        assert_eq!(
            due_count(
                start,
                Cadence::Monthly,
                Some(d("2026-03-31")),
                d("2026-01-01"),
                d("2026-05-01")
            ),
            2
        );
        // Weekly from a Tuesday over four weeks, the end exclusive.
        let tue = d("2026-12-01");
        assert_eq!(
            due_count(tue, Cadence::Weekly, None, tue, d("2026-12-29")),
            4
        );
        assert_eq!(
            due_count(tue, Cadence::Weekly, None, tue, d("2026-12-30")),
            5
        );
        assert_eq!(
            due_count(
                tue,
                Cadence::Fortnightly,
                None,
                d("2026-12-02"),
                d("2026-12-15")
            ),
            0
        );
        assert_eq!(
            due_count(
                tue,
                Cadence::Quarterly,
                None,
                d("2025-01-01"),
                d("2026-12-01")
            ),
            0
        );
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [90, 30]), Some(60));
        assert_eq!(median(&mut [5, 1, 100]), Some(5));
        assert_eq!(median(&mut [1, 2, 3, 4]), Some(2));
    }

    #[test]
    fn overdue_is_decided_by_the_city_date() {
        let t = task::Model {
            id: 1,
            plan_id: 1,
            recipient_id: 1,
            organization_id: 1,
            party: CareParty::Volunteer,
            kind: CareTaskKind::HomeVisit,
            cadence: Cadence::Weekly,
            assignee_id: 1,
            next_due_on: d("2026-12-06"),
            last_done_on: None,
            created_at: Utc::now(),
        };
        // 23:30 UTC on the 5th is 07:30 on the 6th in the city: due today, not late.
        assert!(!overdue(
            &t,
            Utc.with_ymd_and_hms(2026, 12, 5, 23, 30, 0).unwrap()
        ));
        // 16:30 UTC on the 6th is 00:30 on the 7th in the city: late.
        assert!(overdue(
            &t,
            Utc.with_ymd_and_hms(2026, 12, 6, 16, 30, 0).unwrap()
        ));
        // 15:59 UTC on the 6th is still the 6th in the city.
        assert!(!overdue(
            &t,
            Utc.with_ymd_and_hms(2026, 12, 6, 15, 59, 0).unwrap()
        ));
    }
}
