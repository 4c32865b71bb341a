//! Micro-wishes without GraphQL.

use chrono::{DateTime, Utc};
use entity::{
    account,
    micro_wish::{self as wish, WishStatus},
    organization,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, Set, sea_query::Expr,
};

use crate::{
    authz,
    error::{AppError, AppResult, Noun},
    funds::service::MAX_AMOUNT_FEN,
    geo::Near,
    geo::within,
    pagination::{Page, PageArgs, fetch_page},
};

/// The status of a row at `now`: a lapsed claim is `OPEN`.
pub fn status_at(w: &wish::Model, now: DateTime<Utc>) -> WishStatus {
    match w.status {
        WishStatus::Claimed if w.claim_expires_at.is_none_or(|t| t <= now) => WishStatus::Open,
        status => status,
    }
}

/// Rows open for a claim at `now`: `OPEN`, or `CLAIMED` with the claim lapsed.
fn claimable(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(wish::Column::Status.eq(WishStatus::Open))
        .add(
            Condition::all()
                .add(wish::Column::Status.eq(WishStatus::Claimed))
                .add(wish::Column::ClaimExpiresAt.lte(now)),
        )
}

/// A wish as staff post it.
pub struct NewWish {
    /// The posting organization.
    pub organization_id: i64,
    /// 1–100 characters.
    pub title: String,
    /// At most 2,000 characters.
    pub story: String,
    /// Fen, 1 to the largest donation.
    pub budget_fen: i64,
    /// How the resident appears, 1–50 characters.
    pub beneficiary_alias: String,
}

/// Post a wish (managers of the organization).
pub async fn post(
    db: &DatabaseConnection,
    viewer: &account::Model,
    new: NewWish,
) -> AppResult<wish::Model> {
    if !(1..=MAX_AMOUNT_FEN).contains(&new.budget_fen) {
        return Err(AppError::bad_input(
            "input.budgetFen",
            msg!(
                "must be 1 to {MAX_AMOUNT_FEN} fen",
                "预算须为 1 至 {MAX_AMOUNT_FEN} 分"
            ),
        ));
    }
    let org = organization::Entity::find_by_id(new.organization_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    authz::require_manager(db, viewer, org.id).await?;
    let now = Utc::now();
    Ok(wish::ActiveModel {
        organization_id: Set(org.id),
        title: Set(new.title),
        story: Set(new.story),
        budget_fen: Set(new.budget_fen),
        beneficiary_alias: Set(new.beneficiary_alias),
        latitude: Set(org.latitude),
        longitude: Set(org.longitude),
        status: Set(WishStatus::Open),
        created_by: Set(viewer.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// A wish by key.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<wish::Model>> {
    Ok(wish::Entity::find_by_id(id).one(db).await?)
}

async fn require(db: &DatabaseConnection, id: i64) -> AppResult<wish::Model> {
    get(db, id)
        .await?
        .ok_or(AppError::NotFound(Noun::MicroWish))
}

/// Claim a wish for `claim_for`. Exactly one of many concurrent claims wins; the others get
/// `CONFLICT`.
pub async fn claim(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    claim_for: chrono::Duration,
    max_open: u32,
) -> AppResult<wish::Model> {
    use sea_orm::{PaginatorTrait, QuerySelect};
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    // One claimer's claims are counted one claim at a time: SQLite's write transaction is
    // exclusive already; on PostgreSQL the claimer's account row is the lock.
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        account::Entity::find_by_id(viewer.id)
            .lock_exclusive()
            .one(&txn)
            .await?;
    }
    let open = wish::Entity::find()
        .filter(wish::Column::ClaimedBy.eq(viewer.id))
        .filter(wish::Column::Status.eq(WishStatus::Claimed))
        .filter(wish::Column::ClaimExpiresAt.gt(now))
        .count(&txn)
        .await?;
    if open >= u64::from(max_open) {
        return Err(AppError::Conflict(msg!(
            "you hold {open} open claims; fulfil one (or let one lapse) before taking another",
            "你已认领 {open} 个尚未完成的心愿，请先完成一个（或待其过期）再认领"
        )));
    }
    let res = wish::Entity::update_many()
        .col_expr(wish::Column::Status, Expr::value(WishStatus::Claimed))
        .col_expr(wish::Column::ClaimedBy, Expr::value(viewer.id))
        .col_expr(wish::Column::ClaimedAt, Expr::value(now))
        .col_expr(wish::Column::ClaimExpiresAt, Expr::value(now + claim_for))
        .col_expr(wish::Column::UpdatedAt, Expr::value(now))
        .filter(wish::Column::Id.eq(id))
        .filter(claimable(now))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    let w = require(db, id).await?;
    if res.rows_affected == 0 {
        let (is, is_zh) = crate::lifecycle::word(&status_at(&w, now));
        return Err(AppError::Conflict(msg!(
            "this wish is {is} — it cannot be claimed now",
            "该心愿当前为“{is_zh}”，现在无法认领"
        )));
    }
    tracing::info!(wish_id = id, viewer = viewer.id, "micro-wish claimed");
    Ok(w)
}

/// The claimant says the wish is fulfilled (before the claim lapses).
pub async fn fulfil(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    note: String,
) -> AppResult<wish::Model> {
    let now = Utc::now();
    let res = wish::Entity::update_many()
        .col_expr(wish::Column::Status, Expr::value(WishStatus::Fulfilled))
        .col_expr(wish::Column::FulfilledAt, Expr::value(now))
        .col_expr(wish::Column::FulfilmentNote, Expr::value(note))
        .col_expr(wish::Column::UpdatedAt, Expr::value(now))
        .filter(wish::Column::Id.eq(id))
        .filter(wish::Column::Status.eq(WishStatus::Claimed))
        .filter(wish::Column::ClaimedBy.eq(viewer.id))
        .filter(wish::Column::ClaimExpiresAt.gt(now))
        .exec(db)
        .await?;
    let w = require(db, id).await?;
    if res.rows_affected == 0 {
        return Err(
            if w.claimed_by != Some(viewer.id) || status_at(&w, now) == WishStatus::Open {
                AppError::Forbidden(msg!(
                    "only a current claimant can fulfil this wish",
                    "只有当前认领人才能确认实现该心愿"
                ))
            } else {
                AppError::Conflict(msg!(
                    "this wish is not waiting to be fulfilled",
                    "该心愿不在待实现状态"
                ))
            },
        );
    }
    Ok(w)
}

/// Staff confirm a fulfilled wish, or withdraw one not yet fulfilled.
pub async fn settle(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    to: WishStatus,
) -> AppResult<wish::Model> {
    let w = require(db, id).await?;
    authz::require_manager(db, viewer, w.organization_id).await?;
    let now = Utc::now();
    let mut update = wish::Entity::update_many()
        .col_expr(wish::Column::Status, Expr::value(to))
        .col_expr(wish::Column::UpdatedAt, Expr::value(now))
        .filter(wish::Column::Id.eq(id));
    update = match to {
        WishStatus::Confirmed => update
            .col_expr(wish::Column::ConfirmedAt, Expr::value(now))
            .filter(wish::Column::Status.eq(WishStatus::Fulfilled)),
        WishStatus::Cancelled => {
            update.filter(wish::Column::Status.is_in([WishStatus::Open, WishStatus::Claimed]))
        }
        _ => {
            return Err(AppError::bad_input(
                "status",
                msg!("not a settling status", "只能改为已确认或已取消"),
            ));
        }
    };
    if update.exec(db).await?.rows_affected == 0 {
        let ((was, was_zh), (to, to_zh)) = (
            crate::lifecycle::word(&status_at(&w, now)),
            crate::lifecycle::word(&to),
        );
        return Err(AppError::Conflict(msg!(
            "a {was} wish cannot become {to}",
            "“{was_zh}”的心愿不能改为“{to_zh}”"
        )));
    }
    require(db, id).await
}

/// Put every current claim of `account` back to `OPEN` (the account is being deleted).
pub async fn release_claims_of<C: ConnectionTrait>(
    db: &C,
    account: i64,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    Ok(wish::Entity::update_many()
        .col_expr(wish::Column::Status, Expr::value(WishStatus::Open))
        .col_expr(wish::Column::ClaimedBy, Expr::value(Option::<i64>::None))
        .col_expr(
            wish::Column::ClaimedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            wish::Column::ClaimExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(wish::Column::UpdatedAt, Expr::value(now))
        .filter(wish::Column::Status.eq(WishStatus::Claimed))
        .filter(wish::Column::ClaimedBy.eq(account))
        .exec(db)
        .await?
        .rows_affected)
}

/// Put lapsed claims back to `OPEN` (upkeep); returns how many.
pub async fn release_lapsed_claims<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    Ok(wish::Entity::update_many()
        .col_expr(wish::Column::Status, Expr::value(WishStatus::Open))
        .col_expr(wish::Column::ClaimedBy, Expr::value(Option::<i64>::None))
        .col_expr(
            wish::Column::ClaimedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            wish::Column::ClaimExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(wish::Column::UpdatedAt, Expr::value(now))
        .filter(wish::Column::Status.eq(WishStatus::Claimed))
        .filter(wish::Column::ClaimExpiresAt.lte(now))
        .exec(db)
        .await?
        .rows_affected)
}

/// What to list.
#[derive(Default)]
pub struct WishFilter {
    /// In this status (as the API reports it: lapsed claims are `OPEN`).
    pub status: Option<WishStatus>,
    /// Posted by this organization or one below it.
    pub organization_id: Option<i64>,
    /// Near a point (the posting organization's location).
    pub near: Option<Near>,
}

/// List wishes, oldest first.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &WishFilter,
    page: PageArgs,
) -> AppResult<Page<wish::Model>> {
    fetch_page(db, listed(filter), wish::Column::Id, page).await
}

/// Every wish [`list`] pages through (its `totalCount`).
pub fn listed(filter: &WishFilter) -> sea_orm::Select<wish::Entity> {
    let now = Utc::now();
    let mut select = wish::Entity::find();
    if let Some(s) = filter.status {
        select = select.filter(match s {
            WishStatus::Open => claimable(now),
            WishStatus::Claimed => Condition::all()
                .add(wish::Column::Status.eq(WishStatus::Claimed))
                .add(wish::Column::ClaimExpiresAt.gt(now)),
            other => Condition::all().add(wish::Column::Status.eq(other)),
        });
    }
    if let Some(org) = filter.organization_id {
        select = select.filter(crate::authz::in_subtree(wish::Column::OrganizationId, org));
    }
    if let Some(near) = filter.near {
        select = select.filter(within(near, "micro_wish", "latitude", "longitude"));
    }
    select
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: WishStatus, expires: Option<DateTime<Utc>>) -> wish::Model {
        let now = Utc::now();
        wish::Model {
            id: 1,
            organization_id: 1,
            title: "t".into(),
            story: String::new(),
            budget_fen: 100,
            beneficiary_alias: "张奶奶".into(),
            latitude: None,
            longitude: None,
            status,
            claimed_by: Some(2),
            claimed_at: Some(now),
            claim_expires_at: expires,
            fulfilled_at: None,
            fulfilment_note: None,
            confirmed_at: None,
            created_by: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn a_lapsed_claim_reads_as_open() {
        let now = Utc::now();
        let hour = chrono::Duration::hours(1);
        assert_eq!(
            status_at(&row(WishStatus::Claimed, Some(now + hour)), now),
            WishStatus::Claimed
        );
        assert_eq!(
            status_at(&row(WishStatus::Claimed, Some(now - hour)), now),
            WishStatus::Open
        );
        assert_eq!(
            status_at(&row(WishStatus::Fulfilled, Some(now - hour)), now),
            WishStatus::Fulfilled
        );
    }
}
