//! Shift logic, independent of GraphQL.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{account, charity_event as event, shift, signup};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
    sea_query::{Expr, ExprTrait, LikeExpr},
};

use crate::{
    db::begin_write,
    error::{AppError, AppResult, Noun},
    events::service as events,
    geo::Near,
    geo::within,
    pagination::{Page, TimePageArgs},
    signups::service as signups,
    validate,
};

/// Largest shift.
pub const MAX_CAPACITY: i32 = 10_000;
/// Check-in radius when none is given.
pub const DEFAULT_CHECK_IN_RADIUS_M: i32 = 200;

pub use entity::shift::ShiftStatus;

/// The fields of a new shift, validated (also the template of a series).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ShiftSpec {
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// Start.
    pub starts_at: DateTime<Utc>,
    /// End.
    pub ends_at: DateTime<Utc>,
    /// Places.
    pub capacity: i32,
    /// Whether sign-ups beyond capacity queue.
    pub waitlist_enabled: bool,
    /// Skills a volunteer needs (normalized).
    pub required_skills: Vec<String>,
    /// How close to the event a GEO check-in must be.
    pub check_in_radius_meters: i32,
}

/// Changes to a shift; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct ShiftChanges {
    /// Title.
    pub title: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Start.
    pub starts_at: Option<DateTime<Utc>>,
    /// End.
    pub ends_at: Option<DateTime<Utc>>,
    /// Places; never below the confirmed count.
    pub capacity: Option<i32>,
    /// Whether sign-ups beyond capacity queue.
    pub waitlist_enabled: Option<bool>,
    /// Skills a volunteer needs (normalized).
    pub required_skills: Option<Vec<String>>,
    /// Check-in radius.
    pub check_in_radius_meters: Option<i32>,
}

/// Filter of `shifts`.
#[derive(Debug, Clone, Default)]
pub struct ShiftFilter {
    /// Only shifts of this event.
    pub event_id: Option<i64>,
    /// Only shifts starting at or after this.
    pub starts_after: Option<DateTime<Utc>>,
    /// Only shifts starting before this.
    pub starts_before: Option<DateTime<Utc>>,
    /// `true`: only shifts one can sign up for now with a free place; `false`: only full ones.
    pub has_open_slots: Option<bool>,
    /// Only shifts whose event lies within this circle.
    pub near: Option<Near>,
    /// Only shifts asking for this (normalized) skill.
    pub skill: Option<String>,
    /// Only shifts of events in this category.
    pub category: Option<entity::charity_event::EventCategory>,
    /// Only shifts of events of this organization or any below it.
    pub organization_id: Option<i64>,
    /// Only shifts of events in this campaign.
    pub campaign_id: Option<i64>,
    /// Only shifts whose title, or their event's title or address, or its organization's
    /// name, contains this.
    pub search: Option<crate::search::TextSearch>,
}

/// Check capacity and radius.
pub fn check_numbers(capacity: Option<i32>, radius: Option<i32>) -> AppResult<()> {
    if capacity.is_some_and(|c| !(1..=MAX_CAPACITY).contains(&c)) {
        return Err(AppError::bad_input(
            "input.capacity",
            msg!(
                "must be between 1 and {MAX_CAPACITY}",
                "名额须为 1 至 {MAX_CAPACITY}"
            ),
        ));
    }
    if radius.is_some_and(|r| !(10..=5_000).contains(&r)) {
        return Err(AppError::bad_input(
            "input.checkInRadiusMeters",
            msg!("must be between 10 and 5000", "签到范围须为 10 至 5000 米"),
        ));
    }
    Ok(())
}

/// A shift must lie inside its event's window.
pub fn check_inside_event(
    e: &event::Model,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    field: &str,
) -> AppResult<()> {
    validate::window(starts_at, ends_at, &format!("{field}.endsAt"))?;
    if starts_at < e.starts_at || ends_at > e.ends_at {
        return Err(AppError::bad_input(
            format!("{field}.startsAt"),
            msg!(
                "the shift must lie inside its event's start and end",
                "班次时间须在活动的起止时间之内"
            ),
        ));
    }
    Ok(())
}

/// Shifts of events the caller may see.
fn visible_select(viewer: Option<&account::Model>) -> sea_orm::Select<shift::Entity> {
    shift::Entity::find()
        .join(JoinType::InnerJoin, shift::Relation::Event.def())
        .filter(events::visible_to(viewer))
}

/// Load a shift (no visibility check: for callers that already hold something that grants it,
/// such as their own sign-up).
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<shift::Model>> {
    Ok(shift::Entity::find_by_id(id).one(db).await?)
}

/// Load a shift the caller may see.
pub async fn get_visible<C: ConnectionTrait>(
    db: &C,
    viewer: Option<&account::Model>,
    id: i64,
) -> AppResult<Option<shift::Model>> {
    Ok(visible_select(viewer)
        .filter(shift::Column::Id.eq(id))
        .one(db)
        .await?)
}

/// Load a shift and its event for a manager of the event's organization.
pub async fn get_managed(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<(shift::Model, event::Model)> {
    let s = get_visible(db, Some(viewer), id)
        .await?
        .ok_or(AppError::NotFound(Noun::Shift))?;
    let e = events::get_managed(db, viewer, s.event_id).await?;
    Ok((s, e))
}

/// Create a shift in a draft or published event.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, event_id))]
pub async fn create(
    db: &DatabaseConnection,
    viewer: &account::Model,
    event_id: i64,
    spec: ShiftSpec,
) -> AppResult<shift::Model> {
    let e = events::get_managed(db, viewer, event_id).await?;
    if !matches!(
        e.status,
        entity::charity_event::EventStatus::Draft | entity::charity_event::EventStatus::Published
    ) {
        let (is, is_zh) = crate::lifecycle::word(&e.status);
        return Err(AppError::Conflict(msg!(
            "the event is {is}; shifts cannot be added",
            "该活动{is_zh}，不能再添加班次"
        )));
    }
    check_numbers(Some(spec.capacity), Some(spec.check_in_radius_meters))?;
    check_inside_event(&e, spec.starts_at, spec.ends_at, "input")?;
    Ok(active_model(event_id, None, &spec).insert(db).await?)
}

/// The row of a new shift.
pub fn active_model(
    event_id: i64,
    series_key: Option<String>,
    spec: &ShiftSpec,
) -> shift::ActiveModel {
    let now = Utc::now();
    shift::ActiveModel {
        event_id: Set(event_id),
        series_key: Set(series_key),
        title: Set(spec.title.clone()),
        description: Set(spec.description.clone()),
        starts_at: Set(spec.starts_at),
        ends_at: Set(spec.ends_at),
        capacity: Set(spec.capacity),
        confirmed_count: Set(0),
        waitlist_enabled: Set(spec.waitlist_enabled),
        waitlist_seq: Set(0),
        required_skills: Set(validate::skills_to_db(&spec.required_skills)),
        check_in_radius_meters: Set(spec.check_in_radius_meters),
        check_in_opens_minutes: Set(30),
        status: Set(ShiftStatus::Open),
        cancel_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
}

/// Change a shift. Capacity is set by a conditional `UPDATE` that refuses to go below the
/// confirmed count; places it adds go to the waitlist's head in the same transaction.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, shift_id = id))]
pub async fn update(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    changes: ShiftChanges,
) -> AppResult<shift::Model> {
    let (current, e) = get_managed(db, viewer, id).await?;
    check_numbers(changes.capacity, changes.check_in_radius_meters)?;
    let starts_at = changes.starts_at.unwrap_or(current.starts_at);
    let ends_at = changes.ends_at.unwrap_or(current.ends_at);
    check_inside_event(&e, starts_at, ends_at, "input")?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let mut update = shift::Entity::update_many()
        .col_expr(shift::Column::UpdatedAt, Expr::value(now))
        .filter(shift::Column::Id.eq(id))
        .filter(shift::Column::Status.eq(shift::ShiftStatus::Open));
    // Only the columns given: a concurrent change of another field is not overwritten.
    if let Some(v) = changes.starts_at {
        update = update.col_expr(shift::Column::StartsAt, Expr::value(v));
    }
    if let Some(v) = changes.ends_at {
        update = update.col_expr(shift::Column::EndsAt, Expr::value(v));
    }
    if let Some(c) = changes.capacity {
        update = update
            .col_expr(shift::Column::Capacity, Expr::value(c))
            .filter(shift::Column::ConfirmedCount.lte(c));
    }
    if let Some(v) = changes.title {
        update = update.col_expr(shift::Column::Title, Expr::value(v));
    }
    if let Some(v) = changes.description {
        update = update.col_expr(shift::Column::Description, Expr::value(v));
    }
    if let Some(v) = changes.waitlist_enabled {
        update = update.col_expr(shift::Column::WaitlistEnabled, Expr::value(v));
    }
    if let Some(v) = &changes.required_skills {
        update = update.col_expr(
            shift::Column::RequiredSkills,
            Expr::value(validate::skills_to_db(v)),
        );
    }
    if let Some(v) = changes.check_in_radius_meters {
        update = update.col_expr(shift::Column::CheckInRadiusMeters, Expr::value(v));
    }
    if update.exec(&txn).await?.rows_affected == 0 {
        return Err(if current.status != ShiftStatus::Open {
            AppError::Conflict(msg!(
                "a cancelled shift cannot be changed",
                "已取消的班次不能修改"
            ))
        } else {
            AppError::Conflict(msg!(
                "capacity cannot go below the number of confirmed sign-ups",
                "名额不能少于已确认报名的人数"
            ))
        });
    }
    // Whenever capacity is set (the row read before may be stale), free places go to the
    // waitlist; promotion does nothing when there is no room.
    if changes.capacity.is_some() {
        signups::promote_waitlisted(&txn, id).await?;
    }
    if starts_at != current.starts_at || ends_at != current.ends_at {
        crate::notifications::service::shift_changed(&txn, id, now).await?;
    }
    txn.commit().await?;
    crate::live::record(crate::live::Change::Shift { shift_id: id });
    get_managed(db, viewer, id).await.map(|(s, _)| s)
}

/// Cancel a shift and every active sign-up on it.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, shift_id = id))]
pub async fn cancel(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    reason: String,
) -> AppResult<shift::Model> {
    get_managed(db, viewer, id).await?;
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let done = shift::Entity::update_many()
        .col_expr(
            shift::Column::Status,
            Expr::value(shift::ShiftStatus::Cancelled),
        )
        .col_expr(shift::Column::CancelReason, Expr::value(reason.clone()))
        // Its confirmed sign-ups are cancelled below: the count follows them.
        .col_expr(shift::Column::ConfirmedCount, Expr::value(0))
        .col_expr(shift::Column::UpdatedAt, Expr::value(now))
        .filter(shift::Column::Id.eq(id))
        .filter(shift::Column::Status.eq(shift::ShiftStatus::Open))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::Conflict(msg!(
            "the shift is already cancelled",
            "该班次已取消"
        )));
    }
    signups::cancel_all_on(
        &txn,
        Condition::all().add(signup::Column::ShiftId.eq(id)),
        &reason,
        viewer.id,
        now,
    )
    .await?;
    txn.commit().await?;
    crate::live::record(crate::live::Change::Shift { shift_id: id });
    get_managed(db, viewer, id).await.map(|(s, _)| s)
}

/// One page of shifts the caller may see, with their events and what `joins` asks for beside
/// them — one statement.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    viewer: Option<&account::Model>,
    filter: &ShiftFilter,
    page: TimePageArgs,
    joins: events::EventJoins,
) -> AppResult<Page<(shift::Model, events::JoinedEvent)>> {
    let mut cond = matching(filter);
    if page.first == 0 {
        return Ok(Page::default());
    }
    if let Some((at, k)) = page.after {
        cond = cond.add(crate::pagination::after_time(
            shift::Column::StartsAt,
            shift::Column::Id,
            at,
            k,
        ));
    }
    let select = crate::joined::columns_of::<shift::Entity, shift::Entity>(
        shift::Entity::find().select_only(),
        SHIFT_PREFIX,
    )
    .join(JoinType::InnerJoin, shift::Relation::Event.def());
    let select = events::select_joined(select, viewer, joins)
        .filter(events::visible_to(viewer))
        .filter(cond)
        .order_by_asc(shift::Column::StartsAt)
        .order_by_asc(shift::Column::Id)
        .limit(page.first + 1);
    let rows = db
        .query_all_raw(sea_orm::QueryTrait::build(
            &select,
            db.get_database_backend(),
        ))
        .await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        use crate::joined::Positional;
        items.push((
            shift::Model::read(row, 0)?,
            events::read_joined(row, shift::Model::COLUMNS.len(), joins)?,
        ));
    }
    let has_next = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Page { items, has_next })
}

/// Every shift [`list`] pages through, as `viewer` may see them (its `totalCount`).
pub fn listed(
    viewer: Option<&account::Model>,
    filter: &ShiftFilter,
) -> sea_orm::Select<shift::Entity> {
    shift::Entity::find()
        .join(JoinType::InnerJoin, shift::Relation::Event.def())
        .filter(events::visible_to(viewer))
        .filter(matching(filter))
}

/// The conditions of `filter` on a shift joined with its event.
fn matching(filter: &ShiftFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(e) = filter.event_id {
        cond = cond.add(shift::Column::EventId.eq(e));
    }
    if let Some(t) = filter.starts_after {
        cond = cond.add(shift::Column::StartsAt.gte(t));
    }
    if let Some(t) = filter.starts_before {
        cond = cond.add(shift::Column::StartsAt.lt(t));
    }
    match filter.has_open_slots {
        Some(true) => {
            cond = cond
                .add(shift::Column::Status.eq(shift::ShiftStatus::Open))
                .add(event::Column::Status.eq(entity::charity_event::EventStatus::Published))
                .add(shift::Column::StartsAt.gt(Utc::now()))
                .add(
                    Expr::col((shift::Entity, shift::Column::ConfirmedCount))
                        .lt(Expr::col((shift::Entity, shift::Column::Capacity))),
                );
        }
        Some(false) => {
            cond = cond.add(
                Expr::col((shift::Entity, shift::Column::ConfirmedCount))
                    .gte(Expr::col((shift::Entity, shift::Column::Capacity))),
            );
        }
        None => {}
    }
    if let Some(near) = filter.near {
        cond = cond.add(within(near, "charity_event", "latitude", "longitude"));
    }
    if let Some(skill) = &filter.skill {
        cond = cond.add(
            Expr::col((shift::Entity, shift::Column::RequiredSkills))
                .like(LikeExpr::new(validate::skill_like_pattern(skill))),
        );
    }
    if let Some(c) = filter.category {
        cond = cond.add(event::Column::Category.eq(c));
    }
    if let Some(org) = filter.organization_id {
        cond = cond.add(crate::authz::in_subtree(event::Column::OrganizationId, org));
    }
    if let Some(c) = filter.campaign_id {
        cond = cond.add(event::Column::CampaignId.eq(c));
    }
    if let Some(search) = &filter.search {
        cond = cond.add(search.shifts());
    }
    cond
}

/// Prefix of the shift's columns in a joined select.
const SHIFT_PREFIX: &str = "s_";

/// An event's shifts, as a child list: what `event.shifts { totalCount }` counts (batched).
pub struct ShiftsOfEvent;

impl crate::batch::Children for ShiftsOfEvent {
    type Entity = shift::Entity;
    fn parent() -> shift::Column {
        shift::Column::EventId
    }
    fn key() -> shift::Column {
        shift::Column::Id
    }
    fn parent_of(row: &shift::Model) -> i64 {
        row.event_id
    }
}

/// A page of each event's shifts, earliest first, batched: one statement for every event of a
/// wave that asks for the same page. The events are the caller's to see already (they are
/// the parents); their shifts are all visible with them.
pub struct EventPages;

impl crate::batch::Loader for EventPages {
    type Key = (i64, TimePageArgs);
    type Value = Page<shift::Model>;
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<(i64, TimePageArgs)>,
    ) -> AppResult<HashMap<(i64, TimePageArgs), Page<shift::Model>>> {
        let mut out = HashMap::new();
        for (page, parents) in crate::pagination::group_by_page(keys) {
            let mut select =
                shift::Entity::find().filter(shift::Column::EventId.is_in(parents.iter().copied()));
            if let Some((at, k)) = page.after {
                select = select.filter(crate::pagination::after_time(
                    shift::Column::StartsAt,
                    shift::Column::Id,
                    at,
                    k,
                ));
            }
            let pages = crate::pagination::fetch_pages_per_parent(
                &db,
                select,
                shift::Column::EventId,
                &[shift::Column::StartsAt, shift::Column::Id],
                page.first,
                |s| s.event_id,
            )
            .await?;
            crate::pagination::spread_pages(&mut out, page, parents, pages);
        }
        Ok(out)
    }
}

/// How many sign-ups wait on each shift, batched.
/// A shift as every live subscriber to it sees it after a change: read once per change (see
/// [`crate::live::feeds`]), whoever and however many watch.
pub struct ShiftSnapshot {
    /// The shift.
    pub shift: shift::Model,
    /// Its event (its `published_at` decides who may see the shift).
    pub event: event::Model,
    /// Sign-ups waiting for a place.
    pub waitlist: u64,
    /// People checked in.
    pub checked_in: i64,
}

/// Read a shift for its live subscribers: the shift with its event, and its two counts.
pub async fn snapshot(db: &DatabaseConnection, id: i64) -> AppResult<Option<ShiftSnapshot>> {
    use crate::batch::Loader;
    let Some((shift, Some(event))) = shift::Entity::find_by_id(id)
        .find_also_related(event::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let waitlist = WaitlistCounts.load(db.clone(), vec![id]).await?;
    let checked_in = crate::checkins::service::CheckedInCounts
        .load(db.clone(), vec![id])
        .await?;
    Ok(Some(ShiftSnapshot {
        shift,
        event,
        waitlist: waitlist.get(&id).copied().unwrap_or(0),
        checked_in: checked_in.get(&id).copied().unwrap_or(0),
    }))
}

pub struct WaitlistCounts;

impl crate::batch::Loader for WaitlistCounts {
    type Key = i64;
    type Value = u64;
    async fn load(self, db: DatabaseConnection, keys: Vec<i64>) -> AppResult<HashMap<i64, u64>> {
        let rows: Vec<(i64, i64)> = signup::Entity::find()
            .select_only()
            .column(signup::Column::ShiftId)
            .column_as(signup::Column::Id.count(), "n")
            .filter(signup::Column::ShiftId.is_in(keys))
            .filter(signup::Column::Status.eq(entity::signup::SignupStatus::Waitlisted))
            .group_by(signup::Column::ShiftId)
            .into_tuple()
            .all(&db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, n)| (id, u64::try_from(n).unwrap_or_default()))
            .collect())
    }
}
