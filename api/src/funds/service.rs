//! Funds, donations and disbursements, without GraphQL.

use chrono::{Datelike, Utc};
use entity::{
    account, campaign, charity_fund as fund, disbursement, donation,
    donation::{DonationChannel, DonationStatus},
    organization,
};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait},
};
use serde::Serialize;

use crate::{
    authz,
    campaigns::service as campaigns,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    idempotency::{self, Claim, IdempotentRequest},
    ids,
    pagination::{Page, PageArgs, fetch_page},
    payments::{
        Paid, WechatPay,
        wechat::{AppPayment, Order},
    },
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
            msg!(
                "must be 1 to {MAX_AMOUNT_FEN} fen (¥0.01 to ¥1,000,000)",
                "金额须为 0.01 至 1,000,000 元"
            ),
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
        .ok_or(AppError::NotFound(Noun::Organization))?;
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

/// A donation as the donor's phone receives it: the row, and while it waits for payment, what
/// the app pays it with.
pub struct Donated {
    /// The donation (`PENDING` until the payment provider confirms it).
    pub donation: donation::Model,
    /// The parameters the WeChat SDK pays the order with (`None` once it is no longer pending).
    pub payment: Option<AppPayment>,
}

/// What donors see the order as in WeChat.
const ORDER_DESCRIPTION: &str = "同行·公益捐赠";

/// Start an online donation from `viewer`, once per idempotency key: a `PENDING` row and an
/// order at the payment provider. Nothing counts until the provider's signed notification
/// confirms the payment ([`confirm_payment`]). A retry with the same key opens the same order
/// again (after a lost answer, or when the provider was briefly unreachable).
#[tracing::instrument(skip_all, fields(viewer = viewer.id, amount_fen = new.amount_fen))]
pub async fn donate(
    db: &DatabaseConnection,
    pay: Option<&WechatPay>,
    window: chrono::Duration,
    viewer: &account::Model,
    new: NewDonation,
    idempotency_key: &str,
) -> AppResult<Donated> {
    check_amount(new.amount_fen, "input.amountFen")?;
    let pay = pay.ok_or(AppError::ProviderUnavailable(msg!(
        "online donations are not set up on this server; the organization's staff can record \
         cash and bank transfers",
        "暂未开通在线捐赠；现金和银行转账可由组织工作人员登记"
    )))?;
    let req = IdempotentRequest::new(viewer.id, idempotency_key, "donate", &new)?;
    let donor_name = match &new.donor_name {
        Some(n) => validate::title(n, "input.donorName", 50)?,
        // Display names may be longer than the receipt's 50 characters.
        None => viewer.display_name.chars().take(50).collect(),
    };
    let txn = begin_write(db).await?;
    let row = match idempotency::claim::<_, donation::Model>(&txn, &req).await? {
        Claim::Replay(original) => {
            txn.commit().await?;
            // The stored answer is as it was; the row may have been paid since.
            donation::Entity::find_by_id(original.id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound(Noun::Donation))?
        }
        Claim::New => {
            match new.target {
                DonationTarget::Fund(id) => {
                    get_fund(&txn, id)
                        .await?
                        .ok_or(AppError::NotFound(Noun::CharityFund))?;
                }
                DonationTarget::Campaign(id) => {
                    let c = campaigns::get_visible(&txn, Some(viewer), id)
                        .await?
                        .ok_or(AppError::NotFound(Noun::Campaign))?;
                    if c.status != entity::campaign::CampaignStatus::Published {
                        return Err(AppError::bad_input(
                            "input.campaignId",
                            msg!(
                                "the campaign does not take donations now (it is not published)",
                                "该主题活动未发布，暂不接受捐赠"
                            ),
                        ));
                    }
                }
            }
            let (fund_id, campaign_id) = new.target.columns();
            let now = Utc::now();
            let row = donation::ActiveModel {
                receipt_number: Set(ids::random_number("TXR", now.year())),
                fund_id: Set(fund_id),
                campaign_id: Set(campaign_id),
                account_id: Set(Some(viewer.id)),
                amount_fen: Set(new.amount_fen),
                donor_name: Set(donor_name),
                anonymous: Set(new.anonymous),
                message: Set(new.message),
                created_at: Set(now),
                status: Set(DonationStatus::Pending),
                channel: Set(DonationChannel::WechatPay),
                out_trade_no: Set(Some(ids::random_number("TXO", now.year()))),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            idempotency::complete(&txn, &req, &row).await?;
            txn.commit().await?;
            tracing::info!(
                donation_id = row.id,
                "donation started, waiting for payment"
            );
            row
        }
    };
    let payment = match (row.status, &row.out_trade_no) {
        (DonationStatus::Pending, Some(out_trade_no)) => {
            let expires_at = row.created_at + window;
            if expires_at <= Utc::now() {
                return Err(AppError::Conflict(msg!(
                    "this donation's payment window has passed; start a new donation",
                    "该笔捐赠已超过支付时限，请重新发起捐赠"
                )));
            }
            // Boxed: an HTTP request's future is large, and resolvers' stacks are not.
            Some(
                Box::pin(pay.open_app_order(&Order {
                    out_trade_no,
                    description: ORDER_DESCRIPTION,
                    total_fen: row.amount_fen,
                    expires_at,
                }))
                .await?,
            )
        }
        _ => None,
    };
    Ok(Donated {
        donation: row,
        payment,
    })
}

impl DonationTarget {
    /// `(fund_id, campaign_id)` of a donation row.
    fn columns(self) -> (Option<i64>, Option<i64>) {
        match self {
            Self::Fund(id) => (Some(id), None),
            Self::Campaign(id) => (None, Some(id)),
        }
    }
}

/// Add confirmed money to what it was given to: the fund's balance and total, or the
/// campaign's raised total. Inside the transaction that confirms it.
async fn credit(txn: &DatabaseTransaction, d: &donation::Model) -> AppResult<()> {
    let moved = if let Some(id) = d.fund_id {
        fund::Entity::update_many()
            .col_expr(
                fund::Column::BalanceFen,
                Expr::col(fund::Column::BalanceFen).add(d.amount_fen),
            )
            .col_expr(
                fund::Column::DonatedFen,
                Expr::col(fund::Column::DonatedFen).add(d.amount_fen),
            )
            .filter(fund::Column::Id.eq(id))
            .exec(txn)
            .await?
    } else {
        campaign::Entity::update_many()
            .col_expr(
                campaign::Column::RaisedFen,
                Expr::col(campaign::Column::RaisedFen).add(d.amount_fen),
            )
            .filter(campaign::Column::Id.eq(d.campaign_id))
            .exec(txn)
            .await?
    };
    if moved.rows_affected != 1 {
        return Err(AppError::Internal(anyhow::anyhow!(
            "donation {} has no fund or campaign to credit",
            d.id
        )));
    }
    Ok(())
}

/// What a payment notification did.
#[derive(Debug, PartialEq, Eq)]
pub enum Confirmation {
    /// The donation is confirmed now, and its money counted.
    Confirmed(Box<donation::Model>),
    /// It was confirmed by this very transaction before (a retried or replayed notification):
    /// nothing changed.
    AlreadyConfirmed,
}

/// Confirm the donation a verified payment notification names, in one write transaction: the
/// donation becomes `CONFIRMED` with the provider's transaction ID, and its money reaches the
/// fund or campaign. A replay of the same transaction changes nothing; an amount that differs
/// from the donation's, a transaction already used for another donation, or a second payment
/// of a confirmed donation is refused (`CONFLICT`) and changes nothing.
#[tracing::instrument(skip_all, fields(out_trade_no = %paid.out_trade_no))]
pub async fn confirm_payment(db: &DatabaseConnection, paid: &Paid) -> AppResult<Confirmation> {
    let txn = begin_write(db).await?;
    let by_order = || {
        donation::Entity::find()
            .filter(donation::Column::OutTradeNo.eq(paid.out_trade_no.as_str()))
            .filter(donation::Column::Channel.eq(DonationChannel::WechatPay))
    };
    let d = by_order()
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound(Noun::Donation))?;
    let settled = |d: &donation::Model| {
        if d.transaction_id.as_deref() == Some(paid.transaction_id.as_str()) {
            Ok(Confirmation::AlreadyConfirmed)
        } else {
            tracing::error!(
                donation_id = d.id,
                "a second payment arrived for a confirmed donation; refund it by hand"
            );
            Err(AppError::Conflict(msg!(
                "the donation was confirmed by another transaction",
                "该笔捐赠已由另一笔交易确认"
            )))
        }
    };
    if d.status == DonationStatus::Confirmed {
        return settled(&d);
    }
    if paid.total_fen != d.amount_fen {
        tracing::error!(
            donation_id = d.id,
            paid_fen = paid.total_fen,
            expected_fen = d.amount_fen,
            "a payment's amount differs from its donation's; not counted"
        );
        return Err(AppError::Conflict(msg!(
            "the amount paid differs from the donation's",
            "支付金额与捐赠金额不符"
        )));
    }
    let moved = donation::Entity::update_many()
        .col_expr(
            donation::Column::Status,
            Expr::value(DonationStatus::Confirmed),
        )
        .col_expr(
            donation::Column::TransactionId,
            Expr::value(paid.transaction_id.as_str()),
        )
        .col_expr(donation::Column::ConfirmedAt, Expr::value(paid.paid_at))
        .filter(donation::Column::Id.eq(d.id))
        .filter(donation::Column::Status.is_in([DonationStatus::Pending, DonationStatus::Expired]))
        .exec(&txn)
        .await
        .map_err(|e| {
            AppError::from_db_unique(e, || {
                AppError::Conflict(msg!(
                    "this transaction already confirmed another donation",
                    "该笔交易已确认过另一笔捐赠"
                ))
            })
        })?;
    if moved.rows_affected == 0 {
        // Confirmed by a notification that committed while this one waited for the row.
        let now = by_order()
            .one(&txn)
            .await?
            .ok_or(AppError::NotFound(Noun::Donation))?;
        return settled(&now);
    }
    let confirmed = donation::Model {
        status: DonationStatus::Confirmed,
        transaction_id: Some(paid.transaction_id.clone()),
        confirmed_at: Some(paid.paid_at),
        ..d
    };
    credit(&txn, &confirmed).await?;
    txn.commit().await?;
    tracing::info!(donation_id = confirmed.id, "donation paid and confirmed");
    Ok(Confirmation::Confirmed(Box::new(confirmed)))
}

/// How an offline gift came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum OfflineChannel {
    /// Cash handed to staff.
    Cash,
    /// A bank transfer to the organization.
    BankTransfer,
}

impl From<OfflineChannel> for DonationChannel {
    fn from(c: OfflineChannel) -> Self {
        match c {
            OfflineChannel::Cash => Self::Cash,
            OfflineChannel::BankTransfer => Self::BankTransfer,
        }
    }
}

/// An offline gift as staff record it.
#[derive(Debug, Serialize)]
pub struct NewOfflineGift {
    /// Fund or campaign.
    pub target: DonationTarget,
    /// Fen, 1 to [`MAX_AMOUNT_FEN`].
    pub amount_fen: i64,
    /// Cash or bank transfer.
    pub channel: OfflineChannel,
    /// The receipt book number or the bank's reference, 1–100 characters: unique per recipient
    /// and channel.
    pub reference: String,
    /// The donor's name, 1–50 characters.
    pub donor_name: String,
    /// Hide the donor from the public.
    pub anonymous: bool,
    /// A message, at most 200 characters.
    pub message: String,
    /// When the money was received (now when not given): not in the future, at most a year ago.
    pub received_at: Option<chrono::DateTime<Utc>>,
}

/// Record a gift that came as cash or a bank transfer (staff of the receiving organization),
/// once per idempotency key. It counts at once, is marked with its channel, reference and who
/// recorded it, and goes in the organization's audit log. The same reference twice for one
/// recipient and channel is refused (`CONFLICT`), so one transfer cannot count twice.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, amount_fen = new.amount_fen))]
pub async fn record_offline_gift(
    db: &DatabaseConnection,
    viewer: &account::Model,
    new: NewOfflineGift,
    idempotency_key: &str,
) -> AppResult<donation::Model> {
    check_amount(new.amount_fen, "input.amountFen")?;
    let now = Utc::now();
    let received_at = new.received_at.unwrap_or(now);
    if received_at > now + chrono::Duration::minutes(5)
        || received_at < now - chrono::Duration::days(366)
    {
        return Err(AppError::bad_input(
            "input.receivedAt",
            msg!(
                "must be in the past year, and not in the future",
                "收款时间须在过去一年内，且不能晚于现在"
            ),
        ));
    }
    let req = IdempotentRequest::new(viewer.id, idempotency_key, "recordOfflineGift", &new)?;
    let organization_id = match new.target {
        DonationTarget::Fund(id) => {
            get_fund(db, id)
                .await?
                .ok_or(AppError::NotFound(Noun::CharityFund))?
                .organization_id
        }
        DonationTarget::Campaign(id) => {
            let c = campaign::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or(AppError::NotFound(Noun::Campaign))?;
            if !authz::is_staff(db, viewer, c.organization_id).await? {
                return Err(AppError::NotFound(Noun::Campaign));
            }
            if !matches!(
                c.status,
                entity::campaign::CampaignStatus::Published
                    | entity::campaign::CampaignStatus::Closed
            ) {
                return Err(AppError::bad_input(
                    "input.campaignId",
                    msg!(
                        "only a published or closed campaign takes gifts",
                        "只有已发布或已结束的主题活动可以登记捐赠"
                    ),
                ));
            }
            c.organization_id
        }
    };
    if !authz::is_staff(db, viewer, organization_id).await? {
        return Err(AppError::Forbidden(msg!(
            "only staff of the receiving organization record offline gifts",
            "仅受赠组织的工作人员可登记线下捐赠"
        )));
    }
    let txn = begin_write(db).await?;
    if let Claim::Replay(original) = idempotency::claim::<_, donation::Model>(&txn, &req).await? {
        txn.commit().await?;
        return Ok(original);
    }
    let (fund_id, campaign_id) = new.target.columns();
    let channel = DonationChannel::from(new.channel);
    let row = donation::ActiveModel {
        receipt_number: Set(ids::random_number("TXR", received_at.year())),
        fund_id: Set(fund_id),
        campaign_id: Set(campaign_id),
        account_id: Set(None),
        amount_fen: Set(new.amount_fen),
        donor_name: Set(new.donor_name.clone()),
        anonymous: Set(new.anonymous),
        message: Set(new.message.clone()),
        created_at: Set(now),
        status: Set(DonationStatus::Confirmed),
        channel: Set(channel),
        reference: Set(Some(new.reference.clone())),
        recorded_by: Set(Some(viewer.id)),
        confirmed_at: Set(Some(received_at)),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        AppError::from_db_unique(e, || {
            AppError::Conflict(msg!(
                "a gift with this reference is already recorded for this recipient",
                "该受赠方已登记过相同凭证号的捐赠"
            ))
        })
    })?;
    credit(&txn, &row).await?;
    crate::privacy::audit(
        &txn,
        viewer.id,
        "donation.offline",
        Some(organization_id),
        None,
        format!(
            "{} {} fen, reference {}, donation {}",
            channel.to_value(),
            row.amount_fen,
            new.reference,
            row.receipt_number
        ),
    )
    .await?;
    idempotency::complete(&txn, &req, &row).await?;
    txn.commit().await?;
    tracing::info!(donation_id = row.id, "offline gift recorded");
    Ok(row)
}

/// Mark online donations still unpaid `window` after they were started as `EXPIRED` (the
/// provider takes no payment for them after that). Returns how many.
pub async fn expire_unpaid(
    db: &DatabaseConnection,
    now: chrono::DateTime<Utc>,
    window: chrono::Duration,
) -> AppResult<u64> {
    Ok(donation::Entity::update_many()
        .col_expr(
            donation::Column::Status,
            Expr::value(DonationStatus::Expired),
        )
        .filter(donation::Column::Status.eq(DonationStatus::Pending))
        .filter(donation::Column::CreatedAt.lt(now - window))
        .exec(db)
        .await?
        .rows_affected)
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
    /// The project's reference, 1–100 characters (the project's title when empty with a
    /// project).
    pub project_ref: String,
    /// The service project it goes to; the fund's tagged project when `None`.
    pub project_id: Option<i64>,
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
        .ok_or(AppError::NotFound(Noun::CharityFund))?;
    authz::require_manager(db, viewer, f.organization_id).await?;
    // A project named here must be of the fund's line of the network (a tagged one was
    // checked when it was tagged).
    if let Some(p) = new.project_id {
        crate::projects::service::check_part_of(db, p, f.organization_id).await?;
    }
    let project = match new.project_id.or(f.project_id) {
        Some(p) => crate::projects::service::get(db, p).await?,
        None => None,
    };
    let project_ref = match (&project, new.project_ref.trim().is_empty()) {
        (Some(p), true) => p.title.chars().take(100).collect(),
        _ => crate::validate::title(&new.project_ref, "input.projectRef", 100)?,
    };
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
        project_ref: Set(project_ref),
        project_id: Set(project.map(|p| p.id)),
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

/// Donations, oldest first: confirmed ones only to a fund or campaign, all of them (pending and
/// expired too) by an account.
pub async fn donations<C: ConnectionTrait>(
    db: &C,
    which: Donations,
    page: PageArgs,
) -> AppResult<Page<donation::Model>> {
    fetch_page(db, donations_of(which), donation::Column::Id, page).await
}

/// Every donation [`donations`] pages through (its `totalCount`).
pub fn donations_of(which: Donations) -> sea_orm::Select<donation::Entity> {
    let confirmed = donation::Column::Status.eq(DonationStatus::Confirmed);
    let filter = match which {
        Donations::ToFund(id) => donation::Column::FundId.eq(id).and(confirmed),
        Donations::ToCampaign(id) => donation::Column::CampaignId.eq(id).and(confirmed),
        Donations::By(id) => donation::Column::AccountId.eq(id),
    };
    donation::Entity::find().filter(filter)
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

/// Confirmed donations to a fund, oldest first ([`crate::batch::ChildPages`]).
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
    fn narrow(select: sea_orm::Select<donation::Entity>) -> sea_orm::Select<donation::Entity> {
        select.filter(donation::Column::Status.eq(DonationStatus::Confirmed))
    }
}

/// Confirmed donations to a campaign, oldest first ([`crate::batch::ChildPages`]).
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
    fn narrow(select: sea_orm::Select<donation::Entity>) -> sea_orm::Select<donation::Entity> {
        select.filter(donation::Column::Status.eq(DonationStatus::Confirmed))
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

/// The funds an organization holds, oldest first ([`crate::batch::first_children`]).
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
