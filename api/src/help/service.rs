//! Help requests and dispatch (就近调动) without GraphQL.
//!
//! A request is reported by staff or the hotline, offered to volunteers the staff pick (helped
//! by [`nearby_volunteers`]), taken by the first volunteer who accepts — one conditional
//! `UPDATE` decides it, the other offers close in the same transaction — and completed by that
//! volunteer with a service record for approval. Every step is kept with its time
//! (`help_request_step`), and the row keeps the first time of each for reporting.

use async_graphql::Enum;
use chrono::{DateTime, Duration, Utc};
use entity::{
    account, help_offer as offer, help_request as request, help_request_step as step,
    service_record as record, shift, signup, volunteer_profile as profile,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, OnConflict, Query, SimpleExpr},
};

use crate::{
    authz,
    db::begin_write,
    error::{AppError, AppResult},
    events::domain::EventCategory,
    geo::within,
    geo::{GeoPoint, Near, distance_sql},
    live::{self, Change},
    pagination::{Page, PageArgs, fetch_page},
    validate,
};

/// Where a help request stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelpStatus {
    /// Reported, not offered to anyone yet.
    Reported,
    /// Offered to one or more volunteers; nobody has accepted.
    Dispatched,
    /// A volunteer took it.
    Accepted,
    /// The volunteer finished it; their service record waits for approval.
    Completed,
    /// Withdrawn by staff.
    Cancelled,
}

impl HelpStatus {
    /// Stored form.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Reported => "REPORTED",
            Self::Dispatched => "DISPATCHED",
            Self::Accepted => "ACCEPTED",
            Self::Completed => "COMPLETED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// Read a stored value.
    pub fn from_db(v: &str) -> Self {
        match v {
            "DISPATCHED" => Self::Dispatched,
            "ACCEPTED" => Self::Accepted,
            "COMPLETED" => Self::Completed,
            "CANCELLED" => Self::Cancelled,
            _ => Self::Reported,
        }
    }
}

/// How soon help is needed.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Urgency {
    /// Whenever someone can.
    Low,
    /// Within the day.
    Normal,
    /// Within hours.
    High,
    /// Now (but call emergency services first when life is at risk).
    Critical,
}

impl Urgency {
    /// Stored form.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Low => "LOW",
            Self::Normal => "NORMAL",
            Self::High => "HIGH",
            Self::Critical => "CRITICAL",
        }
    }

    /// Read a stored value.
    pub fn from_db(v: &str) -> Self {
        match v {
            "LOW" => Self::Low,
            "HIGH" => Self::High,
            "CRITICAL" => Self::Critical,
            _ => Self::Normal,
        }
    }
}

/// Where an offer stands.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferStatus {
    /// Waiting for the volunteer.
    Open,
    /// The volunteer took the request.
    Accepted,
    /// The volunteer said no.
    Declined,
    /// Someone else took it, or it was cancelled.
    Closed,
}

impl OfferStatus {
    /// Stored form.
    pub fn as_db(self) -> &'static str {
        match self {
            Self::Open => "OPEN",
            Self::Accepted => "ACCEPTED",
            Self::Declined => "DECLINED",
            Self::Closed => "CLOSED",
        }
    }

    /// Read a stored value.
    pub fn from_db(v: &str) -> Self {
        match v {
            "ACCEPTED" => Self::Accepted,
            "DECLINED" => Self::Declined,
            "CLOSED" => Self::Closed,
            _ => Self::Open,
        }
    }
}

/// Most volunteers one dispatch offers a request to, and most `nearbyVolunteers` returns.
pub const MAX_OFFERS: usize = 50;

/// How far ahead a confirmed shift makes a volunteer busy (less when `neededBy` is sooner).
const DEFAULT_WINDOW_HOURS: i64 = 2;

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
}

async fn add_step<C: ConnectionTrait>(
    db: &C,
    request_id: i64,
    status: HelpStatus,
    actor: Option<i64>,
    note: Option<String>,
    at: DateTime<Utc>,
) -> AppResult<()> {
    step::ActiveModel {
        help_request_id: Set(request_id),
        step: Set(status.as_db().to_owned()),
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
        .ok_or(AppError::NotFound("organization"))?;
    if !authz::is_staff(db, viewer, new.organization_id).await? {
        return Err(AppError::Forbidden(
            "only the organization's staff (or its hotline) report help requests".to_owned(),
        ));
    }
    let now = Utc::now();
    if new.needed_by.is_some_and(|t| t <= now) {
        return Err(AppError::bad_input(
            "input.neededBy",
            "must be in the future",
        ));
    }
    let txn = begin_write(db).await?;
    let row = request::ActiveModel {
        organization_id: Set(new.organization_id),
        title: Set(new.title),
        details: Set(new.details),
        category: Set(new.category.as_db().to_owned()),
        urgency: Set(new.urgency.as_db().to_owned()),
        latitude: Set(new.location.latitude),
        longitude: Set(new.location.longitude),
        needed_skills: Set(validate::skills_to_db(&new.needed_skills)),
        needed_by: Set(new.needed_by),
        status: Set(HelpStatus::Reported.as_db().to_owned()),
        reported_by: Set(viewer.id),
        reported_via_client: Set(new.via_client),
        reported_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    add_step(
        &txn,
        row.id,
        HelpStatus::Reported,
        Some(viewer.id),
        None,
        now,
    )
    .await?;
    txn.commit().await?;
    tracing::info!(help_request_id = row.id, "help request reported");
    Ok(row)
}

/// A request by key.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<request::Model>> {
    Ok(request::Entity::find_by_id(id).one(db).await?)
}

async fn require(db: &DatabaseConnection, id: i64) -> AppResult<request::Model> {
    get(db, id).await?.ok_or(AppError::NotFound("help request"))
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

/// How long after completing a request its volunteer still sees the personal details.
pub const ASSIGNEE_ACCESS_AFTER_COMPLETION_DAYS: i64 = 7;

/// Whether the volunteer who took `r` still sees its personal details at `now`: while it is
/// theirs to do, and for a week after they complete it; not once it is cancelled.
pub fn assignee_may_see(r: &request::Model, now: DateTime<Utc>) -> bool {
    match HelpStatus::from_db(&r.status) {
        HelpStatus::Accepted => true,
        HelpStatus::Completed => r
            .completed_at
            .is_some_and(|t| now - t <= Duration::days(ASSIGNEE_ACCESS_AFTER_COMPLETION_DAYS)),
        _ => false,
    }
}

async fn require_staff(
    db: &DatabaseConnection,
    viewer: &account::Model,
    r: &request::Model,
) -> AppResult<()> {
    if authz::is_staff(db, viewer, r.organization_id).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the organization's staff dispatch its help requests".to_owned(),
        ))
    }
}

/// A volunteer proposed for a request.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The volunteer's account.
    pub account_id: i64,
    /// From their home location to the request, in meters.
    pub distance_m: f64,
    /// Needed skills they have.
    pub matched_skills: Vec<String>,
    /// Whether the request was offered to them already.
    pub offered: bool,
}

#[derive(FromQueryResult)]
struct CandidateRow {
    account_id: i64,
    skills: String,
    distance: f64,
}

/// The time a volunteer must be free to answer `r`: the next two hours, or until `neededBy`
/// when that is sooner. (A shift tomorrow does not stop anyone helping now.)
pub fn busy_window(r: &request::Model, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let soon = now + Duration::hours(DEFAULT_WINDOW_HOURS);
    let end = r
        .needed_by
        .filter(|t| *t > now)
        .map_or(soon, |t| std::cmp::min(t, soon));
    (now, end)
}

/// Volunteers who agreed to be proposed (`available_for_dispatch`) and whose home is within
/// `radius_m` of the request, who are not on a confirmed (or checked-in) shift overlapping
/// [`busy_window`] nor helping with another request: those with more of the needed skills
/// first, then the nearest. One statement, ranked and cut by the database. Staff of the
/// request's organization only, while the request is open.
pub async fn nearby_volunteers(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    first: usize,
    radius_m: f64,
) -> AppResult<Vec<Candidate>> {
    let r = require(db, id).await?;
    require_staff(db, viewer, &r).await?;
    // Only while it can still be offered: no looking up who lives near a closed request.
    if !matches!(
        HelpStatus::from_db(&r.status),
        HelpStatus::Reported | HelpStatus::Dispatched
    ) {
        return Err(AppError::Conflict(format!(
            "this request is {}: nobody is to be found for it now",
            r.status.to_lowercase()
        )));
    }
    if !(1..=MAX_OFFERS).contains(&first) {
        return Err(AppError::bad_input(
            "first",
            format!("must be 1 to {MAX_OFFERS}"),
        ));
    }
    // The ranking reads homes: who asked is on record.
    crate::privacy::audit(
        db,
        viewer.id,
        "NEARBY_VOLUNTEERS",
        Some(r.organization_id),
        None,
        format!("help request {id}"),
    )
    .await?;
    let center = GeoPoint {
        latitude: r.latitude,
        longitude: r.longitude,
    };
    let needed = validate::skills_from_db(&r.needed_skills);
    let (from, to) = busy_window(&r, Utc::now());
    let p = Alias::new("volunteer_profile");
    let on_shift = Query::select()
        .expr(Expr::val(1))
        .from(signup::Entity)
        .inner_join(
            shift::Entity,
            Expr::col((shift::Entity, shift::Column::Id))
                .equals((signup::Entity, signup::Column::ShiftId)),
        )
        .and_where(
            Expr::col((signup::Entity, signup::Column::AccountId))
                .equals((p.clone(), profile::Column::AccountId)),
        )
        // Checked in is busy too (a check-in turns the sign-up ATTENDED).
        .and_where(
            Expr::col((signup::Entity, signup::Column::Status)).is_in(["CONFIRMED", "ATTENDED"]),
        )
        .and_where(Expr::col((shift::Entity, shift::Column::StartsAt)).lt(to))
        .and_where(Expr::col((shift::Entity, shift::Column::EndsAt)).gt(from))
        .to_owned();
    let helping = Query::select()
        .expr(Expr::val(1))
        .from(request::Entity)
        .and_where(
            Expr::col((request::Entity, request::Column::AssigneeId))
                .equals((p.clone(), profile::Column::AccountId)),
        )
        .and_where(Expr::col((request::Entity, request::Column::Status)).eq("ACCEPTED"))
        .to_owned();
    // How many of the needed skills a profile lists (skills are normalized JSON arrays).
    let matched = needed
        .iter()
        .fold(SimpleExpr::from(Expr::val(0)), |acc, s| {
            acc.add(
                Expr::case(
                    Expr::col((p.clone(), profile::Column::Skills))
                        .like(LikeExpr::new(validate::skill_like_pattern(s))),
                    Expr::val(1),
                )
                .finally(Expr::val(0)),
            )
        });
    let near = Near { center, radius_m };
    let rows = profile::Entity::find()
        .select_only()
        .column(profile::Column::AccountId)
        .column(profile::Column::Skills)
        .column_as(
            distance_sql(
                "volunteer_profile",
                "home_latitude",
                "home_longitude",
                center,
            ),
            "distance",
        )
        .filter(profile::Column::AvailableForDispatch.eq(true))
        .filter(within(
            near,
            "volunteer_profile",
            "home_latitude",
            "home_longitude",
        ))
        .filter(Expr::exists(on_shift).not())
        .filter(Expr::exists(helping).not())
        .order_by(matched, Order::Desc)
        .order_by(Expr::col(Alias::new("distance")), Order::Asc)
        .order_by(profile::Column::AccountId, Order::Asc)
        .limit(first as u64)
        .into_model::<CandidateRow>()
        .all(db)
        .await?;
    let offered: std::collections::HashSet<i64> = offer::Entity::find()
        .select_only()
        .column(offer::Column::VolunteerId)
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::VolunteerId.is_in(rows.iter().map(|c| c.account_id)))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|c| {
            let has = validate::skills_from_db(&c.skills);
            Candidate {
                account_id: c.account_id,
                distance_m: c.distance,
                matched_skills: needed.iter().filter(|s| has.contains(s)).cloned().collect(),
                offered: offered.contains(&c.account_id),
            }
        })
        .collect())
}

/// Offer a request to volunteers (staff). Offering again to someone already offered changes
/// nothing for them; each new offer reaches its volunteer live.
pub async fn dispatch(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    volunteer_ids: &[i64],
) -> AppResult<request::Model> {
    let r = require(db, id).await?;
    require_staff(db, viewer, &r).await?;
    let mut ids = volunteer_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > MAX_OFFERS {
        return Err(AppError::bad_input(
            "volunteerIds",
            format!("offer to 1 to {MAX_OFFERS} volunteers"),
        ));
    }
    let known = account::Entity::find()
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .count(db)
        .await?;
    if known != ids.len() as u64 {
        return Err(AppError::bad_input(
            "volunteerIds",
            "names an account that does not exist",
        ));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let moved = request::Entity::update_many()
        .col_expr(request::Column::Status, Expr::value("DISPATCHED"))
        .col_expr(
            request::Column::DispatchedAt,
            Expr::from(Func::coalesce([
                Expr::col(request::Column::DispatchedAt),
                Expr::value(now),
            ])),
        )
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Status.is_in(["REPORTED", "DISPATCHED"]))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        return Err(AppError::Conflict(format!(
            "this request is {}: it cannot be offered now",
            r.status.to_lowercase()
        )));
    }
    offer::Entity::insert_many(ids.iter().map(|&v| offer::ActiveModel {
        help_request_id: Set(id),
        volunteer_id: Set(v),
        status: Set(OfferStatus::Open.as_db().to_owned()),
        offered_by: Set(viewer.id),
        offered_at: Set(now),
        ..Default::default()
    }))
    .on_conflict(
        OnConflict::columns([offer::Column::HelpRequestId, offer::Column::VolunteerId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    add_step(
        &txn,
        id,
        HelpStatus::Dispatched,
        Some(viewer.id),
        Some(format!("offered to {} volunteer(s)", ids.len())),
        now,
    )
    .await?;
    txn.commit().await?;
    // Every open offer named here is announced (again): a reminder does no harm.
    let open = offer::Entity::find()
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::VolunteerId.is_in(ids.iter().copied()))
        .filter(offer::Column::Status.eq("OPEN"))
        .all(db)
        .await?;
    for o in open {
        live::record(Change::HelpOffer {
            offer_id: o.id,
            volunteer_id: o.volunteer_id,
        });
    }
    tracing::info!(
        help_request_id = id,
        offers = ids.len(),
        "help request dispatched"
    );
    require(db, id).await
}

/// The caller's offer of a request, if any.
pub async fn offer_of<C: ConnectionTrait>(
    db: &C,
    request_id: i64,
    volunteer: i64,
) -> AppResult<Option<offer::Model>> {
    Ok(offer::Entity::find()
        .filter(offer::Column::HelpRequestId.eq(request_id))
        .filter(offer::Column::VolunteerId.eq(volunteer))
        .one(db)
        .await?)
}

/// Take a request offered to the caller. The first acceptance wins (one conditional `UPDATE`);
/// everyone else gets `CONFLICT`, and whoever was not offered it `FORBIDDEN`.
pub async fn accept(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<request::Model> {
    let r = require(db, id).await?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let mine = Query::select()
        .expr(Expr::val(1))
        .from(offer::Entity)
        .and_where(offer::Column::HelpRequestId.eq(id))
        .and_where(offer::Column::VolunteerId.eq(viewer.id))
        .and_where(offer::Column::Status.eq("OPEN"))
        .to_owned();
    let taken = request::Entity::update_many()
        .col_expr(request::Column::Status, Expr::value("ACCEPTED"))
        .col_expr(request::Column::AssigneeId, Expr::value(viewer.id))
        .col_expr(request::Column::AcceptedAt, Expr::value(now))
        .col_expr(
            request::Column::ResponseSeconds,
            Expr::value(std::cmp::max((now - r.reported_at).num_seconds(), 0)),
        )
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Status.eq("DISPATCHED"))
        .filter(Expr::exists(mine))
        .exec(&txn)
        .await?;
    if taken.rows_affected == 0 {
        drop(txn);
        let current = require(db, id).await?;
        // A phone retrying after a lost answer: the caller already has it.
        if current.status == "ACCEPTED" && current.assignee_id == Some(viewer.id) {
            return Ok(current);
        }
        let offer = offer_of(db, id, viewer.id).await?;
        return Err(match offer {
            None => AppError::Forbidden("this request was not offered to you".to_owned()),
            Some(o) if o.status == "DECLINED" => {
                AppError::Conflict("you declined this request".to_owned())
            }
            Some(_) => {
                AppError::Conflict("someone else took this request, or it was withdrawn".to_owned())
            }
        });
    }
    offer::Entity::update_many()
        .col_expr(
            offer::Column::Status,
            Expr::case(
                offer::Column::VolunteerId.eq(viewer.id),
                Expr::val("ACCEPTED"),
            )
            .finally(Expr::val("CLOSED"))
            .into(),
        )
        .col_expr(offer::Column::ClosedAt, Expr::value(now))
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::Status.eq("OPEN"))
        .exec(&txn)
        .await?;
    add_step(&txn, id, HelpStatus::Accepted, Some(viewer.id), None, now).await?;
    txn.commit().await?;
    tracing::info!(help_request_id = id, "help request accepted");
    require(db, id).await
}

/// Say no to an offer (the volunteer it was made to, while it is open).
pub async fn decline(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<offer::Model> {
    let now = Utc::now();
    let res = offer::Entity::update_many()
        .col_expr(offer::Column::Status, Expr::value("DECLINED"))
        .col_expr(offer::Column::ClosedAt, Expr::value(now))
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::VolunteerId.eq(viewer.id))
        .filter(offer::Column::Status.eq("OPEN"))
        .exec(db)
        .await?;
    let offer = offer_of(db, id, viewer.id)
        .await?
        .ok_or_else(|| AppError::Forbidden("this request was not offered to you".to_owned()))?;
    if res.rows_affected == 0 {
        return Err(AppError::Conflict(format!(
            "this offer is {}",
            offer.status.to_lowercase()
        )));
    }
    Ok(offer)
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
        return Err(AppError::bad_input("minutesServed", "must be 1 to 1440"));
    }
    let r = require(db, id).await?;
    let now = Utc::now();
    // Time actually served: not more than has passed since the volunteer took it.
    if let Some(accepted) = r.accepted_at {
        let elapsed = (now - accepted).num_minutes() + 1;
        if i64::from(minutes) > elapsed && r.assignee_id == Some(viewer.id) {
            return Err(AppError::bad_input(
                "minutesServed",
                format!("only {elapsed} minutes have passed since you took this request"),
            ));
        }
    }
    let txn = begin_write(db).await?;
    let done = request::Entity::update_many()
        .col_expr(request::Column::Status, Expr::value("COMPLETED"))
        .col_expr(request::Column::CompletedAt, Expr::value(now))
        .col_expr(request::Column::CompletionNote, Expr::value(note.clone()))
        .col_expr(request::Column::MinutesServed, Expr::value(minutes))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Status.eq("ACCEPTED"))
        .filter(request::Column::AssigneeId.eq(viewer.id))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(
            if r.assignee_id.is_some_and(|a| authz::is_self(viewer, a)) {
                AppError::Conflict(format!("this request is {}", r.status.to_lowercase()))
            } else {
                AppError::Forbidden(
                    "only the volunteer who took this request completes it".to_owned(),
                )
            },
        );
    }
    let created = record::ActiveModel {
        signup_id: Set(None),
        help_request_id: Set(Some(id)),
        account_id: Set(viewer.id),
        shift_id: Set(None),
        organization_id: Set(r.organization_id),
        category: Set(r.category.clone()),
        served_at: Set(r.accepted_at.unwrap_or(now)),
        minutes: Set(minutes),
        status: Set("PENDING".to_owned()),
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
        .col_expr(request::Column::Status, Expr::value("CANCELLED"))
        .col_expr(request::Column::CancelReason, Expr::value(reason.clone()))
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Status.is_in(["REPORTED", "DISPATCHED", "ACCEPTED"]))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::Conflict(format!(
            "a {} request cannot be cancelled",
            r.status.to_lowercase()
        )));
    }
    offer::Entity::update_many()
        .col_expr(offer::Column::Status, Expr::value("CLOSED"))
        .col_expr(offer::Column::ClosedAt, Expr::value(now))
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::Status.eq("OPEN"))
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
    let mut select = request::Entity::find();
    if let Some(org) = filter.organization_id {
        select = select.filter(authz::in_subtree(request::Column::OrganizationId, org));
    }
    if let Some(s) = filter.status {
        select = select.filter(request::Column::Status.eq(s.as_db()));
    }
    fetch_page(db, select, request::Column::Id, page).await
}

/// A volunteer's offers, oldest first.
pub async fn offers_of<C: ConnectionTrait>(
    db: &C,
    volunteer: i64,
    status: Option<OfferStatus>,
    page: PageArgs,
) -> AppResult<Page<offer::Model>> {
    let mut select = offer::Entity::find().filter(offer::Column::VolunteerId.eq(volunteer));
    if let Some(s) = status {
        select = select.filter(offer::Column::Status.eq(s.as_db()));
    }
    fetch_page(db, select, offer::Column::Id, page).await
}

/// An offer by key.
pub async fn get_offer<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<offer::Model>> {
    Ok(offer::Entity::find_by_id(id).one(db).await?)
}

/// The offers made for a request, oldest first ([`crate::batch::AllChildren`]).
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

/// The steps of a request, oldest first ([`crate::batch::AllChildren`]).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(needed_by: Option<DateTime<Utc>>) -> request::Model {
        let now = Utc::now();
        request::Model {
            id: 1,
            organization_id: 1,
            title: "t".into(),
            details: String::new(),
            category: "ELDERLY_CARE".into(),
            urgency: "NORMAL".into(),
            latitude: 31.3,
            longitude: 120.6,
            needed_skills: "[]".into(),
            needed_by,
            status: "REPORTED".into(),
            reported_by: 1,
            reported_via_client: None,
            assignee_id: None,
            reported_at: now,
            dispatched_at: None,
            accepted_at: None,
            response_seconds: None,
            completed_at: None,
            completion_note: None,
            minutes_served: None,
            cancel_reason: None,
            updated_at: now,
        }
    }

    #[test]
    fn a_volunteer_must_be_free_for_two_hours_or_until_a_sooner_needed_by() {
        let now = Utc::now();
        assert_eq!(
            busy_window(&row(Some(now + Duration::hours(5))), now),
            (now, now + Duration::hours(2))
        );
        assert_eq!(
            busy_window(&row(Some(now + Duration::minutes(30))), now),
            (now, now + Duration::minutes(30))
        );
        assert_eq!(
            busy_window(&row(None), now),
            (now, now + Duration::hours(2))
        );
        // A past `neededBy` (the request is late) still asks for the next two hours.
        assert_eq!(
            busy_window(&row(Some(now - Duration::hours(1))), now),
            (now, now + Duration::hours(2))
        );
    }

    #[test]
    fn the_assignee_sees_details_while_doing_it_and_a_week_after() {
        let now = Utc::now();
        let mut r = row(None);
        r.assignee_id = Some(2);
        r.status = "ACCEPTED".into();
        assert!(assignee_may_see(&r, now));
        r.status = "COMPLETED".into();
        r.completed_at = Some(now - Duration::days(6));
        assert!(assignee_may_see(&r, now));
        r.completed_at = Some(now - Duration::days(8));
        assert!(!assignee_may_see(&r, now));
        r.status = "CANCELLED".into();
        assert!(!assignee_may_see(&r, now));
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            HelpStatus::Reported,
            HelpStatus::Dispatched,
            HelpStatus::Accepted,
            HelpStatus::Completed,
            HelpStatus::Cancelled,
        ] {
            assert_eq!(HelpStatus::from_db(s.as_db()), s);
        }
        for u in [
            Urgency::Low,
            Urgency::Normal,
            Urgency::High,
            Urgency::Critical,
        ] {
            assert_eq!(Urgency::from_db(u.as_db()), u);
        }
        for o in [
            OfferStatus::Open,
            OfferStatus::Accepted,
            OfferStatus::Declined,
            OfferStatus::Closed,
        ] {
            assert_eq!(OfferStatus::from_db(o.as_db()), o);
        }
    }
}
