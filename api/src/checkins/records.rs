//! Reviewing service records: approve (possibly lowering the minutes), reject, correct. Each
//! change is one conditional `UPDATE` plus an audit row in the same transaction, so two staff
//! approving at once cannot both succeed, and no change goes unrecorded. Records are never
//! deleted.

use chrono::Utc;
use entity::{
    account, charity_event as event,
    charity_event::EventCategory,
    service_record::{
        self as record,
        RecordStatus::{self, Approved, Pending, Rejected},
    },
    service_record_change::{self as change, RecordAction},
    shift,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, sea_query::Expr,
};

use crate::{
    authz,
    config::Config,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    timebank::service::ServiceSettlement,
};

/// What a reviewer does to a record.
#[derive(Debug, Clone)]
pub enum Review {
    /// Approve a pending record, optionally lowering its minutes.
    Approve {
        /// New minutes (at most the recorded ones).
        minutes: Option<i32>,
    },
    /// Reject a pending record.
    Reject {
        /// Why.
        reason: String,
    },
    /// Set the minutes of a pending or approved record.
    Correct {
        /// New minutes.
        minutes: i32,
        /// Why.
        reason: String,
    },
}

/// Load a record.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<record::Model>> {
    Ok(record::Entity::find_by_id(id).one(db).await?)
}

/// Whether `viewer` may see a record: its volunteer, or the organization's staff.
pub async fn may_see<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    r: &record::Model,
) -> AppResult<bool> {
    if authz::is_self(viewer, r.account_id) {
        return Ok(true);
    }
    authz::is_staff(db, viewer, r.organization_id).await
}

/// Apply a review. Staff of the record's organization only; a volunteer may not review their
/// own record.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, record_id = id))]
pub async fn review(
    db: &DatabaseConnection,
    config: &Config,
    viewer: &account::Model,
    id: i64,
    review: Review,
) -> AppResult<record::Model> {
    let current = get(db, id)
        .await?
        .ok_or(AppError::NotFound(Noun::ServiceRecord))?;
    let org = current.organization_id;
    if !authz::is_staff(db, viewer, org).await? {
        return Err(AppError::NotFound(Noun::ServiceRecord));
    }
    if current.account_id == viewer.id {
        return Err(AppError::Forbidden(msg!(
            "nobody reviews their own service record",
            "不能审核自己的服务记录"
        )));
    }
    let (action, from, to, minutes, reason) = match review {
        Review::Approve { minutes } => {
            let m = minutes.unwrap_or(current.minutes);
            if m < 0 || m > current.minutes {
                return Err(AppError::bad_input(
                    "minutes",
                    msg!(
                        "approval may lower the minutes, to 0 at least and {} at most",
                        "审核时只能调低时长：最少 0 分钟，最多 {} 分钟",
                        current.minutes
                    ),
                ));
            }
            (RecordAction::Approve, &[Pending][..], Approved, m, None)
        }
        Review::Reject { reason } => (
            RecordAction::Reject,
            &[Pending][..],
            Rejected,
            current.minutes,
            Some(reason),
        ),
        Review::Correct { minutes, reason } => {
            if !(0..=24 * 60).contains(&minutes) {
                return Err(AppError::bad_input(
                    "minutes",
                    msg!("must be 0 to 1440", "时长须为 0 至 1440 分钟"),
                ));
            }
            let keep = if current.status == Approved {
                Approved
            } else {
                Pending
            };
            (
                RecordAction::Correct,
                &[Pending, Approved][..],
                keep,
                minutes,
                Some(reason),
            )
        }
    };
    // The rate is fixed when the record is first approved; later corrections settle at it,
    // whatever the configuration says by then.
    let rate = current
        .coin_cents_per_hour
        .map(i64::from)
        .unwrap_or_else(|| config.coin_rate(current.category));
    let now = Utc::now();
    let txn = begin_write(db).await?;
    // Conditional on the state we decided from: a concurrent review makes this a no-op.
    let mut update = record::Entity::update_many();
    if to == Approved {
        update = update.col_expr(
            record::Column::CoinCentsPerHour,
            Expr::value(i32::try_from(rate).unwrap_or(i32::MAX)),
        );
    }
    let done = update
        .col_expr(record::Column::Status, Expr::value(to))
        .col_expr(record::Column::Minutes, Expr::value(minutes))
        .col_expr(record::Column::UpdatedAt, Expr::value(now))
        .filter(record::Column::Id.eq(id))
        .filter(record::Column::Status.eq(current.status))
        .filter(record::Column::Status.is_in(from.iter().copied()))
        .filter(record::Column::Minutes.eq(current.minutes))
        .exec(&txn)
        .await?;
    if done.rows_affected == 0 {
        let (is, is_zh) = crate::lifecycle::word(&current.status);
        return Err(AppError::Conflict(msg!(
            "the record is {is} or changed meanwhile; reload it",
            "该记录当前为“{is_zh}”或已被他人修改，请刷新后重试"
        )));
    }
    let logged = change::ActiveModel {
        record_id: Set(id),
        actor_id: Set(viewer.id),
        action: Set(action),
        status_before: Set(current.status),
        status_after: Set(to),
        minutes_before: Set(current.minutes),
        minutes_after: Set(minutes),
        reason: Set(reason),
        at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    {
        use entity::notification::NotificationKind as K;
        let told = match action {
            RecordAction::Approve => K::RecordApproved,
            RecordAction::Reject => K::RecordRejected,
            _ => K::RecordCorrected,
        };
        crate::notifications::service::write(
            &txn,
            vec![
                crate::notifications::service::Notice::subject(told, current.account_id, id)
                    .on(logged.id),
            ],
        )
        .await?;
    }
    // Coins follow approved minutes, in the same transaction: approval credits them, a
    // correction of approved time posts the difference. Only one approval can get here.
    crate::timebank::service::settle_service(
        &txn,
        ServiceSettlement {
            organization_id: org,
            person: current.account_id,
            record_id: id,
            approved_minutes: if to == Approved { minutes } else { 0 },
            cents_per_hour: rate,
            by: viewer.id,
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(action = ?action, "service record reviewed");
    get(db, id)
        .await?
        .ok_or(AppError::NotFound(Noun::ServiceRecord))
}

/// Approved service of one volunteer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Approved minutes in all.
    pub approved_minutes: i64,
    /// Records of any status.
    pub record_count: i64,
    /// Approved minutes per category (stored value), largest first.
    pub by_category: Vec<(EventCategory, i64)>,
}

/// Sum up a volunteer's service in two aggregate queries.
pub async fn summary<C: ConnectionTrait>(db: &C, account_id: i64) -> AppResult<Summary> {
    use sea_orm::{QuerySelect, sea_query::Func};
    let record_count = record::Entity::find()
        .filter(record::Column::AccountId.eq(account_id))
        .select_only()
        .column_as(Expr::from(Func::count(Expr::col(record::Column::Id))), "n")
        .into_tuple::<i64>()
        .one(db)
        .await?
        .unwrap_or(0);
    let mut by_category: Vec<(EventCategory, i64)> = record::Entity::find()
        .select_only()
        .column(record::Column::Category)
        // Groups exist only where rows do, so the sum is never NULL.
        .column_as(
            Expr::from(Func::sum(Expr::col((
                record::Entity,
                record::Column::Minutes,
            )))),
            "minutes",
        )
        .filter(record::Column::AccountId.eq(account_id))
        .filter(record::Column::Status.eq(Approved))
        .group_by(record::Column::Category)
        .into_tuple::<(EventCategory, i64)>()
        .all(db)
        .await?;
    // Most minutes first; ties by the stored name, so the order is stable.
    by_category.sort_by_key(|(c, m)| (std::cmp::Reverse(*m), sea_orm::ActiveEnum::to_value(c)));
    Ok(Summary {
        approved_minutes: by_category.iter().map(|(_, m)| m).sum(),
        record_count,
        by_category,
    })
}

/// Close check-ins whose check-out never came: for every sign-up checked in on a shift that
/// ended more than `grace` ago without a record, create one up to the shift's end, flagged for
/// review. Safe to run on several replicas at once (one record per sign-up is UNIQUE).
pub async fn close_missing_checkouts<C: ConnectionTrait>(
    db: &C,
    grace: chrono::Duration,
) -> AppResult<u64> {
    use entity::check_event;
    use sea_orm::sea_query::{OnConflict, Query};
    let cutoff = Utc::now() - grace;
    let open: Vec<(check_event::Model, Option<shift::Model>)> = check_event::Entity::find()
        .find_also_related(shift::Entity)
        .filter(check_event::Column::Kind.eq(check_event::CheckKind::In))
        .filter(shift::Column::EndsAt.lt(cutoff))
        .filter(
            check_event::Column::SignupId.not_in_subquery(
                // `NOT IN` over a NULL is never true: help-request records have no sign-up.
                Query::select()
                    .column(record::Column::SignupId)
                    .from(record::Entity)
                    .and_where(record::Column::SignupId.is_not_null())
                    .to_owned(),
            ),
        )
        .all(db)
        .await?;
    let events: std::collections::HashMap<i64, event::Model> = event::Entity::find()
        .filter(
            event::Column::Id.is_in(
                open.iter()
                    .filter_map(|(_, s)| s.as_ref().map(|s| s.event_id)),
            ),
        )
        .all(db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let now = Utc::now();
    let rows: Vec<record::ActiveModel> = open
        .into_iter()
        .filter_map(|(ci, s)| {
            let s = s?;
            let e = events.get(&s.event_id)?;
            Some((ci, s, e))
        })
        .map(|(ci, s, e)| record::ActiveModel {
            signup_id: Set(Some(ci.signup_id)),
            help_request_id: Set(None),
            account_id: Set(ci.account_id),
            shift_id: Set(Some(s.id)),
            organization_id: Set(e.organization_id),
            category: Set(e.category),
            served_at: Set(s.starts_at),
            minutes: Set(crate::checkins::service::served_minutes(
                ci.occurred_at,
                s.ends_at,
                s.starts_at,
                s.ends_at,
            )),
            status: Set(Pending),
            verified: Set(false),
            flagged: Set(true),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    if rows.is_empty() {
        return Ok(0);
    }
    let n = record::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(record::Column::SignupId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(n)
}

/// Filter of the staff list of service records.
#[derive(Debug, Clone, Default)]
pub struct RecordFilter {
    /// Records of service for this organization and every one below it (required).
    pub organization_id: i64,
    /// Only this status.
    pub status: Option<RecordStatus>,
    /// Only this volunteer.
    pub volunteer_id: Option<i64>,
    /// Only service that began at or after this.
    pub from: Option<chrono::DateTime<Utc>>,
    /// Only service that began before this.
    pub to: Option<chrono::DateTime<Utc>>,
}

/// Service records for the staff of an organization (its whole subtree), oldest first.
pub async fn list_for_staff(
    db: &DatabaseConnection,
    viewer: &account::Model,
    filter: &RecordFilter,
    page: crate::pagination::PageArgs,
) -> AppResult<crate::pagination::Page<record::Model>> {
    if !authz::is_staff(db, viewer, filter.organization_id).await? {
        return Err(AppError::Forbidden(msg!(
            "only the organization's staff see its service records",
            "仅该组织的工作人员可查看其服务记录"
        )));
    }
    crate::pagination::fetch_page(db, for_staff(filter), record::Column::Id, page).await
}

/// Every record [`list_for_staff`] pages through (its `totalCount`; the caller is checked
/// there).
pub fn for_staff(filter: &RecordFilter) -> sea_orm::Select<record::Entity> {
    let mut select = record::Entity::find().filter(crate::authz::in_subtree(
        record::Column::OrganizationId,
        filter.organization_id,
    ));
    if let Some(s) = &filter.status {
        select = select.filter(record::Column::Status.eq(*s));
    }
    if let Some(v) = filter.volunteer_id {
        select = select.filter(record::Column::AccountId.eq(v));
    }
    if let Some(t) = filter.from {
        select = select.filter(record::Column::ServedAt.gte(t));
    }
    if let Some(t) = filter.to {
        select = select.filter(record::Column::ServedAt.lt(t));
    }
    select
}

/// The changes of a record, oldest first ([`crate::batch::first_children`]).
pub struct ChangesOf;

/// The check events of each sign-up, batched ([`crate::batch::AllChildren`]).
pub struct CheckEventsOf;

impl crate::batch::Children for CheckEventsOf {
    type Entity = entity::check_event::Entity;
    fn parent() -> entity::check_event::Column {
        entity::check_event::Column::SignupId
    }
    fn key() -> entity::check_event::Column {
        entity::check_event::Column::Id
    }
    fn parent_of(row: &entity::check_event::Model) -> i64 {
        row.signup_id
    }
}

impl crate::batch::Children for ChangesOf {
    type Entity = change::Entity;
    fn parent() -> change::Column {
        change::Column::RecordId
    }
    fn key() -> change::Column {
        change::Column::Id
    }
    fn parent_of(row: &change::Model) -> i64 {
        row.record_id
    }
}
