//! Campaign logic, independent of GraphQL.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{account, campaign};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, Set, sea_query::Expr,
};

use crate::{
    authz,
    error::{AppError, AppResult, Noun},
    pagination::{Page, PageArgs, contains_text, fetch_page},
};

pub use entity::campaign::CampaignStatus;

/// A new campaign, validated.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// Organizing organization.
    pub organization_id: i64,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Goal in volunteer hours.
    pub volunteer_hours_goal: Option<i32>,
    /// Goal in money, integer fen.
    pub fundraising_goal_fen: Option<i64>,
    /// Cover image.
    pub cover_image_url: Option<String>,
}

/// Changes to a campaign; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct CampaignChanges {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Start.
    pub starts_at: Option<DateTime<Utc>>,
    /// End.
    pub ends_at: Option<DateTime<Utc>>,
    /// Goal in volunteer hours.
    pub volunteer_hours_goal: Option<i32>,
    /// Goal in money, integer fen.
    pub fundraising_goal_fen: Option<i64>,
    /// Cover image.
    pub cover_image_url: Option<String>,
}

/// Filter of `campaigns`.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    /// Only this status.
    pub status: Option<CampaignStatus>,
    /// Only campaigns of this organization or any below it.
    pub organization_id: Option<i64>,
    /// Only campaigns running at this moment.
    pub active_at: Option<DateTime<Utc>>,
    /// Title contains this text.
    pub search: Option<String>,
}

/// Check the goals: hours 1–10,000,000, money 1 fen – 10^12 fen.
pub fn check_goals(hours: Option<i32>, fen: Option<i64>) -> AppResult<()> {
    if hours.is_some_and(|h| !(1..=10_000_000).contains(&h)) {
        return Err(AppError::bad_input(
            "input.volunteerHoursGoal",
            msg!(
                "must be between 1 and 10000000",
                "志愿时长目标须为 1 至 10000000 小时"
            ),
        ));
    }
    if fen.is_some_and(|f| !(1..=1_000_000_000_000).contains(&f)) {
        return Err(AppError::bad_input(
            "input.fundraisingGoalFen",
            msg!(
                "must be between 1 and 1000000000000 fen",
                "筹款目标须为 1 至 1000000000000 分"
            ),
        ));
    }
    Ok(())
}

/// Campaigns the caller may see ([`crate::lifecycle::visible_to`]).
pub fn visible_to(viewer: Option<&account::Model>) -> Condition {
    crate::lifecycle::visible_to::<campaign::Entity>(viewer)
}

/// Load a campaign the caller may see.
pub async fn get_visible<C: ConnectionTrait>(
    db: &C,
    viewer: Option<&account::Model>,
    id: i64,
) -> AppResult<Option<campaign::Model>> {
    Ok(campaign::Entity::find_by_id(id)
        .filter(visible_to(viewer))
        .one(db)
        .await?)
}

/// The campaigns among `ids` that `viewer` may see, in one query.
pub async fn get_many_visible<C: ConnectionTrait>(
    db: &C,
    viewer: Option<&account::Model>,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<std::collections::HashMap<i64, campaign::Model>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(campaign::Entity::find()
        .filter(campaign::Column::Id.is_in(ids))
        .filter(visible_to(viewer))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect())
}

async fn get_managed(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<campaign::Model> {
    let c = get_visible(db, Some(viewer), id)
        .await?
        .ok_or(AppError::NotFound(Noun::Campaign))?;
    authz::require_manager(db, viewer, c.organization_id).await?;
    Ok(c)
}

/// Create a campaign (as a draft). Needs a manager of the organization.
#[tracing::instrument(skip_all, fields(viewer = viewer.id))]
pub async fn create(
    db: &DatabaseConnection,
    viewer: &account::Model,
    new: NewCampaign,
) -> AppResult<campaign::Model> {
    authz::require_manager(db, viewer, new.organization_id).await?;
    crate::validate::window(new.starts_at, new.ends_at, "input.endsAt")?;
    check_goals(new.volunteer_hours_goal, new.fundraising_goal_fen)?;
    let now = Utc::now();
    Ok(campaign::ActiveModel {
        organization_id: Set(new.organization_id),
        title: Set(new.title),
        description: Set(new.description),
        status: Set(CampaignStatus::Draft),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        volunteer_hours_goal: Set(new.volunteer_hours_goal),
        fundraising_goal_fen: Set(new.fundraising_goal_fen),
        cover_image_url: Set(new.cover_image_url),
        published_at: Set(None),
        created_by: Set(viewer.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Change a draft or published campaign.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, campaign_id = id))]
pub async fn update(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    changes: CampaignChanges,
) -> AppResult<campaign::Model> {
    let current = get_managed(db, viewer, id).await?;
    let starts_at = changes.starts_at.unwrap_or(current.starts_at);
    let ends_at = changes.ends_at.unwrap_or(current.ends_at);
    crate::validate::window(starts_at, ends_at, "input.endsAt")?;
    check_goals(changes.volunteer_hours_goal, changes.fundraising_goal_fen)?;
    let mut update = campaign::Entity::update_many()
        .col_expr(campaign::Column::UpdatedAt, Expr::value(Utc::now()))
        .col_expr(campaign::Column::StartsAt, Expr::value(starts_at))
        .col_expr(campaign::Column::EndsAt, Expr::value(ends_at))
        .filter(campaign::Column::Id.eq(id))
        .filter(campaign::Column::Status.is_in([CampaignStatus::Draft, CampaignStatus::Published]));
    if let Some(v) = changes.title {
        update = update.col_expr(campaign::Column::Title, Expr::value(v));
    }
    if let Some(v) = changes.description {
        update = update.col_expr(campaign::Column::Description, Expr::value(v));
    }
    if let Some(v) = changes.volunteer_hours_goal {
        update = update.col_expr(campaign::Column::VolunteerHoursGoal, Expr::value(v));
    }
    if let Some(v) = changes.fundraising_goal_fen {
        update = update.col_expr(campaign::Column::FundraisingGoalFen, Expr::value(v));
    }
    if let Some(v) = changes.cover_image_url {
        update = update.col_expr(campaign::Column::CoverImageUrl, Expr::value(v));
    }
    if update.exec(db).await?.rows_affected == 0 {
        let (is, is_zh) = crate::lifecycle::word(&current.status);
        return Err(AppError::Conflict(msg!(
            "a {is} campaign cannot be changed",
            "“{is_zh}”的主题活动不能修改"
        )));
    }
    get_managed(db, viewer, id).await
}

/// Move a campaign from one of `from` to `to` ([`crate::lifecycle::transition`]).
#[tracing::instrument(skip_all, fields(viewer = viewer.id, campaign_id = id, to = ?to))]
pub async fn transition(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    from: &[CampaignStatus],
    to: CampaignStatus,
) -> AppResult<campaign::Model> {
    let current = get_managed(db, viewer, id).await?;
    crate::lifecycle::transition::<campaign::Entity, _>(db, id, current.status, from, to).await?;
    get_managed(db, viewer, id).await
}

/// One page of campaigns the caller may see, oldest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: Option<&account::Model>,
    filter: &CampaignFilter,
    page: PageArgs,
) -> AppResult<Page<campaign::Model>> {
    fetch_page(db, listed(viewer, filter), campaign::Column::Id, page).await
}

/// Every campaign [`list`] pages through (its `totalCount`).
pub fn listed(
    viewer: Option<&account::Model>,
    filter: &CampaignFilter,
) -> sea_orm::Select<campaign::Entity> {
    let mut cond = visible_to(viewer);
    if let Some(s) = filter.status {
        cond = cond.add(campaign::Column::Status.eq(s));
    }
    if let Some(org) = filter.organization_id {
        cond = cond.add(crate::authz::in_subtree(
            campaign::Column::OrganizationId,
            org,
        ));
    }
    if let Some(t) = filter.active_at {
        cond = cond
            .add(campaign::Column::StartsAt.lte(t))
            .add(campaign::Column::EndsAt.gt(t));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        cond = cond.add(contains_text(campaign::Column::Title, search));
    }
    campaign::Entity::find().filter(cond)
}

/// What a campaign has achieved in approved service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// Approved minutes of service at its events.
    pub volunteer_minutes: i64,
    /// Volunteers with approved service at its events.
    pub volunteer_count: i64,
    /// Its published or completed events.
    pub event_count: i64,
    /// Its open shifts whose places are all taken.
    pub shifts_filled: i64,
}

/// The progress of each campaign of `ids`, in one statement (a list of campaigns with their
/// progress costs the same as one campaign).
pub async fn progress_many<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<HashMap<i64, Progress>> {
    use entity::{
        charity_event::{self as event, EventStatus},
        service_record::{self as record, RecordStatus},
        shift::{self, ShiftStatus},
    };
    use sea_orm::{
        FromQueryResult,
        sea_query::{Alias, Asterisk, ExprTrait, Func, Query, SelectStatement},
    };
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let of_campaign = || {
        Expr::col((event::Entity, event::Column::CampaignId))
            .equals((campaign::Entity, campaign::Column::Id))
    };
    // Approved service at the campaign's events: one of its sums.
    let served = |what: Expr| {
        Query::select()
            .expr(what)
            .from(record::Entity)
            .inner_join(
                shift::Entity,
                Expr::col((shift::Entity, shift::Column::Id))
                    .equals((record::Entity, record::Column::ShiftId)),
            )
            .inner_join(
                event::Entity,
                Expr::col((event::Entity, event::Column::Id))
                    .equals((shift::Entity, shift::Column::EventId)),
            )
            .and_where(of_campaign())
            .and_where(
                Expr::col((record::Entity, record::Column::Status)).eq(RecordStatus::Approved),
            )
            .to_owned()
    };
    let sub = |q: SelectStatement| Expr::SubQuery(None, Box::new(q.into()));
    let events = Query::select()
        .expr(Func::count(Expr::col(Asterisk)))
        .from(event::Entity)
        .and_where(of_campaign())
        .and_where(
            Expr::col((event::Entity, event::Column::Status))
                .is_in([EventStatus::Published, EventStatus::Completed]),
        )
        .to_owned();
    let filled = Query::select()
        .expr(Func::count(Expr::col(Asterisk)))
        .from(shift::Entity)
        .inner_join(
            event::Entity,
            Expr::col((event::Entity, event::Column::Id))
                .equals((shift::Entity, shift::Column::EventId)),
        )
        .and_where(of_campaign())
        .and_where(Expr::col((shift::Entity, shift::Column::Status)).eq(ShiftStatus::Open))
        .and_where(
            Expr::col((shift::Entity, shift::Column::ConfirmedCount))
                .gte(Expr::col((shift::Entity, shift::Column::Capacity))),
        )
        .to_owned();
    let query = Query::select()
        .expr_as(
            Expr::col((campaign::Entity, campaign::Column::Id)),
            Alias::new("id"),
        )
        .expr_as(
            Func::coalesce([
                sub(served(
                    Func::sum(Expr::col((record::Entity, record::Column::Minutes))).into(),
                )),
                Expr::val(0i64),
            ]),
            Alias::new("volunteer_minutes"),
        )
        .expr_as(
            sub(served(
                Func::count_distinct(Expr::col((record::Entity, record::Column::AccountId))).into(),
            )),
            Alias::new("volunteer_count"),
        )
        .expr_as(sub(events), Alias::new("event_count"))
        .expr_as(sub(filled), Alias::new("shifts_filled"))
        .from(campaign::Entity)
        .and_where(Expr::col((campaign::Entity, campaign::Column::Id)).is_in(ids.iter().copied()))
        .to_owned();
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        volunteer_minutes: i64,
        volunteer_count: i64,
        event_count: i64,
        shifts_filled: i64,
    }
    let rows = Row::find_by_statement(db.get_database_backend().build(&query))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.id,
                Progress {
                    volunteer_minutes: r.volunteer_minutes,
                    volunteer_count: r.volunteer_count,
                    event_count: r.event_count,
                    shifts_filled: r.shifts_filled,
                },
            )
        })
        .collect())
}

/// Campaigns' progress, batched ([`crate::batch`]).
pub struct ProgressOf;

impl crate::batch::Loader for ProgressOf {
    type Key = i64;
    type Value = Progress;
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<HashMap<i64, Progress>> {
        progress_many(&db, &keys).await
    }
}
