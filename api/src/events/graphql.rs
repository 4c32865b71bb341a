//! GraphQL surface of charity events.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::charity_event as event;

use super::{
    domain::{EventCategory, EventStatus},
    service::{self, EventChanges, EventFilter, EventOrder, EventPosition, NewEvent},
};
use crate::{
    campaigns::graphql::Campaign,
    context::ContextExt,
    direct::Fast,
    error::{AppError, AppResult, Noun},
    geo::{GeoPoint, Near, NearInput},
    ids::{self, NodeType},
    organizations::graphql::Organization,
    pagination::{PageArgs, TimePageArgs, connection_with},
    shifts::graphql::Shift,
    validate,
};

/// A dated charity event at a place.
#[derive(Clone)]
pub struct CharityEvent {
    model: event::Model,
    /// Distance from the `near` point of the query that found it.
    distance_m: Option<f64>,
    /// The organization, when the query that found the event fetched it.
    organization: Option<Organization>,
    /// The campaign as the caller may see it, when the query that found the event fetched it
    /// (`Some(None)`: none, or not visible).
    campaign: Option<Option<Campaign>>,
}

impl CharityEvent {
    /// Wrap a row found without a `near` point.
    pub fn new(model: event::Model) -> Self {
        Self {
            model,
            distance_m: None,
            organization: None,
            campaign: None,
        }
    }

    /// Wrap a row read with what its query joined beside it, measuring from the query's
    /// `near` point if there was one.
    pub fn joined(joined: service::JoinedEvent, near: Option<Near>) -> Self {
        let mut e = Self::measured(joined.event, near);
        e.organization = joined.organization.map(Organization);
        e.campaign = joined.campaign.map(|c| c.map(Campaign));
        e
    }

    /// The event's key.
    pub fn key(&self) -> i64 {
        self.model.id
    }

    /// The key of the event's organization.
    pub fn organization_key(&self) -> i64 {
        self.model.organization_id
    }

    /// Whether the public may see the event (it was published; a cancelled event stays
    /// readable).
    pub fn is_public(&self) -> bool {
        self.model.published_at.is_some()
    }

    /// Wrap a row, measuring from the query's `near` point if there was one.
    pub fn measured(model: event::Model, near: Option<Near>) -> Self {
        let distance_m = near.map(|n| {
            n.center.distance_to(&GeoPoint {
                latitude: model.latitude,
                longitude: model.longitude,
            })
        });
        Self {
            model,
            distance_m,
            organization: None,
            campaign: None,
        }
    }
}

impl crate::direct::Direct for CharityEvent {
    fn graphql_type(&self) -> &'static str {
        "CharityEvent"
    }

    fn answer(&self, field: &str) -> crate::direct::Answer<'_> {
        use crate::direct::{Answer, value};
        let m = &self.model;
        match field {
            "id" => value(&ids::encode(NodeType::CharityEvent, m.id)),
            "organization" => match &self.organization {
                Some(o) => Answer::Object(o),
                None => Answer::Resolver,
            },
            "campaign" => match &self.campaign {
                Some(Some(c)) => Answer::Object(c),
                Some(None) => Answer::Value(async_graphql::Value::Null),
                None if m.campaign_id.is_none() => Answer::Value(async_graphql::Value::Null),
                None => Answer::Resolver,
            },
            "title" => value(&m.title),
            "description" => value(&m.description),
            "category" => value(&m.category),
            "address" => value(&m.address),
            "latitude" => value(&m.latitude),
            "longitude" => value(&m.longitude),
            "distanceMeters" => value(&self.rounded_distance()),
            "startsAt" => value(&m.starts_at),
            "endsAt" => value(&m.ends_at),
            "status" => value(&m.status),
            "cancelReason" => value(&m.cancel_reason),
            "publishedAt" => value(&m.published_at),
            "autoApproveVerified" => value(&m.auto_approve_verified),
            "acceptLocationEvidence" => value(&m.accept_location_evidence),
            _ => Answer::Resolver,
        }
    }
}

impl CharityEvent {
    /// Distance from the query's `near` point, to the decimeter.
    fn rounded_distance(&self) -> Option<f64> {
        self.distance_m.map(|d| (d * 10.0).round() / 10.0)
    }
}

/// A dated charity event (公益活动) at a place, in a category, with shifts to sign up for.
#[Object]
impl CharityEvent {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::CharityEvent, self.model.id)
    }

    /// The organizing organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        if let Some(o) = &self.organization {
            return Ok(Fast(o.clone()));
        }
        crate::organizations::graphql::required(ctx, self.model.organization_id).await
    }

    /// The campaign it is part of, if any (and if the caller may see it).
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Option<Fast<Campaign>>> {
        if let Some(prefetched) = &self.campaign {
            return Ok(prefetched.clone().map(Fast));
        }
        let Some(id) = self.model.campaign_id else {
            return Ok(None);
        };
        Ok(crate::campaigns::graphql::visible(ctx, id).await?.map(Fast))
    }

    /// The service project it belongs to (所属项目), if any.
    async fn project(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::projects::graphql::ServiceProject>> {
        crate::projects::graphql::project_of(ctx, self.model.project_id).await
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.model.title
    }

    /// Description.
    async fn description(&self) -> &str {
        &self.model.description
    }

    /// Category.
    async fn category(&self) -> EventCategory {
        self.model.category
    }

    /// Street address.
    async fn address(&self) -> &str {
        &self.model.address
    }

    /// Latitude (WGS-84).
    async fn latitude(&self) -> f64 {
        self.model.latitude
    }

    /// Longitude (WGS-84).
    async fn longitude(&self) -> f64 {
        self.model.longitude
    }

    /// Great-circle distance in meters from the `near` point the list was filtered by; `null`
    /// when there was none.
    async fn distance_meters(&self) -> Option<f64> {
        self.rounded_distance()
    }

    /// When it starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.model.starts_at
    }

    /// When it ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.model.ends_at
    }

    /// Status.
    async fn status(&self) -> EventStatus {
        self.model.status
    }

    /// Why it was cancelled, for the volunteers.
    async fn cancel_reason(&self) -> Option<&str> {
        self.model.cancel_reason.as_deref()
    }

    /// When it was published.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.model.published_at
    }

    /// Whether service records whose both ends were a kiosk code received while current are
    /// approved without review (location evidence never is).
    async fn auto_approve_verified(&self) -> bool {
        self.model.auto_approve_verified
    }

    /// Its kiosk credentials, newest first (staff of its organization only, else `FORBIDDEN`).
    async fn kiosk_credentials(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::kiosk::graphql::KioskCredential>> {
        let viewer = ctx.require_account().await?;
        let (rows, expires) =
            crate::kiosk::service::list(&ctx.state().db, viewer, self.model.id).await?;
        Ok(rows
            .into_iter()
            .map(|c| crate::kiosk::graphql::KioskCredential(c, expires))
            .collect())
    }

    /// Whether a phone's location within a shift's radius counts as proof of presence (makes
    /// a record `verified`). Without it, `GEO` check-ins are recorded and wait for review.
    async fn accept_location_evidence(&self) -> bool {
        self.model.accept_location_evidence
    }

    /// Its shifts, earliest first.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn shifts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(
            desc = "Only shifts changed at or after this time (details, places taken, cancellation), oldest change first: what a phone asks to refresh its cache."
        )]
        updated_since: Option<DateTime<Utc>>,
    ) -> Result<crate::pagination::Conn<Fast<Shift>>> {
        match updated_since {
            Some(since) => {
                crate::shifts::graphql::shifts_of_event_changed(ctx, self, first, after, since)
                    .await
            }
            None => crate::shifts::graphql::shifts_of_event(ctx, self, first, after).await,
        }
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }
}

/// List events for a resolver: visibility, paging and cursors. The events' organizations and
/// campaigns come in the same statement when the client selected them.
pub async fn list_events(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    filter: EventFilter,
    order: EventOrder,
) -> Result<crate::pagination::Conn<Fast<CharityEvent>>> {
    let state = ctx.state();
    let viewer = ctx.optional_account().await?;
    let near = filter.near;
    let total = crate::pagination::Total::of(&state.db, service::listed(viewer, &filter));
    let joins = if crate::batch::per_field(ctx) {
        service::EventJoins::default()
    } else {
        service::EventJoins {
            organization: crate::batch::node_selects(ctx, &["organization"]),
            campaign: crate::batch::node_selects(ctx, &["campaign"]),
        }
    };
    match order {
        EventOrder::StartTime => {
            let page = TimePageArgs::new(first, after.as_deref(), &state.config)?;
            let rows =
                service::list(&state.db, viewer, &filter, EventPosition::Time(page), joins).await?;
            Ok(connection_with(
                rows,
                page.after.is_some(),
                total,
                |_, e| ids::encode_time_cursor(e.event.starts_at, e.event.id),
                |e| Fast(CharityEvent::joined(e, near)),
            ))
        }
        EventOrder::Distance => {
            let first = PageArgs::new(first, None, &state.config)?.first;
            let offset = after
                .as_deref()
                .map(ids::decode_offset_cursor)
                .transpose()?
                .unwrap_or(0);
            let rows = service::list(
                &state.db,
                viewer,
                &filter,
                EventPosition::Ranked { first, offset },
                joins,
            )
            .await?;
            Ok(connection_with(
                rows,
                offset > 0,
                total,
                |i, _| ids::encode_offset_cursor(offset + i as u64 + 1),
                |e| Fast(CharityEvent::joined(e, near)),
            ))
        }
    }
}

/// `campaign.events(first, after)`: one page of the campaign's events the caller may see,
/// loaded in one statement with the pages of every other campaign listed at the same time.
pub async fn events_of_campaign(
    ctx: &Context<'_>,
    campaign_id: i64,
    first: Option<i32>,
    after: Option<String>,
) -> Result<crate::pagination::Conn<Fast<CharityEvent>>> {
    let state = ctx.state();
    let viewer = ctx.optional_account().await?;
    let page = TimePageArgs::new(first, after.as_deref(), &state.config)?;
    let rows = crate::batch::load(&state.db, (campaign_id, page), || service::CampaignPages {
        viewer: viewer.cloned(),
    })
    .await?
    .unwrap_or_default();
    let total = {
        let viewer = viewer.cloned();
        crate::pagination::Total::batched(&state.db, campaign_id, move || service::CampaignCounts {
            viewer: viewer.clone(),
        })
    };
    Ok(connection_with(
        rows,
        page.after.is_some(),
        total,
        |_, e| ids::encode_time_cursor(e.starts_at, e.id),
        |e| Fast(CharityEvent::new(e)),
    ))
}

/// The event with key `id` if the caller may see it, batched with the other events the
/// request asks for at the same time.
pub async fn visible(ctx: &Context<'_>, id: i64) -> AppResult<Option<CharityEvent>> {
    let viewer = ctx.optional_account().await?;
    Ok(crate::batch::load(&ctx.state().db, id, || {
        crate::batch::VisibleById::<event::Entity>::new(service::visible_to(viewer))
    })
    .await?
    .map(CharityEvent::new))
}

/// Input of `createEvent`.
#[derive(InputObject)]
pub struct CreateEventInput {
    /// The organizing organization (you must be its ORGANIZER or ADMIN).
    organization_id: ID,
    /// A published campaign of the organization or of one above it, to join.
    campaign_id: Option<ID>,
    /// Title, 1–100 characters.
    title: String,
    /// Description, at most 10,000 characters.
    #[graphql(default)]
    description: String,
    /// Category.
    category: EventCategory,
    /// Street address.
    address: String,
    /// Latitude (WGS-84).
    latitude: f64,
    /// Longitude (WGS-84).
    longitude: f64,
    /// Start.
    starts_at: DateTime<Utc>,
    /// End, after the start.
    ends_at: DateTime<Utc>,
    /// Approve service records without review when both ends were a kiosk code received
    /// while current.
    #[graphql(default)]
    auto_approve_verified: bool,
    /// Count a phone's location within a shift's radius as proof of presence.
    #[graphql(default)]
    accept_location_evidence: bool,
    /// The service project it belongs to (项目活动): one serving this organization's line of
    /// the network, or run by it.
    project_id: Option<ID>,
    /// An open community need it answers: the need becomes `ADDRESSED` with it, or neither
    /// happens.
    need_id: Option<ID>,
}

/// Input of `updateEvent`: fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateEventInput {
    /// Title.
    title: Option<String>,
    /// Description.
    description: Option<String>,
    /// Category.
    category: Option<EventCategory>,
    /// Street address.
    address: Option<String>,
    /// Latitude (give longitude too).
    latitude: Option<f64>,
    /// Longitude (give latitude too).
    longitude: Option<f64>,
    /// Start.
    starts_at: Option<DateTime<Utc>>,
    /// End.
    ends_at: Option<DateTime<Utc>>,
    /// Approve service records proven by current kiosk codes without review.
    auto_approve_verified: Option<bool>,
    /// Count a phone's location within a shift's radius as proof of presence.
    accept_location_evidence: Option<bool>,
}

/// Filter of `events`.
#[derive(InputObject, Default)]
pub struct EventFilterInput {
    /// Only events of this campaign.
    campaign_id: Option<ID>,
    /// Only events of this organization and every organization below it.
    organization_id: Option<ID>,
    /// Only this category.
    category: Option<EventCategory>,
    /// Only events starting at or after this moment.
    starts_after: Option<DateTime<Utc>>,
    /// Only events starting before this moment.
    starts_before: Option<DateTime<Utc>>,
    /// Only events within this circle; also fills `distanceMeters`.
    near: Option<NearInput>,
    /// Only events whose title, address or organization's name contains this text (at most
    /// 50 characters; Chinese works; case does not matter).
    search: Option<String>,
}

impl EventFilterInput {
    fn parse(self, backend: sea_orm::DbBackend) -> Result<EventFilter, AppError> {
        Ok(EventFilter {
            campaign_id: self
                .campaign_id
                .map(|id| ids::decode(NodeType::Campaign, &id, "filter.campaignId"))
                .transpose()?,
            organization_id: self
                .organization_id
                .map(|id| ids::decode(NodeType::Organization, &id, "filter.organizationId"))
                .transpose()?,
            category: self.category,
            starts_after: self.starts_after,
            starts_before: self.starts_before,
            near: self.near.map(|n| n.parse("filter.near")).transpose()?,
            search: crate::validate::search(self.search, "filter.search")?
                .map(|text| crate::search::TextSearch::new(text, backend)),
        })
    }
}

/// Event queries.
#[derive(Default)]
pub struct EventQuery;

#[Object]
impl EventQuery {
    /// One event; `NOT_FOUND` if there is none the caller may see (drafts are visible to
    /// their organizers only).
    async fn event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the event.")] id: ID,
    ) -> Result<CharityEvent> {
        let key = ids::decode(NodeType::CharityEvent, &id, "id")?;
        let viewer = ctx.optional_account().await?;
        service::get_visible(&ctx.state().db, viewer, key)
            .await?
            .map(CharityEvent::new)
            .ok_or_else(|| AppError::NotFound(Noun::Event).into())
    }

    /// Events the caller may see.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Which events.")] filter: Option<EventFilterInput>,
        #[graphql(desc = "Order: soonest first (default) or nearest first (needs `near`).")]
        order_by: Option<EventOrder>,
    ) -> Result<crate::pagination::Conn<Fast<CharityEvent>>> {
        let backend = sea_orm::ConnectionTrait::get_database_backend(&ctx.state().db);
        let filter = filter.unwrap_or_default().parse(backend)?;
        let order = order_by.unwrap_or_default();
        if order == EventOrder::Distance && filter.near.is_none() {
            return Err(AppError::bad_input(
                "orderBy",
                msg!(
                    "DISTANCE order needs filter.near",
                    "按距离排序需要提供位置（filter.near）"
                ),
            )
            .into());
        }
        list_events(ctx, first, after, filter, order).await
    }
}

/// Event mutations.
#[derive(Default)]
pub struct EventMutation;

#[Object]
impl EventMutation {
    /// Create an event as a draft. Needs an ORGANIZER or ADMIN of the organization.
    async fn create_event(
        &self,
        ctx: &Context<'_>,
        input: CreateEventInput,
    ) -> Result<CharityEvent> {
        let viewer = ctx.require_account().await?;
        let new = NewEvent {
            organization_id: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            campaign_id: input
                .campaign_id
                .map(|id| ids::decode(NodeType::Campaign, &id, "input.campaignId"))
                .transpose()?,
            title: validate::title(&input.title, "input.title", 100)?,
            description: validate::text(&input.description, "input.description", 10_000)?,
            category: input.category,
            address: validate::title(&input.address, "input.address", 256)?,
            location: GeoPoint::new(input.latitude, input.longitude, "input")?,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            auto_approve_verified: input.auto_approve_verified,
            accept_location_evidence: input.accept_location_evidence,
            project_id: input
                .project_id
                .map(|id| ids::decode(NodeType::ServiceProject, &id, "input.projectId"))
                .transpose()?,
            need_id: input
                .need_id
                .map(|id| ids::decode(NodeType::CommunityNeed, &id, "input.needId"))
                .transpose()?,
        };
        Ok(CharityEvent::new(
            service::create(&ctx.state().db, viewer, new).await?,
        ))
    }

    /// Change a draft or published event.
    async fn update_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event.")] id: ID,
        input: UpdateEventInput,
    ) -> Result<CharityEvent> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CharityEvent, &id, "id")?;
        let location = match (input.latitude, input.longitude) {
            (None, None) => None,
            (Some(lat), Some(lng)) => Some(GeoPoint::new(lat, lng, "input")?),
            _ => {
                return Err(AppError::bad_input(
                    "input.latitude",
                    msg!("latitude and longitude go together", "纬度和经度须同时填写"),
                )
                .into());
            }
        };
        let changes = EventChanges {
            title: input
                .title
                .map(|t| validate::title(&t, "input.title", 100))
                .transpose()?,
            description: input
                .description
                .map(|t| validate::text(&t, "input.description", 10_000))
                .transpose()?,
            category: input.category,
            address: input
                .address
                .map(|t| validate::title(&t, "input.address", 256))
                .transpose()?,
            location,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            auto_approve_verified: input.auto_approve_verified,
            accept_location_evidence: input.accept_location_evidence,
        };
        Ok(CharityEvent::new(
            service::update(&ctx.state().db, viewer, key, changes).await?,
        ))
    }

    /// Publish a draft event: the public sees it and its shifts take sign-ups.
    async fn publish_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event.")] id: ID,
    ) -> Result<CharityEvent> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CharityEvent, &id, "id")?;
        Ok(CharityEvent::new(
            service::transition(
                &ctx.state().db,
                viewer,
                key,
                &[EventStatus::Draft],
                EventStatus::Published,
            )
            .await?,
        ))
    }

    /// Mark a published event done.
    async fn complete_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event.")] id: ID,
    ) -> Result<CharityEvent> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CharityEvent, &id, "id")?;
        Ok(CharityEvent::new(
            service::transition(
                &ctx.state().db,
                viewer,
                key,
                &[EventStatus::Published],
                EventStatus::Completed,
            )
            .await?,
        ))
    }

    /// Cancel an event: its shifts and every active sign-up on them are cancelled too, with
    /// the reason given.
    async fn cancel_event(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The event.")] id: ID,
        #[graphql(desc = "Why, in words the volunteers will read.")] reason: String,
    ) -> Result<CharityEvent> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CharityEvent, &id, "id")?;
        let reason = validate::title(&reason, "reason", 500)?;
        Ok(CharityEvent::new(
            service::cancel(&ctx.state().db, viewer, key, reason).await?,
        ))
    }
}
