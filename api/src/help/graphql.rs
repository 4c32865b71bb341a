//! GraphQL surface of help requests and dispatch.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::{help_offer as offer, help_request as request, help_request_step as step};

use super::{
    dispatch::{self, Candidate},
    domain::{HelpStatus, MAX_OFFERS, OfferStatus, Urgency},
    service::{self, HelpFilter, NewHelpRequest},
};
use crate::{
    accounts::{graphql::Account, service as accounts},
    authz,
    checkins::graphql::ServiceRecord,
    context::ContextExt,
    direct::Fast,
    error::{AppError, Noun},
    events::domain::EventCategory,
    geo::{GeoPoint, LocationInput},
    ids::{self, NodeType},
    organizations::graphql::Organization,
    pagination::{PageArgs, connection},
    profiles::graphql::Location,
    validate,
};

/// Public locations are rounded to this many degrees (about a kilometre).
const APPROXIMATE_DEGREES: f64 = 0.01;

pub(crate) fn approximate(v: f64) -> f64 {
    (v / APPROXIMATE_DEGREES).round() * APPROXIMATE_DEGREES
}

/// A need reported by staff or the hotline (求助), answered by a nearby volunteer. Anyone sees
/// what is needed and roughly where; the personal details and exact location only the
/// organization's staff and the volunteer who took it.
pub struct HelpRequest(pub request::Model);

impl HelpRequest {
    async fn private(&self, ctx: &Context<'_>) -> Result<bool> {
        let Some(viewer) = ctx.optional_account().await? else {
            return Ok(false);
        };
        if let Some(decided) = service::private_without_staff_check(viewer, &self.0) {
            return Ok(decided);
        }
        let org = self.0.organization_id;
        Ok(authz::check(&ctx.state().db, viewer, authz::CheckKind::Staff, org).await?)
    }

    /// Whether the caller may read the personal part (`action`); a read by staff — not by the
    /// volunteer who took the request — goes on the audit log.
    async fn read_private(&self, ctx: &Context<'_>, action: &'static str) -> Result<bool> {
        if !self.private(ctx).await? {
            return Ok(false);
        }
        if let Some(v) = ctx.optional_account().await?
            && !self.0.assignee_id.is_some_and(|a| authz::is_self(v, a))
        {
            let entry = (
                action,
                Some(self.0.organization_id),
                None,
                format!("help request {}", self.0.id),
            );
            let actor = v.id;
            crate::batch::load(&ctx.state().db, entry, || crate::privacy::AuditReads {
                actor,
            })
            .await?;
        }
        Ok(true)
    }

    async fn staff(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(crate::context::person_is_staff(ctx, self.0.organization_id).await?)
    }
}

/// A need reported by staff or the hotline (求助), answered by a nearby volunteer.
#[Object]
impl HelpRequest {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::HelpRequest, self.0.id)
    }

    /// The service project it belongs to (所属项目), if any.
    async fn project(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::projects::graphql::ServiceProject>> {
        crate::projects::graphql::project_of(ctx, self.0.project_id).await
    }

    /// What is needed, in a few public words.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Kind of help.
    async fn category(&self) -> EventCategory {
        self.0.category
    }

    /// How soon.
    async fn urgency(&self) -> Urgency {
        self.0.urgency
    }

    /// Where it stands.
    async fn status(&self) -> HelpStatus {
        self.0.status
    }

    /// Skills that help.
    async fn needed_skills(&self) -> Vec<String> {
        validate::skills_from_db(&self.0.needed_skills)
    }

    /// Needed by then, if it matters.
    async fn needed_by(&self) -> Option<DateTime<Utc>> {
        self.0.needed_by
    }

    /// Roughly where (rounded to 0.01°, about a kilometre): public.
    async fn approximate_location(&self) -> Location {
        Location::new(approximate(self.0.latitude), approximate(self.0.longitude))
    }

    /// Personal details of the person helped: the organization's staff and the volunteer who
    /// took it only (`null` for everyone else).
    async fn details(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(self
            .read_private(ctx, "READ_HELP_DETAILS")
            .await?
            .then_some(self.0.details.as_str()))
    }

    /// Exact location: the organization's staff and the volunteer who took it only.
    async fn location(&self, ctx: &Context<'_>) -> Result<Option<Location>> {
        Ok(self
            .read_private(ctx, "READ_HELP_LOCATION")
            .await?
            .then(|| Location::new(self.0.latitude, self.0.longitude)))
    }

    /// The responsible organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Fast<Organization>>> {
        Ok(crate::organizations::graphql::by_id(ctx, self.0.organization_id).await?)
    }

    /// The volunteer who took it: the organization's staff and that volunteer only.
    async fn assignee(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        let Some(a) = self.0.assignee_id else {
            return Ok(None);
        };
        if !self.private(ctx).await? {
            return Ok(None);
        }
        Ok(crate::accounts::graphql::by_id(ctx, a).await?)
    }

    /// Whether the caller took it.
    async fn taken_by_me(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(match ctx.optional_account().await? {
            Some(v) => self.0.assignee_id.is_some_and(|a| authz::is_self(v, a)),
            None => false,
        })
    }

    /// The caller's offer of this request, if it was offered to them.
    async fn my_offer(&self, ctx: &Context<'_>) -> Result<Option<HelpOffer>> {
        let Some(v) = ctx.optional_account().await? else {
            return Ok(None);
        };
        if crate::clients::confined_to().is_some() {
            return Ok(None);
        }
        let volunteer = v.id;
        Ok(
            crate::batch::load(&ctx.state().db, self.0.id, || service::OfferTo {
                volunteer,
            })
            .await?
            .map(HelpOffer),
        )
    }

    /// The offers made, oldest first (the first `first`): the organization's staff only
    /// (`null` for everyone else).
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn offers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (default 20, at most 100).")] first: Option<i32>,
    ) -> Result<Option<Vec<HelpOffer>>> {
        let first = crate::pagination::list_first(first)?;
        if !self.staff(ctx).await? {
            return Ok(None);
        }
        let db = &ctx.state().db;
        let offers =
            crate::batch::first_children::<service::OffersOf>(db, self.0.id, first).await?;
        Ok(Some(offers.into_iter().map(HelpOffer).collect()))
    }

    /// When it was reported.
    async fn reported_at(&self) -> DateTime<Utc> {
        self.0.reported_at
    }

    /// When it was first offered to volunteers.
    async fn dispatched_at(&self) -> Option<DateTime<Utc>> {
        self.0.dispatched_at
    }

    /// When a volunteer took it.
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }

    /// Minutes from report to acceptance.
    async fn response_minutes(&self) -> Option<i64> {
        self.0.response_seconds.map(|s| s / 60)
    }

    /// When the volunteer reported it done.
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }

    /// Minutes the volunteer reported.
    async fn minutes_served(&self) -> Option<i32> {
        self.0.minutes_served
    }

    /// The volunteer's note on completion: the organization's staff and that volunteer only.
    async fn completion_note(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        Ok(if self.private(ctx).await? {
            self.0.completion_note.as_deref()
        } else {
            None
        })
    }

    /// Its steps, oldest first (the first `first`), each with its time.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (default 20, at most 100).")] first: Option<i32>,
    ) -> Result<Vec<HelpRequestStep>> {
        let first = crate::pagination::list_first(first)?;
        let staff = self.staff(ctx).await?;
        let db = &ctx.state().db;
        let steps = crate::batch::first_children::<service::StepsOf>(db, self.0.id, first).await?;
        Ok(steps
            .into_iter()
            .map(|s| HelpRequestStep { step: s, staff })
            .collect())
    }
}

/// One step of a help request.
pub struct HelpRequestStep {
    step: step::Model,
    staff: bool,
}

/// One step of a help request: the status it entered, and when.
#[Object]
impl HelpRequestStep {
    /// The status entered.
    async fn status(&self) -> HelpStatus {
        self.step.step
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.step.at
    }

    /// Who: the organization's staff only.
    async fn actor_id(&self) -> Option<ID> {
        self.step
            .actor_id
            .filter(|_| self.staff)
            .map(|a| ids::encode(NodeType::Account, a))
    }

    /// A note (e.g. why it was cancelled): the organization's staff only.
    async fn note(&self) -> Option<&str> {
        self.step.note.as_deref().filter(|_| self.staff)
    }
}

/// A help request offered to one volunteer.
pub struct HelpOffer(pub offer::Model);

/// A help request offered to one volunteer.
#[Object]
impl HelpOffer {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::HelpOffer, self.0.id)
    }

    /// Where it stands.
    async fn status(&self) -> OfferStatus {
        self.0.status
    }

    /// When it was made.
    async fn offered_at(&self) -> DateTime<Utc> {
        self.0.offered_at
    }

    /// When it was accepted, declined or closed.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }

    /// The request.
    async fn help_request(&self, ctx: &Context<'_>) -> Result<HelpRequest> {
        crate::batch::load(
            &ctx.state().db,
            self.0.help_request_id,
            crate::batch::ById::<entity::help_request::Entity>::new,
        )
        .await?
        .map(HelpRequest)
        .ok_or_else(|| AppError::NotFound(Noun::HelpRequest).into())
    }

    /// The volunteer it was made to (phone masked unless the caller may see it).
    async fn volunteer(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        Ok(crate::accounts::graphql::by_id(ctx, self.0.volunteer_id).await?)
    }
}

/// A volunteer `nearbyVolunteers` proposes.
pub struct NearbyVolunteer(Candidate);

/// A volunteer `nearbyVolunteers` proposes: who, how far, which needed skills they have.
#[Object]
impl NearbyVolunteer {
    /// The volunteer (phone masked unless the caller may see it).
    async fn volunteer(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        Ok(accounts::get(&ctx.state().db, self.0.account_id)
            .await?
            .map(Account::new))
    }

    /// Distance from their home to the request, rounded to 100 m (homes stay private).
    async fn distance_meters(&self) -> i32 {
        ((self.0.distance_m / 100.0).round() * 100.0) as i32
    }

    /// Needed skills they have.
    async fn matched_skills(&self) -> &[String] {
        &self.0.matched_skills
    }

    /// Whether the request was offered to them already.
    async fn offered(&self) -> bool {
        self.0.offered
    }
}

/// What `completeHelpRequest` made.
pub struct CompleteHelpRequestPayload(service::Completion);

/// What `completeHelpRequest` made.
#[Object]
impl CompleteHelpRequestPayload {
    /// The request, now `COMPLETED`.
    async fn help_request(&self) -> HelpRequest {
        HelpRequest(self.0.request.clone())
    }

    /// The service record waiting for the organization's approval.
    async fn service_record(&self) -> ServiceRecord {
        ServiceRecord(self.0.record.clone())
    }
}

/// Input of `createHelpRequest`.
#[derive(InputObject)]
pub struct CreateHelpRequestInput {
    /// The responsible organization (you must be its staff, or its hotline client with
    /// `help_requests:write`).
    organization_id: ID,
    /// What is needed, 1–100 characters; public, so no names.
    title: String,
    /// Personal details (who, contact, situation), at most 2,000 characters; shown only to the
    /// organization's staff and the volunteer who takes it.
    #[graphql(default)]
    details: String,
    /// Kind of help.
    category: EventCategory,
    /// How soon (default `NORMAL`).
    #[graphql(default_with = "Urgency::Normal")]
    urgency: Urgency,
    /// Exact location (shown as such only to staff and the volunteer who takes it).
    location: LocationInput,
    /// Skills that help (at most 20).
    #[graphql(default)]
    needed_skills: Vec<String>,
    /// Needed by then (in the future), if it matters.
    needed_by: Option<DateTime<Utc>>,
    /// The service project it belongs to: one serving this organization's line of the
    /// network, or run by it.
    project_id: Option<ID>,
    /// An open community need it answers: the need becomes `ADDRESSED` with it, or neither
    /// happens.
    need_id: Option<ID>,
}

/// Filter of `helpRequests`.
#[derive(InputObject, Default)]
pub struct HelpRequestFilter {
    /// Of this organization or one below it.
    organization_id: Option<ID>,
    /// In this status.
    status: Option<HelpStatus>,
}

/// Help-request queries.
#[derive(Default)]
pub struct HelpQuery;

fn request_key(id: &ID, field: &str) -> Result<i64> {
    Ok(ids::decode(NodeType::HelpRequest, id, field)?)
}

#[Object]
impl HelpQuery {
    /// A help request by ID.
    async fn help_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] id: ID,
    ) -> Result<Option<HelpRequest>> {
        Ok(service::get(&ctx.state().db, request_key(&id, "id")?)
            .await?
            .map(HelpRequest))
    }

    /// Help requests, oldest first.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn help_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "What to list.", default)] filter: HelpRequestFilter,
    ) -> Result<crate::pagination::Conn<HelpRequest>> {
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let filter = HelpFilter {
            organization_id: filter
                .organization_id
                .map(|id| ids::decode(NodeType::Organization, &id, "filter.organizationId"))
                .transpose()?,
            status: filter.status,
        };
        let rows = service::list(&state.db, &filter, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            crate::pagination::Total::of(&state.db, service::listed(&filter)),
            |r| r.id,
            HelpRequest,
        ))
    }

    /// Volunteers to offer a request to (the organization's staff): homes within the dispatch
    /// radius, not on a confirmed shift in the next two hours (or until `neededBy`, if sooner)
    /// nor helping with another request; more of the needed skills first, then the nearest.
    /// Only for requests inside the organization's area (`FORBIDDEN` beyond
    /// `TONGXING_DISPATCH_AREA_METERS` from it and every located organization below it).
    /// Every lookup is audited, and one person makes at most `TONGXING_NEARBY_LOOKUPS_PER_HOUR`
    /// of them an hour (`RATE_LIMITED` with `retryAfter`).
    #[graphql(complexity = "first.unwrap_or(10).clamp(1, 50) as usize * child_complexity")]
    async fn nearby_volunteers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] help_request_id: ID,
        #[graphql(desc = "How many (default 10, at most 50).")] first: Option<i32>,
    ) -> Result<Vec<NearbyVolunteer>> {
        let viewer = ctx.require_account().await?;
        let state = ctx.state();
        let first = usize::try_from(first.unwrap_or(10)).unwrap_or(0);
        Ok(dispatch::nearby_volunteers(
            &state.db,
            viewer,
            request_key(&help_request_id, "helpRequestId")?,
            first,
            state.config.dispatch_reach(),
        )
        .await?
        .into_iter()
        .map(NearbyVolunteer)
        .collect())
    }
}

/// Help-request mutations.
#[derive(Default)]
pub struct HelpMutation;

#[Object]
impl HelpMutation {
    /// Report a help request (the organization's staff, or its hotline client with
    /// `help_requests:write`).
    async fn create_help_request(
        &self,
        ctx: &Context<'_>,
        input: CreateHelpRequestInput,
    ) -> Result<HelpRequest> {
        let viewer = ctx.require_account().await?;
        let new = NewHelpRequest {
            organization_id: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            title: validate::title(&input.title, "input.title", 100)?,
            details: validate::text(&input.details, "input.details", 2_000)?,
            category: input.category,
            urgency: input.urgency,
            location: GeoPoint::new(
                input.location.latitude,
                input.location.longitude,
                "input.location",
            )?,
            needed_skills: validate::skills(&input.needed_skills, "input.neededSkills")?,
            needed_by: input.needed_by,
            via_client: ctx.viewer().grant().map(|g| g.client_key),
            project_id: input
                .project_id
                .map(|id| ids::decode(NodeType::ServiceProject, &id, "input.projectId"))
                .transpose()?,
            need_id: input
                .need_id
                .map(|id| ids::decode(NodeType::CommunityNeed, &id, "input.needId"))
                .transpose()?,
        };
        Ok(HelpRequest(
            service::create(&ctx.state().db, viewer, new).await?,
        ))
    }

    /// Offer a request to volunteers (the organization's staff; 1–50 at a time). Each sees it
    /// in `me.helpOffers` and through `helpOfferReceived`.
    async fn dispatch_help_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] help_request_id: ID,
        #[graphql(desc = "Accounts to offer it to.")] volunteer_ids: Vec<ID>,
    ) -> Result<HelpRequest> {
        let viewer = ctx.require_account().await?;
        if volunteer_ids.len() > MAX_OFFERS {
            return Err(AppError::bad_input(
                "volunteerIds",
                msg!(
                    "offer to 1 to {MAX_OFFERS} volunteers",
                    "每次可派给 1 至 {MAX_OFFERS} 名志愿者"
                ),
            )
            .into());
        }
        let volunteers = volunteer_ids
            .iter()
            .map(|v| ids::decode(NodeType::Account, v, "volunteerIds"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(HelpRequest(
            dispatch::dispatch(
                &ctx.state().db,
                viewer,
                request_key(&help_request_id, "helpRequestId")?,
                &volunteers,
            )
            .await?,
        ))
    }

    /// Take a request offered to you. The first volunteer wins; the others get `CONFLICT`,
    /// anyone it was not offered to `FORBIDDEN`.
    async fn accept_help_offer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] help_request_id: ID,
    ) -> Result<HelpRequest> {
        let viewer = ctx.require_account().await?;
        let id = request_key(&help_request_id, "helpRequestId")?;
        let db = &ctx.state().db;
        Ok(HelpRequest(
            crate::db::retry_transient(|| dispatch::accept(db, viewer, id)).await?,
        ))
    }

    /// Say no to a request offered to you.
    async fn decline_help_offer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] help_request_id: ID,
    ) -> Result<HelpOffer> {
        let viewer = ctx.require_account().await?;
        Ok(HelpOffer(
            dispatch::decline(
                &ctx.state().db,
                viewer,
                request_key(&help_request_id, "helpRequestId")?,
            )
            .await?,
        ))
    }

    /// Report a request you took as done; a service record waits for the organization's
    /// approval, like one from a shift.
    async fn complete_help_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] id: ID,
        #[graphql(desc = "What was done, at most 2,000 characters.", default)] note: String,
        #[graphql(desc = "Minutes served, 1–1440.")] minutes_served: i32,
    ) -> Result<CompleteHelpRequestPayload> {
        let viewer = ctx.require_account().await?;
        let note = validate::text(&note, "note", 2_000)?;
        Ok(CompleteHelpRequestPayload(
            service::complete(
                &ctx.state().db,
                viewer,
                request_key(&id, "id")?,
                note,
                minutes_served,
            )
            .await?,
        ))
    }

    /// Withdraw a request not yet completed (the organization's staff).
    async fn cancel_help_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] id: ID,
        #[graphql(desc = "Why, at most 500 characters.")] reason: String,
    ) -> Result<HelpRequest> {
        let viewer = ctx.require_account().await?;
        let reason = validate::title(&reason, "reason", 500)?;
        Ok(HelpRequest(
            service::cancel(&ctx.state().db, viewer, request_key(&id, "id")?, reason).await?,
        ))
    }
}
