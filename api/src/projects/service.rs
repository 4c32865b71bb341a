//! Service projects, their deliverables and reviews, funds tagged to them, and their progress,
//! independent of GraphQL.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use entity::{
    account, charity_event as event, charity_fund as fund, disbursement, help_request,
    organization::OrganizationKind,
    organization_closure as closure,
    project_deliverable::{self as deliverable, DeliverableStatus},
    project_review::{self as review, ReviewGrade, ReviewStage},
    service_project::{self as project, FundingSource, ServiceField},
    service_record as record, shift,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, Query, SelectStatement},
};

use crate::{
    authz,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    staffing::service::today,
};

/// Largest budget: 100 million yuan, in fen.
pub const MAX_BUDGET_FEN: i64 = 10_000_000_000;
/// Longest project: ten years.
const MAX_YEARS: u32 = 10;
/// Most deliverables one project has.
pub const MAX_DELIVERABLES: usize = 50;

/// A deliverable as promised.
#[derive(Clone, Debug)]
pub struct NewDeliverable {
    /// What, 1–100 characters.
    pub title: String,
    /// By when, within the project's period.
    pub due_on: NaiveDate,
}

/// A new project.
#[derive(Clone, Debug)]
pub struct NewProject {
    /// The station or room served.
    pub organization: i64,
    /// The organization running it (a social organization or charity).
    pub operator: Option<i64>,
    /// The third-party evaluator: neither the operator nor the station.
    pub evaluator: Option<i64>,
    /// 1–100 characters.
    pub title: String,
    /// At most 2,000 characters.
    pub description: String,
    /// Field of service.
    pub field: ServiceField,
    /// Funding source.
    pub funding: FundingSource,
    /// 0 to [`MAX_BUDGET_FEN`].
    pub budget_fen: i64,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day, inclusive; at most ten years on.
    pub ends_on: NaiveDate,
    /// Who it is for, at most 200 characters.
    pub beneficiaries: String,
    /// How many people it means to reach.
    pub beneficiary_target: i32,
    /// Its deliverables.
    pub deliverables: Vec<NewDeliverable>,
    /// The community need it answers (turned `ADDRESSED` with it).
    pub need: Option<i64>,
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn check_deliverable(
    d: &NewDeliverable,
    starts: NaiveDate,
    ends: NaiveDate,
    field: &str,
) -> AppResult<()> {
    let t = d.title.trim();
    if t.is_empty() || chars(t) > 100 {
        return Err(AppError::bad_input(
            format!("{field}.title"),
            msg!("1 to 100 characters", "须为 1 至 100 个字"),
        ));
    }
    if d.due_on < starts || d.due_on > ends {
        return Err(AppError::bad_input(
            format!("{field}.dueOn"),
            msg!(
                "must fall within the project's period",
                "截止日期须在项目周期之内"
            ),
        ));
    }
    Ok(())
}

/// Check a project's own fields (no database).
pub fn check(n: &NewProject) -> AppResult<()> {
    let t = n.title.trim();
    if t.is_empty() || chars(t) > 100 {
        return Err(AppError::bad_input(
            "input.title",
            msg!("1 to 100 characters", "项目名称须为 1 至 100 个字"),
        ));
    }
    if chars(&n.description) > 2000 {
        return Err(AppError::bad_input(
            "input.description",
            msg!("at most 2,000 characters", "项目简介最多 2000 字"),
        ));
    }
    if chars(&n.beneficiaries) > 200 {
        return Err(AppError::bad_input(
            "input.beneficiaries",
            msg!("at most 200 characters", "服务对象说明最多 200 字"),
        ));
    }
    if !(0..=MAX_BUDGET_FEN).contains(&n.budget_fen) {
        return Err(AppError::bad_input(
            "input.budgetFen",
            msg!(
                "0 to 10,000,000,000 fen (100 million yuan)",
                "预算须为 0 至 100 亿分（1 亿元）"
            ),
        ));
    }
    if !(0..=1_000_000).contains(&n.beneficiary_target) {
        return Err(AppError::bad_input(
            "input.beneficiaryTarget",
            msg!("0 to 1,000,000 people", "目标服务人数须为 0 至 1000000"),
        ));
    }
    if n.ends_on < n.starts_on {
        return Err(AppError::bad_input(
            "input.endsOn",
            msg!("must not be before startsOn", "结束日期不能早于开始日期"),
        ));
    }
    let limit = n
        .starts_on
        .checked_add_months(chrono::Months::new(12 * MAX_YEARS))
        .unwrap_or(NaiveDate::MAX);
    if n.ends_on > limit {
        return Err(AppError::bad_input(
            "input.endsOn",
            msg!("a project lasts at most ten years", "项目周期最长十年"),
        ));
    }
    if n.deliverables.len() > MAX_DELIVERABLES {
        return Err(AppError::bad_input(
            "input.deliverables",
            msg!("at most 50 deliverables", "最多 50 项产出"),
        ));
    }
    for (i, d) in n.deliverables.iter().enumerate() {
        check_deliverable(
            d,
            n.starts_on,
            n.ends_on,
            &format!("input.deliverables.{i}"),
        )?;
    }
    if n.evaluator.is_some() && (n.evaluator == n.operator || n.evaluator == Some(n.organization)) {
        return Err(AppError::bad_input(
            "input.evaluatorId",
            msg!(
                "the evaluator is a third party: neither the operator nor the station",
                "评估机构须为第三方，不能是运营机构或服务站点本身"
            ),
        ));
    }
    Ok(())
}

/// Whether `a` and `b` are on one line of the hierarchy (one is `b` or above it, or below it).
pub async fn related<C: ConnectionTrait>(db: &C, a: i64, b: i64) -> AppResult<bool> {
    let found = closure::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(
                    closure::Column::AncestorId
                        .eq(a)
                        .and(closure::Column::DescendantId.eq(b)),
                )
                .add(
                    closure::Column::AncestorId
                        .eq(b)
                        .and(closure::Column::DescendantId.eq(a)),
                ),
        )
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Create a project (with its deliverables). The managers of the station or room served.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, organization = n.organization))]
pub async fn create(
    db: &DatabaseConnection,
    viewer: &account::Model,
    n: NewProject,
) -> AppResult<project::Model> {
    check(&n)?;
    crate::organizations::service::get(db, n.organization)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    authz::require_manager(db, viewer, n.organization).await?;
    if let Some(op) = n.operator {
        let o = crate::organizations::service::get(db, op)
            .await?
            .ok_or_else(|| {
                AppError::bad_input(
                    "input.operatorId",
                    msg!("no such organization", "找不到该组织"),
                )
            })?;
        if !matches!(
            o.kind,
            OrganizationKind::SocialOrg | OrganizationKind::Charity
        ) {
            return Err(AppError::bad_input(
                "input.operatorId",
                msg!(
                    "the operator is a social organization or a charity",
                    "运营机构须为社会组织或慈善组织"
                ),
            ));
        }
    }
    if let Some(ev) = n.evaluator {
        let e = crate::organizations::service::get(db, ev)
            .await?
            .ok_or_else(|| {
                AppError::bad_input(
                    "input.evaluatorId",
                    msg!("no such organization", "找不到该组织"),
                )
            })?;
        // A third party: an organization of its own, on neither the station's line of the
        // network nor the operator's.
        let tied = related(db, ev, n.organization).await?
            || match n.operator {
                Some(op) => related(db, ev, op).await?,
                None => false,
            };
        if tied
            || !matches!(
                e.kind,
                OrganizationKind::SocialOrg | OrganizationKind::Charity
            )
        {
            return Err(AppError::bad_input(
                "input.evaluatorId",
                msg!(
                    "the evaluator is a third-party social organization, off the station's and the operator's lines of the network",
                    "评估机构须为独立的第三方社会组织，不能隶属于服务站点或运营机构所在体系"
                ),
            ));
        }
    }
    if let Some(need) = n.need {
        super::lists::check_need(db, viewer, need, n.organization).await?;
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let row = project::ActiveModel {
        organization_id: Set(n.organization),
        operator_id: Set(n.operator),
        evaluator_id: Set(n.evaluator),
        title: Set(n.title.trim().to_owned()),
        description: Set(n.description),
        field: Set(n.field),
        funding: Set(n.funding),
        budget_fen: Set(n.budget_fen),
        starts_on: Set(n.starts_on),
        ends_on: Set(n.ends_on),
        beneficiaries: Set(n.beneficiaries.trim().to_owned()),
        beneficiary_target: Set(n.beneficiary_target),
        need_id: Set(n.need),
        created_by: Set(viewer.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for d in &n.deliverables {
        insert_deliverable(&txn, row.id, d).await?;
    }
    if let Some(need) = n.need {
        super::lists::take_need(&txn, need, super::lists::Taken::Project(row.id)).await?;
    }
    txn.commit().await?;
    tracing::info!(project_id = row.id, "service project created");
    Ok(row)
}

async fn insert_deliverable<C: ConnectionTrait>(
    db: &C,
    project: i64,
    d: &NewDeliverable,
) -> AppResult<deliverable::Model> {
    Ok(deliverable::ActiveModel {
        project_id: Set(project),
        title: Set(d.title.trim().to_owned()),
        due_on: Set(d.due_on),
        status: Set(DeliverableStatus::Pending),
        note: Set(None),
        settled_by: Set(None),
        settled_at: Set(None),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// A project by key.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<project::Model>> {
    Ok(project::Entity::find_by_id(id).one(db).await?)
}

async fn required<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<project::Model> {
    get(db, id)
        .await?
        .ok_or(AppError::NotFound(Noun::ServiceProject))
}

/// Whether `viewer` runs the project: a manager of the station served or of the operator.
pub async fn runs<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    p: &project::Model,
) -> AppResult<bool> {
    if authz::manages(db, viewer, p.organization_id).await? {
        return Ok(true);
    }
    match p.operator_id {
        Some(op) => authz::manages(db, viewer, op).await,
        None => Ok(false),
    }
}

async fn require_runs<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    p: &project::Model,
) -> AppResult<()> {
    if runs(db, viewer, p).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden(msg!(
            "only the managers of the station served or of the operator run this project",
            "只有服务站点或运营机构的组织者可以管理该项目"
        )))
    }
}

/// Add a deliverable to a project (those who run it).
pub async fn add_deliverable(
    db: &DatabaseConnection,
    viewer: &account::Model,
    project_id: i64,
    d: NewDeliverable,
) -> AppResult<deliverable::Model> {
    let p = required(db, project_id).await?;
    require_runs(db, viewer, &p).await?;
    check_deliverable(&d, p.starts_on, p.ends_on, "input")?;
    let count = deliverable::Entity::find()
        .filter(deliverable::Column::ProjectId.eq(p.id))
        .count(db)
        .await?;
    if count as usize >= MAX_DELIVERABLES {
        return Err(AppError::bad_input(
            "projectId",
            msg!(
                "a project has at most 50 deliverables",
                "一个项目最多 50 项产出"
            ),
        ));
    }
    insert_deliverable(db, p.id, &d).await
}

/// Settle a pending deliverable as met or missed (those who run the project). A deliverable is
/// settled once: a second settlement is a `CONFLICT`.
pub async fn settle_deliverable(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    status: DeliverableStatus,
    note: Option<String>,
) -> AppResult<deliverable::Model> {
    if status == DeliverableStatus::Pending {
        return Err(AppError::bad_input(
            "status",
            msg!("settle as MET or MISSED", "须标记为已达成或未达成"),
        ));
    }
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if note.as_deref().is_some_and(|n| chars(n) > 500) {
        return Err(AppError::bad_input(
            "note",
            msg!("at most 500 characters", "说明最多 500 字"),
        ));
    }
    let d = deliverable::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Deliverable))?;
    let p = required(db, d.project_id).await?;
    require_runs(db, viewer, &p).await?;
    let moved = deliverable::Entity::update_many()
        .col_expr(deliverable::Column::Status, Expr::value(status))
        .col_expr(deliverable::Column::Note, Expr::value(note))
        .col_expr(deliverable::Column::SettledBy, Expr::value(viewer.id))
        .col_expr(deliverable::Column::SettledAt, Expr::value(Utc::now()))
        .filter(deliverable::Column::Id.eq(id))
        .filter(deliverable::Column::Status.eq(DeliverableStatus::Pending))
        .exec(db)
        .await?;
    if moved.rows_affected == 0 {
        return Err(AppError::Conflict(msg!(
            "the deliverable is already settled",
            "该产出已有结论"
        )));
    }
    deliverable::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Deliverable))
}

/// A project's deliverables, by due day.
pub async fn deliverables_of<C: ConnectionTrait>(
    db: &C,
    projects: &[i64],
) -> AppResult<Vec<deliverable::Model>> {
    Ok(deliverable::Entity::find()
        .filter(deliverable::Column::ProjectId.is_in(projects.iter().copied()))
        .order_by_asc(deliverable::Column::DueOn)
        .order_by_asc(deliverable::Column::Id)
        .all(db)
        .await?)
}

/// A review as written.
#[derive(Clone, Debug)]
pub struct NewReview {
    /// The project.
    pub project: i64,
    /// Mid-term or final.
    pub stage: ReviewStage,
    /// The grade.
    pub grade: ReviewGrade,
    /// 1–2,000 characters.
    pub comments: String,
}

/// Review a project: the managers of its evaluator, once per stage (`CONFLICT` for a second),
/// not before the project starts; the final review not before its last day.
pub async fn review(
    db: &DatabaseConnection,
    viewer: &account::Model,
    r: NewReview,
) -> AppResult<review::Model> {
    let comments = r.comments.trim();
    if comments.is_empty() || chars(comments) > 2000 {
        return Err(AppError::bad_input(
            "input.comments",
            msg!("1 to 2,000 characters", "评估意见须为 1 至 2000 字"),
        ));
    }
    let p = required(db, r.project).await?;
    let Some(evaluator) = p.evaluator_id else {
        return Err(AppError::Forbidden(msg!(
            "the project has no evaluator",
            "该项目未指定评估机构"
        )));
    };
    if !authz::manages(db, viewer, evaluator).await? {
        return Err(AppError::Forbidden(msg!(
            "only the evaluator's managers review the project",
            "只有评估机构的组织者可以评估该项目"
        )));
    }
    // Nobody reviews a project they run, whatever else they manage.
    if runs(db, viewer, &p).await? {
        return Err(AppError::Forbidden(msg!(
            "those who run a project do not review it",
            "项目的执行方不能评估本项目"
        )));
    }
    let day = today();
    let opens = match r.stage {
        ReviewStage::MidTerm => p.starts_on,
        ReviewStage::Final => p.ends_on,
    };
    if day < opens {
        return Err(AppError::Conflict(msg!(
            "too early: a mid-term review once the project starts, the final one from its last day",
            "尚未到评估时间：中期评估在项目开始后，结项评估在项目最后一天起"
        )));
    }
    review::ActiveModel {
        project_id: Set(p.id),
        evaluator_id: Set(evaluator),
        reviewer_id: Set(viewer.id),
        stage: Set(r.stage),
        grade: Set(r.grade),
        comments: Set(comments.to_owned()),
        reviewed_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        AppError::from_db_unique(e, || {
            AppError::Conflict(msg!(
                "the project already has a review of this stage",
                "该项目本阶段已有评估"
            ))
        })
    })
}

/// A project's reviews, oldest first.
pub async fn reviews_of<C: ConnectionTrait>(db: &C, project: i64) -> AppResult<Vec<review::Model>> {
    Ok(review::Entity::find()
        .filter(review::Column::ProjectId.eq(project))
        .order_by_asc(review::Column::Id)
        .all(db)
        .await?)
}

/// Tag a fund to a project (or untag it with `None`): its later disbursements count towards the
/// project unless they name another. The fund's managers.
pub async fn tag_fund(
    db: &DatabaseConnection,
    viewer: &account::Model,
    fund_id: i64,
    project_id: Option<i64>,
) -> AppResult<fund::Model> {
    let f = crate::funds::service::get_fund(db, fund_id)
        .await?
        .ok_or(AppError::NotFound(Noun::CharityFund))?;
    authz::require_manager(db, viewer, f.organization_id).await?;
    if let Some(p) = project_id {
        check_part_of(db, p, f.organization_id)
            .await
            .map_err(|e| match e {
                AppError::BadUserInput { message, .. } => AppError::BadUserInput {
                    field: "projectId".into(),
                    message,
                },
                other => other,
            })?;
    }
    let mut active: fund::ActiveModel = f.into();
    active.project_id = Set(project_id);
    Ok(active.update(db).await?)
}

fn out_of_line(field: &str) -> AppError {
    AppError::bad_input(
        field,
        msg!(
            "the project serves another part of the network: pick one of this organization's",
            "该项目不属于本组织所在的服务体系，请选择本组织相关的项目"
        ),
    )
}

/// `BAD_USER_INPUT` unless something of `org` may belong to project `project_id`: `org` is on
/// the line of the station served, or is the operator or below it.
pub async fn check_part_of<C: ConnectionTrait>(db: &C, project_id: i64, org: i64) -> AppResult<()> {
    let p = get(db, project_id).await?.ok_or_else(|| {
        AppError::bad_input(
            "input.projectId",
            msg!("no such service project", "找不到该服务项目"),
        )
    })?;
    if related(db, p.organization_id, org).await? {
        return Ok(());
    }
    if let Some(op) = p.operator_id
        && closure::Entity::find()
            .filter(closure::Column::AncestorId.eq(op))
            .filter(closure::Column::DescendantId.eq(org))
            .one(db)
            .await?
            .is_some()
    {
        // The operator itself or an organization below it (the closure holds each
        // organization as its own ancestor).
        return Ok(());
    }
    Err(out_of_line("input.projectId"))
}

/// Which projects an organization lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Projects serving it or any organization below it.
    Served,
    /// Projects it operates.
    Operated,
    /// Projects it evaluates.
    Evaluated,
}

/// An organization's projects in `role`, newest period first (at most 500).
pub async fn of_organization<C: ConnectionTrait>(
    db: &C,
    org: i64,
    role: Role,
) -> AppResult<Vec<project::Model>> {
    let q = project::Entity::find();
    let q = match role {
        Role::Served => q.filter(authz::in_subtree(project::Column::OrganizationId, org)),
        Role::Operated => q.filter(project::Column::OperatorId.eq(org)),
        Role::Evaluated => q.filter(project::Column::EvaluatorId.eq(org)),
    };
    Ok(q.order_by_desc(project::Column::StartsOn)
        .order_by_desc(project::Column::Id)
        .limit(500)
        .all(db)
        .await?)
}

/// What a project has achieved.
#[derive(Clone, Debug, Default, PartialEq, Eq, FromQueryResult)]
pub struct Progress {
    /// Deliverables promised.
    pub deliverables: i64,
    /// Deliverables met.
    pub deliverables_met: i64,
    /// Deliverables missed.
    pub deliverables_missed: i64,
    /// Deliverables still pending after their due day.
    pub deliverables_overdue: i64,
    /// Its events (published or completed) that have ended.
    pub events_held: i64,
    /// Its events (published or completed), ended or not.
    pub events_planned: i64,
    /// Its help requests completed.
    pub help_requests_completed: i64,
    /// Approved minutes served at its events' shifts and on its help requests.
    pub minutes_served: i64,
    /// Fen disbursed to it.
    pub disbursed_fen: i64,
}

/// `SUM(what)` or 0, as a 64-bit integer on both backends.
fn sum_or_zero(what: Expr) -> Expr {
    Expr::from(Func::coalesce([
        Expr::from(Func::sum(what)),
        Expr::val(0i64),
    ]))
    .cast_as(Alias::new("BIGINT"))
}

/// The progress of `ids`, one statement for all of them: a correlated subquery per figure.
pub async fn progress<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, Progress>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let pid = || Expr::col((project::Entity, project::Column::Id));
    let sub = |q: SelectStatement| Expr::SubQuery(None, Box::new(q.into()));
    let count = |q: &mut SelectStatement| -> SelectStatement {
        q.expr(Func::count(Expr::col(Asterisk))).to_owned()
    };
    let deliverables = |status: Option<DeliverableStatus>, overdue: bool| {
        let mut q = Query::select();
        q.from(deliverable::Entity)
            .and_where(Expr::col((deliverable::Entity, deliverable::Column::ProjectId)).eq(pid()));
        if let Some(s) = status {
            q.and_where(Expr::col((deliverable::Entity, deliverable::Column::Status)).eq(s));
        }
        if overdue {
            q.and_where(Expr::col((deliverable::Entity, deliverable::Column::DueOn)).lt(today()));
        }
        count(&mut q)
    };
    let held_statuses = [event::EventStatus::Published, event::EventStatus::Completed];
    let events = |ended: bool| {
        let mut q = Query::select();
        q.from(event::Entity)
            .and_where(Expr::col((event::Entity, event::Column::ProjectId)).eq(pid()))
            .and_where(Expr::col((event::Entity, event::Column::Status)).is_in(held_statuses));
        if ended {
            q.and_where(Expr::col((event::Entity, event::Column::EndsAt)).lte(Utc::now()));
        }
        count(&mut q)
    };
    let helped = count(
        Query::select()
            .from(help_request::Entity)
            .and_where(Expr::col((help_request::Entity, help_request::Column::ProjectId)).eq(pid()))
            .and_where(
                Expr::col((help_request::Entity, help_request::Column::Status))
                    .eq(help_request::HelpStatus::Completed),
            ),
    );
    let approved =
        || Expr::col((record::Entity, record::Column::Status)).eq(record::RecordStatus::Approved);
    let at_events = Query::select()
        .expr(sum_or_zero(Expr::col((
            record::Entity,
            record::Column::Minutes,
        ))))
        .from(record::Entity)
        .inner_join(
            shift::Entity,
            Expr::col((shift::Entity, shift::Column::Id))
                .equals((record::Entity, record::Column::ShiftId)),
        )
        .inner_join(
            event::Entity,
            Expr::col((event::Entity, event::Column::Id))
                .equals((shift::Entity, shift::Column::EventId)),
        )
        .and_where(Expr::col((event::Entity, event::Column::ProjectId)).eq(pid()))
        .and_where(approved())
        .to_owned();
    let on_requests = Query::select()
        .expr(sum_or_zero(Expr::col((
            record::Entity,
            record::Column::Minutes,
        ))))
        .from(record::Entity)
        .inner_join(
            help_request::Entity,
            Expr::col((help_request::Entity, help_request::Column::Id))
                .equals((record::Entity, record::Column::HelpRequestId)),
        )
        .and_where(Expr::col((help_request::Entity, help_request::Column::ProjectId)).eq(pid()))
        .and_where(approved())
        .to_owned();
    let disbursed = Query::select()
        .expr(sum_or_zero(Expr::col((
            disbursement::Entity,
            disbursement::Column::AmountFen,
        ))))
        .from(disbursement::Entity)
        .and_where(Expr::col((disbursement::Entity, disbursement::Column::ProjectId)).eq(pid()))
        .to_owned();
    let query = Query::select()
        .expr_as(pid(), Alias::new("id"))
        .expr_as(sub(deliverables(None, false)), Alias::new("deliverables"))
        .expr_as(
            sub(deliverables(Some(DeliverableStatus::Met), false)),
            Alias::new("deliverables_met"),
        )
        .expr_as(
            sub(deliverables(Some(DeliverableStatus::Missed), false)),
            Alias::new("deliverables_missed"),
        )
        .expr_as(
            sub(deliverables(Some(DeliverableStatus::Pending), true)),
            Alias::new("deliverables_overdue"),
        )
        .expr_as(sub(events(true)), Alias::new("events_held"))
        .expr_as(sub(events(false)), Alias::new("events_planned"))
        .expr_as(sub(helped), Alias::new("help_requests_completed"))
        .expr_as(
            sub(at_events).add(sub(on_requests)),
            Alias::new("minutes_served"),
        )
        .expr_as(sub(disbursed), Alias::new("disbursed_fen"))
        .from(project::Entity)
        .and_where(pid().is_in(ids.iter().copied()))
        .to_owned();
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        #[sea_orm(nested)]
        progress: Progress,
    }
    let rows = Row::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.progress)).collect())
}

/// Batched [`progress`].
pub struct ProgressOf;

impl crate::batch::Loader for ProgressOf {
    type Key = i64;
    type Value = Progress;

    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<HashMap<i64, Progress>> {
        progress(&db, &keys).await
    }
}

/// Batched deliverables of projects.
pub struct DeliverablesOf;

impl crate::batch::Loader for DeliverablesOf {
    type Key = i64;
    type Value = Vec<deliverable::Model>;

    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<HashMap<i64, Vec<deliverable::Model>>> {
        let mut out: HashMap<i64, Vec<deliverable::Model>> = HashMap::new();
        for d in deliverables_of(&db, &keys).await? {
            out.entry(d.project_id).or_default().push(d);
        }
        Ok(out)
    }
}

/// The project figures of a subtree over city days `[from, to)`, one statement: projects whose
/// period touches it and their budget, needs raised in it and how many of those were addressed.
pub fn figures_query(
    org: i64,
    from_day: NaiveDate,
    to_day: NaiveDate,
    from: chrono::DateTime<Utc>,
    to: chrono::DateTime<Utc>,
) -> SelectStatement {
    use entity::community_need as need;
    let sub = |q: SelectStatement| Expr::SubQuery(None, Box::new(q.into()));
    let projects = |what: Expr| {
        Query::select()
            .expr(what)
            .from(project::Entity)
            .and_where(authz::in_subtree(project::Column::OrganizationId, org))
            .and_where(project::Column::StartsOn.lt(to_day))
            .and_where(project::Column::EndsOn.gte(from_day))
            .to_owned()
    };
    let needs = |addressed: bool| {
        let mut q = Query::select();
        q.expr(Func::count(Expr::col(Asterisk)))
            .from(need::Entity)
            .and_where(authz::in_subtree(need::Column::OrganizationId, org))
            .and_where(need::Column::CreatedAt.gte(from))
            .and_where(need::Column::CreatedAt.lt(to));
        if addressed {
            q.and_where(need::Column::Status.eq(need::NeedStatus::Addressed));
        }
        q.to_owned()
    };
    Query::select()
        .expr_as(
            sub(projects(Func::count(Expr::col(Asterisk)).into())),
            Alias::new("projects"),
        )
        .expr_as(
            sub(projects(sum_or_zero(Expr::col(project::Column::BudgetFen)))),
            Alias::new("budget_fen"),
        )
        .expr_as(sub(needs(false)), Alias::new("needs_raised"))
        .expr_as(sub(needs(true)), Alias::new("needs_addressed"))
        .expr_as(
            sub(Query::select()
                .expr(Func::count(Expr::col(Asterisk)))
                .from(entity::care_recipient::Entity)
                .and_where(authz::in_subtree(
                    entity::care_recipient::Column::OrganizationId,
                    org,
                ))
                .and_where(entity::care_recipient::Column::CreatedAt.lt(to))
                .to_owned()),
            Alias::new("people_registered"),
        )
        .to_owned()
}

/// What [`figures_query`] reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, FromQueryResult)]
pub struct Figures {
    /// Projects whose period touches the period.
    pub projects: i64,
    /// Their budget, in fen.
    pub budget_fen: i64,
    /// Needs raised in the period.
    pub needs_raised: i64,
    /// Of those, the ones turned into a help request, an event or a project.
    pub needs_addressed: i64,
    /// People served registered by the end of the period (erased records still count: a count
    /// is all statistics ever show of the register).
    pub people_registered: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn sample() -> NewProject {
        NewProject {
            organization: 1,
            operator: Some(2),
            evaluator: Some(3),
            title: "“暖心食堂”助餐服务".into(),
            description: String::new(),
            field: ServiceField::ElderlyService,
            funding: FundingSource::GovernmentPurchase,
            budget_fen: 30_000_000,
            starts_on: day("2026-01-01"),
            ends_on: day("2026-12-31"),
            beneficiaries: "独居老人".into(),
            beneficiary_target: 120,
            deliverables: vec![NewDeliverable {
                title: "建立服务档案".into(),
                due_on: day("2026-03-31"),
            }],
            need: None,
        }
    }

    fn field_of(e: AppError) -> String {
        match e {
            AppError::BadUserInput { field, .. } => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn a_sound_project_passes() {
        check(&sample()).unwrap();
    }

    #[test]
    fn periods_budgets_and_deliverables_are_checked() {
        let mut p = sample();
        p.ends_on = day("2025-12-31");
        assert_eq!(field_of(check(&p).unwrap_err()), "input.endsOn");
        let mut p = sample();
        p.ends_on = day("2036-01-02");
        assert_eq!(field_of(check(&p).unwrap_err()), "input.endsOn");
        // Ten years from a 29 February still ends ten years on.
        let mut p = sample();
        p.starts_on = day("2028-02-29");
        p.ends_on = day("9999-12-31");
        p.deliverables.clear();
        assert_eq!(field_of(check(&p).unwrap_err()), "input.endsOn");
        p.ends_on = day("2038-02-28");
        check(&p).unwrap();
        let mut p = sample();
        p.budget_fen = -1;
        assert_eq!(field_of(check(&p).unwrap_err()), "input.budgetFen");
        let mut p = sample();
        p.deliverables[0].due_on = day("2027-01-01");
        assert_eq!(
            field_of(check(&p).unwrap_err()),
            "input.deliverables.0.dueOn"
        );
        let mut p = sample();
        p.title = "  ".into();
        assert_eq!(field_of(check(&p).unwrap_err()), "input.title");
    }

    #[test]
    fn the_evaluator_is_a_third_party() {
        let mut p = sample();
        p.evaluator = Some(2);
        assert_eq!(field_of(check(&p).unwrap_err()), "input.evaluatorId");
        let mut p = sample();
        p.evaluator = Some(1);
        assert_eq!(field_of(check(&p).unwrap_err()), "input.evaluatorId");
    }
}
