//! Check-in and check-out rules, independent of GraphQL.

use chrono::{DateTime, Duration, Utc};
use entity::{
    account, charity_event as event, check_event, service_record,
    service_record::RecordStatus,
    service_record_change::{self, RecordAction},
    shift, signup,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    QueryFilter, Set, sea_query::Expr,
};

pub use entity::check_event::{CheckKind, CheckMethod, Evidence};

use super::code::CodeError;
use crate::{
    AppState, authz,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    geo::GeoPoint,
};

/// How far in the past a phone may date an event it recorded offline.
pub const MAX_OFFLINE_AGE: Duration = Duration::hours(24);
/// How far in the future a client clock may be.
pub const MAX_CLOCK_AHEAD: Duration = Duration::minutes(2);
/// Reported GPS accuracy counted in the volunteer's favour, at most.
pub const MAX_ACCURACY_ALLOWANCE_M: f64 = 100.0;
/// Check-out is accepted this long after the shift's end (minutes still stop at the end).
pub const CHECK_OUT_GRACE: Duration = Duration::hours(2);

/// A check-in or check-out as a client sent it, validated for shape.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// The shift.
    pub shift_id: i64,
    /// How presence is proven.
    pub method: CheckMethod,
    /// QR payload or 6-digit PIN (`QR`).
    pub code: Option<String>,
    /// Where the phone was, and how accurate that is in meters (`GEO`).
    pub location: Option<(GeoPoint, f64)>,
    /// The client's own ID of this event.
    pub client_event_id: String,
    /// When it happened by the client's clock; now when absent.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The sign-up to check in or out (`MANUAL`, by staff).
    pub signup_id: Option<i64>,
}

/// What a check-in or check-out produced.
#[derive(Debug, Clone)]
pub struct CheckOutcome {
    /// The stored event (the original one when this was a repeat).
    pub event: check_event::Model,
    /// Whether this request was a repeat of one already recorded.
    pub duplicate: bool,
    /// The service record a check-out created.
    pub record: Option<service_record::Model>,
}

/// The reason recorded when the event's setting approves a record. Stored as written here (in
/// English, as it always was), shown in the reader's language ([`system_reason`]).
pub const AUTO_APPROVED: &str = "approved automatically: verified on site (event setting)";

/// A reason the server wrote into a record's history, in both languages; `None` for a
/// reviewer's own words.
pub fn system_reason(stored: &str) -> Option<crate::i18n::Msg> {
    (stored == AUTO_APPROVED).then(|| {
        msg!(
            "approved automatically: verified on site (event setting)",
            "现场核验通过，已按活动设置自动审核"
        )
    })
}

fn code_error(e: CodeError) -> AppError {
    let message = match e {
        CodeError::Invalid => msg!("not a valid check-in code", "签到码无效"),
        CodeError::WrongShift => msg!("this code belongs to another shift", "该签到码属于其他班次"),
        CodeError::Expired => msg!(
            "the check-in code has expired; scan the kiosk again",
            "签到码已过期，请重新扫描签到屏"
        ),
    };
    AppError::bad_input("input.code", message)
}

/// Minutes of `[from, to]` inside `[start, end]`.
pub fn served_minutes(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> i32 {
    let a = from.max(start);
    let b = to.min(end);
    if b <= a {
        0
    } else {
        i32::try_from((b - a).num_minutes()).unwrap_or(i32::MAX)
    }
}

/// Record a check-in or check-out.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, shift_id = req.shift_id, kind = ?kind))]
pub async fn record(
    state: &AppState,
    viewer: &account::Model,
    kind: CheckKind,
    req: CheckRequest,
) -> AppResult<CheckOutcome> {
    let db: &DatabaseConnection = &state.db;
    let now = Utc::now();
    let occurred = validate(&req, now)?;
    let (s, e, target) = find_signup(db, viewer, &req).await?;
    if let Some(original) = replay(db, &target, kind, &req).await? {
        return Ok(original);
    }
    check_window(&s, kind, occurred)?;
    let proof = verify(state, &target, &s, &e, &req, occurred, now).await?;

    let txn = begin_write(db).await?;
    let stored = write_event(&txn, viewer, kind, &req, &s, &target, occurred, now, proof).await?;
    let record = match kind {
        CheckKind::In => {
            signup::Entity::update_many()
                .col_expr(
                    signup::Column::Status,
                    Expr::value(entity::signup::SignupStatus::Attended),
                )
                .col_expr(signup::Column::UpdatedAt, Expr::value(now))
                .filter(signup::Column::Id.eq(target.id))
                .filter(signup::Column::Status.eq(entity::signup::SignupStatus::Confirmed))
                .exec(&txn)
                .await?;
            None
        }
        CheckKind::Out => Some(write_record(state, &txn, &s, &e, &target, &stored, now).await?),
    };
    txn.commit().await?;
    tracing::info!(method = ?req.method, "presence recorded");
    crate::signups::service::record_signup(&target);
    if kind == CheckKind::In {
        crate::live::record(crate::live::Change::CheckIn {
            event_id: e.id,
            shift_id: s.id,
            check_event_id: stored.id,
        });
    }
    Ok(CheckOutcome {
        event: stored,
        duplicate: false,
        record,
    })
}

/// Step 1: the request's own fields — when it happened (not ahead of the server's clock, not
/// older than an offline phone may hold it) and its client event ID.
fn validate(req: &CheckRequest, now: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    let occurred = req.occurred_at.unwrap_or(now);
    if occurred > now + MAX_CLOCK_AHEAD {
        return Err(AppError::bad_input(
            "input.occurredAt",
            msg!("is in the future", "签到时间不能晚于现在"),
        ));
    }
    if occurred < now - MAX_OFFLINE_AGE {
        return Err(AppError::bad_input(
            "input.occurredAt",
            msg!("is more than 24 hours ago", "签到时间已超过 24 小时"),
        ));
    }
    if req.client_event_id.is_empty()
        || req.client_event_id.len() > 64
        || !req.client_event_id.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(AppError::bad_input(
            "input.clientEventId",
            msg!(
                "must be 1 to 64 visible ASCII characters",
                "须为 1 至 64 个可见 ASCII 字符"
            ),
        ));
    }

    Ok(occurred)
}

/// Step 2: the shift, its event, and whose sign-up is checked: the caller's own, or (MANUAL)
/// the one staff name.
async fn find_signup(
    db: &DatabaseConnection,
    viewer: &account::Model,
    req: &CheckRequest,
) -> AppResult<(shift::Model, event::Model, signup::Model)> {
    let s = shift::Entity::find_by_id(req.shift_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Shift))?;
    let e = event::Entity::find_by_id(s.event_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Shift))?;

    let target = match req.method {
        CheckMethod::Manual => {
            if !authz::is_staff(db, viewer, e.organization_id).await? {
                return Err(AppError::Forbidden(msg!(
                    "only the organization's staff check volunteers in by hand",
                    "仅该组织的工作人员可为志愿者手动签到"
                )));
            }
            let id = req.signup_id.ok_or_else(|| {
                AppError::bad_input(
                    "input.signupId",
                    msg!("MANUAL needs the sign-up", "手动签到须指定报名记录"),
                )
            })?;
            signup::Entity::find_by_id(id)
                .filter(signup::Column::ShiftId.eq(s.id))
                .one(db)
                .await?
                .ok_or(AppError::NotFound(Noun::Signup))?
        }
        _ => signup::Entity::find()
            .filter(signup::Column::ShiftId.eq(s.id))
            .filter(signup::Column::AccountId.eq(viewer.id))
            .filter(signup::Column::Status.is_in([
                entity::signup::SignupStatus::Confirmed,
                entity::signup::SignupStatus::Attended,
            ]))
            .one(db)
            .await?
            .ok_or_else(|| {
                AppError::Forbidden(msg!(
                    "you have no confirmed sign-up for this shift",
                    "你没有该班次的已确认报名"
                ))
            })?,
    };

    Ok((s, e, target))
}

/// Step 3: a repeat of an event already recorded answers with the original (an offline phone
/// sends again what it is not sure went through); the same client event ID for something
/// else is `IDEMPOTENCY_CONFLICT`.
async fn replay(
    db: &DatabaseConnection,
    target: &signup::Model,
    kind: CheckKind,
    req: &CheckRequest,
) -> AppResult<Option<CheckOutcome>> {
    if let Some(existing) = check_event::Entity::find()
        .filter(check_event::Column::AccountId.eq(target.account_id))
        .filter(check_event::Column::ClientEventId.eq(req.client_event_id.as_str()))
        .one(db)
        .await?
    {
        if existing.signup_id == target.id && existing.kind == kind {
            let record = service_record::Entity::find()
                .filter(service_record::Column::SignupId.eq(target.id))
                .one(db)
                .await?;
            return Ok(Some(CheckOutcome {
                event: existing,
                duplicate: true,
                record: record.filter(|_| kind == CheckKind::Out),
            }));
        }
        return Err(AppError::IdempotencyConflict);
    }

    Ok(None)
}

/// Step 4: the shift's window — from its opening minutes before the start to its end (check-out
/// a grace period later).
fn check_window(s: &shift::Model, kind: CheckKind, occurred: DateTime<Utc>) -> AppResult<()> {
    let opens = s.starts_at - Duration::minutes(i64::from(s.check_in_opens_minutes));
    let closes = match kind {
        CheckKind::In => s.ends_at,
        CheckKind::Out => s.ends_at + CHECK_OUT_GRACE,
    };
    if occurred < opens || occurred > closes {
        return Err(AppError::bad_input(
            "input.occurredAt",
            msg!(
                "outside the shift's check-in window",
                "不在该班次的签到时间范围内"
            ),
        ));
    }

    Ok(())
}

/// What a check event's proof established.
#[derive(Debug, Clone, Copy)]
struct Proof {
    evidence: Evidence,
    /// Where the phone was and how accurate that is (`GEO`).
    location: Option<(GeoPoint, f64)>,
    /// Its distance from the venue (`GEO`).
    distance: Option<f64>,
}

/// Whether one end of a service record, proven by `evidence`, is proof of presence at an event
/// that does (or does not) accept location evidence.
pub fn is_proof(evidence: Evidence, accepts_location: bool) -> bool {
    match evidence {
        Evidence::Code => true,
        Evidence::Location => accepts_location,
        Evidence::LateCode | Evidence::Staff => false,
    }
}

/// The evidence of a record whose ends were proven by `a` and `b`: the one the server can vouch
/// for less. From strongest: a current kiosk code, the phone's location, staff's word, a code
/// that arrived late.
pub fn weaker(a: Evidence, b: Evidence) -> Evidence {
    let strength = |e: Evidence| match e {
        Evidence::Code => 3,
        Evidence::Location => 2,
        Evidence::Staff => 1,
        Evidence::LateCode => 0,
    };
    if strength(a) <= strength(b) { a } else { b }
}

/// Whether a record whose ends were proven by `arrival` and `departure` may be approved without
/// review (where the event says so): only codes the server saw while they were current.
pub fn may_approve_automatically(arrival: Evidence, departure: Evidence) -> bool {
    arrival == Evidence::Code && departure == Evidence::Code
}

/// Step 5: the proof — the shift's code or PIN of the claimed time (and whether it was still
/// current when it reached the server), or a location close enough to the venue (MANUAL is the
/// staff's word). PINs are guesses until they prove right ([`super::guesses`]).
async fn verify(
    state: &AppState,
    target: &signup::Model,
    s: &shift::Model,
    e: &event::Model,
    req: &CheckRequest,
    occurred: DateTime<Utc>,
    now: DateTime<Utc>,
) -> AppResult<Proof> {
    let mut proof = Proof {
        evidence: Evidence::Staff,
        location: None,
        distance: None,
    };
    match req.method {
        CheckMethod::Qr => {
            let code = req.code.as_deref().ok_or_else(|| {
                AppError::bad_input(
                    "input.code",
                    msg!("QR needs the code", "扫码签到须提供签到码"),
                )
            })?;
            let codes = &state.checkin_codes;
            let current = if code.len() == 6 {
                let budgets = super::guesses::Budgets {
                    per_account: state.config.pin_guesses_per_account,
                    per_shift: state.config.pin_guesses_per_shift,
                };
                let attempt =
                    super::guesses::attempt(&state.db, budgets, target.account_id, s.id, now)
                        .await?;
                codes.verify_pin(s.id, code, occurred).map_err(code_error)?;
                attempt.proved_right(&state.db).await?;
                codes.verify_pin(s.id, code, now).is_ok()
            } else {
                codes.verify_qr(s.id, code, occurred).map_err(code_error)?;
                codes.verify_qr(s.id, code, now).is_ok()
            };
            proof.evidence = if current {
                Evidence::Code
            } else {
                Evidence::LateCode
            };
        }
        CheckMethod::Geo => {
            let (point, accuracy) = req.location.ok_or_else(|| {
                AppError::bad_input(
                    "input.location",
                    msg!("GEO needs a location", "定位签到须提供位置"),
                )
            })?;
            let venue = GeoPoint {
                latitude: e.latitude,
                longitude: e.longitude,
            };
            let allowed =
                f64::from(s.check_in_radius_meters) + accuracy.clamp(0.0, MAX_ACCURACY_ALLOWANCE_M);
            let distance = point.distance_to(&venue);
            if distance > allowed {
                return Err(AppError::bad_input(
                    "input.location",
                    msg!(
                        "{distance:.0} m from the venue; check-in needs to be within {allowed:.0} m",
                        "你距活动地点 {distance:.0} 米，须在 {allowed:.0} 米内才能签到"
                    ),
                ));
            }
            proof = Proof {
                evidence: Evidence::Location,
                location: Some((point, accuracy)),
                distance: Some(distance),
            };
        }
        CheckMethod::Manual => {}
    }

    Ok(proof)
}

/// Step 6: the check event itself; a second check-in (or check-out) of the sign-up is a
/// `CONFLICT`.
#[allow(clippy::too_many_arguments)]
async fn write_event(
    txn: &DatabaseTransaction,
    viewer: &account::Model,
    kind: CheckKind,
    req: &CheckRequest,
    s: &shift::Model,
    target: &signup::Model,
    occurred: DateTime<Utc>,
    now: DateTime<Utc>,
    proof: Proof,
) -> AppResult<check_event::Model> {
    let location = proof.location;
    check_event::ActiveModel {
        signup_id: Set(target.id),
        shift_id: Set(s.id),
        account_id: Set(target.account_id),
        kind: Set(kind),
        method: Set(req.method),
        client_event_id: Set(req.client_event_id.clone()),
        occurred_at: Set(occurred),
        received_at: Set(now),
        latitude: Set(location.map(|(p, _)| p.latitude)),
        longitude: Set(location.map(|(p, _)| p.longitude)),
        accuracy_meters: Set(location.map(|(_, a)| a)),
        evidence: Set(proof.evidence),
        distance_meters: Set(proof.distance),
        recorded_by: Set(viewer.id),
        ..Default::default()
    }
    .insert(txn)
    .await
    .map_err(|err| {
        AppError::from_db_unique(err, || {
            AppError::Conflict(match kind {
                CheckKind::In => msg!("already checked in", "已签到"),
                CheckKind::Out => msg!("already checked out", "已签退"),
            })
        })
    })
}

/// Step 7, at check-out: the service record for the time served — verified when both ends are
/// proof of presence ([`is_proof`]), approved (and paid in time coins) at once where the event
/// says so and both ends were current codes ([`may_approve_automatically`]).
async fn write_record(
    state: &AppState,
    txn: &DatabaseTransaction,
    s: &shift::Model,
    e: &event::Model,
    target: &signup::Model,
    departed: &check_event::Model,
    now: DateTime<Utc>,
) -> AppResult<service_record::Model> {
    let occurred = departed.occurred_at;
    let arrived = check_event::Entity::find()
        .filter(check_event::Column::SignupId.eq(target.id))
        .filter(check_event::Column::Kind.eq(CheckKind::In))
        .one(txn)
        .await?
        .ok_or_else(|| {
            AppError::Conflict(msg!("check in before checking out", "请先签到再签退"))
        })?;
    if occurred < arrived.occurred_at {
        return Err(AppError::bad_input(
            "input.occurredAt",
            msg!("is before the check-in", "签退时间不能早于签到时间"),
        ));
    }
    let minutes = served_minutes(arrived.occurred_at, occurred, s.starts_at, s.ends_at);
    let verified = is_proof(arrived.evidence, e.accept_location_evidence)
        && is_proof(departed.evidence, e.accept_location_evidence);
    let auto = verified
        && e.auto_approve_verified
        && may_approve_automatically(arrived.evidence, departed.evidence);
    let created = service_record::ActiveModel {
        signup_id: Set(Some(target.id)),
        help_request_id: Set(None),
        account_id: Set(target.account_id),
        shift_id: Set(Some(s.id)),
        organization_id: Set(e.organization_id),
        category: Set(e.category),
        served_at: Set(s.starts_at),
        minutes: Set(minutes),
        status: Set(if auto {
            RecordStatus::Approved
        } else {
            RecordStatus::Pending
        }),
        verified: Set(verified),
        flagged: Set(false),
        coin_cents_per_hour: Set(
            auto.then(|| i32::try_from(state.config.coin_rate(e.category)).unwrap_or(i32::MAX))
        ),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    if auto {
        // Approved by the event's setting: the audit trail names the organizer who
        // created the event and says why.
        service_record_change::ActiveModel {
            record_id: Set(created.id),
            actor_id: Set(e.created_by),
            action: Set(RecordAction::Approve),
            status_before: Set(RecordStatus::Pending),
            status_after: Set(RecordStatus::Approved),
            minutes_before: Set(minutes),
            minutes_after: Set(minutes),
            reason: Set(Some(AUTO_APPROVED.to_owned())),
            at: Set(now),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        crate::timebank::service::settle_service(
            txn,
            crate::timebank::service::ServiceSettlement {
                organization_id: e.organization_id,
                person: target.account_id,
                record_id: created.id,
                approved_minutes: minutes,
                cents_per_hour: state.config.coin_rate(e.category),
                by: e.created_by,
            },
        )
        .await?;
    }
    Ok(created)
}

/// How many people have checked in to a shift (the check-in of each sign-up is unique).
pub async fn checked_in_count<C: sea_orm::ConnectionTrait>(
    db: &C,
    shift_id: i64,
) -> AppResult<i64> {
    use sea_orm::{PaginatorTrait, QueryFilter};
    Ok(i64::try_from(
        check_event::Entity::find()
            .filter(check_event::Column::ShiftId.eq(shift_id))
            .filter(check_event::Column::Kind.eq(CheckKind::In))
            .count(db)
            .await?,
    )
    .unwrap_or(i64::MAX))
}

/// How many people checked in on each shift, batched ([`crate::batch`]).
pub struct CheckedInCounts;

impl crate::batch::Loader for CheckedInCounts {
    type Key = i64;
    type Value = i64;
    async fn load(
        self,
        db: sea_orm::DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<std::collections::HashMap<i64, i64>> {
        use sea_orm::{QueryFilter, QuerySelect};
        Ok(check_event::Entity::find()
            .select_only()
            .column(check_event::Column::ShiftId)
            .column_as(check_event::Column::Id.count(), "n")
            .filter(check_event::Column::ShiftId.is_in(keys))
            .filter(check_event::Column::Kind.eq(CheckKind::In))
            .group_by(check_event::Column::ShiftId)
            .into_tuple::<(i64, i64)>()
            .all(&db)
            .await?
            .into_iter()
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64, m: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + h * 3600 + m * 60, 0).unwrap()
    }

    #[test]
    fn minutes_are_clipped_to_the_shift() {
        // Shift 10:00–12:00 (hours 10..12 from the base).
        let (start, end) = (t(10, 0), t(12, 0));
        assert_eq!(served_minutes(t(9, 40), t(11, 30), start, end), 90);
        assert_eq!(served_minutes(t(10, 15), t(13, 0), start, end), 105);
        assert_eq!(served_minutes(t(9, 0), t(9, 50), start, end), 0);
        assert_eq!(served_minutes(t(10, 0), t(12, 0), start, end), 120);
    }

    #[test]
    fn only_current_codes_and_accepted_locations_are_proof() {
        assert!(is_proof(Evidence::Code, false));
        assert!(!is_proof(Evidence::LateCode, true));
        assert!(!is_proof(Evidence::Staff, true));
        assert!(!is_proof(Evidence::Location, false));
        assert!(is_proof(Evidence::Location, true));
    }

    #[test]
    fn only_current_codes_at_both_ends_approve_automatically() {
        assert!(may_approve_automatically(Evidence::Code, Evidence::Code));
        assert_eq!(
            weaker(Evidence::Code, Evidence::LateCode),
            Evidence::LateCode
        );
        assert_eq!(
            weaker(Evidence::Location, Evidence::Code),
            Evidence::Location
        );
        assert_eq!(weaker(Evidence::Staff, Evidence::Location), Evidence::Staff);
        assert_eq!(weaker(Evidence::Code, Evidence::Code), Evidence::Code);
        for other in [Evidence::LateCode, Evidence::Location, Evidence::Staff] {
            assert!(!may_approve_automatically(Evidence::Code, other));
            assert!(!may_approve_automatically(other, Evidence::Code));
        }
    }
}
