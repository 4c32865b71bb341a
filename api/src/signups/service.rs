//! Sign-up logic, independent of GraphQL. Every rule that must hold under a rush is enforced by
//! the database: places are taken by a conditional `UPDATE` on the shift (and a `CHECK` keeps
//! `confirmed_count <= capacity`), waitlist tickets come from a counter on the shift row, one
//! active sign-up per volunteer and shift is a partial `UNIQUE` index, and each sign-up runs in a
//! write transaction (`BEGIN IMMEDIATE` on SQLite; row locks on PostgreSQL).

use chrono::Utc;
use entity::{
    account, charity_event as event, notification::NotificationKind, shift, signup,
    volunteer_profile,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
    sea_query::{Expr, ExprTrait},
};

use crate::{
    authz,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    events::service as events,
    idempotency::{self, Claim, IdempotentRequest},
    pagination::{Page, PageArgs, fetch_page},
    validate,
};

pub use entity::signup::SignupStatus;

const ACTIVE: [SignupStatus; 2] = [SignupStatus::Confirmed, SignupStatus::Waitlisted];

/// Tell live subscribers a sign-up (and so its shift's counts) changed.
pub fn record_signup(s: &signup::Model) {
    crate::live::record(crate::live::Change::Signup {
        signup_id: s.id,
        account_id: s.account_id,
        shift_id: s.shift_id,
    });
    crate::live::record(crate::live::Change::Shift {
        shift_id: s.shift_id,
    });
}

/// Sign `viewer` up for a shift: `CONFIRMED` while there is room, else `WAITLISTED` (when the
/// shift keeps a waitlist), else `SHIFT_FULL`. Idempotent per `idempotency_key`.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, shift_id))]
pub async fn sign_up(
    db: &DatabaseConnection,
    viewer: &account::Model,
    shift_id: i64,
    idempotency_key: &str,
) -> AppResult<signup::Model> {
    let req = IdempotentRequest::new(viewer.id, idempotency_key, "signUpForShift", &shift_id)?;
    let txn = begin_write(db).await?;
    // A replay answers with the sign-up as the first request returned it (a retry whose
    // answer was lost must see that answer), not as it is now.
    if let Claim::Replay(original) = idempotency::claim::<_, signup::Model>(&txn, &req).await? {
        txn.commit().await?;
        return Ok(original);
    }
    lock_volunteers(&txn, &[viewer.id]).await?;
    let row = take_place(&txn, viewer, viewer.id, shift_id).await?;
    idempotency::complete(&txn, &req, &row).await?;
    txn.commit().await?;
    tracing::info!(signup_id = row.id, status = ?row.status, "signed up");
    record_signup(&row);
    Ok(row)
}

/// Lock the accounts of `volunteers` (in id order) for the rest of the caller's transaction,
/// before any shift row: every sign-up transaction takes its volunteers' locks first and the
/// shift's last, so two of them never wait on each other in a cycle. Serializes each
/// volunteer's own sign-ups (the overlap check reads, then writes). Returns the accounts that
/// can sign up (deleted ones cannot).
pub async fn lock_volunteers<C: ConnectionTrait>(
    txn: &C,
    volunteers: &[i64],
) -> AppResult<std::collections::HashSet<i64>> {
    Ok(account::Entity::find()
        .select_only()
        .column(account::Column::Id)
        .filter(account::Column::Id.is_in(volunteers.iter().copied()))
        .filter(account::Column::PasswordHash.ne(crate::privacy::DELETED_HASH))
        .order_by_asc(account::Column::Id)
        .lock_exclusive()
        .into_tuple::<i64>()
        .all(txn)
        .await?
        .into_iter()
        .collect())
}

/// Inside the caller's write transaction, after [`lock_volunteers`], sign `volunteer` up for a
/// shift `viewer` may see: every check of [`sign_up`], then a place or a waitlist ticket taken
/// by a conditional statement on the shift row, the sign-up row and its notification. A squad
/// leader signs members up through this too, each seat counted the same way.
pub async fn take_place<C: ConnectionTrait>(
    txn: &C,
    viewer: &account::Model,
    volunteer: i64,
    shift_id: i64,
) -> AppResult<signup::Model> {
    let now = Utc::now();

    let (s, e) = shift::Entity::find_by_id(shift_id)
        .find_also_related(event::Entity)
        .filter(events::visible_to(Some(viewer)))
        .one(txn)
        .await?
        .and_then(|(s, e)| e.map(|e| (s, e)))
        .ok_or(AppError::NotFound(Noun::Shift))?;
    if s.status != crate::shifts::service::ShiftStatus::Open {
        return Err(AppError::bad_input(
            "shiftId",
            msg!("the shift is cancelled", "该班次已取消"),
        ));
    }
    if e.status != entity::charity_event::EventStatus::Published {
        return Err(AppError::bad_input(
            "shiftId",
            msg!("the event is not published", "该活动尚未发布"),
        ));
    }
    if s.starts_at <= now {
        return Err(AppError::bad_input(
            "shiftId",
            msg!("the shift has already started", "该班次已开始，不能再报名"),
        ));
    }
    check_skills(txn, volunteer, &s).await?;
    crate::squads::training::check(txn, volunteer, shift_id).await?;

    // Active sign-ups of this volunteer overlapping this shift's time: this very shift (it
    // overlaps itself) means already signed up; any other is a clash. One query for both.
    let overlapping = signup::Entity::find()
        .join(JoinType::InnerJoin, signup::Relation::Shift.def())
        .filter(signup::Column::AccountId.eq(volunteer))
        .filter(signup::Column::Status.is_in(ACTIVE))
        .filter(shift::Column::StartsAt.lt(s.ends_at))
        .filter(shift::Column::EndsAt.gt(s.starts_at))
        .all(txn)
        .await?;
    if overlapping.iter().any(|o| o.shift_id == shift_id) {
        return Err(AppError::AlreadySignedUp);
    }
    if !overlapping.is_empty() {
        return Err(AppError::Conflict(msg!(
            "you are signed up for another shift at the same time",
            "你已报名同一时间的其他班次"
        )));
    }

    // Take a place, or a waitlist ticket: single conditional statements on the shift row.
    let took_place = shift::Entity::update_many()
        .col_expr(
            shift::Column::ConfirmedCount,
            Expr::col(shift::Column::ConfirmedCount).add(1),
        )
        // The shift's places changed: a phone syncing the event's shifts sees it.
        .col_expr(shift::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shift::Column::Id.eq(shift_id))
        .filter(shift::Column::Status.eq(shift::ShiftStatus::Open))
        .filter(Expr::col(shift::Column::ConfirmedCount).lt(Expr::col(shift::Column::Capacity)))
        .exec(txn)
        .await?
        .rows_affected
        == 1;
    let (status, ticket) = if took_place {
        (SignupStatus::Confirmed, None)
    } else if s.waitlist_enabled {
        let ticket = shift::Entity::update_many()
            .col_expr(
                shift::Column::WaitlistSeq,
                Expr::col(shift::Column::WaitlistSeq).add(1),
            )
            // The waitlist grew: a phone syncing the event's shifts sees it.
            .col_expr(shift::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(shift::Column::Id.eq(shift_id))
            .filter(shift::Column::Status.eq(shift::ShiftStatus::Open))
            .exec(txn)
            .await?;
        if ticket.rows_affected == 0 {
            // Cancelled between our read and our lock.
            return Err(AppError::bad_input(
                "shiftId",
                msg!("the shift is cancelled", "该班次已取消"),
            ));
        }
        let seq = shift::Entity::find_by_id(shift_id)
            .select_only()
            .column(shift::Column::WaitlistSeq)
            .into_tuple::<i64>()
            .one(txn)
            .await?
            .ok_or(AppError::NotFound(Noun::Shift))?;
        (SignupStatus::Waitlisted, Some(seq))
    } else {
        return Err(AppError::ShiftFull);
    };

    let row = signup::ActiveModel {
        shift_id: Set(shift_id),
        account_id: Set(volunteer),
        status: Set(status),
        waitlist_ticket: Set(ticket),
        created_at: Set(now),
        updated_at: Set(now),
        promoted_at: Set(None),
        cancelled_at: Set(None),
        cancel_reason: Set(None),
        cancelled_by: Set(None),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|e| AppError::from_db_unique(e, || AppError::AlreadySignedUp))?;
    let told = match row.status {
        SignupStatus::Waitlisted => NotificationKind::Waitlisted,
        _ => NotificationKind::SignedUp,
    };
    crate::notifications::service::notify(txn, told, &row).await?;
    Ok(row)
}

async fn check_skills<C: ConnectionTrait>(
    txn: &C,
    account_id: i64,
    s: &shift::Model,
) -> AppResult<()> {
    let required = validate::skills_from_db(&s.required_skills);
    if required.is_empty() {
        return Ok(());
    }
    let have = volunteer_profile::Entity::find_by_id(account_id)
        .one(txn)
        .await?
        .map(|p| validate::skills_from_db(&p.skills))
        .unwrap_or_default();
    let missing: Vec<String> = required.into_iter().filter(|r| !have.contains(r)).collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(AppError::MissingSkills(missing))
    }
}

/// Give free places of a shift to the head of its waitlist, first come first served. Call
/// inside a write transaction that already holds the shift row (it changed the shift first), so
/// promotions of one shift happen one after another and `promoted_at` follows their order.
pub async fn promote_waitlisted<C: ConnectionTrait>(txn: &C, shift_id: i64) -> AppResult<u32> {
    let mut promoted = 0;
    loop {
        let Some(head) = signup::Entity::find()
            .filter(signup::Column::ShiftId.eq(shift_id))
            .filter(signup::Column::Status.eq(SignupStatus::Waitlisted))
            .order_by_asc(signup::Column::WaitlistTicket)
            .one(txn)
            .await?
        else {
            break;
        };
        let took = shift::Entity::update_many()
            .col_expr(
                shift::Column::ConfirmedCount,
                Expr::col(shift::Column::ConfirmedCount).add(1),
            )
            .col_expr(shift::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(shift::Column::Id.eq(shift_id))
            .filter(shift::Column::Status.eq(shift::ShiftStatus::Open))
            .filter(Expr::col(shift::Column::ConfirmedCount).lt(Expr::col(shift::Column::Capacity)))
            .exec(txn)
            .await?;
        if took.rows_affected == 0 {
            break;
        }
        let now = Utc::now();
        let moved = signup::Entity::update_many()
            .col_expr(signup::Column::Status, Expr::value(SignupStatus::Confirmed))
            .col_expr(
                signup::Column::WaitlistTicket,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(signup::Column::PromotedAt, Expr::value(now))
            .col_expr(signup::Column::UpdatedAt, Expr::value(now))
            .filter(signup::Column::Id.eq(head.id))
            .filter(signup::Column::Status.eq(SignupStatus::Waitlisted))
            .exec(txn)
            .await?;
        if moved.rows_affected == 0 {
            // The head left the queue meanwhile: hand the place back and look again.
            give_back_place(txn, shift_id).await?;
            continue;
        }
        promoted += 1;
        crate::notifications::service::notify(txn, NotificationKind::Promoted, &head).await?;
        tracing::info!(signup_id = head.id, shift_id, "promoted from the waitlist");
        record_signup(&head);
    }
    Ok(promoted)
}

async fn give_back_place<C: ConnectionTrait>(txn: &C, shift_id: i64) -> AppResult<()> {
    shift::Entity::update_many()
        .col_expr(
            shift::Column::ConfirmedCount,
            Expr::col(shift::Column::ConfirmedCount).sub(1),
        )
        .col_expr(shift::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shift::Column::Id.eq(shift_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Cancel a sign-up: by its volunteer until the shift starts, or by the organization's staff.
/// A freed place goes to the head of the waitlist in the same transaction.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, signup_id = id))]
pub async fn cancel(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    reason: Option<String>,
) -> AppResult<signup::Model> {
    let now = Utc::now();
    let current = get(db, id).await?.ok_or(AppError::NotFound(Noun::Signup))?;
    let s = shift::Entity::find_by_id(current.shift_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Signup))?;
    let e = event::Entity::find_by_id(s.event_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Signup))?;
    let own = current.account_id == viewer.id;
    let by_staff = if own && s.starts_at > now {
        false
    } else {
        authz::is_staff(db, viewer, e.organization_id).await?
    };
    if !own && !by_staff {
        return Err(AppError::NotFound(Noun::Signup));
    }
    if own && !by_staff && s.starts_at <= now {
        return Err(AppError::bad_input(
            "signupId",
            msg!(
                "the shift has started; ask its organizers to cancel",
                "班次已开始，如需取消请联系组织者"
            ),
        ));
    }

    let txn = begin_write(db).await?;
    // Lock order on every path is shift, then sign-ups (as in cancelling a shift or promoting):
    // take the shift row before touching the sign-up. Its places or its waitlist change with
    // the cancellation, so the lock also marks it changed for phones syncing the event.
    shift::Entity::update_many()
        .col_expr(shift::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shift::Column::Id.eq(s.id))
        .exec(&txn)
        .await?;
    let cancel_from = |from: SignupStatus| {
        signup::Entity::update_many()
            .col_expr(signup::Column::Status, Expr::value(SignupStatus::Cancelled))
            .col_expr(
                signup::Column::WaitlistTicket,
                Expr::value(Option::<i64>::None),
            )
            .col_expr(signup::Column::CancelledAt, Expr::value(now))
            .col_expr(signup::Column::CancelReason, Expr::value(reason.clone()))
            .col_expr(signup::Column::CancelledBy, Expr::value(viewer.id))
            .col_expr(signup::Column::UpdatedAt, Expr::value(now))
            .filter(signup::Column::Id.eq(id))
            .filter(signup::Column::Status.eq(from))
    };
    // Each attempt re-checks the status under the row lock, so a concurrent promotion cannot
    // make us free a place we did not hold.
    if cancel_from(SignupStatus::Confirmed)
        .exec(&txn)
        .await?
        .rows_affected
        == 1
    {
        give_back_place(&txn, s.id).await?;
        promote_waitlisted(&txn, s.id).await?;
    } else if cancel_from(SignupStatus::Waitlisted)
        .exec(&txn)
        .await?
        .rows_affected
        == 0
    {
        let (is, is_zh) = crate::lifecycle::word(&current.status);
        return Err(AppError::Conflict(msg!(
            "the sign-up is {is} and cannot be cancelled",
            "该报名当前为“{is_zh}”，不能取消"
        )));
    }
    if !own {
        // The organizers did it: the volunteer is told.
        crate::notifications::service::notify(&txn, NotificationKind::SignupCancelled, &current)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(by_staff, "sign-up cancelled");
    record_signup(&current);
    get(db, id).await?.ok_or(AppError::NotFound(Noun::Signup))
}

/// Cancel every active sign-up on the shifts `shifts` selects (one statement), for a shift or
/// event being called off. Places are not handed back: the shifts are cancelled with them.
pub async fn cancel_all_on<C: ConnectionTrait>(
    txn: &C,
    shifts: Condition,
    reason: &str,
    by: i64,
    now: chrono::DateTime<Utc>,
) -> AppResult<u64> {
    // Who is affected, for their live updates (the same rows the update below takes).
    let affected = signup::Entity::find()
        .filter(shifts.clone())
        .filter(signup::Column::Status.is_in(ACTIVE))
        .all(txn)
        .await?;
    for s in &affected {
        record_signup(s);
    }
    crate::notifications::service::notify_many(txn, NotificationKind::ShiftCancelled, &affected)
        .await?;
    let res = signup::Entity::update_many()
        .col_expr(signup::Column::Status, Expr::value(SignupStatus::Cancelled))
        .col_expr(
            signup::Column::WaitlistTicket,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(signup::Column::CancelledAt, Expr::value(now))
        .col_expr(signup::Column::CancelReason, Expr::value(reason.to_owned()))
        .col_expr(signup::Column::CancelledBy, Expr::value(by))
        .col_expr(signup::Column::UpdatedAt, Expr::value(now))
        .filter(shifts)
        .filter(signup::Column::Status.is_in(ACTIVE))
        .exec(txn)
        .await?;
    Ok(res.rows_affected)
}

/// Mark a confirmed sign-up of a started shift as a no-show. Staff only.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, signup_id = id))]
pub async fn mark_no_show(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<signup::Model> {
    let current = get(db, id).await?.ok_or(AppError::NotFound(Noun::Signup))?;
    let s = shift::Entity::find_by_id(current.shift_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Signup))?;
    let e = event::Entity::find_by_id(s.event_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Signup))?;
    if !authz::is_staff(db, viewer, e.organization_id).await? {
        return Err(AppError::NotFound(Noun::Signup));
    }
    if s.starts_at > Utc::now() {
        return Err(AppError::bad_input(
            "signupId",
            msg!("the shift has not started yet", "班次尚未开始"),
        ));
    }
    let done = signup::Entity::update_many()
        .col_expr(signup::Column::Status, Expr::value(SignupStatus::NoShow))
        .col_expr(signup::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(signup::Column::Id.eq(id))
        .filter(signup::Column::Status.eq(SignupStatus::Confirmed))
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        let (is, is_zh) = crate::lifecycle::word(&current.status);
        return Err(AppError::Conflict(msg!(
            "the sign-up is {is}, not confirmed",
            "该报名当前为“{is_zh}”，只有已确认的报名才能标记缺席"
        )));
    }
    record_signup(&current);
    get(db, id).await?.ok_or(AppError::NotFound(Noun::Signup))
}

/// Load a sign-up.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<signup::Model>> {
    Ok(signup::Entity::find_by_id(id).one(db).await?)
}

/// The sign-up with key `id` if `viewer` may see it: their own, or one for a shift of an event
/// (visible to them) of an organization they are on the staff of. The sign-up read rule.
pub async fn get_visible<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    id: i64,
) -> AppResult<Option<signup::Model>> {
    let Some(s) = get(db, id).await? else {
        return Ok(None);
    };
    if crate::authz::is_self(viewer, s.account_id) {
        return Ok(Some(s));
    }
    let Some(sh) = shift::Entity::find_by_id(s.shift_id).one(db).await? else {
        return Ok(None);
    };
    let staff = match events::get_visible(db, Some(viewer), sh.event_id).await? {
        Some(e) => crate::authz::is_staff(db, viewer, e.organization_id).await?,
        None => false,
    };
    Ok(staff.then_some(s))
}

/// Place in the waitlist (1 = next), for a waitlisted sign-up.
pub async fn waitlist_position<C: ConnectionTrait>(
    db: &C,
    s: &signup::Model,
) -> AppResult<Option<u64>> {
    let Some(ticket) = s
        .waitlist_ticket
        .filter(|_| s.status == SignupStatus::Waitlisted)
    else {
        return Ok(None);
    };
    let ahead = signup::Entity::find()
        .filter(signup::Column::ShiftId.eq(s.shift_id))
        .filter(signup::Column::Status.eq(SignupStatus::Waitlisted))
        .filter(signup::Column::WaitlistTicket.lt(ticket))
        .count(db)
        .await?;
    Ok(Some(ahead + 1))
}

/// The caller's latest sign-up for each of several shifts, in one query.
pub async fn latest_for_many<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    shift_ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, signup::Model>> {
    let mut latest = std::collections::HashMap::new();
    if shift_ids.is_empty() {
        return Ok(latest);
    }
    let rows = signup::Entity::find()
        .filter(signup::Column::AccountId.eq(account_id))
        .filter(signup::Column::ShiftId.is_in(shift_ids.iter().copied()))
        .order_by_asc(signup::Column::Id)
        .all(db)
        .await?;
    for s in rows {
        latest.insert(s.shift_id, s);
    }
    Ok(latest)
}

/// Sign-ups of one shift, in sign-up order.
pub async fn list_for_shift<C: ConnectionTrait>(
    db: &C,
    shift_id: i64,
    status: Option<SignupStatus>,
    page: PageArgs,
) -> AppResult<Page<signup::Model>> {
    let mut select = signup::Entity::find().filter(signup::Column::ShiftId.eq(shift_id));
    if let Some(s) = status {
        select = select.filter(signup::Column::Status.eq(s));
    }
    fetch_page(db, select, signup::Column::Id, page).await
}

/// Filter of a volunteer's own sign-ups.
#[derive(Debug, Clone, Copy, Default)]
pub struct MySignupFilter {
    /// Only this status.
    pub status: Option<SignupStatus>,
    /// `true`: only shifts that have not ended; `false`: only those that have.
    pub upcoming: Option<bool>,
}

/// A volunteer's sign-ups, in the order they were made (keyset on the sign-up key).
pub async fn list_for_account<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    filter: MySignupFilter,
    page: PageArgs,
) -> AppResult<Page<signup::Model>> {
    fetch_page(db, of_account(account_id, filter), signup::Column::Id, page).await
}

/// Every sign-up [`list_for_account`] pages through (its `totalCount`).
pub fn of_account(account_id: i64, filter: MySignupFilter) -> sea_orm::Select<signup::Entity> {
    let mut cond = Condition::all().add(signup::Column::AccountId.eq(account_id));
    if let Some(s) = filter.status {
        cond = cond.add(signup::Column::Status.eq(s));
    }
    let mut select = signup::Entity::find();
    if let Some(upcoming) = filter.upcoming {
        select = select.join(JoinType::InnerJoin, signup::Relation::Shift.def());
        let now = Utc::now();
        cond = cond.add(if upcoming {
            shift::Column::EndsAt.gt(now)
        } else {
            shift::Column::EndsAt.lte(now)
        });
    }
    select.filter(cond)
}

/// One account's latest sign-up for each shift asked, batched ([`crate::batch`]).
pub struct LatestOf {
    /// The account (the caller).
    pub account_id: i64,
}

impl crate::batch::Loader for LatestOf {
    type Key = i64;
    type Value = signup::Model;
    async fn load(
        self,
        db: sea_orm::DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<std::collections::HashMap<i64, signup::Model>> {
        latest_for_many(&db, self.account_id, &keys).await
    }
}

/// A page of each shift's sign-ups (optionally of one status), in sign-up order, batched: one
/// statement for every shift of a wave that asks for the same page.
pub struct ShiftPages;

impl crate::batch::Loader for ShiftPages {
    type Key = (i64, PageArgs, Option<SignupStatus>);
    type Value = Page<signup::Model>;
    async fn load(
        self,
        db: sea_orm::DatabaseConnection,
        keys: Vec<Self::Key>,
    ) -> AppResult<std::collections::HashMap<Self::Key, Self::Value>> {
        let keyed = keys
            .into_iter()
            .map(|(shift, page, status)| (shift, (page, status)));
        let mut out = std::collections::HashMap::new();
        for ((page, status), shifts) in crate::pagination::group_by_page(keyed.collect()) {
            let mut select = signup::Entity::find()
                .filter(signup::Column::ShiftId.is_in(shifts.iter().copied()));
            if let Some(s) = status {
                select = select.filter(signup::Column::Status.eq(s));
            }
            if let Some(after) = page.after {
                select = select.filter(signup::Column::Id.gt(after));
            }
            let pages = crate::pagination::fetch_pages_per_parent(
                &db,
                select,
                signup::Column::ShiftId,
                &[signup::Column::Id],
                page.first,
                |s| s.shift_id,
            )
            .await?;
            for shift in shifts {
                out.insert(
                    (shift, page, status),
                    pages.get(&shift).cloned().unwrap_or_default(),
                );
            }
        }
        Ok(out)
    }
}

/// How many sign-ups each shift has (in one status, or all), batched: one `GROUP BY` per
/// status asked — the `totalCount` of `shift.signups`.
pub struct ShiftCounts;

impl crate::batch::Loader for ShiftCounts {
    type Key = (i64, Option<SignupStatus>);
    type Value = u64;
    async fn load(
        self,
        db: sea_orm::DatabaseConnection,
        keys: Vec<Self::Key>,
    ) -> AppResult<std::collections::HashMap<Self::Key, u64>> {
        let mut out = std::collections::HashMap::new();
        for (status, shifts) in crate::pagination::group_by_page(keys) {
            let mut select = signup::Entity::find()
                .filter(signup::Column::ShiftId.is_in(shifts.iter().copied()));
            if let Some(s) = status {
                select = select.filter(signup::Column::Status.eq(s));
            }
            let counts =
                crate::batch::count_per_parent(&db, select, signup::Column::ShiftId).await?;
            for (shift, n) in counts {
                out.insert((shift, status), n);
            }
        }
        Ok(out)
    }
}

/// Places in the waitlist, batched: key (shift, ticket) → how many wait ahead of that ticket,
/// from one read of the waiting tickets of every shift asked.
pub struct WaitlistAhead;

impl crate::batch::Loader for WaitlistAhead {
    type Key = (i64, i64);
    type Value = u64;
    async fn load(
        self,
        db: sea_orm::DatabaseConnection,
        keys: Vec<(i64, i64)>,
    ) -> AppResult<std::collections::HashMap<(i64, i64), u64>> {
        use sea_orm::QuerySelect;
        let shifts: std::collections::HashSet<i64> = keys.iter().map(|(s, _)| *s).collect();
        let waiting: Vec<(i64, Option<i64>)> = signup::Entity::find()
            .select_only()
            .column(signup::Column::ShiftId)
            .column(signup::Column::WaitlistTicket)
            .filter(signup::Column::ShiftId.is_in(shifts))
            .filter(signup::Column::Status.eq(SignupStatus::Waitlisted))
            .into_tuple()
            .all(&db)
            .await?;
        Ok(keys
            .into_iter()
            .map(|(shift, ticket)| {
                let ahead = waiting
                    .iter()
                    .filter(|(s, t)| *s == shift && t.is_some_and(|t| t < ticket))
                    .count();
                ((shift, ticket), ahead as u64)
            })
            .collect())
    }
}
