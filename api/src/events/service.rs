//! Charity event logic, independent of GraphQL.

use std::collections::HashMap;

use async_graphql::Enum;
use chrono::{DateTime, Utc};
use entity::{
    account, campaign, charity_event as event, organization, organization_closure as closure,
    shift, signup,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    Order, QueryFilter, QueryOrder, Set,
    sea_query::{Expr, Query},
};

use super::domain::{EventCategory, EventStatus};
use crate::{
    authz,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    geo::{GeoPoint, Near, distance_sql},
    pagination::{Page, TimePageArgs},
};

/// Order of an event list.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum EventOrder {
    /// Soonest first.
    #[default]
    StartTime,
    /// Nearest first (needs `near`).
    Distance,
}

/// A new event, validated.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Organizing organization.
    pub organization_id: i64,
    /// Campaign to join.
    pub campaign_id: Option<i64>,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Category.
    pub category: EventCategory,
    /// Address.
    pub address: String,
    /// Location.
    pub location: GeoPoint,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Approve service records proven by current kiosk codes without review.
    pub auto_approve_verified: bool,
    /// Count a phone's location as proof of presence.
    pub accept_location_evidence: bool,
    /// The service project it belongs to.
    pub project_id: Option<i64>,
    /// The open community need it answers (turned `ADDRESSED` with it).
    pub need_id: Option<i64>,
}

/// Changes to an event; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct EventChanges {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Category.
    pub category: Option<EventCategory>,
    /// Address.
    pub address: Option<String>,
    /// Location.
    pub location: Option<GeoPoint>,
    /// Start.
    pub starts_at: Option<DateTime<Utc>>,
    /// End.
    pub ends_at: Option<DateTime<Utc>>,
    /// Approve service records proven by current kiosk codes without review.
    pub auto_approve_verified: Option<bool>,
    /// Count a phone's location as proof of presence.
    pub accept_location_evidence: Option<bool>,
}

/// Filter of `events`.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events of this campaign.
    pub campaign_id: Option<i64>,
    /// Only events of this organization or any below it.
    pub organization_id: Option<i64>,
    /// Only this category.
    pub category: Option<EventCategory>,
    /// Only events starting at or after this.
    pub starts_after: Option<DateTime<Utc>>,
    /// Only events starting before this.
    pub starts_before: Option<DateTime<Utc>>,
    /// Only events within this circle.
    pub near: Option<Near>,
    /// Only events whose title, address or organization's name contains this.
    pub search: Option<crate::search::TextSearch>,
}

/// Events the caller may see ([`crate::lifecycle::visible_to`]).
pub fn visible_to(viewer: Option<&account::Model>) -> Condition {
    crate::lifecycle::visible_to::<event::Entity>(viewer)
}

/// Load an event the caller may see.
pub async fn get_visible<C: ConnectionTrait>(
    db: &C,
    viewer: Option<&account::Model>,
    id: i64,
) -> AppResult<Option<event::Model>> {
    Ok(event::Entity::find_by_id(id)
        .filter(visible_to(viewer))
        .one(db)
        .await?)
}

/// Load an event the caller manages; `NOT_FOUND` if invisible, `FORBIDDEN` if not managed.
pub async fn get_managed(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<event::Model> {
    let e = get_visible(db, Some(viewer), id)
        .await?
        .ok_or(AppError::NotFound(Noun::Event))?;
    authz::require_manager(db, viewer, e.organization_id).await?;
    Ok(e)
}

/// An event may join a published campaign of its own organization or of one above it.
async fn check_campaign(
    db: &DatabaseConnection,
    organization_id: i64,
    campaign_id: i64,
) -> AppResult<()> {
    let c = campaign::Entity::find_by_id(campaign_id)
        .filter(campaign::Column::Status.eq(campaign::CampaignStatus::Published))
        .filter(
            campaign::Column::OrganizationId.in_subquery(
                Query::select()
                    .column(closure::Column::AncestorId)
                    .from(closure::Entity)
                    .and_where(closure::Column::DescendantId.eq(organization_id))
                    .to_owned(),
            ),
        )
        .one(db)
        .await?;
    match c {
        Some(_) => Ok(()),
        None => Err(AppError::bad_input(
            "input.campaignId",
            msg!(
                "must be a published campaign of the event's organization or one above it",
                "须为本组织或上级组织已发布的主题活动"
            ),
        )),
    }
}

/// Create an event (as a draft). Needs a manager of the organization.
#[tracing::instrument(skip_all, fields(viewer = viewer.id))]
pub async fn create(
    db: &DatabaseConnection,
    viewer: &account::Model,
    new: NewEvent,
) -> AppResult<event::Model> {
    authz::require_manager(db, viewer, new.organization_id).await?;
    crate::validate::window(new.starts_at, new.ends_at, "input.endsAt")?;
    if let Some(c) = new.campaign_id {
        check_campaign(db, new.organization_id, c).await?;
    }
    if let Some(p) = new.project_id {
        crate::projects::service::check_part_of(db, p, new.organization_id).await?;
    }
    if let Some(n) = new.need_id {
        crate::projects::lists::check_need(db, viewer, n, new.organization_id).await?;
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let row = event::ActiveModel {
        organization_id: Set(new.organization_id),
        campaign_id: Set(new.campaign_id),
        title: Set(new.title),
        description: Set(new.description),
        category: Set(new.category),
        address: Set(new.address),
        latitude: Set(new.location.latitude),
        longitude: Set(new.location.longitude),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        status: Set(EventStatus::Draft),
        cancel_reason: Set(None),
        published_at: Set(None),
        auto_approve_verified: Set(new.auto_approve_verified),
        accept_location_evidence: Set(new.accept_location_evidence),
        created_by: Set(viewer.id),
        created_at: Set(now),
        updated_at: Set(now),
        project_id: Set(new.project_id),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if let Some(n) = new.need_id {
        crate::projects::lists::take_need(&txn, n, crate::projects::lists::Taken::Event(row.id))
            .await?;
    }
    txn.commit().await?;
    Ok(row)
}

/// Change a draft or published event. Its window must still hold all of its shifts.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, event_id = id))]
pub async fn update(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    changes: EventChanges,
) -> AppResult<event::Model> {
    let current = get_managed(db, viewer, id).await?;
    let starts_at = changes.starts_at.unwrap_or(current.starts_at);
    let ends_at = changes.ends_at.unwrap_or(current.ends_at);
    crate::validate::window(starts_at, ends_at, "input.endsAt")?;
    let txn = begin_write(db).await?;
    let mut update = event::Entity::update_many()
        .col_expr(event::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(event::Column::StartsAt, Expr::value(starts_at))
        .col_expr(event::Column::EndsAt, Expr::value(ends_at))
        .filter(event::Column::Id.eq(id))
        .filter(event::Column::Status.is_in([EventStatus::Draft, EventStatus::Published]));
    if let Some(v) = changes.title {
        update = update.col_expr(event::Column::Title, Expr::value(v));
    }
    if let Some(v) = changes.description {
        update = update.col_expr(event::Column::Description, Expr::value(v));
    }
    if let Some(v) = changes.category {
        update = update.col_expr(event::Column::Category, Expr::value(v));
    }
    if let Some(v) = changes.address {
        update = update.col_expr(event::Column::Address, Expr::value(v));
    }
    if let Some(v) = changes.auto_approve_verified {
        update = update.col_expr(event::Column::AutoApproveVerified, Expr::value(v));
    }
    if let Some(v) = changes.accept_location_evidence {
        update = update.col_expr(event::Column::AcceptLocationEvidence, Expr::value(v));
    }
    if let Some(p) = changes.location {
        update = update
            .col_expr(event::Column::Latitude, Expr::value(p.latitude))
            .col_expr(event::Column::Longitude, Expr::value(p.longitude));
    }
    if update.exec(&txn).await?.rows_affected == 0 {
        let (is, is_zh) = crate::lifecycle::word(&current.status);
        return Err(AppError::Conflict(msg!(
            "a {is} event cannot be changed",
            "“{is_zh}”的活动不能修改"
        )));
    }
    let outside = shift::Entity::find()
        .filter(shift::Column::EventId.eq(id))
        .filter(shift::Column::Status.eq(shift::ShiftStatus::Open))
        .filter(
            Condition::any()
                .add(shift::Column::StartsAt.lt(starts_at))
                .add(shift::Column::EndsAt.gt(ends_at)),
        )
        .one(&txn)
        .await?;
    if outside.is_some() {
        return Err(AppError::bad_input(
            "input.startsAt",
            msg!(
                "the event's window must still contain all of its open shifts",
                "活动时间须仍涵盖其所有开放中的班次"
            ),
        ));
    }
    txn.commit().await?;
    get_managed(db, viewer, id).await
}

/// Move an event from one of `from` to `to` ([`crate::lifecycle::transition`]).
#[tracing::instrument(skip_all, fields(viewer = viewer.id, event_id = id, to = ?to))]
pub async fn transition(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    from: &[EventStatus],
    to: EventStatus,
) -> AppResult<event::Model> {
    let current = get_managed(db, viewer, id).await?;
    crate::lifecycle::transition::<event::Entity, _>(db, id, current.status, from, to).await?;
    get_managed(db, viewer, id).await
}

/// Cancel an event, its shifts and every active sign-up on them, in one transaction, with a
/// reason the volunteers can read.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, event_id = id))]
pub async fn cancel(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    reason: String,
) -> AppResult<event::Model> {
    let current = get_managed(db, viewer, id).await?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let done = event::Entity::update_many()
        .col_expr(event::Column::Status, Expr::value(EventStatus::Cancelled))
        .col_expr(event::Column::CancelReason, Expr::value(reason.clone()))
        .col_expr(event::Column::UpdatedAt, Expr::value(now))
        .filter(event::Column::Id.eq(id))
        .filter(event::Column::Status.is_in([EventStatus::Draft, EventStatus::Published]))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        let (is, is_zh) = crate::lifecycle::word(&current.status);
        return Err(AppError::Conflict(msg!(
            "the event is {is} and cannot be cancelled",
            "该活动当前为“{is_zh}”，不能取消"
        )));
    }
    // Shifts first, then their sign-ups: the lock order every path uses (a sign-up racing
    // this waits on its shift row and then finds it cancelled).
    shift::Entity::update_many()
        .col_expr(
            shift::Column::Status,
            Expr::value(shift::ShiftStatus::Cancelled),
        )
        .col_expr(shift::Column::CancelReason, Expr::value(reason.clone()))
        .col_expr(shift::Column::ConfirmedCount, Expr::value(0))
        .col_expr(shift::Column::UpdatedAt, Expr::value(now))
        .filter(shift::Column::EventId.eq(id))
        .filter(shift::Column::Status.eq(shift::ShiftStatus::Open))
        .exec(&txn)
        .await?;
    let shift_ids = Query::select()
        .column(shift::Column::Id)
        .from(shift::Entity)
        .and_where(shift::Column::EventId.eq(id))
        .to_owned();
    crate::signups::service::cancel_all_on(
        &txn,
        Condition::all().add(signup::Column::ShiftId.in_subquery(shift_ids)),
        &reason,
        viewer.id,
        now,
    )
    .await?;
    crate::projects::lists::reopen_need(&txn, crate::projects::lists::Taken::Event(id)).await?;
    txn.commit().await?;
    tracing::info!("event cancelled with its shifts and sign-ups");
    get_managed(db, viewer, id).await
}

/// Conditions of `filter` (visibility excluded).
fn filter_condition(filter: &EventFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(c) = filter.campaign_id {
        cond = cond.add(event::Column::CampaignId.eq(c));
    }
    if let Some(org) = filter.organization_id {
        cond = cond.add(crate::authz::in_subtree(event::Column::OrganizationId, org));
    }
    if let Some(c) = filter.category {
        cond = cond.add(event::Column::Category.eq(c));
    }
    if let Some(t) = filter.starts_after {
        cond = cond.add(event::Column::StartsAt.gte(t));
    }
    if let Some(t) = filter.starts_before {
        cond = cond.add(event::Column::StartsAt.lt(t));
    }
    if let Some(near) = filter.near {
        cond = cond.add(crate::geo::within(
            near,
            "charity_event",
            "latitude",
            "longitude",
        ));
    }
    if let Some(search) = &filter.search {
        cond = cond.add(search.events());
    }
    cond
}

/// Every event [`list`] pages through, as `viewer` may see them (its `totalCount`).
pub fn listed(
    viewer: Option<&account::Model>,
    filter: &EventFilter,
) -> sea_orm::Select<event::Entity> {
    event::Entity::find()
        .filter(visible_to(viewer))
        .filter(filter_condition(filter))
}

/// How a page of events was positioned.
pub enum EventPosition {
    /// After a (start, id) position.
    Time(TimePageArgs),
    /// At an offset into the distance ranking.
    Ranked {
        /// Rows wanted.
        first: u64,
        /// Rows skipped.
        offset: u64,
    },
}

/// One page of events the caller may see, with what `joins` asks for beside them — one
/// statement.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: Option<&account::Model>,
    filter: &EventFilter,
    position: EventPosition,
    joins: EventJoins,
) -> AppResult<Page<JoinedEvent>> {
    use sea_orm::{QuerySelect, QueryTrait};
    let select = select_joined(event::Entity::find().select_only(), viewer, joins)
        .filter(visible_to(viewer))
        .filter(filter_condition(filter));
    let (select, first) = match position {
        EventPosition::Time(page) => {
            let mut select = select;
            if let Some((at, k)) = page.after {
                select = select.filter(crate::pagination::after_time(
                    event::Column::StartsAt,
                    event::Column::Id,
                    at,
                    k,
                ));
            }
            (
                select
                    .order_by_asc(event::Column::StartsAt)
                    .order_by_asc(event::Column::Id)
                    .limit(page.first + 1),
                page.first,
            )
        }
        EventPosition::Ranked { first, offset } => {
            let near = filter.near.ok_or_else(|| {
                AppError::bad_input(
                    "orderBy",
                    msg!(
                        "DISTANCE order needs a `near` filter",
                        "按距离排序需要提供位置（near）"
                    ),
                )
            })?;
            (
                select
                    .order_by(
                        distance_sql("charity_event", "latitude", "longitude", near.center),
                        Order::Asc,
                    )
                    .order_by_asc(event::Column::Id)
                    .offset(offset)
                    .limit(first + 1),
                first,
            )
        }
    };
    if first == 0 {
        return Ok(Page::default());
    }
    let rows = db
        .query_all_raw(select.build(db.get_database_backend()))
        .await?;
    let mut items = rows
        .iter()
        .map(|row| read_joined(row, 0, joins))
        .collect::<AppResult<Vec<_>>>()?;
    let has_next = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(Page { items, has_next })
}

/// A page of each campaign's events the viewer may see, soonest first, batched: one statement
/// for every campaign of a wave that asks for the same page.
pub struct CampaignPages {
    /// The caller.
    pub viewer: Option<account::Model>,
}

impl crate::batch::Loader for CampaignPages {
    type Key = (i64, TimePageArgs);
    type Value = Page<event::Model>;
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<(i64, TimePageArgs)>,
    ) -> AppResult<HashMap<(i64, TimePageArgs), Page<event::Model>>> {
        let visible = visible_to(self.viewer.as_ref());
        let mut out = HashMap::new();
        for (page, parents) in crate::pagination::group_by_page(keys) {
            let mut select = event::Entity::find()
                .filter(visible.clone())
                .filter(event::Column::CampaignId.is_in(parents.iter().copied()));
            if let Some((at, k)) = page.after {
                select = select.filter(crate::pagination::after_time(
                    event::Column::StartsAt,
                    event::Column::Id,
                    at,
                    k,
                ));
            }
            let pages = crate::pagination::fetch_pages_per_parent(
                &db,
                select,
                event::Column::CampaignId,
                &[event::Column::StartsAt, event::Column::Id],
                page.first,
                |e| e.campaign_id.unwrap_or_default(),
            )
            .await?;
            crate::pagination::spread_pages(&mut out, page, parents, pages);
        }
        Ok(out)
    }
}

/// How many events of each campaign the viewer may see, batched: the `totalCount` of
/// `campaign.events`, one `GROUP BY` for every campaign of a wave.
pub struct CampaignCounts {
    /// The caller.
    pub viewer: Option<account::Model>,
}

impl crate::batch::Loader for CampaignCounts {
    type Key = i64;
    type Value = u64;
    async fn load(self, db: DatabaseConnection, keys: Vec<i64>) -> AppResult<HashMap<i64, u64>> {
        let select = event::Entity::find()
            .filter(visible_to(self.viewer.as_ref()))
            .filter(event::Column::CampaignId.is_in(keys));
        crate::batch::count_per_parent(&db, select, event::Column::CampaignId).await
    }
}

/// What a list query joins beside its events because the client selected it: the hot shapes
/// (the home feed, events with their organization and campaign) then cost one statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EventJoins {
    /// The event's organization.
    pub organization: bool,
    /// The event's campaign, as the caller may see it.
    pub campaign: bool,
}

/// An event with what [`EventJoins`] asked for.
#[derive(Clone, Debug)]
pub struct JoinedEvent {
    /// The event.
    pub event: event::Model,
    /// Its organization, when joined.
    pub organization: Option<organization::Model>,
    /// Its campaign when joined (`Some(None)`: none, or not visible to the caller).
    pub campaign: Option<Option<campaign::Model>>,
}

/// Prefix of the event's columns in a joined select.
pub const EVENT_PREFIX: &str = "e_";
const ORGANIZATION_PREFIX: &str = "o_";
const CAMPAIGN_PREFIX: &str = "c_";

/// Add the event's columns to `select` (which has the event table joined), and what `joins`
/// asks for: its organization, and its campaign where the caller may see it (the visibility
/// rule sits in the join, so an invisible campaign reads as none).
pub fn select_joined<E: EntityTrait>(
    select: sea_orm::Select<E>,
    viewer: Option<&account::Model>,
    joins: EventJoins,
) -> sea_orm::Select<E> {
    use sea_orm::{JoinType, QuerySelect, RelationTrait};
    let mut select = crate::joined::columns_of::<event::Entity, E>(select, EVENT_PREFIX);
    if joins.organization {
        select = select.join(JoinType::LeftJoin, event::Relation::Organization.def());
        select = crate::joined::columns_of::<organization::Entity, E>(select, ORGANIZATION_PREFIX);
    }
    if joins.campaign {
        let visible = crate::campaigns::service::visible_to(viewer);
        select = select.join(
            JoinType::LeftJoin,
            event::Relation::Campaign
                .def()
                .on_condition(move |_, _| visible.clone()),
        );
        select = crate::joined::columns_of::<campaign::Entity, E>(select, CAMPAIGN_PREFIX);
    }
    select
}

/// Read back what [`select_joined`] selected, the event's columns starting at `at`.
pub fn read_joined(
    row: &sea_orm::QueryResult,
    at: usize,
    joins: EventJoins,
) -> AppResult<JoinedEvent> {
    use crate::joined::Positional;
    let event = event::Model::read(row, at)?;
    let mut next = at + event::Model::COLUMNS.len();
    let organization = if joins.organization {
        let o = organization::Model::read_optional(row, next)?;
        next += organization::Model::COLUMNS.len();
        o
    } else {
        None
    };
    let campaign = if joins.campaign {
        Some(campaign::Model::read_optional(row, next)?)
    } else {
        None
    };
    Ok(JoinedEvent {
        event,
        organization,
        campaign,
    })
}
