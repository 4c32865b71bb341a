//! Topics, supports, status changes, meetings and links, independent of GraphQL.

use chrono::{Duration, Utc};
use entity::{
    account, charity_event, organization,
    topic::{self, HideReason, TopicCategory, TopicStatus},
    topic_change as change, topic_meeting as meeting, topic_support as support,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{
    authz,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    pagination::{Page, PageArgs, fetch_page},
    validate,
};

/// Most photos on a topic.
pub const MAX_PHOTOS: usize = 9;
/// Most topics one person raises in a day.
pub const RAISED_PER_DAY: u64 = 10;

/// Whether a topic may move from `from` to `to`: `RAISED → DISCUSSING → RESOLVED →
/// IMPLEMENTED`, with `FOLLOWING_UP` for what needs time (from discussion or a decision, and
/// back to discussion or a decision) and `DECLINED` before a decision (reopened only into
/// discussion).
pub fn may_move(from: TopicStatus, to: TopicStatus) -> bool {
    use TopicStatus::*;
    matches!(
        (from, to),
        (Raised, Discussing | Declined)
            | (Discussing, Resolved | FollowingUp | Declined)
            | (Resolved, Implemented | FollowingUp)
            | (FollowingUp, Discussing | Resolved | Implemented)
            | (Declined, Discussing)
    )
}

/// Whether people may still add their support: not once it is done or declined.
pub fn open_for_support(s: TopicStatus) -> bool {
    !matches!(s, TopicStatus::Implemented | TopicStatus::Declined)
}

/// A new topic.
#[derive(Clone, Debug)]
pub struct NewTopic {
    /// The community: a station or room.
    pub organization: i64,
    /// At most 60 characters.
    pub title: String,
    /// At most 2,000 characters.
    pub description: String,
    /// What it is about.
    pub category: TopicCategory,
    /// Up to nine http(s) URLs.
    pub photo_urls: Vec<String>,
}

/// The photo URLs as stored (one per line).
pub fn photos_from_db(stored: &str) -> Vec<String> {
    stored
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Refuse API clients: supports and topics are a person's.
fn a_person() -> AppResult<()> {
    if crate::clients::confined_to().is_some() {
        return Err(AppError::Forbidden(msg!(
            "topics are raised and supported by people, not API clients",
            "议题须由个人提出和支持，接入系统不可代为操作"
        )));
    }
    Ok(())
}

/// The topic, as `viewer` may know it: a hidden one is its raiser's and the staff's only
/// (`NOT_FOUND` to everyone else).
pub async fn visible<C: ConnectionTrait>(
    db: &C,
    viewer: Option<&account::Model>,
    id: i64,
) -> AppResult<topic::Model> {
    let t = topic::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Topic))?;
    if t.hidden_at.is_some() {
        // Never an API client: it acts with its registrant's authority, not as a moderator.
        let seen = match viewer {
            Some(v) if crate::clients::confined_to().is_none() => {
                v.id == t.raised_by || authz::is_staff(db, v, t.organization_id).await?
            }
            _ => false,
        };
        if !seen {
            return Err(AppError::NotFound(Noun::Topic));
        }
    }
    Ok(t)
}

/// Raise a topic (any signed-in person, for a station or room), at most
/// [`RAISED_PER_DAY`] a day; its history starts with the raising.
pub async fn raise(
    db: &DatabaseConnection,
    viewer: &account::Model,
    n: NewTopic,
) -> AppResult<topic::Model> {
    a_person()?;
    let title = validate::title(&n.title, "input.title", 60)?;
    let description = validate::text(&n.description, "input.description", 2000)?;
    if n.photo_urls.len() > MAX_PHOTOS {
        return Err(AppError::bad_input(
            "input.photoUrls",
            msg!("at most 9 photos", "最多 9 张照片"),
        ));
    }
    let photos = n
        .photo_urls
        .iter()
        .enumerate()
        .map(|(i, u)| validate::url(u, &format!("input.photoUrls.{i}")))
        .collect::<AppResult<Vec<_>>>()?;
    let org = crate::organizations::service::get(db, n.organization)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    if !matches!(
        org.kind,
        organization::OrganizationKind::Station | organization::OrganizationKind::Room
    ) {
        return Err(AppError::bad_input(
            "input.organizationId",
            msg!(
                "topics are raised for a community: a station or room",
                "议题须提给社区（社工站或社工室）"
            ),
        ));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    // The raiser's row, locked (PostgreSQL): concurrent raises count one after another.
    account::Entity::find_by_id(viewer.id)
        .lock(sea_orm::sea_query::LockType::Update)
        .one(&txn)
        .await?;
    let today = topic::Entity::find()
        .filter(topic::Column::RaisedBy.eq(viewer.id))
        .filter(topic::Column::CreatedAt.gt(now - Duration::days(1)))
        .count(&txn)
        .await?;
    if today >= RAISED_PER_DAY {
        return Err(AppError::RateLimited {
            retry_after_secs: 3600,
            limit: "topics",
        });
    }
    let t = topic::ActiveModel {
        organization_id: Set(org.id),
        title: Set(title),
        description: Set(description),
        category: Set(n.category),
        photo_urls: Set(photos.join("\n")),
        raised_by: Set(viewer.id),
        status: Set(TopicStatus::Raised),
        supporters: Set(0),
        project_id: Set(None),
        wish_id: Set(None),
        disbursement_id: Set(None),
        hidden_at: Set(None),
        hidden_by: Set(None),
        hidden_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    change::ActiveModel {
        topic_id: Set(t.id),
        from_status: Set(None),
        to_status: Set(TopicStatus::Raised),
        changed_by: Set(viewer.id),
        note: Set(String::new()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(t)
}

/// Support a topic, once per person: a second support (or a retry racing the first) changes
/// nothing. The count moves in the same transaction as the support row, so it always equals
/// the rows. `CONFLICT` once the topic is done or declined.
pub async fn support(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<topic::Model> {
    a_person()?;
    let t = visible(db, Some(viewer), id).await?;
    if t.hidden_at.is_some() || !open_for_support(t.status) {
        return Err(AppError::Conflict(msg!(
            "this topic no longer takes support",
            "该议题已不再征集支持"
        )));
    }
    let txn = begin_write(db).await?;
    let added = support::Entity::insert(support::ActiveModel {
        topic_id: Set(t.id),
        account_id: Set(viewer.id),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([support::Column::TopicId, support::Column::AccountId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if added > 0 {
        // Still open and shown as the count moves: a support racing a decline or a hide
        // rolls back with its row.
        let counted = topic::Entity::update_many()
            .col_expr(
                topic::Column::Supporters,
                Expr::col(topic::Column::Supporters).add(1),
            )
            .filter(topic::Column::Id.eq(t.id))
            .filter(topic::Column::HiddenAt.is_null())
            .filter(
                topic::Column::Status.is_not_in([TopicStatus::Implemented, TopicStatus::Declined]),
            )
            .exec(&txn)
            .await?;
        if counted.rows_affected == 0 {
            return Err(AppError::Conflict(msg!(
                "this topic no longer takes support",
                "该议题已不再征集支持"
            )));
        }
    }
    txn.commit().await?;
    reload(db, t.id).await
}

/// Withdraw one's support (nothing happens when there was none); also from a topic hidden
/// after one supported it.
pub async fn withdraw_support(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<topic::Model> {
    a_person()?;
    // A supporter takes their support back even from a topic hidden since: it is theirs.
    let t = match visible(db, Some(viewer), id).await {
        Err(AppError::NotFound(_))
            if support::Entity::find_by_id((id, viewer.id))
                .one(db)
                .await?
                .is_some() =>
        {
            reload(db, id).await?
        }
        other => other?,
    };
    let txn = begin_write(db).await?;
    let gone = support::Entity::delete_many()
        .filter(support::Column::TopicId.eq(t.id))
        .filter(support::Column::AccountId.eq(viewer.id))
        .exec(&txn)
        .await?;
    if gone.rows_affected > 0 {
        topic::Entity::update_many()
            .col_expr(
                topic::Column::Supporters,
                Expr::col(topic::Column::Supporters).sub(1),
            )
            .filter(topic::Column::Id.eq(t.id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    reload(db, t.id).await
}

async fn reload<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<topic::Model> {
    topic::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Topic))
}

/// The topic, for its staff to change: visible, and the viewer its organization's staff.
async fn for_staff<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    id: i64,
    what: &str,
) -> AppResult<topic::Model> {
    let t = visible(db, Some(viewer), id).await?;
    if !authz::is_staff(db, viewer, t.organization_id).await? {
        return Err(AppError::Forbidden(msg!(
            "only the community's staff may {}",
            "只有该社区的工作人员可以{}",
            what
        )));
    }
    Ok(t)
}

/// Move `t` from its status to `to` inside `txn`, writing the history: a conditional update,
/// so of two racing moves from one status only the first lands (`CONFLICT`).
async fn move_in<C: ConnectionTrait>(
    txn: &C,
    t: &topic::Model,
    to: TopicStatus,
    by: i64,
    note: &str,
) -> AppResult<()> {
    if !try_move(txn, t, to, by, note).await? {
        return Err(AppError::Conflict(msg!(
            "the topic just changed: reload it",
            "该议题刚被他人更新，请刷新"
        )));
    }
    Ok(())
}

/// [`move_in`], telling whether it moved instead of refusing.
async fn try_move<C: ConnectionTrait>(
    txn: &C,
    t: &topic::Model,
    to: TopicStatus,
    by: i64,
    note: &str,
) -> AppResult<bool> {
    let now = Utc::now();
    let moved = topic::Entity::update_many()
        .col_expr(topic::Column::Status, Expr::value(to))
        .col_expr(topic::Column::UpdatedAt, Expr::value(now))
        .filter(topic::Column::Id.eq(t.id))
        .filter(topic::Column::Status.eq(t.status))
        .exec(txn)
        .await?;
    if moved.rows_affected == 0 {
        return Ok(false);
    }
    change::ActiveModel {
        topic_id: Set(t.id),
        from_status: Set(Some(t.status)),
        to_status: Set(to),
        changed_by: Set(by),
        note: Set(note.to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(true)
}

/// Move a topic to `to` (its community's staff), with a note (required to decline or to
/// follow up, at most 500 characters). A move the flow does not allow is `CONFLICT`.
pub async fn move_topic(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    to: TopicStatus,
    note: &str,
) -> AppResult<topic::Model> {
    let note = validate::text(note, "note", 500)?;
    if note.is_empty() && matches!(to, TopicStatus::Declined | TopicStatus::FollowingUp) {
        return Err(AppError::bad_input(
            "note",
            msg!(
                "say why it is declined or followed up",
                "不予采纳或持续跟进须说明理由"
            ),
        ));
    }
    let t = for_staff(db, viewer, id, "change a topic's status").await?;
    if !may_move(t.status, to) {
        return Err(AppError::Conflict(msg!(
            "a topic cannot move that way from where it stands",
            "议题当前状态不能转为该状态"
        )));
    }
    let txn = begin_write(db).await?;
    move_in(&txn, &t, to, viewer.id, &note).await?;
    txn.commit().await?;
    reload(db, t.id).await
}

/// A meeting's record.
#[derive(Clone, Debug)]
pub struct NewMeeting {
    /// The topic.
    pub topic: i64,
    /// The meeting: a `COMMUNITY_GOVERNANCE` event of the topic's line of the hierarchy.
    pub event: i64,
    /// Residents present, 1 to 10,000.
    pub attendees: i32,
    /// The minutes, at most 5,000 characters.
    pub minutes: String,
}

/// Record that a meeting discussed a topic (its community's staff): the event must be a
/// published (or completed) community-governance meeting of the topic's line of the hierarchy. Recording it again
/// updates the minutes. A topic still `RAISED` moves to `DISCUSSING`, in the history.
pub async fn record_meeting(
    db: &DatabaseConnection,
    viewer: &account::Model,
    m: NewMeeting,
) -> AppResult<topic::Model> {
    let minutes = validate::text(&m.minutes, "input.minutes", 5000)?;
    if !(1..=10_000).contains(&m.attendees) {
        return Err(AppError::bad_input(
            "input.attendees",
            msg!("1 to 10,000 people", "参会人数须为 1 至 10000"),
        ));
    }
    let t = for_staff(db, viewer, m.topic, "record a meeting").await?;
    let e = charity_event::Entity::find_by_id(m.event)
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::bad_input("input.eventId", msg!("no such event", "找不到该活动"))
        })?;
    if e.category != charity_event::EventCategory::CommunityGovernance
        || !matches!(
            e.status,
            charity_event::EventStatus::Published | charity_event::EventStatus::Completed
        )
        || !crate::projects::service::related(db, e.organization_id, t.organization_id).await?
    {
        return Err(AppError::bad_input(
            "input.eventId",
            msg!(
                "the meeting must be a published community-governance event of the topic's community or above it",
                "议事会须为本社区体系内已发布的“社区治理”类活动"
            ),
        ));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    meeting::Entity::insert(meeting::ActiveModel {
        topic_id: Set(t.id),
        event_id: Set(e.id),
        attendees: Set(m.attendees),
        minutes: Set(minutes),
        recorded_by: Set(viewer.id),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([meeting::Column::TopicId, meeting::Column::EventId])
            .update_columns([
                meeting::Column::Attendees,
                meeting::Column::Minutes,
                meeting::Column::RecordedBy,
            ])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if t.status == TopicStatus::Raised {
        // A meeting recorded at the same moment may have moved it already: fine.
        try_move(
            &txn,
            &t,
            TopicStatus::Discussing,
            viewer.id,
            &format!("议事会：{}", e.title),
        )
        .await?;
    }
    txn.commit().await?;
    reload(db, t.id).await
}

/// What paid for a topic: at most one of each, replacing what was linked.
#[derive(Clone, Debug, Default)]
pub struct Links {
    /// A service project.
    pub project: Option<i64>,
    /// A micro-wish.
    pub wish: Option<i64>,
    /// A fund disbursement.
    pub disbursement: Option<i64>,
}

/// What a link names exists (`owner`: its organization) and is of the topic's line of the
/// hierarchy; else `BAD_USER_INPUT` on `field`.
async fn on_line<C: ConnectionTrait>(
    db: &C,
    owner: Option<i64>,
    t: &topic::Model,
    field: &str,
    missing: crate::i18n::Msg,
) -> AppResult<()> {
    let Some(owner) = owner else {
        return Err(AppError::bad_input(field, missing));
    };
    if !crate::projects::service::related(db, owner, t.organization_id).await? {
        return Err(AppError::bad_input(
            field,
            msg!(
                "must be of the topic's community or the levels above or below it",
                "须属于该议题所在社区体系"
            ),
        ));
    }
    Ok(())
}

/// Link what paid for a topic (its community's staff): each must be of the topic's line of the
/// hierarchy (the project's served station, the wish's organization, the disbursing fund's
/// organization). A field left out keeps its link.
pub async fn link(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    l: Links,
) -> AppResult<topic::Model> {
    if l.project.is_none() && l.wish.is_none() && l.disbursement.is_none() {
        return Err(AppError::bad_input(
            "input",
            msg!(
                "name a project, micro-wish or disbursement",
                "请指定服务项目、微心愿或拨付记录"
            ),
        ));
    }
    let t = for_staff(db, viewer, id, "link a topic").await?;
    if let Some(p) = l.project {
        let owner = entity::service_project::Entity::find_by_id(p)
            .one(db)
            .await?
            .map(|p| p.organization_id);
        on_line(
            db,
            owner,
            &t,
            "projectId",
            msg!("no such project", "找不到该服务项目"),
        )
        .await?;
    }
    if let Some(w) = l.wish {
        let owner = entity::micro_wish::Entity::find_by_id(w)
            .one(db)
            .await?
            .map(|w| w.organization_id);
        on_line(
            db,
            owner,
            &t,
            "microWishId",
            msg!("no such micro-wish", "找不到该微心愿"),
        )
        .await?;
    }
    if let Some(d) = l.disbursement {
        let owner = match entity::disbursement::Entity::find_by_id(d).one(db).await? {
            Some(d) => entity::charity_fund::Entity::find_by_id(d.fund_id)
                .one(db)
                .await?
                .map(|f| f.organization_id),
            None => None,
        };
        on_line(
            db,
            owner,
            &t,
            "disbursementId",
            msg!("no such disbursement", "找不到该笔拨付"),
        )
        .await?;
    }
    let mut q = topic::Entity::update_many()
        .col_expr(topic::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(topic::Column::Id.eq(t.id));
    if let Some(p) = l.project {
        q = q.col_expr(topic::Column::ProjectId, Expr::value(Some(p)));
    }
    if let Some(w) = l.wish {
        q = q.col_expr(topic::Column::WishId, Expr::value(Some(w)));
    }
    if let Some(d) = l.disbursement {
        q = q.col_expr(topic::Column::DisbursementId, Expr::value(Some(d)));
    }
    let txn = begin_write(db).await?;
    q.exec(&txn).await?;
    crate::privacy::audit(
        &txn,
        viewer.id,
        "topic.link",
        Some(t.organization_id),
        None,
        format!(
            "topic {}: project {:?}, micro-wish {:?}, disbursement {:?}",
            t.id, l.project, l.wish, l.disbursement
        ),
    )
    .await?;
    txn.commit().await?;
    reload(db, t.id).await
}

/// Hide a topic from the public lists (its community's staff), or show it again (`None`).
/// Audited: moderation is an act on what someone said.
pub async fn moderate(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    reason: Option<HideReason>,
) -> AppResult<topic::Model> {
    let t = for_staff(db, viewer, id, "moderate topics").await?;
    let txn = begin_write(db).await?;
    topic::Entity::update_many()
        .col_expr(
            topic::Column::HiddenAt,
            Expr::value(reason.map(|_| Utc::now())),
        )
        .col_expr(
            topic::Column::HiddenBy,
            Expr::value(reason.map(|_| viewer.id)),
        )
        .col_expr(topic::Column::HiddenReason, Expr::value(reason))
        .filter(topic::Column::Id.eq(t.id))
        .exec(&txn)
        .await?;
    crate::privacy::audit(
        &txn,
        viewer.id,
        if reason.is_some() {
            "topic.hide"
        } else {
            "topic.restore"
        },
        Some(t.organization_id),
        None,
        format!(
            "topic {}{}",
            t.id,
            reason.map_or(String::new(), |r| format!(
                ": {}",
                sea_orm::ActiveEnum::to_value(&r)
            ))
        ),
    )
    .await?;
    txn.commit().await?;
    reload(db, t.id).await
}

/// Which hidden topics a list shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Hidden {
    /// None (the public view).
    #[default]
    No,
    /// Those of the listed organization itself (its staff).
    Own,
    /// Those of the whole subtree (its administrators, whose authority reaches down).
    Subtree,
}

/// Which hidden topics `viewer` may list under `org`: administrators the subtree's, other
/// staff their own organization's; API clients and everyone else `FORBIDDEN`.
pub async fn hidden_scope<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org: i64,
) -> AppResult<Hidden> {
    if crate::clients::confined_to().is_none() {
        if authz::administers(db, viewer, org).await? {
            return Ok(Hidden::Subtree);
        }
        if authz::is_staff(db, viewer, org).await? {
            return Ok(Hidden::Own);
        }
    }
    Err(AppError::Forbidden(msg!(
        "only the community's staff see hidden topics",
        "只有该社区的工作人员可以查看已隐藏的议题"
    )))
}

/// What the topics list shows.
#[derive(Clone, Debug, Default)]
pub struct TopicFilter {
    /// The community (and the rooms below a station).
    pub organization: i64,
    /// Only these statuses (all when empty).
    pub statuses: Vec<TopicStatus>,
    /// Hidden ones too (the staff's view).
    pub hidden: Hidden,
}

/// Every topic the list pages through (its `totalCount`).
pub fn listed(f: &TopicFilter) -> sea_orm::Select<topic::Entity> {
    let mut q = topic::Entity::find().filter(authz::in_subtree(
        topic::Column::OrganizationId,
        f.organization,
    ));
    if !f.statuses.is_empty() {
        q = q.filter(topic::Column::Status.is_in(f.statuses.iter().copied()));
    }
    match f.hidden {
        Hidden::No => q = q.filter(topic::Column::HiddenAt.is_null()),
        Hidden::Own => {
            q = q.filter(
                sea_orm::Condition::any()
                    .add(topic::Column::HiddenAt.is_null())
                    .add(topic::Column::OrganizationId.eq(f.organization)),
            )
        }
        Hidden::Subtree => {}
    }
    q
}

/// One page of topics, oldest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    f: &TopicFilter,
    page: PageArgs,
) -> AppResult<Page<topic::Model>> {
    fetch_page(db, listed(f), topic::Column::Id, page).await
}

/// How many topics of a community (and below it) stand where, hidden ones left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Raised, not yet taken up.
    pub raised: i64,
    /// Being discussed.
    pub discussing: i64,
    /// Decided.
    pub resolved: i64,
    /// Done.
    pub implemented: i64,
    /// Followed up over time.
    pub following_up: i64,
    /// Not taken up.
    pub declined: i64,
}

/// [`Counts`] in one statement.
pub async fn counts<C: ConnectionTrait>(db: &C, org: i64) -> AppResult<Counts> {
    let rows: Vec<(TopicStatus, i64)> = topic::Entity::find()
        .select_only()
        .column(topic::Column::Status)
        .column_as(topic::Column::Id.count(), "n")
        .filter(authz::in_subtree(topic::Column::OrganizationId, org))
        .filter(topic::Column::HiddenAt.is_null())
        .group_by(topic::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut c = Counts::default();
    for (s, n) in rows {
        *match s {
            TopicStatus::Raised => &mut c.raised,
            TopicStatus::Discussing => &mut c.discussing,
            TopicStatus::Resolved => &mut c.resolved,
            TopicStatus::Implemented => &mut c.implemented,
            TopicStatus::FollowingUp => &mut c.following_up,
            TopicStatus::Declined => &mut c.declined,
        } = n;
    }
    Ok(c)
}

/// A topic's history, oldest first: for a page of topics in one statement
/// ([`crate::batch::AllChildren`]).
pub struct HistoryOf;

impl crate::batch::Children for HistoryOf {
    type Entity = change::Entity;
    fn parent() -> change::Column {
        change::Column::TopicId
    }
    fn key() -> change::Column {
        change::Column::Id
    }
    fn parent_of(row: &change::Model) -> i64 {
        row.topic_id
    }
}

/// The meetings that discussed a topic, in the order recorded, batched like [`HistoryOf`].
pub struct MeetingsOf;

impl crate::batch::Children for MeetingsOf {
    type Entity = meeting::Entity;
    fn parent() -> meeting::Column {
        meeting::Column::TopicId
    }
    fn key() -> meeting::Column {
        meeting::Column::Id
    }
    fn parent_of(row: &meeting::Model) -> i64 {
        row.topic_id
    }
}

/// How many people checked in at each of a page's meetings with the app, in one statement:
/// the event keys in, distinct people out.
pub struct CheckedInAt;

impl crate::batch::Loader for CheckedInAt {
    type Key = i64;
    type Value = i64;
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<std::collections::HashMap<i64, i64>> {
        use entity::{check_event, shift};
        let rows: Vec<(i64, i64)> = check_event::Entity::find()
            .select_only()
            .column(shift::Column::EventId)
            .expr(sea_orm::sea_query::Func::count_distinct(Expr::col((
                check_event::Entity,
                check_event::Column::AccountId,
            ))))
            .join(
                sea_orm::JoinType::InnerJoin,
                check_event::Entity::belongs_to(shift::Entity)
                    .from(check_event::Column::ShiftId)
                    .to(shift::Column::Id)
                    .into(),
            )
            .filter(shift::Column::EventId.is_in(keys))
            .filter(check_event::Column::Kind.eq(check_event::CheckKind::In))
            .group_by(shift::Column::EventId)
            .into_tuple()
            .all(&db)
            .await?;
        Ok(rows.into_iter().collect())
    }
}

/// Which of a page of topics one person supports, in one statement: the person is the
/// request's constant, the topics the keys.
pub struct SupportedBy(pub i64);

impl crate::batch::Loader for SupportedBy {
    type Key = i64;
    type Value = bool;
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<std::collections::HashMap<i64, bool>> {
        let ids: Vec<i64> = support::Entity::find()
            .select_only()
            .column(support::Column::TopicId)
            .filter(support::Column::AccountId.eq(self.0))
            .filter(support::Column::TopicId.is_in(keys))
            .into_tuple()
            .all(&db)
            .await?;
        Ok(ids.into_iter().map(|id| (id, true)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn the_flow_goes_forward_with_following_up_and_declining_on_the_way() {
        use TopicStatus::*;
        assert!(may_move(Raised, Discussing));
        assert!(may_move(Discussing, Resolved));
        assert!(may_move(Resolved, Implemented));
        assert!(may_move(Discussing, FollowingUp));
        assert!(may_move(FollowingUp, Resolved));
        assert!(may_move(Raised, Declined));
        assert!(may_move(Declined, Discussing));
        // No skipping the discussion, no going back from done, no standing still.
        assert!(!may_move(Raised, Resolved));
        assert!(!may_move(Raised, Implemented));
        assert!(!may_move(Resolved, Declined));
        for s in TopicStatus::iter() {
            assert!(!may_move(Implemented, s));
            assert!(!may_move(s, s));
            assert!(!may_move(s, Raised));
        }
        assert!(!open_for_support(Implemented) && !open_for_support(Declined));
        assert!(open_for_support(FollowingUp));
    }

    #[test]
    fn photos_read_back_as_written() {
        assert_eq!(
            photos_from_db("https://a/1.jpg\nhttps://a/2.jpg"),
            vec!["https://a/1.jpg", "https://a/2.jpg"]
        );
        assert!(photos_from_db("").is_empty());
    }
}
