//! Dispatch (就近调动): finding the nearest free volunteers who agreed to be proposed,
//! offering them a request, and the first acceptance taking it — one conditional `UPDATE`
//! decides, the other offers close in the same transaction.

use chrono::Utc;
use entity::{
    account, help_offer as offer, help_request as request, shift, signup,
    volunteer_profile as profile,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, OnConflict, Query, SimpleExpr},
};

use crate::{
    db::begin_write,
    error::{AppError, AppResult},
    geo::within,
    geo::{GeoPoint, Near, distance_sql},
    live::{self, Change},
    validate,
};

use super::{
    domain::{HelpStatus, MAX_OFFERS, OfferStatus, busy_window},
    service::{add_step, require, require_staff},
};

/// A request is searched around only inside its organization's area: within `area_m` of the
/// organization or of a located organization below it (a station's rooms, a district's
/// stations). Otherwise a staff member of one room could report requests across the city and
/// map where volunteers live from the distances.
async fn require_in_area<C: ConnectionTrait>(
    db: &C,
    r: &request::Model,
    center: GeoPoint,
    area_m: f64,
) -> AppResult<()> {
    let site = entity::organization::Entity::find()
        .select_only()
        .column(entity::organization::Column::Id)
        .filter(crate::authz::in_subtree(
            entity::organization::Column::Id,
            r.organization_id,
        ))
        .filter(within(
            Near {
                center,
                radius_m: area_m,
            },
            "organization",
            "latitude",
            "longitude",
        ))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    if site.is_some() {
        return Ok(());
    }
    let km = area_m / 1000.0;
    Err(AppError::Forbidden(msg!(
        "volunteers are searched for only within {km} km of the organization or a located \
         organization below it; set their locations (updateOrganization) or report the request \
         from the organization whose area it is in",
        "只能在本组织或其下设有位置的组织周边 {km} 公里内查找志愿者；\
         请先设置组织位置（updateOrganization），或由求助所在区域的组织上报"
    )))
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

/// The audit action of a `nearbyVolunteers` lookup.
const NEARBY_ACTION: &str = "NEARBY_VOLUNTEERS";

/// Where and how far a lookup may search.
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    /// Around the request, in meters.
    pub radius_m: f64,
    /// How far from one of its organization's located sites a request may be, in meters.
    pub area_m: f64,
    /// Lookups one person may make in an hour.
    pub per_hour: u32,
}

/// Volunteers who agreed to be proposed (`available_for_dispatch`) and whose home is within
/// `reach.radius_m` of the request, who are not on a confirmed (or checked-in) shift
/// overlapping [`busy_window`] nor helping with another request: those with more of the
/// needed skills first, then the nearest. One statement, ranked and cut by the database. Staff
/// of the request's organization only, while the request is open, for a request within
/// `reach.area_m` of a located site of its organization's subtree, `reach.per_hour` times an
/// hour, every lookup audited.
pub async fn nearby_volunteers(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    first: usize,
    reach: Reach,
) -> AppResult<Vec<Candidate>> {
    let Reach {
        radius_m,
        area_m,
        per_hour,
    } = reach;
    let r = require(db, id).await?;
    require_staff(db, viewer, &r).await?;
    // Only while it can still be offered: no looking up who lives near a closed request.
    if !matches!(r.status, HelpStatus::Reported | HelpStatus::Dispatched) {
        let (is, is_zh) = crate::lifecycle::word(&r.status);
        return Err(AppError::Conflict(msg!(
            "this request is {is}: nobody is to be found for it now",
            "该求助当前为“{is_zh}”，不能再查找志愿者"
        )));
    }
    if !(1..=MAX_OFFERS).contains(&first) {
        return Err(AppError::bad_input(
            "first",
            msg!("must be 1 to {MAX_OFFERS}", "人数须为 1 至 {MAX_OFFERS}"),
        ));
    }
    let center = GeoPoint {
        latitude: r.latitude,
        longitude: r.longitude,
    };
    require_in_area(db, &r, center, area_m).await?;
    // The ranking reads homes: who asked is on record, and the record is the budget — at most
    // `per_hour` lookups an hour per person, so nobody maps homes by moving requests around.
    // Counted and written in one write transaction (on PostgreSQL under the asker's account
    // row), so lookups sent at once cannot overrun it.
    let txn = begin_write(db).await?;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        account::Entity::find_by_id(viewer.id)
            .lock_exclusive()
            .one(&txn)
            .await?;
    }
    let hour_ago = Utc::now() - chrono::Duration::hours(1);
    let recent = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::ActorId.eq(viewer.id))
        .filter(entity::audit_log::Column::Action.eq(NEARBY_ACTION))
        .filter(entity::audit_log::Column::At.gt(hour_ago))
        .order_by_asc(entity::audit_log::Column::At)
        .limit(u64::from(per_hour))
        .all(&txn)
        .await?;
    if recent.len() >= per_hour as usize {
        let oldest = recent.first().map_or(hour_ago, |e| e.at);
        return Err(AppError::RateLimited {
            retry_after_secs: u64::try_from((oldest - hour_ago).num_seconds()).unwrap_or(0) + 1,
            limit: "nearby",
        });
    }
    crate::privacy::audit(
        &txn,
        viewer.id,
        NEARBY_ACTION,
        Some(r.organization_id),
        None,
        format!("help request {id}"),
    )
    .await?;
    txn.commit().await?;
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
        .and_where(Expr::col((signup::Entity, signup::Column::Status)).is_in([
            signup::SignupStatus::Confirmed,
            signup::SignupStatus::Attended,
        ]))
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
        .and_where(Expr::col((request::Entity, request::Column::Status)).eq(HelpStatus::Accepted))
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
            msg!(
                "offer to 1 to {MAX_OFFERS} volunteers",
                "每次可派给 1 至 {MAX_OFFERS} 名志愿者"
            ),
        ));
    }
    let known = account::Entity::find()
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .count(db)
        .await?;
    if known != ids.len() as u64 {
        return Err(AppError::bad_input(
            "volunteerIds",
            msg!("names an account that does not exist", "其中有不存在的账号"),
        ));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let moved = request::Entity::update_many()
        .col_expr(request::Column::Status, Expr::value(HelpStatus::Dispatched))
        .col_expr(
            request::Column::DispatchedAt,
            Expr::from(Func::coalesce([
                Expr::col(request::Column::DispatchedAt),
                Expr::value(now),
            ])),
        )
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Status.is_in([HelpStatus::Reported, HelpStatus::Dispatched]))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        let (is, is_zh) = crate::lifecycle::word(&r.status);
        return Err(AppError::Conflict(msg!(
            "this request is {is}: it cannot be offered now",
            "该求助当前为“{is_zh}”，现在不能派单"
        )));
    }
    offer::Entity::insert_many(ids.iter().map(|&v| offer::ActiveModel {
        help_request_id: Set(id),
        volunteer_id: Set(v),
        status: Set(OfferStatus::Open),
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
    let offered = offer::Entity::find()
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::VolunteerId.is_in(ids.iter().copied()))
        .filter(offer::Column::Status.eq(OfferStatus::Open))
        .all(&txn)
        .await?;
    crate::notifications::service::help_offers(
        &txn,
        entity::notification::NotificationKind::HelpOffered,
        &offered,
        matches!(
            r.urgency,
            entity::help_request::Urgency::High | entity::help_request::Urgency::Critical
        ),
    )
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
        .filter(offer::Column::Status.eq(OfferStatus::Open))
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
        .and_where(offer::Column::Status.eq(OfferStatus::Open))
        .to_owned();
    let taken = request::Entity::update_many()
        .col_expr(request::Column::Status, Expr::value(HelpStatus::Accepted))
        .col_expr(request::Column::AssigneeId, Expr::value(viewer.id))
        .col_expr(request::Column::AcceptedAt, Expr::value(now))
        .col_expr(
            request::Column::ResponseSeconds,
            Expr::value(std::cmp::max((now - r.reported_at).num_seconds(), 0)),
        )
        .col_expr(request::Column::UpdatedAt, Expr::value(now))
        .filter(request::Column::Id.eq(id))
        .filter(request::Column::Status.eq(HelpStatus::Dispatched))
        .filter(Expr::exists(mine))
        .exec(&txn)
        .await?;
    if taken.rows_affected == 0 {
        drop(txn);
        let current = require(db, id).await?;
        // A phone retrying after a lost answer: the caller already has it.
        if current.status == HelpStatus::Accepted && current.assignee_id == Some(viewer.id) {
            return Ok(current);
        }
        let offer = offer_of(db, id, viewer.id).await?;
        return Err(match offer {
            None => AppError::Forbidden(not_offered()),
            Some(o) if o.status == OfferStatus::Declined => {
                AppError::Conflict(msg!("you declined this request", "你已婉拒该求助"))
            }
            Some(_) => AppError::Conflict(msg!(
                "someone else took this request, or it was withdrawn",
                "该求助已由他人接单或已撤回"
            )),
        });
    }
    let withdrawn = offer::Entity::find()
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::Status.eq(OfferStatus::Open))
        .filter(offer::Column::VolunteerId.ne(viewer.id))
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
        .col_expr(
            offer::Column::Status,
            Expr::case(
                offer::Column::VolunteerId.eq(viewer.id),
                Expr::val(OfferStatus::Accepted),
            )
            .finally(Expr::val(OfferStatus::Closed))
            .into(),
        )
        .col_expr(offer::Column::ClosedAt, Expr::value(now))
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::Status.eq(OfferStatus::Open))
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
        .col_expr(offer::Column::Status, Expr::value(OfferStatus::Declined))
        .col_expr(offer::Column::ClosedAt, Expr::value(now))
        .filter(offer::Column::HelpRequestId.eq(id))
        .filter(offer::Column::VolunteerId.eq(viewer.id))
        .filter(offer::Column::Status.eq(OfferStatus::Open))
        .exec(db)
        .await?;
    let offer = offer_of(db, id, viewer.id)
        .await?
        .ok_or_else(|| AppError::Forbidden(not_offered()))?;
    if res.rows_affected == 0 {
        let (is, is_zh) = crate::lifecycle::word(&offer.status);
        return Err(AppError::Conflict(msg!(
            "this offer is {is}",
            "该派单当前为“{is_zh}”"
        )));
    }
    Ok(offer)
}

/// Why a volunteer may not answer a request: it was not offered to them.
fn not_offered() -> crate::i18n::Msg {
    msg!("this request was not offered to you", "该求助未派给你")
}
