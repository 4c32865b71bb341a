//! GraphQL surface of residents' deliberation (议事): `topics`, `topic`, `topicCounts`,
//! `raiseTopic`, `supportTopic`, `withdrawTopicSupport`, `moveTopic`, `recordTopicMeeting`,
//! `linkTopic`, `hideTopic`, `restoreTopic`.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    topic::{self, HideReason, TopicCategory, TopicStatus},
    topic_change, topic_meeting,
};

use super::service::{self, Links, NewMeeting, NewTopic, TopicFilter};
use crate::{
    context::ContextExt,
    direct::Fast,
    ids::{self, NodeType},
    organizations::graphql::Organization,
    pagination::{Conn, PageArgs, Total, connection},
};

/// A topic residents deliberate (议事议题).
pub struct Topic(pub topic::Model);

/// A topic raised for a community (议事议题): what, where it stands and how it got there, who
/// supports it, the meetings that discussed it and what paid for it. Public within its
/// community, unless the staff hid it.
#[Object]
impl Topic {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Topic, self.0.id)
    }

    /// The community.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        crate::organizations::graphql::required(ctx, self.0.organization_id).await
    }

    /// Title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// What it is about, in the raiser's words.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Category.
    async fn category(&self) -> TopicCategory {
        self.0.category
    }

    /// Photos (URLs).
    async fn photo_urls(&self) -> Vec<String> {
        service::photos_from_db(&self.0.photo_urls)
    }

    /// Where it stands.
    async fn status(&self) -> TopicStatus {
        self.0.status
    }

    /// How many people support it (one each).
    async fn supporters(&self) -> i32 {
        self.0.supporters
    }

    /// Whether the caller supports it (`false` when signed out).
    async fn supported_by_me(&self, ctx: &Context<'_>) -> Result<bool> {
        let Some(viewer) = ctx.optional_account().await? else {
            return Ok(false);
        };
        if crate::clients::confined_to().is_some() {
            return Ok(false);
        }
        let me = viewer.id;
        Ok(
            crate::batch::load(&ctx.state().db, self.0.id, move || service::SupportedBy(me))
                .await?
                .unwrap_or(false),
        )
    }

    /// Whether the caller raised it (who raised a topic is not shown to others).
    async fn raised_by_me(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(ctx
            .optional_account()
            .await?
            .is_some_and(|v| v.id == self.0.raised_by && crate::clients::confined_to().is_none()))
    }

    /// Why the staff hid it (`null`: shown). A hidden topic is seen only by its raiser and
    /// the staff.
    async fn hidden_reason(&self) -> Option<HideReason> {
        self.0.hidden_reason
    }

    /// Every status change, the raising first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<TopicChange>> {
        Ok(crate::batch::load(
            &ctx.state().db,
            self.0.id,
            crate::batch::AllChildren::<service::HistoryOf>::new,
        )
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(TopicChange)
        .collect())
    }

    /// The meetings that discussed it.
    async fn meetings(&self, ctx: &Context<'_>) -> Result<Vec<TopicMeeting>> {
        Ok(crate::batch::load(
            &ctx.state().db,
            self.0.id,
            crate::batch::AllChildren::<service::MeetingsOf>::new,
        )
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(TopicMeeting)
        .collect())
    }

    /// The service project that paid for it (微更新).
    async fn project(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::projects::graphql::ServiceProject>> {
        crate::projects::graphql::project_of(ctx, self.0.project_id).await
    }

    /// The micro-wish that paid for it.
    async fn micro_wish(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::wishes::graphql::MicroWish>> {
        let Some(id) = self.0.wish_id else {
            return Ok(None);
        };
        Ok(crate::batch::load(
            &ctx.state().db,
            id,
            crate::batch::ById::<entity::micro_wish::Entity>::new,
        )
        .await?
        .map(crate::wishes::graphql::MicroWish))
    }

    /// The fund disbursement that paid for it.
    async fn disbursement(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::funds::graphql::Disbursement>> {
        let Some(id) = self.0.disbursement_id else {
            return Ok(None);
        };
        Ok(crate::batch::load(
            &ctx.state().db,
            id,
            crate::batch::ById::<entity::disbursement::Entity>::new,
        )
        .await?
        .map(crate::funds::graphql::Disbursement::public))
    }

    /// When it was raised.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When its status or links last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// One change of a topic's status.
pub struct TopicChange(topic_change::Model);

/// One change of a topic's status: from what, to what, why and when.
#[Object]
impl TopicChange {
    /// Before (`null` for the raising).
    async fn from_status(&self) -> Option<TopicStatus> {
        self.0.from_status
    }

    /// After.
    async fn to_status(&self) -> TopicStatus {
        self.0.to_status
    }

    /// Why (the staff's note; the meeting for a move made by recording one).
    async fn note(&self) -> &str {
        &self.0.note
    }

    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A meeting that discussed a topic.
pub struct TopicMeeting(topic_meeting::Model);

/// A residents' meeting (议事会) that discussed a topic: the event, how many came, the
/// minutes.
#[Object]
impl TopicMeeting {
    /// The meeting (a `COMMUNITY_GOVERNANCE` event; `null` if the caller may not see it).
    async fn event(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::events::graphql::CharityEvent>> {
        Ok(crate::events::graphql::visible(ctx, self.0.event_id).await?)
    }

    /// Residents present, as the staff recorded (many come without the app).
    async fn attendees(&self) -> i32 {
        self.0.attendees
    }

    /// People who checked in at the meeting with the app.
    async fn checked_in(&self, ctx: &Context<'_>) -> Result<i64> {
        Ok(
            crate::batch::load(&ctx.state().db, self.0.event_id, || service::CheckedInAt)
                .await?
                .unwrap_or(0),
        )
    }

    /// The minutes (会议纪要).
    async fn minutes(&self) -> &str {
        &self.0.minutes
    }
}

/// How many topics of a community (and the rooms below it) stand where, hidden ones left
/// out — "10 个议题已得到解决，3 个议题持续跟进".
#[derive(SimpleObject)]
pub struct TopicCounts {
    /// Raised, not yet taken up.
    raised: i64,
    /// Being discussed.
    discussing: i64,
    /// Decided.
    resolved: i64,
    /// Done.
    implemented: i64,
    /// Followed up over time (持续跟进).
    following_up: i64,
    /// Not taken up.
    declined: i64,
    /// Solved: decided or done (已解决).
    solved: i64,
}

/// Input of `raiseTopic`.
#[derive(InputObject)]
pub struct RaiseTopicInput {
    /// The community: a station or room.
    pub organization_id: ID,
    /// Title, at most 60 characters.
    pub title: String,
    /// What it is about, at most 2,000 characters.
    #[graphql(default)]
    pub description: String,
    /// Category.
    pub category: TopicCategory,
    /// Up to nine photo URLs (http(s)).
    #[graphql(default)]
    pub photo_urls: Vec<String>,
}

/// Input of `recordTopicMeeting`.
#[derive(InputObject)]
pub struct RecordTopicMeetingInput {
    /// The topic.
    pub topic_id: ID,
    /// The meeting: a `COMMUNITY_GOVERNANCE` event of the topic's community or above it.
    pub event_id: ID,
    /// Residents present (1 to 10,000).
    pub attendees: i32,
    /// The minutes, at most 5,000 characters.
    #[graphql(default)]
    pub minutes: String,
}

/// Input of `linkTopic`: each given link replaces the one before; one left out stays.
#[derive(InputObject)]
pub struct LinkTopicInput {
    /// The topic.
    pub topic_id: ID,
    /// A service project that paid for it.
    pub project_id: Option<ID>,
    /// A micro-wish that paid for it.
    pub micro_wish_id: Option<ID>,
    /// A fund disbursement that paid for it.
    pub disbursement_id: Option<ID>,
}

fn topic_id(id: &ID, field: &str) -> Result<i64> {
    Ok(ids::decode(NodeType::Topic, id, field)?)
}

/// Deliberation queries.
#[derive(Default)]
pub struct DeliberationQuery;

#[Object]
impl DeliberationQuery {
    /// The topics of a community and the rooms below it, oldest first; anyone may read them.
    /// With `includeHidden`, its staff see the hidden ones of the community itself, its
    /// administrators those of the rooms below too.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn topics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The community.")] organization_id: ID,
        #[graphql(desc = "Only these statuses (all when empty).", default)] statuses: Vec<
            TopicStatus,
        >,
        #[graphql(desc = "Hidden ones too (the staff only).", default)] include_hidden: bool,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<Conn<Topic>> {
        let state = ctx.state();
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        let hidden = if include_hidden {
            let viewer = ctx.require_account().await?;
            service::hidden_scope(&state.db, viewer, org).await?
        } else {
            service::Hidden::No
        };
        let filter = TopicFilter {
            organization: org,
            statuses,
            hidden,
        };
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = service::list(&state.db, &filter, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::of(&state.db, service::listed(&filter)),
            |t| t.id,
            Topic,
        ))
    }

    /// One topic (a hidden one only for its raiser and the staff).
    async fn topic(&self, ctx: &Context<'_>, id: ID) -> Result<Topic> {
        let viewer = ctx.optional_account().await?;
        let key = topic_id(&id, "id")?;
        Ok(Topic(service::visible(&ctx.state().db, viewer, key).await?))
    }

    /// How many topics of a community (and below it) stand where: the community page's
    /// counts. Anyone may read them.
    async fn topic_counts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The community.")] organization_id: ID,
    ) -> Result<TopicCounts> {
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        let c = service::counts(&ctx.state().db, org).await?;
        Ok(TopicCounts {
            solved: c.resolved + c.implemented,
            raised: c.raised,
            discussing: c.discussing,
            resolved: c.resolved,
            implemented: c.implemented,
            following_up: c.following_up,
            declined: c.declined,
        })
    }
}

/// Deliberation mutations.
#[derive(Default)]
pub struct DeliberationMutation;

#[Object]
impl DeliberationMutation {
    /// Raise a topic for a community (any signed-in person; at most 10 a day).
    async fn raise_topic(&self, ctx: &Context<'_>, input: RaiseTopicInput) -> Result<Topic> {
        let viewer = ctx.require_account().await?;
        let n = NewTopic {
            organization: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            title: input.title,
            description: input.description,
            category: input.category,
            photo_urls: input.photo_urls,
        };
        Ok(Topic(service::raise(&ctx.state().db, viewer, n).await?))
    }

    /// Support a topic: once per person (again changes nothing). `CONFLICT` once it is done
    /// or declined.
    async fn support_topic(&self, ctx: &Context<'_>, id: ID) -> Result<Topic> {
        let viewer = ctx.require_account().await?;
        let key = topic_id(&id, "id")?;
        Ok(Topic(service::support(&ctx.state().db, viewer, key).await?))
    }

    /// Withdraw one's support.
    async fn withdraw_topic_support(&self, ctx: &Context<'_>, id: ID) -> Result<Topic> {
        let viewer = ctx.require_account().await?;
        let key = topic_id(&id, "id")?;
        Ok(Topic(
            service::withdraw_support(&ctx.state().db, viewer, key).await?,
        ))
    }

    /// Move a topic along `RAISED → DISCUSSING → RESOLVED → IMPLEMENTED`, or to
    /// `FOLLOWING_UP`/`DECLINED` (its community's staff), with a note (required to decline or
    /// follow up). A move the flow does not allow, or one racing another, is `CONFLICT`.
    async fn move_topic(
        &self,
        ctx: &Context<'_>,
        id: ID,
        to: TopicStatus,
        #[graphql(default)] note: String,
    ) -> Result<Topic> {
        let viewer = ctx.require_account().await?;
        let key = topic_id(&id, "id")?;
        Ok(Topic(
            service::move_topic(&ctx.state().db, viewer, key, to, &note).await?,
        ))
    }

    /// Record that a residents' meeting discussed a topic (its community's staff): attendees
    /// and minutes; again for the same meeting updates them. A raised topic moves to
    /// `DISCUSSING`.
    async fn record_topic_meeting(
        &self,
        ctx: &Context<'_>,
        input: RecordTopicMeetingInput,
    ) -> Result<Topic> {
        let viewer = ctx.require_account().await?;
        let m = NewMeeting {
            topic: topic_id(&input.topic_id, "input.topicId")?,
            event: ids::decode(NodeType::CharityEvent, &input.event_id, "input.eventId")?,
            attendees: input.attendees,
            minutes: input.minutes,
        };
        Ok(Topic(
            service::record_meeting(&ctx.state().db, viewer, m).await?,
        ))
    }

    /// Link what paid for a topic — a service project, micro-wish or fund disbursement of its
    /// community's line (its community's staff).
    async fn link_topic(&self, ctx: &Context<'_>, input: LinkTopicInput) -> Result<Topic> {
        let viewer = ctx.require_account().await?;
        let key = topic_id(&input.topic_id, "input.topicId")?;
        let decode = |id: &Option<ID>, ty, field: &str| -> Result<Option<i64>> {
            Ok(id
                .as_ref()
                .map(|id| ids::decode(ty, id, field))
                .transpose()?)
        };
        let l = Links {
            project: decode(
                &input.project_id,
                NodeType::ServiceProject,
                "input.projectId",
            )?,
            wish: decode(
                &input.micro_wish_id,
                NodeType::MicroWish,
                "input.microWishId",
            )?,
            disbursement: decode(
                &input.disbursement_id,
                NodeType::Disbursement,
                "input.disbursementId",
            )?,
        };
        Ok(Topic(service::link(&ctx.state().db, viewer, key, l).await?))
    }

    /// Hide a topic from the public lists (its community's staff; audited).
    async fn hide_topic(&self, ctx: &Context<'_>, id: ID, reason: HideReason) -> Result<Topic> {
        let viewer = ctx.require_account().await?;
        let key = topic_id(&id, "id")?;
        Ok(Topic(
            service::moderate(&ctx.state().db, viewer, key, Some(reason)).await?,
        ))
    }

    /// Show a hidden topic again (its community's staff; audited).
    async fn restore_topic(&self, ctx: &Context<'_>, id: ID) -> Result<Topic> {
        let viewer = ctx.require_account().await?;
        let key = topic_id(&id, "id")?;
        Ok(Topic(
            service::moderate(&ctx.state().db, viewer, key, None).await?,
        ))
    }
}
