//! GraphQL surface of shifts and recurring series.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::shift;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    series::{self, DayOfWeek, Frequency, Recurrence},
    service::{self, DEFAULT_CHECK_IN_RADIUS_M, ShiftChanges, ShiftFilter, ShiftSpec, ShiftStatus},
};
use crate::{
    authz,
    context::ContextExt,
    direct::Fast,
    error::{AppError, Noun},
    events::{graphql::CharityEvent, service as events},
    geo::NearInput,
    ids::{self, NodeType},
    pagination::{PageArgs, TimePageArgs, connection, connection_with},
    signups::{
        graphql::Signup,
        service::{self as signups, SignupStatus},
    },
    validate,
};

/// A time slot of an event with a capacity, with its event when the query that found the
/// shift had it at hand.
pub struct Shift {
    model: shift::Model,
    /// The event, when the query that found the shift fetched it (visibility already checked).
    event: Option<CharityEvent>,
    /// Counts read already (a live snapshot shared by every subscriber).
    counts: Option<(u64, i64)>,
}

impl Shift {
    /// Wrap a row; related objects load when asked for.
    pub fn new(model: shift::Model) -> Self {
        Self {
            model,
            event: None,
            counts: None,
        }
    }

    /// A live snapshot, for a subscriber who may see it: nothing more to read unless the
    /// subscription asks for per-person fields (`mySignup`, `signups`).
    pub fn from_snapshot(s: &service::ShiftSnapshot) -> Self {
        Self {
            model: s.shift.clone(),
            event: Some(CharityEvent::new(s.event.clone())),
            counts: Some((s.waitlist, s.checked_in)),
        }
    }
}

impl Shift {
    /// `FORBIDDEN` (with `why`) unless the caller is on the staff of the event's
    /// organization; the event and the check are batched across the shifts of a list.
    async fn require_staff(&self, ctx: &Context<'_>, why: crate::i18n::Msg) -> Result<()> {
        let viewer = ctx.require_account().await?;
        let db = &ctx.state().db;
        let org = match &self.event {
            Some(e) => e.organization_key(),
            None => {
                crate::batch::load(
                    db,
                    self.model.event_id,
                    crate::batch::ById::<entity::charity_event::Entity>::new,
                )
                .await?
                .ok_or(AppError::NotFound(Noun::Event))?
                .organization_id
            }
        };
        if authz::check(db, viewer, authz::CheckKind::Staff, org).await? {
            Ok(())
        } else {
            Err(AppError::Forbidden(why).into())
        }
    }
}

impl crate::direct::Direct for Shift {
    fn graphql_type(&self) -> &'static str {
        "Shift"
    }

    fn answer(&self, field: &str) -> crate::direct::Answer<'_> {
        use crate::direct::{Answer, value};
        let m = &self.model;
        match field {
            "id" => value(&ids::encode(NodeType::Shift, m.id)),
            "event" => match &self.event {
                Some(e) => Answer::Object(e),
                None => Answer::Resolver,
            },
            "title" => value(&m.title),
            "description" => value(&m.description),
            "startsAt" => value(&m.starts_at),
            "endsAt" => value(&m.ends_at),
            "capacity" => value(&m.capacity),
            "confirmedCount" => value(&m.confirmed_count),
            "remainingSlots" => value(&remaining_slots(m)),
            "waitlistEnabled" => value(&m.waitlist_enabled),
            "requiredSkills" => value(&validate::skills_from_db(&m.required_skills)),
            "checkInRadiusMeters" => value(&m.check_in_radius_meters),
            "status" => value(&m.status),
            "cancelReason" => value(&m.cancel_reason),
            "createdAt" => value(&m.created_at),
            "updatedAt" => value(&m.updated_at),
            _ => Answer::Resolver,
        }
    }
}

/// Places free (0 for a cancelled shift).
fn remaining_slots(m: &shift::Model) -> i32 {
    if m.status == ShiftStatus::Open {
        (m.capacity - m.confirmed_count).max(0)
    } else {
        0
    }
}

/// A time slot (班次) of an event with a capacity: the unit volunteers sign up for.
#[Object]
impl Shift {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Shift, self.model.id)
    }

    /// The event.
    async fn event(&self, ctx: &Context<'_>) -> Result<Fast<CharityEvent>> {
        if let Some(e) = &self.event {
            return Ok(Fast(e.clone()));
        }
        crate::events::graphql::visible(ctx, self.model.event_id)
            .await?
            .map(Fast)
            .ok_or_else(|| AppError::NotFound(Noun::Event).into())
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.model.title
    }

    /// Description.
    async fn description(&self) -> &str {
        &self.model.description
    }

    /// When it starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.model.starts_at
    }

    /// When it ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.model.ends_at
    }

    /// Places.
    async fn capacity(&self) -> i32 {
        self.model.capacity
    }

    /// Places taken.
    async fn confirmed_count(&self) -> i32 {
        self.model.confirmed_count
    }

    /// People checked in so far (one per sign-up, however they checked in), for the kiosk's
    /// live count. Staff of the event's organization and the event's kiosk only (`FORBIDDEN`).
    /// One count query per shift: ask for it on a single shift, not on a list.
    async fn checked_in_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let db = &ctx.state().db;
        let viewer = ctx.viewer();
        let kiosk_of_event =
            viewer.is_kiosk() && viewer.require_kiosk(db).await?.event_id == self.model.event_id;
        if !kiosk_of_event {
            self.require_staff(
                ctx,
                msg!(
                    "only the organization's staff see the live check-in count",
                    "仅该组织的工作人员可查看实时签到人数"
                ),
            )
            .await?;
        }
        if let Some((_, checked_in)) = self.counts {
            return Ok(checked_in);
        }
        Ok(crate::batch::load(db, self.model.id, || {
            crate::checkins::service::CheckedInCounts
        })
        .await?
        .unwrap_or(0))
    }

    /// Places free (0 for a cancelled shift).
    async fn remaining_slots(&self) -> i32 {
        remaining_slots(&self.model)
    }

    /// Whether sign-ups beyond capacity join a waitlist (otherwise they get `SHIFT_FULL`).
    async fn waitlist_enabled(&self) -> bool {
        self.model.waitlist_enabled
    }

    /// How many sign-ups wait for a place.
    async fn waitlist_count(&self, ctx: &Context<'_>) -> Result<u64> {
        if let Some((waitlist, _)) = self.counts {
            return Ok(waitlist);
        }
        Ok(
            crate::batch::load(&ctx.state().db, self.model.id, || service::WaitlistCounts)
                .await?
                .unwrap_or(0),
        )
    }

    /// Skills a volunteer must have to sign up.
    async fn required_skills(&self) -> Vec<String> {
        validate::skills_from_db(&self.model.required_skills)
    }

    /// Courses (培训) a volunteer must have completed to sign up (`setShiftTraining`).
    async fn required_training(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        // Batched: a list of shifts reads every list's courses in one statement.
        Ok(crate::batch::load(&ctx.state().db, self.model.id, || {
            crate::squads::training::RequiredOfShifts
        })
        .await?
        .unwrap_or_default())
    }

    /// How close to the event's location a location check-in must be, in meters.
    async fn check_in_radius_meters(&self) -> i32 {
        self.model.check_in_radius_meters
    }

    /// Whether it still runs.
    async fn status(&self) -> ShiftStatus {
        self.model.status
    }

    /// Why it was cancelled.
    async fn cancel_reason(&self) -> Option<&str> {
        self.model.cancel_reason.as_deref()
    }

    /// The caller's latest sign-up for this shift; `null` if none or not logged in.
    async fn my_signup(&self, ctx: &Context<'_>) -> Result<Option<Signup>> {
        // An API client has no sign-ups of its own.
        if crate::clients::confined_to().is_some() {
            return Ok(None);
        }
        let Some(viewer) = ctx.optional_account().await? else {
            return Ok(None);
        };
        let account_id = viewer.id;
        Ok(
            crate::batch::load(&ctx.state().db, self.model.id, || signups::LatestOf {
                account_id,
            })
            .await?
            .map(Signup::from),
        )
    }

    /// Everyone's sign-ups, in sign-up order. The organization's staff only.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn signups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only sign-ups with this status.")] status: Option<SignupStatus>,
    ) -> Result<crate::pagination::Conn<Signup>> {
        self.require_staff(
            ctx,
            msg!(
                "only the organization's staff see a shift's sign-ups",
                "仅该组织的工作人员可查看班次的报名情况"
            ),
        )
        .await?;
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = crate::batch::load(&state.db, (self.model.id, page, status), || {
            signups::ShiftPages
        })
        .await?
        .unwrap_or_default();
        Ok(connection(
            rows,
            page.after.is_some(),
            crate::pagination::Total::batched(&state.db, (self.model.id, status), || {
                signups::ShiftCounts
            }),
            |s| s.id,
            Signup::from,
        ))
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When it last changed (its details, status or places taken): what
    /// `event.shifts(updatedSince:)` compares.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }

    /// Where to download this shift as an iCalendar file (`.ics`), for an "add to my
    /// calendar" button: anyone may fetch it, without signing in. `null` while the shift's
    /// event is unpublished (the file is not served then). To follow every shift one signed up
    /// for, subscribe to `me.calendarFeed` instead.
    async fn calendar_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let state = ctx.state();
        let public = match &self.event {
            Some(e) => e.is_public(),
            None => crate::batch::load(
                &state.db,
                self.model.event_id,
                crate::batch::ById::<entity::charity_event::Entity>::new,
            )
            .await?
            .is_some_and(|e| e.published_at.is_some()),
        };
        Ok(public.then(|| crate::calendar::service::shift_url(&state.config, self.model.id)))
    }
}

/// List shifts for a resolver. The page's events come with the shifts in one statement, and
/// so do their organizations and campaigns when the client selected them (through `nodes` or
/// `edges { node }`, in fragments or not): the home feed is one statement.
pub async fn list_shifts(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    filter: ShiftFilter,
) -> Result<crate::pagination::Conn<Fast<Shift>>> {
    let state = ctx.state();
    let viewer = ctx.optional_account().await?;
    let page = TimePageArgs::new(first, after.as_deref(), &state.config)?;
    let joins = if crate::batch::per_field(ctx) {
        events::EventJoins::default()
    } else {
        events::EventJoins {
            organization: crate::batch::node_selects(ctx, &["event", "organization"]),
            campaign: crate::batch::node_selects(ctx, &["event", "campaign"]),
        }
    };
    let rows = service::list(&state.db, viewer, &filter, page, joins).await?;
    let near = filter.near;
    Ok(connection_with(
        rows,
        page.after.is_some(),
        crate::pagination::Total::of(&state.db, service::listed(viewer, &filter)),
        |_, (s, _)| ids::encode_time_cursor(s.starts_at, s.id),
        |(s, e)| {
            Fast(Shift {
                event: Some(CharityEvent::joined(e, near)),
                model: s,
                counts: None,
            })
        },
    ))
}

/// `event.shifts(first, after)`: one page of the event's shifts, loaded in one statement with
/// the pages of every other event the request lists at the same time.
pub async fn shifts_of_event(
    ctx: &Context<'_>,
    event: &CharityEvent,
    first: Option<i32>,
    after: Option<String>,
) -> Result<crate::pagination::Conn<Fast<Shift>>> {
    let state = ctx.state();
    let page = TimePageArgs::new(first, after.as_deref(), &state.config)?;
    let rows = crate::batch::load(&state.db, (event.key(), page), || service::EventPages)
        .await?
        .unwrap_or_default();
    Ok(connection_with(
        rows,
        page.after.is_some(),
        crate::pagination::Total::batched(
            &state.db,
            event.key(),
            crate::batch::ChildCounts::<service::ShiftsOfEvent>::new,
        ),
        |_, s| ids::encode_time_cursor(s.starts_at, s.id),
        |s| {
            Fast(Shift {
                event: Some(event.clone()),
                model: s,
                counts: None,
            })
        },
    ))
}

/// `event.shifts(updatedSince:)`: the event's shifts changed at or after `since`, oldest change
/// first (one event's, read on their own: a phone syncs the event it shows).
pub async fn shifts_of_event_changed(
    ctx: &Context<'_>,
    event: &CharityEvent,
    first: Option<i32>,
    after: Option<String>,
    since: DateTime<Utc>,
) -> Result<crate::pagination::Conn<Fast<Shift>>> {
    let state = ctx.state();
    let page = TimePageArgs::new(first, after.as_deref(), &state.config)?;
    Ok(crate::pagination::changed_since(
        &state.db,
        shift::Entity::find().filter(shift::Column::EventId.eq(event.key())),
        (shift::Column::UpdatedAt, shift::Column::Id),
        since,
        page,
        |s| (s.updated_at, s.id),
        |s| {
            Fast(Shift {
                event: Some(event.clone()),
                model: s,
                counts: None,
            })
        },
    )
    .await?)
}

/// The shift with key `id` (no visibility check: for a row that refers to it, such as a
/// sign-up or a check-in), batched with the other shifts the request asks for at the same time.
pub async fn required(ctx: &Context<'_>, id: i64) -> Result<Shift> {
    crate::batch::load(
        &ctx.state().db,
        id,
        crate::batch::ById::<shift::Entity>::new,
    )
    .await?
    .map(Shift::new)
    .ok_or_else(|| AppError::NotFound(Noun::Shift).into())
}

/// Fields of a new shift (also the template of a series).
#[derive(InputObject)]
pub struct ShiftTemplateInput {
    /// Title, 1–100 characters.
    title: String,
    /// Description, at most 5,000 characters.
    #[graphql(default)]
    description: String,
    /// Start; inside the event's window.
    starts_at: DateTime<Utc>,
    /// End; inside the event's window.
    ends_at: DateTime<Utc>,
    /// Places, 1–10,000.
    capacity: i32,
    /// Whether sign-ups beyond capacity join a waitlist (default true).
    #[graphql(default = true)]
    waitlist_enabled: bool,
    /// Skills a volunteer must have.
    #[graphql(default)]
    required_skills: Vec<String>,
    /// Radius for location check-in, 10–5,000 m (default 200).
    check_in_radius_meters: Option<i32>,
}

impl ShiftTemplateInput {
    fn parse(self, field: &str) -> Result<ShiftSpec, AppError> {
        Ok(ShiftSpec {
            title: validate::title(&self.title, &format!("{field}.title"), 100)?,
            description: validate::text(&self.description, &format!("{field}.description"), 5_000)?,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            capacity: self.capacity,
            waitlist_enabled: self.waitlist_enabled,
            required_skills: validate::skills(
                &self.required_skills,
                &format!("{field}.requiredSkills"),
            )?,
            check_in_radius_meters: self
                .check_in_radius_meters
                .unwrap_or(DEFAULT_CHECK_IN_RADIUS_M),
        })
    }
}

/// Input of `createShift`.
#[derive(InputObject)]
pub struct CreateShiftInput {
    /// The event (you must be an ORGANIZER or ADMIN of its organization).
    event_id: ID,
    /// The shift.
    #[graphql(flatten)]
    shift: ShiftTemplateInput,
}

/// Input of `updateShift`: fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateShiftInput {
    /// Title.
    title: Option<String>,
    /// Description.
    description: Option<String>,
    /// Start.
    starts_at: Option<DateTime<Utc>>,
    /// End.
    ends_at: Option<DateTime<Utc>>,
    /// Places; never below the number already confirmed. Added places go to the waitlist.
    capacity: Option<i32>,
    /// Whether sign-ups beyond capacity join a waitlist.
    waitlist_enabled: Option<bool>,
    /// Skills a volunteer must have.
    required_skills: Option<Vec<String>>,
    /// Radius for location check-in.
    check_in_radius_meters: Option<i32>,
}

/// A recurrence rule.
#[derive(InputObject)]
pub struct RecurrenceInput {
    /// Daily or weekly.
    frequency: Frequency,
    /// Weekdays for a weekly series (default: the template's weekday), in city time (UTC+8).
    #[graphql(default)]
    by_weekday: Vec<DayOfWeek>,
    /// Last moment an occurrence may start (give this or `count`).
    until: Option<DateTime<Utc>>,
    /// Number of occurrences, 1–366 (give this or `until`).
    count: Option<u32>,
}

/// Input of `createShiftSeries`.
#[derive(InputObject)]
pub struct CreateShiftSeriesInput {
    /// The event.
    event_id: ID,
    /// The first shift; the others repeat it at the same local time.
    template: ShiftTemplateInput,
    /// How it repeats.
    recurrence: RecurrenceInput,
}

/// Filter of `shifts`.
#[derive(InputObject, Default)]
pub struct ShiftFilterInput {
    /// Only shifts of this event.
    event_id: Option<ID>,
    /// Only shifts starting at or after this moment.
    starts_after: Option<DateTime<Utc>>,
    /// Only shifts starting before this moment.
    starts_before: Option<DateTime<Utc>>,
    /// `true`: only shifts open for sign-up now with a free place; `false`: only full ones.
    has_open_slots: Option<bool>,
    /// Only shifts whose event lies within this circle.
    near: Option<NearInput>,
    /// Only shifts that ask for this skill.
    skill: Option<String>,
    /// Only shifts of events in this category.
    category: Option<crate::events::domain::EventCategory>,
    /// Only shifts of events of this organization and every organization below it.
    organization_id: Option<ID>,
    /// Only shifts of events in this campaign.
    campaign_id: Option<ID>,
    /// Only shifts whose title, or whose event's title or address, or whose organization's
    /// name, contains this text (at most 50 characters; Chinese works; case does not matter).
    search: Option<String>,
}

/// Shift queries.
#[derive(Default)]
pub struct ShiftQuery;

#[Object]
impl ShiftQuery {
    /// One shift; `NOT_FOUND` if there is none the caller may see.
    async fn shift(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the shift.")] id: ID,
    ) -> Result<Shift> {
        let key = ids::decode(NodeType::Shift, &id, "id")?;
        let viewer = ctx.optional_account().await?;
        // A venue's tablet reads the shifts of its one event only.
        let kiosk_event = match ctx.viewer().is_kiosk() {
            true => Some(ctx.viewer().require_kiosk(&ctx.state().db).await?.event_id),
            false => None,
        };
        service::get_visible(&ctx.state().db, viewer, key)
            .await?
            .filter(|s| kiosk_event.is_none_or(|e| e == s.event_id))
            .map(Shift::new)
            .ok_or_else(|| AppError::NotFound(Noun::Shift).into())
    }

    /// Shifts the caller may see, earliest first. The volunteer home feed is
    /// `shifts(filter: {hasOpenSlots: true, near: …})`.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn shifts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Which shifts.")] filter: Option<ShiftFilterInput>,
    ) -> Result<crate::pagination::Conn<Fast<Shift>>> {
        let f = filter.unwrap_or_default();
        let filter = ShiftFilter {
            event_id: f
                .event_id
                .map(|id| ids::decode(NodeType::CharityEvent, &id, "filter.eventId"))
                .transpose()?,
            starts_after: f.starts_after,
            starts_before: f.starts_before,
            has_open_slots: f.has_open_slots,
            near: f.near.map(|n| n.parse("filter.near")).transpose()?,
            skill: f
                .skill
                .map(|s| validate::skills(&[s], "filter.skill").map(|mut v| v.remove(0)))
                .transpose()?,
            category: f.category,
            organization_id: f
                .organization_id
                .map(|id| ids::decode(NodeType::Organization, &id, "filter.organizationId"))
                .transpose()?,
            campaign_id: f
                .campaign_id
                .map(|id| ids::decode(NodeType::Campaign, &id, "filter.campaignId"))
                .transpose()?,
            search: validate::search(f.search, "filter.search")?.map(|text| {
                crate::search::TextSearch::new(
                    text,
                    sea_orm::ConnectionTrait::get_database_backend(&ctx.state().db),
                )
            }),
        };
        list_shifts(ctx, first, after, filter).await
    }
}

/// Shift mutations.
#[derive(Default)]
pub struct ShiftMutation;

#[Object]
impl ShiftMutation {
    /// Add a shift to a draft or published event.
    async fn create_shift(&self, ctx: &Context<'_>, input: CreateShiftInput) -> Result<Shift> {
        let viewer = ctx.require_account().await?;
        let event = ids::decode(NodeType::CharityEvent, &input.event_id, "input.eventId")?;
        let spec = input.shift.parse("input")?;
        Ok(Shift::new(
            service::create(&ctx.state().db, viewer, event, spec).await?,
        ))
    }

    /// Change a shift.
    async fn update_shift(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shift.")] id: ID,
        input: UpdateShiftInput,
    ) -> Result<Shift> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::Shift, &id, "id")?;
        let changes = ShiftChanges {
            title: input
                .title
                .map(|t| validate::title(&t, "input.title", 100))
                .transpose()?,
            description: input
                .description
                .map(|t| validate::text(&t, "input.description", 5_000))
                .transpose()?,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            capacity: input.capacity,
            waitlist_enabled: input.waitlist_enabled,
            required_skills: input
                .required_skills
                .map(|s| validate::skills(&s, "input.requiredSkills"))
                .transpose()?,
            check_in_radius_meters: input.check_in_radius_meters,
        };
        Ok(Shift::new(
            service::update(&ctx.state().db, viewer, key, changes).await?,
        ))
    }

    /// Cancel a shift and every active sign-up on it.
    async fn cancel_shift(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shift.")] id: ID,
        #[graphql(desc = "Why, in words the volunteers will read.")] reason: String,
    ) -> Result<Shift> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::Shift, &id, "id")?;
        let reason = validate::title(&reason, "reason", 500)?;
        Ok(Shift::new(
            service::cancel(&ctx.state().db, viewer, key, reason).await?,
        ))
    }

    /// Create the shifts of a recurring series. Sending the same request again creates no
    /// duplicates and returns the same shifts.
    async fn create_shift_series(
        &self,
        ctx: &Context<'_>,
        input: CreateShiftSeriesInput,
    ) -> Result<Vec<Shift>> {
        let viewer = ctx.require_account().await?;
        let event = ids::decode(NodeType::CharityEvent, &input.event_id, "input.eventId")?;
        let template = input.template.parse("input.template")?;
        let rule = Recurrence {
            frequency: input.recurrence.frequency,
            by_weekday: input.recurrence.by_weekday,
            until: input.recurrence.until,
            count: input.recurrence.count,
        };
        let rows = series::create_series(&ctx.state().db, viewer, event, template, rule).await?;
        Ok(rows.into_iter().map(Shift::new).collect())
    }
}
