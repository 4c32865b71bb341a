//! GraphQL surface of check-in codes.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    charity_event as event, check_event, service_record,
    service_record::RecordStatus,
    service_record_change::{self, RecordAction},
};
use sea_orm::EntityTrait;

use super::{
    records::{self, Review},
    service::{self, CheckKind, CheckMethod, CheckOutcome, CheckRequest, Evidence},
};
use crate::{
    authz,
    context::ContextExt,
    error::{AppError, Noun},
    geo::GeoPoint,
    ids::{self, NodeType},
    shifts::service as shifts,
    signups::{graphql::Signup, service as signups},
};

/// Where the phone was.
#[derive(InputObject, Clone, Copy)]
pub struct CheckLocationInput {
    /// Latitude (WGS-84).
    latitude: f64,
    /// Longitude (WGS-84).
    longitude: f64,
    /// The phone's reported accuracy radius in meters (counted up to 100 m).
    #[graphql(default)]
    accuracy_meters: f64,
}

/// Input of `checkIn` and `checkOut`.
#[derive(InputObject)]
pub struct CheckInput {
    /// The shift.
    shift_id: ID,
    /// How presence is proven.
    method: CheckMethod,
    /// `QR`: the scanned payload, or the kiosk's 6-digit PIN.
    code: Option<String>,
    /// `GEO`: where the phone is.
    location: Option<CheckLocationInput>,
    /// The phone's own ID for this event (1–64 characters): resending it records nothing new.
    client_event_id: String,
    /// When it happened by the phone's clock (up to 24 h ago, for events recorded offline);
    /// default now.
    occurred_at: Option<DateTime<Utc>>,
    /// `MANUAL` (staff): the sign-up to check in or out.
    signup_id: Option<ID>,
}

impl CheckInput {
    fn parse(self) -> Result<CheckRequest, AppError> {
        Ok(CheckRequest {
            shift_id: ids::decode(NodeType::Shift, &self.shift_id, "input.shiftId")?,
            method: self.method,
            code: self.code.map(|c| c.trim().to_owned()),
            location: self
                .location
                .map(|l| {
                    GeoPoint::new(l.latitude, l.longitude, "input.location")
                        .map(|p| (p, l.accuracy_meters))
                })
                .transpose()?,
            client_event_id: self.client_event_id,
            occurred_at: self.occurred_at,
            signup_id: self
                .signup_id
                .map(|id| ids::decode(NodeType::Signup, &id, "input.signupId"))
                .transpose()?,
        })
    }
}

/// A recorded arrival or departure.
pub struct CheckEvent(pub check_event::Model);

/// A recorded arrival or departure (签到/签退).
#[Object]
impl CheckEvent {
    /// Arrival or departure.
    async fn kind(&self) -> CheckKind {
        self.0.kind
    }

    /// How presence was proven.
    async fn method(&self) -> CheckMethod {
        self.0.method
    }

    /// When it happened, by the phone's clock.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// When the server received it. A code is judged by this time, not by `occurredAt`.
    async fn received_at(&self) -> DateTime<Utc> {
        self.0.received_at
    }

    /// How far the server can vouch for it: a kiosk code seen while current, a code that
    /// arrived late, the phone's location, or staff.
    async fn evidence(&self) -> Evidence {
        self.0.evidence
    }

    /// How far from the venue the phone said it was, in meters (`GEO`).
    async fn distance_meters(&self) -> Option<f64> {
        self.0.distance_meters
    }

    /// How accurate the phone said its location was, in meters (`GEO`; dropped with the
    /// location after the retention period).
    async fn accuracy_meters(&self) -> Option<f64> {
        self.0.accuracy_meters
    }

    /// The volunteer (phone masked unless the caller may see it).
    async fn volunteer(&self, ctx: &Context<'_>) -> Result<crate::accounts::graphql::Account> {
        crate::accounts::graphql::required(ctx, self.0.account_id).await
    }

    /// The shift.
    async fn shift(&self, ctx: &Context<'_>) -> Result<crate::shifts::graphql::Shift> {
        crate::shifts::graphql::required(ctx, self.0.shift_id).await
    }
}

/// Service time waiting for approval (志愿服务记录).
pub struct ServiceRecord(pub service_record::Model);

impl ServiceRecord {
    /// See `startedAt`: the check-in's time clipped to the shift's start (`served_at`).
    async fn started(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        let checked_in = self.check_event(ctx, CheckKind::In).await?;
        Ok(checked_in.map_or(self.0.served_at, |e| e.0.occurred_at.max(self.0.served_at)))
    }

    async fn check_event(&self, ctx: &Context<'_>, kind: CheckKind) -> Result<Option<CheckEvent>> {
        let Some(signup) = self.0.signup_id else {
            return Ok(None);
        };
        let events = crate::batch::load(
            &ctx.state().db,
            signup,
            crate::batch::AllChildren::<records::CheckEventsOf>::new,
        )
        .await?;
        Ok(events
            .unwrap_or_default()
            .into_iter()
            .find(|e| e.kind == kind)
            .map(CheckEvent))
    }
}

/// Service time from a check-in and check-out (志愿服务记录), to be approved by staff.
#[Object]
impl ServiceRecord {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ServiceRecord, self.0.id)
    }

    /// The check-in it came from, with its evidence (`null` for help-request service).
    async fn check_in(&self, ctx: &Context<'_>) -> Result<Option<CheckEvent>> {
        self.check_event(ctx, CheckKind::In).await
    }

    /// The check-out it came from, with its evidence (`null` for help-request service).
    async fn check_out(&self, ctx: &Context<'_>) -> Result<Option<CheckEvent>> {
        self.check_event(ctx, CheckKind::Out).await
    }

    /// The volunteer who served.
    async fn volunteer(&self, ctx: &Context<'_>) -> Result<crate::accounts::graphql::Account> {
        crate::accounts::graphql::required(ctx, self.0.account_id).await
    }

    /// How far the server can vouch for the service: the weaker evidence of its check-in and
    /// check-out (a late code is weaker than staff's word, which is weaker than the phone's
    /// location, which is weaker than a current kiosk code). `null` when an end is missing (a
    /// check-out the server closed for the volunteer, flagged) and for help-request service.
    async fn evidence(&self, ctx: &Context<'_>) -> Result<Option<Evidence>> {
        // Both ends in one wave: they come from the same sign-up's check events.
        let (arrival, departure) = async_graphql::futures_util::future::try_join(
            self.check_event(ctx, CheckKind::In),
            self.check_event(ctx, CheckKind::Out),
        )
        .await?;
        Ok(match (arrival, departure) {
            (Some(a), Some(d)) => Some(service::weaker(a.0.evidence, d.0.evidence)),
            _ => None,
        })
    }

    /// The shift served (`null` for help-request service).
    async fn shift(&self, ctx: &Context<'_>) -> Result<Option<crate::shifts::graphql::Shift>> {
        match self.0.shift_id {
            Some(id) => Ok(Some(crate::shifts::graphql::required(ctx, id).await?)),
            None => Ok(None),
        }
    }

    /// The shift's event (`null` for help-request service).
    async fn event(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::events::graphql::CharityEvent>> {
        let Some(shift_id) = self.0.shift_id else {
            return Ok(None);
        };
        let db = &ctx.state().db;
        let Some(shift) = crate::batch::load(
            db,
            shift_id,
            crate::batch::ById::<entity::shift::Entity>::new,
        )
        .await?
        else {
            return Ok(None);
        };
        // The record refers to it: whoever may see the record may see where it was served.
        Ok(crate::batch::load(
            db,
            shift.event_id,
            crate::batch::ById::<entity::charity_event::Entity>::new,
        )
        .await?
        .map(crate::events::graphql::CharityEvent::new))
    }

    /// The help request answered (`null` for shift service); its personal details follow the
    /// request's own rules.
    async fn help_request(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::help::graphql::HelpRequest>> {
        let Some(id) = self.0.help_request_id else {
            return Ok(None);
        };
        Ok(crate::batch::load(
            &ctx.state().db,
            id,
            crate::batch::ById::<entity::help_request::Entity>::new,
        )
        .await?
        .map(crate::help::graphql::HelpRequest))
    }

    /// When the counted service began: the check-in or the shift's start, whichever was
    /// later, or the help request's acceptance.
    async fn started_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        self.started(ctx).await
    }

    /// When the counted service ended: `startedAt` plus `minutes` (as approved or corrected).
    async fn ended_at(&self, ctx: &Context<'_>) -> Result<DateTime<Utc>> {
        Ok(self.started(ctx).await? + chrono::Duration::minutes(i64::from(self.0.minutes)))
    }

    /// The reviews of this record, oldest first (the first `first`): who, when, before, after,
    /// why.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (default 20, at most 100).")] first: Option<i32>,
    ) -> Result<Vec<RecordChange>> {
        let db = &ctx.state().db;
        let changes = crate::batch::first_children::<records::ChangesOf>(
            db,
            self.0.id,
            crate::pagination::list_first(first)?,
        )
        .await?;
        let lang = ctx.lang();
        Ok(changes
            .into_iter()
            .map(|c| RecordChange::from(c).in_language(lang))
            .collect())
    }

    /// Minutes actually served, clipped to the shift's window.
    async fn minutes(&self) -> i32 {
        self.0.minutes
    }

    /// Waiting, counted or not counted.
    async fn status(&self) -> RecordStatus {
        self.0.status
    }

    /// Both ends were proven on site (QR or GEO).
    async fn verified(&self) -> bool {
        self.0.verified
    }

    /// Needs a human look.
    async fn flagged(&self) -> bool {
        self.0.flagged
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed (a review, a correction): what `serviceRecords(updatedSince:)`
    /// compares.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One review of a service record.
#[derive(SimpleObject)]
pub struct RecordChange {
    /// What the review did.
    action: RecordAction,
    /// Who reviewed.
    actor_id: ID,
    /// Status before.
    status_before: RecordStatus,
    /// Status after.
    status_after: RecordStatus,
    /// Minutes before.
    minutes_before: i32,
    /// Minutes after.
    minutes_after: i32,
    /// Why.
    reason: Option<String>,
    /// When.
    at: DateTime<Utc>,
}

impl From<service_record_change::Model> for RecordChange {
    fn from(c: service_record_change::Model) -> Self {
        Self {
            action: c.action,
            actor_id: ids::encode(NodeType::Account, c.actor_id),
            status_before: c.status_before,
            status_after: c.status_after,
            minutes_before: c.minutes_before,
            minutes_after: c.minutes_after,
            reason: c.reason,
            at: c.at,
        }
    }
}

impl RecordChange {
    /// The reason in `lang` where the server wrote it; a person's own words stay as written.
    fn in_language(mut self, lang: crate::i18n::Lang) -> Self {
        if let Some(m) = self
            .reason
            .as_deref()
            .and_then(super::service::system_reason)
        {
            self.reason = Some(m.get(lang).to_owned());
        }
        self
    }
}

/// What `checkIn` / `checkOut` recorded.
pub struct CheckResult(CheckOutcome);

/// What `checkIn` / `checkOut` recorded.
#[Object]
impl CheckResult {
    /// The stored event (the original one when this request repeated it).
    async fn check_event(&self) -> CheckEvent {
        CheckEvent(self.0.event.clone())
    }

    /// Whether the event had been recorded before (same `clientEventId`): nothing new was written.
    async fn duplicate(&self) -> bool {
        self.0.duplicate
    }

    /// The sign-up, now `ATTENDED`.
    async fn signup(&self, ctx: &Context<'_>) -> Result<Signup> {
        signups::get(&ctx.state().db, self.0.event.signup_id)
            .await?
            .map(Signup::from)
            .ok_or_else(|| AppError::NotFound(Noun::Signup).into())
    }

    /// The service record a check-out created.
    async fn service_record(&self) -> Option<ServiceRecord> {
        self.0.record.clone().map(ServiceRecord)
    }
}

/// The current check-in code of a shift, for its kiosk.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct CheckInCode {
    /// Text to show as a QR code; volunteers scan it to check in with method `QR`.
    qr_payload: String,
    /// Six digits to type instead, for phones without a camera.
    pin: String,
    /// When the kiosk should fetch the next code (codes rotate every
    /// `TONGXING_CHECKIN_CODE_SECS`, 30 s by default).
    refresh_at: DateTime<Utc>,
    /// When this code stops being accepted (the end of the next rotation).
    expires_at: DateTime<Utc>,
}

#[async_graphql::ComplexObject]
impl CheckInCode {
    /// `qrPayload` drawn as a QR code: an inline SVG document (scales to any size).
    async fn qr_svg(&self) -> Result<String> {
        let code = qrcode::QrCode::with_error_correction_level(
            self.qr_payload.as_bytes(),
            qrcode::EcLevel::M,
        )
        .map_err(|e| AppError::Internal(anyhow::anyhow!("QR code: {e}")))?;
        let svg = code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(256, 256)
            .quiet_zone(true)
            .build();
        // Inline use wants the <svg> element without the XML declaration.
        Ok(match svg.find("<svg") {
            Some(i) => svg[i..].to_owned(),
            None => svg,
        })
    }
}

/// One event of `syncCheckEvents`.
#[derive(InputObject)]
pub struct SyncCheckEventInput {
    /// Check-in or check-out.
    kind: CheckKind,
    /// The event, as `checkIn` / `checkOut` take it.
    event: CheckInput,
}

/// How one event of a batch was taken.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    /// Recorded now.
    Accepted,
    /// Already recorded before (same `clientEventId`): nothing new written.
    Duplicate,
    /// Refused; see `code` and `message`.
    Rejected,
}

/// The answer for one event of `syncCheckEvents`.
#[derive(SimpleObject)]
pub struct SyncResult {
    /// The event's `clientEventId`, to match answers to events.
    client_event_id: String,
    /// How it was taken.
    status: SyncStatus,
    /// For `REJECTED`: the error code a single `checkIn` would have returned.
    code: Option<String>,
    /// For `REJECTED`: why.
    message: Option<String>,
}

/// Most events in one `syncCheckEvents` batch.
pub const MAX_SYNC_BATCH: usize = 100;

/// What one event of `syncCheckEvents` costs in query complexity: a batch of 100 fits the
/// default limit once, not thirty times over through aliases.
pub const SYNC_ITEM_COMPLEXITY: usize = 20;

/// Filter of `serviceRecords`.
#[derive(InputObject)]
pub struct ServiceRecordFilterInput {
    /// Records of events of this organization and every one below it.
    organization_id: ID,
    /// Only this status.
    status: Option<RecordStatus>,
    /// Only this volunteer.
    volunteer_id: Option<ID>,
    /// Only shifts starting at or after this moment.
    from: Option<DateTime<Utc>>,
    /// Only shifts starting before this moment.
    to: Option<DateTime<Utc>>,
}

/// Service record queries.
#[derive(Default)]
pub struct ServiceRecordQuery;

#[Object]
impl ServiceRecordQuery {
    /// Service records of an organization's shifts and help requests (its whole subtree), for
    /// its staff, oldest first.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn service_records(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Which records.")] filter: ServiceRecordFilterInput,
    ) -> Result<crate::pagination::Conn<ServiceRecord>> {
        let state = ctx.state();
        let viewer = ctx.require_account().await?;
        let page = crate::pagination::PageArgs::new(first, after.as_deref(), &state.config)?;
        let f = records::RecordFilter {
            organization_id: ids::decode(
                NodeType::Organization,
                &filter.organization_id,
                "filter.organizationId",
            )?,
            status: filter.status,
            volunteer_id: filter
                .volunteer_id
                .map(|id| ids::decode(NodeType::Account, &id, "filter.volunteerId"))
                .transpose()?,
            from: filter.from,
            to: filter.to,
        };
        let rows = records::list_for_staff(&state.db, viewer, &f, page).await?;
        Ok(crate::pagination::connection(
            rows,
            page.after.is_some(),
            crate::pagination::Total::of(&state.db, records::for_staff(&f)),
            |r| r.id,
            ServiceRecord,
        ))
    }
}

/// Check-in mutations.
#[derive(Default)]
pub struct CheckInMutation;

impl CheckInMutation {
    async fn review(&self, ctx: &Context<'_>, id: &ID, review: Review) -> Result<ServiceRecord> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::ServiceRecord, id, "id")?;
        Ok(ServiceRecord(
            records::review(&ctx.state().db, &ctx.state().config, viewer, key, review).await?,
        ))
    }
}

#[Object]
impl CheckInMutation {
    /// Check in on site. Needs a `CONFIRMED` sign-up (staff: `MANUAL` with `signupId`), a time
    /// inside the window (from `checkInOpensMinutes` before the start to the end), and proof:
    /// `QR` a current code of this shift, `GEO` a location within the shift's radius of the
    /// event. The sign-up becomes `ATTENDED`.
    async fn check_in(&self, ctx: &Context<'_>, input: CheckInput) -> Result<CheckResult> {
        let viewer = ctx.require_account().await?;
        let req = input.parse()?;
        let outcome = crate::db::retry_transient(|| {
            service::record(ctx.state(), viewer, CheckKind::In, req.clone())
        })
        .await?;
        if !outcome.duplicate {
            ctx.state().metrics.check_in("CHECK_IN");
        }
        Ok(CheckResult(outcome))
    }

    /// Send check-ins and check-outs a phone recorded offline (at most 100, in the order they
    /// happened). Each is answered on its own — `ACCEPTED`, `DUPLICATE` or `REJECTED` with the
    /// code a single call would have returned — and one bad event never fails the others.
    /// Each event counts as a request against the caller's per-minute budget (`RATE_LIMITED`
    /// for the whole batch past it) and costs 20 in query complexity.
    #[graphql(complexity = "events.len() * SYNC_ITEM_COMPLEXITY + child_complexity")]
    async fn sync_check_events(
        &self,
        ctx: &Context<'_>,
        events: Vec<SyncCheckEventInput>,
    ) -> Result<Vec<SyncResult>> {
        let viewer = ctx.require_account().await?;
        if events.len() > MAX_SYNC_BATCH {
            return Err(AppError::bad_input(
                "events",
                msg!(
                    "at most {MAX_SYNC_BATCH} events per batch",
                    "每批最多 {MAX_SYNC_BATCH} 条签到记录"
                ),
            )
            .into());
        }
        // The request was counted once on arrival; every further event is a request's work
        // (several statements each), so it is charged as one.
        if events.len() > 1 {
            let state = ctx.state();
            if let Err(limited) = state.request_limiter.check(
                Some(viewer.id),
                ctx.viewer().client_addr,
                events.len() - 1,
            ) {
                state.metrics.rate_limited("account");
                return Err(limited.into());
            }
        }
        let mut results = Vec::with_capacity(events.len());
        for item in events {
            let client_event_id = item.event.client_event_id.clone();
            let kind = item.kind;
            let outcome = match item.event.parse() {
                Ok(req) => service::record(ctx.state(), viewer, kind, req).await,
                Err(e) => Err(e),
            };
            results.push(match outcome {
                Ok(o) => SyncResult {
                    client_event_id,
                    status: if o.duplicate {
                        SyncStatus::Duplicate
                    } else {
                        SyncStatus::Accepted
                    },
                    code: None,
                    message: None,
                },
                Err(e) => {
                    e.log("an offline batch item");
                    SyncResult {
                        client_event_id,
                        status: SyncStatus::Rejected,
                        code: Some(e.code().to_owned()),
                        message: Some(match e {
                            AppError::Internal(_) => "internal error".to_owned(),
                            other => other.to_string(),
                        }),
                    }
                }
            });
        }
        Ok(results)
    }

    /// Approve a pending service record, optionally lowering its minutes. Staff of the shift's
    /// organization; exactly one of two simultaneous approvals succeeds (`CONFLICT`).
    async fn approve_service_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record.")] id: ID,
        #[graphql(desc = "Minutes to approve (at most those recorded); default all.")]
        minutes: Option<i32>,
    ) -> Result<ServiceRecord> {
        self.review(ctx, &id, Review::Approve { minutes }).await
    }

    /// Reject a pending service record.
    async fn reject_service_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record.")] id: ID,
        #[graphql(desc = "Why, for the volunteer.")] reason: String,
    ) -> Result<ServiceRecord> {
        let reason = crate::validate::title(&reason, "reason", 500)?;
        self.review(ctx, &id, Review::Reject { reason }).await
    }

    /// Correct the minutes of a pending or approved record; the change is kept in its history.
    async fn correct_service_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The record.")] id: ID,
        #[graphql(desc = "The right minutes, 0–1440.")] minutes: i32,
        #[graphql(desc = "Why.")] reason: String,
    ) -> Result<ServiceRecord> {
        let reason = crate::validate::title(&reason, "reason", 500)?;
        self.review(ctx, &id, Review::Correct { minutes, reason })
            .await
    }

    /// Check out: the same proof as checking in, up to 2 h after the shift's end. Creates the
    /// service record of the minutes served, clipped to the shift's window.
    async fn check_out(&self, ctx: &Context<'_>, input: CheckInput) -> Result<CheckResult> {
        let viewer = ctx.require_account().await?;
        let req = input.parse()?;
        let outcome = crate::db::retry_transient(|| {
            service::record(ctx.state(), viewer, CheckKind::Out, req.clone())
        })
        .await?;
        if !outcome.duplicate {
            ctx.state().metrics.check_in("CHECK_OUT");
        }
        Ok(CheckResult(outcome))
    }

    /// The shift's current rotating check-in code. The organization's staff only.
    async fn issue_check_in_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shift.")] shift_id: ID,
    ) -> Result<CheckInCode> {
        let state = ctx.state();
        let key = ids::decode(NodeType::Shift, &shift_id, "shiftId")?;
        let s = if ctx.viewer().is_kiosk() {
            // A venue's tablet: the shifts of its one event.
            let grant = ctx.viewer().require_kiosk(&state.db).await?;
            shifts::get_visible(&state.db, None, key)
                .await?
                .filter(|s| s.event_id == grant.event_id)
                .ok_or(AppError::NotFound(Noun::Shift))?
        } else {
            let viewer = ctx.require_account().await?;
            let s = shifts::get_visible(&state.db, Some(viewer), key)
                .await?
                .ok_or(AppError::NotFound(Noun::Shift))?;
            let e = event::Entity::find_by_id(s.event_id)
                .one(&state.db)
                .await
                .map_err(AppError::from)?
                .ok_or(AppError::NotFound(Noun::Shift))?;
            if !authz::is_staff(&state.db, viewer, e.organization_id).await? {
                return Err(AppError::Forbidden(msg!(
                    "only the organization's staff issue check-in codes",
                    "仅该组织的工作人员可生成签到码"
                ))
                .into());
            }
            s
        };
        if s.status != crate::shifts::service::ShiftStatus::Open {
            return Err(AppError::bad_input(
                "shiftId",
                msg!("the shift is cancelled", "该班次已取消"),
            )
            .into());
        }
        let code = state.checkin_codes.issue(s.id, Utc::now());
        Ok(CheckInCode {
            qr_payload: code.qr_payload,
            pin: code.pin,
            refresh_at: code.refresh_at,
            expires_at: code.expires_at,
        })
    }
}
