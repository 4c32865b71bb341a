//! GraphQL surface of campaigns.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::campaign;

use super::service::{self, CampaignChanges, CampaignFilter, CampaignStatus, NewCampaign};
use crate::{
    context::ContextExt,
    direct::Fast,
    error::{AppError, Noun},
    events::graphql::CharityEvent,
    ids::{self, NodeType},
    organizations::graphql::Organization,
    pagination::{PageArgs, connection},
    validate,
};

/// A "Charity Together, Volunteers Together" (慈善同心·志愿同行) campaign.
#[derive(Clone)]
pub struct Campaign(pub campaign::Model);

impl crate::direct::Direct for Campaign {
    fn graphql_type(&self) -> &'static str {
        "Campaign"
    }

    fn answer(&self, field: &str) -> crate::direct::Answer<'_> {
        use crate::direct::{Answer, value};
        match field {
            "id" => value(&ids::encode(NodeType::Campaign, self.0.id)),
            "title" => value(&self.0.title),
            "description" => value(&self.0.description),
            "status" => value(&self.0.status),
            "startsAt" => value(&self.0.starts_at),
            "endsAt" => value(&self.0.ends_at),
            "volunteerHoursGoal" => value(&self.0.volunteer_hours_goal),
            "fundraisingGoalFen" => value(&self.0.fundraising_goal_fen),
            "coverImageUrl" => value(&self.0.cover_image_url),
            "publishedAt" => value(&self.0.published_at),
            "createdAt" => value(&self.0.created_at),
            "updatedAt" => value(&self.0.updated_at),
            _ => Answer::Resolver,
        }
    }
}

/// A "Charity Together, Volunteers Together" (慈善同心·志愿同行) campaign: goals in volunteer
/// hours and money, grouping charity events.
#[Object]
impl Campaign {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Campaign, self.0.id)
    }

    /// The organizing organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        crate::organizations::graphql::required(ctx, self.0.organization_id).await
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Description.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Status.
    async fn status(&self) -> CampaignStatus {
        self.0.status
    }

    /// When the campaign starts.
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }

    /// When the campaign ends.
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }

    /// Goal in volunteer hours.
    async fn volunteer_hours_goal(&self) -> Option<i32> {
        self.0.volunteer_hours_goal
    }

    /// Goal in money, in integer fen (1 yuan = 100 fen).
    async fn fundraising_goal_fen(&self) -> Option<i64> {
        self.0.fundraising_goal_fen
    }

    /// Cover image URL.
    async fn cover_image_url(&self) -> Option<&str> {
        self.0.cover_image_url.as_deref()
    }

    /// When it was published.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }

    /// What the campaign has achieved in approved service.
    async fn progress(&self, ctx: &Context<'_>) -> Result<CampaignProgress> {
        let p = crate::batch::load(&ctx.state().db, self.0.id, || service::ProgressOf)
            .await?
            .unwrap_or_default();
        Ok(CampaignProgress {
            volunteer_minutes: p.volunteer_minutes,
            volunteer_count: p.volunteer_count,
            event_count: p.event_count,
            shifts_filled: p.shifts_filled,
            raised_fen: self.0.raised_fen,
        })
    }

    /// Donations to the campaign, oldest first (anonymous donors hidden from the public).
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn donations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<crate::funds::graphql::Donation>> {
        let state = ctx.state();
        let page = crate::pagination::PageArgs::new(first, after.as_deref(), &state.config)?;
        let viewer = ctx.optional_account().await?;
        let manager = crate::context::person_manages(ctx, self.0.organization_id).await?;
        let rows = crate::batch::load(
            &state.db,
            (self.0.id, page),
            crate::batch::ChildPages::<crate::funds::service::DonationsToCampaign>::new,
        )
        .await?
        .unwrap_or_default();
        Ok(crate::pagination::connection(
            rows,
            page.after.is_some(),
            crate::pagination::Total::batched(
                &state.db,
                self.0.id,
                crate::batch::ChildCounts::<crate::funds::service::DonationsToCampaign>::new,
            ),
            |d| d.id,
            |d| crate::funds::graphql::Donation::shown_to(d, viewer, manager),
        ))
    }

    /// The campaign's events the caller may see, soonest first.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<Fast<CharityEvent>>> {
        crate::events::graphql::events_of_campaign(ctx, self.0.id, first, after).await
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// What a campaign has achieved, counting approved service only.
#[derive(async_graphql::SimpleObject)]
pub struct CampaignProgress {
    /// Approved minutes of service at its events.
    volunteer_minutes: i64,
    /// Volunteers with approved service at its events.
    volunteer_count: i64,
    /// Its published or completed events.
    event_count: i64,
    /// Its open shifts whose places are all taken.
    shifts_filled: i64,
    /// Fen donated to the campaign, against `fundraisingGoalFen`.
    raised_fen: i64,
}

/// Input of `createCampaign`.
#[derive(InputObject)]
pub struct CreateCampaignInput {
    /// The organizing organization (you must be its ORGANIZER or ADMIN).
    organization_id: ID,
    /// Title, 1–100 characters.
    title: String,
    /// Description, at most 10,000 characters.
    #[graphql(default)]
    description: String,
    /// Start.
    starts_at: DateTime<Utc>,
    /// End, after the start.
    ends_at: DateTime<Utc>,
    /// Goal in volunteer hours.
    volunteer_hours_goal: Option<i32>,
    /// Goal in money, integer fen.
    fundraising_goal_fen: Option<i64>,
    /// Cover image, an http(s) URL.
    cover_image_url: Option<String>,
}

/// Input of `updateCampaign`: fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateCampaignInput {
    /// Title.
    title: Option<String>,
    /// Description.
    description: Option<String>,
    /// Start.
    starts_at: Option<DateTime<Utc>>,
    /// End.
    ends_at: Option<DateTime<Utc>>,
    /// Goal in volunteer hours.
    volunteer_hours_goal: Option<i32>,
    /// Goal in money, integer fen.
    fundraising_goal_fen: Option<i64>,
    /// Cover image URL.
    cover_image_url: Option<String>,
}

/// Filter of `campaigns`.
#[derive(InputObject, Default)]
pub struct CampaignFilterInput {
    /// Only this status.
    status: Option<CampaignStatus>,
    /// Only campaigns of this organization and every organization below it.
    organization_id: Option<ID>,
    /// Only campaigns running at this moment.
    active_at: Option<DateTime<Utc>>,
    /// Title contains this text (at most 50 characters).
    search: Option<String>,
}

/// Campaign queries.
#[derive(Default)]
pub struct CampaignQuery;

#[Object]
impl CampaignQuery {
    /// One campaign; `NOT_FOUND` if there is none the caller may see (drafts are visible to
    /// their organizers only).
    async fn campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the campaign.")] id: ID,
    ) -> Result<Campaign> {
        let key = ids::decode(NodeType::Campaign, &id, "id")?;
        let viewer = ctx.optional_account().await?;
        service::get_visible(&ctx.state().db, viewer, key)
            .await?
            .map(Campaign)
            .ok_or_else(|| AppError::NotFound(Noun::Campaign).into())
    }

    /// Campaigns the caller may see, oldest first.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Which campaigns.")] filter: Option<CampaignFilterInput>,
    ) -> Result<crate::pagination::Conn<Fast<Campaign>>> {
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let f = filter.unwrap_or_default();
        let filter = CampaignFilter {
            status: f.status,
            organization_id: f
                .organization_id
                .map(|id| ids::decode(NodeType::Organization, &id, "filter.organizationId"))
                .transpose()?,
            active_at: f.active_at,
            search: crate::validate::search(f.search, "filter.search")?,
        };
        let viewer = ctx.optional_account().await?;
        let rows = service::list(&state.db, viewer, &filter, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            crate::pagination::Total::of(&state.db, service::listed(viewer, &filter)),
            |c| c.id,
            |c| Fast(Campaign(c)),
        ))
    }
}

/// Campaign mutations.
#[derive(Default)]
pub struct CampaignMutation;

#[Object]
impl CampaignMutation {
    /// Create a campaign as a draft. Needs an ORGANIZER or ADMIN of the organization.
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        input: CreateCampaignInput,
    ) -> Result<Campaign> {
        let viewer = ctx.require_account().await?;
        let new = NewCampaign {
            organization_id: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            title: validate::title(&input.title, "input.title", 100)?,
            description: validate::text(&input.description, "input.description", 10_000)?,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            volunteer_hours_goal: input.volunteer_hours_goal,
            fundraising_goal_fen: input.fundraising_goal_fen,
            cover_image_url: input
                .cover_image_url
                .map(|u| validate::url(&u, "input.coverImageUrl"))
                .transpose()?,
        };
        Ok(Campaign(
            service::create(&ctx.state().db, viewer, new).await?,
        ))
    }

    /// Change a draft or published campaign.
    async fn update_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign.")] id: ID,
        input: UpdateCampaignInput,
    ) -> Result<Campaign> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::Campaign, &id, "id")?;
        let changes = CampaignChanges {
            title: input
                .title
                .map(|t| validate::title(&t, "input.title", 100))
                .transpose()?,
            description: input
                .description
                .map(|t| validate::text(&t, "input.description", 10_000))
                .transpose()?,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            volunteer_hours_goal: input.volunteer_hours_goal,
            fundraising_goal_fen: input.fundraising_goal_fen,
            cover_image_url: input
                .cover_image_url
                .map(|u| validate::url(&u, "input.coverImageUrl"))
                .transpose()?,
        };
        Ok(Campaign(
            service::update(&ctx.state().db, viewer, key, changes).await?,
        ))
    }

    /// Publish a draft: the public can see it and events can join it.
    async fn publish_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign.")] id: ID,
    ) -> Result<Campaign> {
        self.move_to(
            ctx,
            &id,
            &[CampaignStatus::Draft],
            CampaignStatus::Published,
        )
        .await
    }

    /// Close a published campaign.
    async fn close_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign.")] id: ID,
    ) -> Result<Campaign> {
        self.move_to(
            ctx,
            &id,
            &[CampaignStatus::Published],
            CampaignStatus::Closed,
        )
        .await
    }

    /// Cancel a draft or published campaign.
    async fn cancel_campaign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The campaign.")] id: ID,
    ) -> Result<Campaign> {
        self.move_to(
            ctx,
            &id,
            &[CampaignStatus::Draft, CampaignStatus::Published],
            CampaignStatus::Cancelled,
        )
        .await
    }
}

impl CampaignMutation {
    async fn move_to(
        &self,
        ctx: &Context<'_>,
        id: &ID,
        from: &[CampaignStatus],
        to: CampaignStatus,
    ) -> Result<Campaign> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::Campaign, id, "id")?;
        Ok(Campaign(
            service::transition(&ctx.state().db, viewer, key, from, to).await?,
        ))
    }
}

/// The campaign with key `id` if the caller may see it, batched with the other campaigns the
/// request asks for at the same time.
pub async fn visible(ctx: &Context<'_>, id: i64) -> Result<Option<Campaign>> {
    let viewer = ctx.optional_account().await?;
    Ok(crate::batch::load(&ctx.state().db, id, || {
        crate::batch::VisibleById::<campaign::Entity>::new(service::visible_to(viewer))
    })
    .await?
    .map(Campaign))
}
