//! Funds, donations and disbursements, without GraphQL.

use chrono::{Datelike, Utc};
use entity::{account, campaign, charity_fund as fund, disbursement, donation, organization};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;

use crate::{
    authz,
    campaigns::service as campaigns,
    db::begin_write,
    error::{AppError, AppResult},
    idempotency::{self, Claim, IdempotentRequest},
    ids,
    pagination::{Page, PageArgs, fetch_page},
    validate,
};

/// The largest single donation or disbursement: ¥1,000,000. Anything above is a typo or an
/// attack, and a bound keeps running totals far from overflow.
pub const MAX_AMOUNT_FEN: i64 = 100_000_000;

/// What anonymous donors are shown as.
pub const ANONYMOUS_DONOR: &str = "匿名爱心人士";

/// Check an amount of money: whole fen, 1 to [`MAX_AMOUNT_FEN`].
pub fn check_amount(amount_fen: i64, field: &str) -> AppResult<i64> {
    if (1..=MAX_AMOUNT_FEN).contains(&amount_fen) {
        Ok(amount_fen)
    } else {
        Err(AppError::bad_input(
            field,
            format!("must be 1 to {MAX_AMOUNT_FEN} fen (¥0.01 to ¥1,000,000)"),
        ))
    }
}

/// A new fund.
pub struct NewFund {
    /// The organization that holds it.
    pub organization_id: i64,
    /// 1–100 characters.
    pub name: String,
    /// What it is for, at most 2,000 characters.
    pub purpose: String,
}

/// Open a fund (organizers and administrators of the organization, or above).
#[tracing::instrument(skip_all, fields(viewer = viewer.id, organization_id = new.organization_id))]
pub async fn create_fund(
    db: &DatabaseConnection,
    viewer: &account::Model,
    new: NewFund,
) -> AppResult<fund::Model> {
    organization::Entity::find_by_id(new.organization_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("organization"))?;
    authz::require_manager(db, viewer, new.organization_id).await?;
    let row = fund::ActiveModel {
        organization_id: Set(new.organization_id),
        name: Set(new.name),
        purpose: Set(new.purpose),
        balance_fen: Set(0),
        donated_fen: Set(0),
        disbursed_fen: Set(0),
        created_by: Set(viewer.id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    tracing::info!(fund_id = row.id, "charity fund opened");
    Ok(row)
}

/// A fund by key (funds are public: their totals are the point).
pub async fn get_fund<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<fund::Model>> {
    Ok(fund::Entity::find_by_id(id).one(db).await?)
}

/// Where a donation goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum DonationTarget {
    /// A charity fund.
    Fund(i64),
    /// A published campaign (counts toward its fundraising goal).
    Campaign(i64),
}

/// A donation as given.
#[derive(Debug, Serialize)]
pub struct NewDonation {
    /// Fund or campaign.
    pub target: DonationTarget,
    /// Fen, 1 to [`MAX_AMOUNT_FEN`].
    pub amount_fen: i64,
    /// Name to show (the account's display name when not given).
    pub donor_name: Option<String>,
    /// Hide the donor from the public.
    pub anonymous: bool,
    /// A message, at most 200 characters.
    pub message: String,
}

/// Record a donation from `viewer`, once per idempotency key.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, amount_fen = new.amount_fen))]
pub async fn donate(
    db: &DatabaseConnection,
    viewer: &account::Model,
    new: NewDonation,
    idempotency_key: &str,
) -> AppResult<donation::Model> {
    check_amount(new.amount_fen, "input.amountFen")?;
    let req = IdempotentRequest::new(viewer.id, idempotency_key, "donate", &new)?;
    let donor_name = match &new.donor_name {
        Some(n) => validate::title(n, "input.donorName", 50)?,
        // Display names may be longer than the receipt's 50 characters.
        None => viewer.display_name.chars().take(50).collect(),
    };
    let txn = begin_write(db).await?;
    if let Claim::Replay(original) = idempotency::claim::<_, donation::Model>(&txn, &req).await? {
        txn.commit().await?;
        return Ok(original);
    }
    let (fund_id, campaign_id) = match new.target {
        DonationTarget::Fund(id) => {
            let moved = fund::Entity::update_many()
                .col_expr(
                    fund::Column::BalanceFen,
                    Expr::col(fund::Column::BalanceFen).add(new.amount_fen),
                )
                .col_expr(
                    fund::Column::DonatedFen,
                    Expr::col(fund::Column::DonatedFen).add(new.amount_fen),
                )
                .filter(fund::Column::Id.eq(id))
                .exec(&txn)
                .await?;
            if moved.rows_affected == 0 {
                return Err(AppError::NotFound("charity fund"));
            }
            (Some(id), None)
        }
        DonationTarget::Campaign(id) => {
            let c = campaigns::get_visible(&txn, Some(viewer), id)
                .await?
                .ok_or(AppError::NotFound("campaign"))?;
            if c.status != entity::campaign::CampaignStatus::Published {
                return Err(AppError::bad_input(
                    "input.campaignId",
                    "the campaign does not take donations now (it is not published)",
                ));
            }
            campaign::Entity::update_many()
                .col_expr(
                    campaign::Column::RaisedFen,
                    Expr::col(campaign::Column::RaisedFen).add(new.amount_fen),
                )
                .filter(campaign::Column::Id.eq(id))
                .exec(&txn)
                .await?;
            (None, Some(id))
        }
    };
    let now = Utc::now();
    let row = donation::ActiveModel {
        receipt_number: Set(ids::random_number("TXR", now.year())),
        fund_id: Set(fund_id),
        campaign_id: Set(campaign_id),
        account_id: Set(viewer.id),
        amount_fen: Set(new.amount_fen),
        donor_name: Set(donor_name),
        anonymous: Set(new.anonymous),
        message: Set(new.message),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    idempotency::complete(&txn, &req, &row).await?;
    txn.commit().await?;
    tracing::info!(donation_id = row.id, "donation recorded");
    Ok(row)
}

/// A disbursement as requested.
#[derive(Debug, Serialize)]
pub struct NewDisbursement {
    /// The fund paying.
    pub fund_id: i64,
    /// Fen, 1 to [`MAX_AMOUNT_FEN`] and at most the balance.
    pub amount_fen: i64,
    /// Why, 1–500 characters.
    pub purpose: String,
    /// The project's reference, 1–100 characters.
    pub project_ref: String,
}

/// Pay out of a fund (its managers only). `INSUFFICIENT_FUNDS` when the balance does not cover
/// it — decided by the database row, so concurrent disbursements cannot overdraw.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, fund_id = new.fund_id, amount_fen = new.amount_fen))]
pub async fn disburse(
    db: &DatabaseConnection,
    viewer: &account::Model,
    new: NewDisbursement,
    idempotency_key: &str,
) -> AppResult<disbursement::Model> {
    check_amount(new.amount_fen, "input.amountFen")?;
    let req = IdempotentRequest::new(viewer.id, idempotency_key, "disburse", &new)?;
    let f = get_fund(db, new.fund_id)
        .await?
        .ok_or(AppError::NotFound("charity fund"))?;
    authz::require_manager(db, viewer, f.organization_id).await?;
    let txn = begin_write(db).await?;
    if let Claim::Replay(original) =
        idempotency::claim::<_, disbursement::Model>(&txn, &req).await?
    {
        txn.commit().await?;
        return Ok(original);
    }
    let moved = fund::Entity::update_many()
        .col_expr(
            fund::Column::BalanceFen,
            Expr::col(fund::Column::BalanceFen).sub(new.amount_fen),
        )
        .col_expr(
            fund::Column::DisbursedFen,
            Expr::col(fund::Column::DisbursedFen).add(new.amount_fen),
        )
        .filter(fund::Column::Id.eq(f.id))
        .filter(fund::Column::BalanceFen.gte(new.amount_fen))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        // Rolled back on drop: the idempotency claim goes with it, so a retry can succeed
        // once money has come in.
        return Err(AppError::InsufficientFunds);
    }
    let row = disbursement::ActiveModel {
        fund_id: Set(f.id),
        amount_fen: Set(new.amount_fen),
        purpose: Set(new.purpose),
        project_ref: Set(new.project_ref),
        created_by: Set(viewer.id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    idempotency::complete(&txn, &req, &row).await?;
    txn.commit().await?;
    tracing::info!(disbursement_id = row.id, "disbursement recorded");
    Ok(row)
}

/// Whose donations to list.
#[derive(Clone, Copy, Debug)]
pub enum Donations {
    /// Given to a fund.
    ToFund(i64),
    /// Given to a campaign.
    ToCampaign(i64),
    /// Given by an account.
    By(i64),
}

/// Donations, oldest first.
pub async fn donations<C: ConnectionTrait>(
    db: &C,
    which: Donations,
    page: PageArgs,
) -> AppResult<Page<donation::Model>> {
    let filter = match which {
        Donations::ToFund(id) => donation::Column::FundId.eq(id),
        Donations::ToCampaign(id) => donation::Column::CampaignId.eq(id),
        Donations::By(id) => donation::Column::AccountId.eq(id),
    };
    fetch_page(
        db,
        donation::Entity::find().filter(filter),
        donation::Column::Id,
        page,
    )
    .await
}

/// The funds of organization `org` and everything below it (a subquery of fund ids).
pub fn funds_within(org: i64) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(fund::Column::Id)
        .from(fund::Entity)
        .and_where(authz::in_subtree(fund::Column::OrganizationId, org))
        .to_owned()
}

/// Donations to the funds and campaigns of `org` and everything below it.
pub fn donated_within(org: i64) -> sea_orm::Condition {
    sea_orm::Condition::any()
        .add(donation::Column::FundId.in_subquery(funds_within(org)))
        .add(
            donation::Column::CampaignId.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(campaign::Column::Id)
                    .from(campaign::Entity)
                    .and_where(authz::in_subtree(campaign::Column::OrganizationId, org))
                    .to_owned(),
            ),
        )
}

/// Donations to a fund, oldest first ([`crate::batch::ChildPages`]).
pub struct DonationsToFund;

impl crate::batch::Children for DonationsToFund {
    type Entity = donation::Entity;
    fn parent() -> donation::Column {
        donation::Column::FundId
    }
    fn key() -> donation::Column {
        donation::Column::Id
    }
    fn parent_of(row: &donation::Model) -> i64 {
        row.fund_id.unwrap_or_default()
    }
}

/// Donations to a campaign, oldest first ([`crate::batch::ChildPages`]).
pub struct DonationsToCampaign;

impl crate::batch::Children for DonationsToCampaign {
    type Entity = donation::Entity;
    fn parent() -> donation::Column {
        donation::Column::CampaignId
    }
    fn key() -> donation::Column {
        donation::Column::Id
    }
    fn parent_of(row: &donation::Model) -> i64 {
        row.campaign_id.unwrap_or_default()
    }
}

/// Disbursements of a fund, oldest first ([`crate::batch::ChildPages`]).
pub struct DisbursementsOf;

impl crate::batch::Children for DisbursementsOf {
    type Entity = disbursement::Entity;
    fn parent() -> disbursement::Column {
        disbursement::Column::FundId
    }
    fn key() -> disbursement::Column {
        disbursement::Column::Id
    }
    fn parent_of(row: &disbursement::Model) -> i64 {
        row.fund_id
    }
}

/// The funds an organization holds, oldest first ([`crate::batch::AllChildren`]).
pub struct FundsOf;

impl crate::batch::Children for FundsOf {
    type Entity = fund::Entity;
    fn parent() -> fund::Column {
        fund::Column::OrganizationId
    }
    fn key() -> fund::Column {
        fund::Column::Id
    }
    fn parent_of(row: &fund::Model) -> i64 {
        row.organization_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_whole_positive_and_bounded() {
        assert!(check_amount(1, "a").is_ok());
        assert!(check_amount(MAX_AMOUNT_FEN, "a").is_ok());
        for bad in [0, -1, MAX_AMOUNT_FEN + 1, i64::MAX, i64::MIN] {
            assert!(matches!(
                check_amount(bad, "a"),
                Err(AppError::BadUserInput { .. })
            ));
        }
    }
}
