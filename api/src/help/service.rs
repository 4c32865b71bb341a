//! Help requests and dispatch (就近调动) without GraphQL.
//!
//! A request is reported by staff or the hotline, offered to volunteers the staff pick (helped
//! by [`super::dispatch::nearby_volunteers`]), taken by the first volunteer who accepts — one conditional
//! `UPDATE` decides it, the other offers close in the same transaction — and completed by that
//! volunteer with a service record for approval. Every step is kept with its time
//! (`help_request_step`), and the row keeps the first time of each for reporting.

use chrono::{DateTime, Utc};
use entity::{
    account, help_offer as offer, help_request as request, help_request_step as step,
    service_record as record,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, sea_query::Expr,
};

use crate::{
    authz,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    events::domain::EventCategory,
    geo::GeoPoint,
    pagination::{Page, PageArgs, fetch_page},
    validate,
};

use super::domain::{HelpStatus, OfferStatus, Urgency, assignee_may_see};

/// A request as reported.
#[derive(Debug)]
pub struct NewHelpRequest {
    /// The organization responsible.
    pub organization_id: i64,
    /// 1–100 characters, public.
    pub title: String,
    /// Personal details, at most 2,000 characters.
    pub details: String,
    /// Kind of help.
    pub category: EventCategory,
    /// How soon.
    pub urgency: Urgency,
    /// Exact location.
    pub location: GeoPoint,
    /// Normalized skills.
    pub needed_skills: Vec<String>,
    /// Needed by then (future), if it matters.
    pub needed_by: Option<DateTime<Utc>>,
    /// The API client (hotline) reporting it.
    pub via_client: Option<i64>,
    /// The service project it belongs to.
    pub project_id: Option<i64>,
    /// The open community need it answers (turned `ADDRESSED` with it).
    pub need_id: Option<i64>,
}

pub(super) async fn add_step<C: ConnectionTrait>(
    db: &C,
    request_id: i64,
    status: HelpStatus,
    actor: Option<i64>,
    note: Option<String>,
    at: DateTime<Utc>,
) -> AppResult<()> {
    step::ActiveModel {
        help_request_id: Set(request_id),
        step: Set(status),
        actor_id: Set(actor),
        note: Set(note),
        at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Report a request (staff of the organization, or a client acting for them).
pub async fn create(
    db: &DatabaseConnection,
    viewer: &account::Model,
    new: NewHelpRequest,
) -> AppResult<request::Model> {
    crate::organizations::service::get(db, new.organization_id)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    if !authz::is_staff(db, viewer, new.organization_id).await? {
        return Err(AppError::Forbidden(msg!(
            "only the organization's staff (or its hotline) report help requests",
            "仅该组织的工作人员（或其热线）可上报求助"
        )));
    }
    let now = Utc::now();
    if new.needed_by.is_some_and(|t| t <= now) {
        return Err(AppError::bad_input(
            "input.neededBy",
            msg!("must be in the future", "需求时间须晚于现在"),
        ));
    }
    if let Some(p) = new.project_id {
        crate::projects::service::check_part_of(db, p, new.organization_id).await?;
    }
    if let Some(n) = new.need_id {
        crate::projects::lists::check_need(db, viewer, n, new.organization_id).await?;
    }
    let txn = begin_write(db).await?;
    let row = insert(&txn, viewer.id, new, now).await?;
    txn.commit().await?;
    tracing::info!(help_request_id = row.id, "help request reported");
    Ok(row)
}

/// Write a reported request (its first step, and the need it answers) in the caller's
/// transaction, without the checks [`create`] makes: for callers that made their own (a care
/// visit's alert, raised by whoever made the visit).
pub async fn insert<C: ConnectionTrait>(
    txn: &C,
    reporter: i64,
    new: NewHelpRequest,
    now: DateTime<Utc>,
) -> AppResult<request::Model> {
    let row = request::ActiveModel {
        organization_id: Set(new.organization_id),
        title: Set(new.title),
        details: Set(new.details),
        category: Set(new.category),
        urgency: Set(new.urgency),
        latitude: Set(new.location.latitude),
        longitude: Set(new.location.longitude),
        needed_skills: Set(validate::skills_to_db(&new.needed_skills)),
        needed_by: Set(new.needed_by),
        status: Set(HelpStatus::Reported),
        reported_by: Set(reporter),
        reported_via_client: Set(new.via_client),
        reported_at: Set(now),
        updated_at: Set(now),
        project_id: Set(new.project_id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    if let Some(n) = new.need_id {
        crate::projects::lists::take_need(
            txn,
            n,
            crate::projects::lists::Taken::HelpRequest(row.id),
        )
        .await?;
    }
    add_step(txn, row.id, HelpStatus::Reported, Some(reporter), None, now).await?;
    Ok(row)
}

/// A request by key.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<request::Model>> {
    Ok(request::Entity::find_by_id(id).one(db).await?)
}

pub(super) async fn require(db: &DatabaseConnection, id: i64) -> AppResult<request::Model> {
    get(db, id)
        .await?
        .ok_or(AppError::NotFound(Noun::HelpRequest))
}

/// Whether `viewer` may read the personal details and exact location: the volunteer who took
/// it (see [`assignee_may_see`]), and the organization's staff. Never an API client (it acts for staff, but personal data
/// stays with people).
pub async fn may_see_private<C: ConnectionTrait>(
    db: &C,
    viewer: Option<&account::Model>,
    r: &request::Model,
) -> AppResult<bool> {
    let Some(viewer) = viewer else {
        return Ok(false);
    };
    match private_without_staff_check(viewer, r) {
        Some(decided) => Ok(decided),
        None => authz::is_staff(db, viewer, r.organization_id).await,
    }
}

/// The part of [`may_see_private`] that needs no query: `Some` when it is decided without
/// asking whether `viewer` is on the organization's staff.
pub fn private_without_staff_check(viewer: &account::Model, r: &request::Model) -> Option<bool> {
    if crate::clients::confined_to().is_some() {
        return Some(false);
    }
    if r.assignee_id.is_some_and(|a| authz::is_self(viewer, a)) && assignee_may_see(r, Utc::now()) {
        return Some(true);
    }
    None
}

pub(super) async fn require_staff(
    db: &DatabaseConnection,
    viewer: &account::Model,
    r: &request::Model,
) -> AppResult<()> {
    if authz::is_staff(db, viewer, r.organization_id).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden(msg!(
            "only the organization's staff dispatch its help requests",
            "仅该组织的工作人员可派发其求助"
        )))
    }
}

/// What completing a request made.
#[derive(Debug)]
pub struct Completion {
    /// The request, now `COMPLETED`.
    pub request: request::Model,
    /// The service record waiting for approval.
    pub record: record::Model,
}

/// The volunteer who took a request reports it done; a `PENDING` service record is created
/// for the organization's staff to approve, like one from a shift.
pub async fn complete(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    note: String,
    minutes: i32,
) -> AppResult<Completion> {
    if !(1..=24 * 60).contains(&minutes) {
        return Err(AppError::bad_input(
            "minutesServed",
            msg!("must be 1 to 1440", "服务时长须为 1 至 1440 分钟"),
        ));
    }
    let r = require(db, id).await?;
    let now = Utc::now();
    // Time actually served: not more than has passed since the volunteer took it.
    if let Some(accepted) = r.accepted_at {
        let elapsed = (now - accepted).num_minutes() + 1;
        if i64::from(minutes) > elapsed && r.assignee_id == Some(viewer.id) {
            return Err(AppError::bad_input(
                "minutesServed",
                msg!(
                    "only {elapsed} minutes have passed since you took this request",
                    "服务时长不能超过接单以来的 {elapsed} 分钟"
                ),
            ));
        }
    }
    let txn = begin_write(db).await?;
    let done = request::Entity::update_many()
        .col_expr(request::Column::Status, Expr::value(HelpStatus::Completed))
        .col_expr(request::Column::CompletedAt, Expr::value(now))
        .col_expr(request::Column::CompletionNote, Expr::value(note.clone()))
        .col_expr(request::Column::MinutesServed, Expr::value(minutes))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Status.eq(HelpStatus::Accepted))
        .filter(request::Column::AssigneeId.eq(viewer.id))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(
            if r.assignee_id.is_some_and(|a| authz::is_self(viewer, a)) {
                let (is, is_zh) = crate::lifecycle::word(&r.status);
                AppError::Conflict(msg!("this request is {is}", "该求助当前为“{is_zh}”"))
            } else {
                AppError::Forbidden(msg!(
                    "only the volunteer who took this request completes it",
                    "只有接单的志愿者才能完成该求助"
                ))
            },
        );
    }
    let created = record::ActiveModel {
        signup_id: Set(None),
        help_request_id: Set(Some(id)),
        account_id: Set(viewer.id),
        shift_id: Set(None),
        organization_id: Set(r.organization_id),
        category: Set(r.category),
        served_at: Set(r.accepted_at.unwrap_or(now)),
        minutes: Set(minutes),
        status: Set(entity::service_record::RecordStatus::Pending),
        verified: Set(false),
        flagged: Set(false),
        coin_cents_per_hour: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    add_step(
        &txn,
        id,
        HelpStatus::Completed,
        Some(viewer.id),
        (!note.is_empty()).then_some(note),
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(
        help_request_id = id,
        record_id = created.id,
        "help request completed"
    );
    Ok(Completion {
        request: require(db, id).await?,
        record: created,
    })
}

/// Withdraw a request not yet completed (staff); open offers close.
pub async fn cancel(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    reason: String,
) -> AppResult<request::Model> {
    let r = require(db, id).await?;
    require_staff(db, viewer, &r).await?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let done = request::Entity::update_many()
        .col_expr(request::Column::Status, Expr::value(HelpStatus::Cancelled))
        .col_expr(request::Column::CancelReason, Expr::value(reason.clone()))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Status.is_in([
            HelpStatus::Reported,
            HelpStatus::Dispatched,
            HelpStatus::Accepted,
        ]))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        let (is, is_zh) = crate::lifecycle::word(&r.status);
        return Err(AppError::Conflict(msg!(
            "a {is} request cannot be cancelled",
            "“{is_zh}”的求助不能取消"
        )));
    }
    let withdrawn = offer::Entity::find()
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::Status.eq(OfferStatus::Open))
        .all(&txn)
        .await?;
    crate::notifications::service::help_offers(
        &txn,
        entity::notification::NotificationKind::HelpWithdrawn,
        &withdrawn,
        false,
    )
    .await?;
    offer::Entity::update_many()
        .col_expr(offer::Column::Status, Expr::value(OfferStatus::Closed))
        .col_expr(offer::Column::ClosedAt, Expr::value(now))
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::Status.eq(OfferStatus::Open))
        .exec(&txn)
        .await?;
    add_step(
        &txn,
        id,
        HelpStatus::Cancelled,
        Some(viewer.id),
        Some(reason),
        now,
    )
    .await?;
    crate::projects::lists::reopen_need(&txn, crate::projects::lists::Taken::HelpRequest(id))
        .await?;
    txn.commit().await?;
    require(db, id).await
}

/// What to list.
#[derive(Default, Debug)]
pub struct HelpFilter {
    /// Of this organization or one below it.
    pub organization_id: Option<i64>,
    /// In this status.
    pub status: Option<HelpStatus>,
}

/// List requests, oldest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &HelpFilter,
    page: PageArgs,
) -> AppResult<Page<request::Model>> {
    fetch_page(db, listed(filter), request::Column::Id, page).await
}

/// Every request [`list`] pages through (its `totalCount`).
pub fn listed(filter: &HelpFilter) -> sea_orm::Select<request::Entity> {
    let mut select = request::Entity::find();
    if let Some(org) = filter.organization_id {
        select = select.filter(authz::in_subtree(request::Column::OrganizationId, org));
    }
    if let Some(s) = filter.status {
        select = select.filter(request::Column::Status.eq(s));
    }
    select
}

/// A volunteer's offers, oldest first.
pub async fn offers_of<C: ConnectionTrait>(
    db: &C,
    volunteer: i64,
    status: Option<OfferStatus>,
    page: PageArgs,
) -> AppResult<Page<offer::Model>> {
    fetch_page(db, offered_to(volunteer, status), offer::Column::Id, page).await
}

/// Every offer [`offers_of`] pages through (its `totalCount`).
pub fn offered_to(volunteer: i64, status: Option<OfferStatus>) -> sea_orm::Select<offer::Entity> {
    let select = offer::Entity::find().filter(offer::Column::VolunteerId.eq(volunteer));
    match status {
        Some(s) => select.filter(offer::Column::Status.eq(s)),
        None => select,
    }
}

/// An offer by key.
pub async fn get_offer<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<offer::Model>> {
    Ok(offer::Entity::find_by_id(id).one(db).await?)
}

/// The offers made for a request, oldest first ([`crate::batch::first_children`]).
pub struct OffersOf;

impl crate::batch::Children for OffersOf {
    type Entity = offer::Entity;
    fn parent() -> offer::Column {
        offer::Column::HelpRequestId
    }
    fn key() -> offer::Column {
        offer::Column::Id
    }
    fn parent_of(row: &offer::Model) -> i64 {
        row.help_request_id
    }
}

/// The steps of a request, oldest first ([`crate::batch::first_children`]).
pub struct StepsOf;

impl crate::batch::Children for StepsOf {
    type Entity = step::Entity;
    fn parent() -> step::Column {
        step::Column::HelpRequestId
    }
    fn key() -> step::Column {
        step::Column::Id
    }
    fn parent_of(row: &step::Model) -> i64 {
        row.help_request_id
    }
}

/// One volunteer's offer of each request asked, batched ([`crate::batch`]).
pub struct OfferTo {
    /// The volunteer (the caller).
    pub volunteer: i64,
}

impl crate::batch::Loader for OfferTo {
    type Key = i64;
    type Value = offer::Model;
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<std::collections::HashMap<i64, offer::Model>> {
        Ok(offer::Entity::find()
            .filter(offer::Column::HelpRequestId.is_in(keys))
            .filter(offer::Column::VolunteerId.eq(self.volunteer))
            .all(&db)
            .await?
            .into_iter()
            .map(|o| (o.help_request_id, o))
            .collect())
    }
}
