//! GraphQL surface of charity funds, donations and disbursements.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::{
    charity_fund as fund, disbursement, donation,
    donation::{DonationChannel, DonationStatus},
};

use super::service::{
    self, ANONYMOUS_DONOR, DonationTarget, NewDisbursement, NewDonation, NewFund, NewOfflineGift,
    OfflineChannel,
};
use crate::{
    accounts::graphql::Account,
    authz,
    batch::ChildCounts,
    campaigns::graphql::Campaign,
    context::ContextExt,
    direct::Fast,
    error::AppError,
    ids::{self, NodeType},
    organizations::graphql::Organization,
    pagination::{PageArgs, Total, connection},
    payments::wechat::AppPayment,
    validate,
};

/// A community charity fund (社区慈善基金) of an organization. Its totals are public.
pub struct CharityFund(pub fund::Model);

/// A community charity fund (社区慈善基金) of an organization. Its totals are public.
#[Object]
impl CharityFund {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::CharityFund, self.0.id)
    }

    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the fund is for.
    async fn purpose(&self) -> &str {
        &self.0.purpose
    }

    /// The organization that holds it.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Fast<Organization>>> {
        Ok(crate::organizations::graphql::by_id(ctx, self.0.organization_id).await?)
    }

    /// Available now, in fen: always `donatedFen - disbursedFen`, never negative.
    async fn balance_fen(&self) -> i64 {
        self.0.balance_fen
    }

    /// Donated so far, in fen.
    async fn donated_fen(&self) -> i64 {
        self.0.donated_fen
    }

    /// Paid out so far, in fen.
    async fn disbursed_fen(&self) -> i64 {
        self.0.disbursed_fen
    }

    /// When it was opened.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// The service project it is tagged to (定向项目): its disbursements count towards it.
    async fn project(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::projects::graphql::ServiceProject>> {
        crate::projects::graphql::project_of(ctx, self.0.project_id).await
    }

    /// Donations, oldest first. Anonymous donors are hidden except from themselves and the
    /// fund's managers.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn donations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<Donation>> {
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let manager = crate::context::person_manages(ctx, self.0.organization_id).await?;
        let viewer = ctx.optional_account().await?;
        let rows = crate::batch::load(
            &state.db,
            (self.0.id, page),
            crate::batch::ChildPages::<service::DonationsToFund>::new,
        )
        .await?
        .unwrap_or_default();
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::batched(
                &state.db,
                self.0.id,
                ChildCounts::<service::DonationsToFund>::new,
            ),
            |d| d.id,
            |d| Donation::shown_to(d, viewer, manager),
        ))
    }

    /// Disbursements, oldest first: what went where and why.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn disbursements(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<Disbursement>> {
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let manager = crate::context::person_manages(ctx, self.0.organization_id).await?;
        let rows = crate::batch::load(
            &state.db,
            (self.0.id, page),
            crate::batch::ChildPages::<service::DisbursementsOf>::new,
        )
        .await?
        .unwrap_or_default();
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::batched(
                &state.db,
                self.0.id,
                ChildCounts::<service::DisbursementsOf>::new,
            ),
            |d| d.id,
            |d| Disbursement { model: d, manager },
        ))
    }
}

/// A donation. The public sees the amount, the message and the donor's name unless the donor
/// chose to stay anonymous; the receipt number only the donor and the fund's managers see.
pub struct Donation {
    model: donation::Model,
    /// The caller is the donor or manages the receiving organization.
    privileged: bool,
    /// How to pay it, in the answer to `donate` while it is pending.
    payment: Option<AppPayment>,
}

impl Donation {
    /// Wrap a row for a caller (`manager`: manages the recipient). The donor is privileged
    /// only in person, never through an API client.
    pub fn shown_to(
        model: donation::Model,
        viewer: Option<&entity::account::Model>,
        manager: bool,
    ) -> Self {
        let privileged = manager
            || viewer.is_some_and(|v| model.account_id.is_some_and(|id| authz::is_self(v, id)));
        Self {
            model,
            privileged,
            payment: None,
        }
    }
}

/// A donation to a fund or a campaign.
#[Object]
impl Donation {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Donation, self.model.id)
    }

    /// Receipt number (`TXR-…`): only for the donor and the recipient's managers, and only
    /// once the money is confirmed.
    async fn receipt_number(&self) -> Option<&str> {
        (self.privileged && self.model.status == DonationStatus::Confirmed)
            .then_some(self.model.receipt_number.as_str())
    }

    /// Whether the money has arrived. Only `CONFIRMED` donations count anywhere (balances,
    /// totals, statistics, receipts) and appear in a fund's or campaign's list; the donor sees
    /// their pending and expired ones in `myDonations`.
    async fn status(&self) -> DonationStatus {
        self.model.status
    }

    /// How the money came: WeChat Pay, or cash and bank transfers recorded by staff.
    async fn channel(&self) -> DonationChannel {
        self.model.channel
    }

    /// When the money was confirmed (paid online, or received offline).
    async fn confirmed_at(&self) -> Option<DateTime<Utc>> {
        self.model.confirmed_at
    }

    /// An offline gift's reference (receipt book number, bank reference): only for the
    /// recipient's managers.
    async fn reference(&self) -> Option<&str> {
        if self.privileged {
            self.model.reference.as_deref()
        } else {
            None
        }
    }

    /// How to pay a pending donation: the parameters the app hands to the WeChat SDK. Only in
    /// the answer to `donate` (a retry with the same idempotency key gives them again).
    async fn payment(&self) -> Option<&AppPayment> {
        self.payment.as_ref()
    }

    /// Amount in fen.
    async fn amount_fen(&self) -> i64 {
        self.model.amount_fen
    }

    /// The donor's name as given, or `匿名爱心人士` for an anonymous donation (except for the
    /// donor and the recipient's managers).
    async fn donor_name(&self) -> &str {
        if self.model.anonymous && !self.privileged {
            ANONYMOUS_DONOR
        } else {
            &self.model.donor_name
        }
    }

    /// Whether the donor asked to stay anonymous.
    async fn anonymous(&self) -> bool {
        self.model.anonymous
    }

    /// The donor's message.
    async fn message(&self) -> &str {
        &self.model.message
    }

    /// The fund it went to (`null` for a campaign donation).
    async fn fund(&self, ctx: &Context<'_>) -> Result<Option<CharityFund>> {
        Ok(match self.model.fund_id {
            Some(id) => crate::batch::load(
                &ctx.state().db,
                id,
                crate::batch::ById::<entity::charity_fund::Entity>::new,
            )
            .await?
            .map(CharityFund),
            None => None,
        })
    }

    /// The campaign it went to (`null` for a fund donation, or when the caller may not see
    /// the campaign).
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Option<crate::direct::Fast<Campaign>>> {
        Ok(match self.model.campaign_id {
            Some(id) => crate::campaigns::graphql::visible(ctx, id)
                .await?
                .map(crate::direct::Fast),
            None => None,
        })
    }

    /// When it was given.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
}

/// Money paid out of a fund.
pub struct Disbursement {
    model: disbursement::Model,
    /// The caller manages the fund's organization.
    manager: bool,
}

impl Disbursement {
    /// A disbursement as the public sees it (no recorder).
    pub fn public(model: disbursement::Model) -> Self {
        Self {
            model,
            manager: false,
        }
    }
}

/// Money paid out of a fund: how much, to which project, why and when.
#[Object]
impl Disbursement {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Disbursement, self.model.id)
    }

    /// Amount in fen.
    async fn amount_fen(&self) -> i64 {
        self.model.amount_fen
    }

    /// Why.
    async fn purpose(&self) -> &str {
        &self.model.purpose
    }

    /// The project's reference.
    async fn project_ref(&self) -> &str {
        &self.model.project_ref
    }

    /// The service project it went to (counted in its progress), if any.
    async fn project(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::projects::graphql::ServiceProject>> {
        crate::projects::graphql::project_of(ctx, self.model.project_id).await
    }

    /// Who recorded it: only for the fund's managers.
    async fn recorded_by(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        if !self.manager {
            return Ok(None);
        }
        Ok(crate::batch::load(
            &ctx.state().db,
            self.model.created_by,
            crate::batch::ById::<entity::account::Entity>::new,
        )
        .await?
        .map(|a| Account::with_phone_visibility(a, false)))
    }

    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
}

/// Input of `createCharityFund`.
#[derive(InputObject)]
pub struct CreateCharityFundInput {
    /// The holding organization (you must be its ORGANIZER or ADMIN, or an administrator above).
    organization_id: ID,
    /// Name, 1–100 characters.
    name: String,
    /// What it is for, at most 2,000 characters.
    #[graphql(default)]
    purpose: String,
}

/// Input of `donate`: exactly one of `fundId` and `campaignId`.
#[derive(InputObject)]
pub struct DonateInput {
    /// A charity fund.
    fund_id: Option<ID>,
    /// A published campaign.
    campaign_id: Option<ID>,
    /// Fen, 1 to 100,000,000 (¥1,000,000).
    amount_fen: i64,
    /// Name to show, 1–50 characters (your display name when left out).
    donor_name: Option<String>,
    /// Hide your name from the public.
    #[graphql(default)]
    anonymous: bool,
    /// A message, at most 200 characters.
    #[graphql(default)]
    message: String,
    /// Any unique string (a UUID): a retry with the same key records nothing new.
    idempotency_key: String,
}

/// How an offline gift came.
#[derive(async_graphql::Enum, Clone, Copy, PartialEq, Eq)]
pub enum OfflineDonationChannel {
    /// Cash handed to staff.
    Cash,
    /// A bank transfer to the organization.
    BankTransfer,
}

/// Input of `recordOfflineDonation`: exactly one of `fundId` and `campaignId`.
#[derive(InputObject)]
pub struct RecordOfflineDonationInput {
    /// A charity fund of your organization.
    fund_id: Option<ID>,
    /// A published or closed campaign of your organization.
    campaign_id: Option<ID>,
    /// Fen, 1 to 100,000,000 (¥1,000,000).
    amount_fen: i64,
    /// Cash or bank transfer.
    channel: OfflineDonationChannel,
    /// The receipt book number or the bank's reference, 1–100 characters.
    reference: String,
    /// The donor's name, 1–50 characters.
    donor_name: String,
    /// Hide the donor's name from the public.
    #[graphql(default)]
    anonymous: bool,
    /// A message, at most 200 characters.
    #[graphql(default)]
    message: String,
    /// When the money was received (now when left out): in the past year, not in the future.
    received_at: Option<DateTime<Utc>>,
    /// Any unique string (a UUID): a retry with the same key records nothing new.
    idempotency_key: String,
}

/// The fund or campaign of a donation input: exactly one.
fn target(fund_id: Option<&ID>, campaign_id: Option<&ID>) -> Result<DonationTarget, AppError> {
    match (fund_id, campaign_id) {
        (Some(f), None) => Ok(DonationTarget::Fund(ids::decode(
            NodeType::CharityFund,
            f,
            "input.fundId",
        )?)),
        (None, Some(c)) => Ok(DonationTarget::Campaign(ids::decode(
            NodeType::Campaign,
            c,
            "input.campaignId",
        )?)),
        _ => Err(AppError::bad_input(
            "input.fundId",
            msg!(
                "give exactly one of fundId and campaignId",
                "请在慈善基金和主题活动中选择且只选择一个"
            ),
        )),
    }
}

/// Input of `disburse`.
#[derive(InputObject)]
pub struct DisburseInput {
    /// The fund paying.
    fund_id: ID,
    /// Fen, 1 to 100,000,000, at most the balance (`INSUFFICIENT_FUNDS` otherwise).
    amount_fen: i64,
    /// Why, 1–500 characters.
    purpose: String,
    /// The project's reference, 1–100 characters; the project's title when left out with a
    /// `projectId`.
    #[graphql(default)]
    project_ref: String,
    /// The service project the money goes to (counted in its progress); the fund's tagged
    /// project when left out (`tagFundToProject`).
    project_id: Option<ID>,
    /// Any unique string (a UUID): a retry with the same key pays nothing more.
    idempotency_key: String,
}

/// Fund queries.
#[derive(Default)]
pub struct FundQuery;

#[Object]
impl FundQuery {
    /// A charity fund by ID.
    async fn charity_fund(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the fund.")] id: ID,
    ) -> Result<Option<CharityFund>> {
        let key = ids::decode(NodeType::CharityFund, &id, "id")?;
        Ok(service::get_fund(&ctx.state().db, key)
            .await?
            .map(CharityFund))
    }

    /// The caller's own donations, oldest first (receipt numbers included).
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn my_donations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<Donation>> {
        let viewer = ctx.require_account().await?;
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = service::donations(&state.db, service::Donations::By(viewer.id), page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::of(
                &state.db,
                service::donations_of(service::Donations::By(viewer.id)),
            ),
            |d| d.id,
            |d| Donation::shown_to(d, Some(viewer), false),
        ))
    }
}

/// Fund mutations.
#[derive(Default)]
pub struct FundMutation;

#[Object]
impl FundMutation {
    /// Open a community charity fund for an organization.
    async fn create_charity_fund(
        &self,
        ctx: &Context<'_>,
        input: CreateCharityFundInput,
    ) -> Result<CharityFund> {
        let viewer = ctx.require_account().await?;
        let new = NewFund {
            organization_id: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            name: validate::title(&input.name, "input.name", 100)?,
            purpose: validate::text(&input.purpose, "input.purpose", 2_000)?,
        };
        Ok(CharityFund(
            service::create_fund(&ctx.state().db, viewer, new).await?,
        ))
    }

    /// Give to a fund or a published campaign online (any signed-in account). The donation is
    /// `PENDING`, and the answer carries `payment`, what the app pays it with through WeChat
    /// Pay; it counts (and gets its receipt number) only when WeChat Pay's signed notification
    /// confirms the payment. `SERVICE_UNAVAILABLE` when online payments are not set up or the
    /// payment service cannot be reached (retry with the same idempotency key).
    async fn donate(&self, ctx: &Context<'_>, input: DonateInput) -> Result<Donation> {
        let viewer = ctx.require_account().await?;
        let new = NewDonation {
            target: target(input.fund_id.as_ref(), input.campaign_id.as_ref())?,
            amount_fen: input.amount_fen,
            donor_name: input.donor_name,
            anonymous: input.anonymous,
            message: validate::text(&input.message, "input.message", 200)?,
        };
        let state = ctx.state();
        let window = chrono::Duration::minutes(i64::from(state.config.payment_window_minutes));
        let done = Box::pin(service::donate(
            &state.db,
            state.payments.as_deref(),
            window,
            viewer,
            new,
            &input.idempotency_key,
        ))
        .await?;
        let mut answer = Donation::shown_to(done.donation, Some(viewer), false);
        answer.payment = done.payment;
        Ok(answer)
    }

    /// Record a gift that came as cash or a bank transfer (staff of the receiving
    /// organization). It counts at once, is marked with its channel and reference, and is
    /// written to the organization's audit log. The same reference twice for one recipient
    /// and channel is `CONFLICT`.
    async fn record_offline_donation(
        &self,
        ctx: &Context<'_>,
        input: RecordOfflineDonationInput,
    ) -> Result<Donation> {
        let viewer = ctx.require_account().await?;
        let new = NewOfflineGift {
            target: target(input.fund_id.as_ref(), input.campaign_id.as_ref())?,
            amount_fen: input.amount_fen,
            channel: match input.channel {
                OfflineDonationChannel::Cash => OfflineChannel::Cash,
                OfflineDonationChannel::BankTransfer => OfflineChannel::BankTransfer,
            },
            reference: validate::title(&input.reference, "input.reference", 100)?,
            donor_name: validate::title(&input.donor_name, "input.donorName", 50)?,
            anonymous: input.anonymous,
            message: validate::text(&input.message, "input.message", 200)?,
            received_at: input.received_at,
        };
        let row =
            service::record_offline_gift(&ctx.state().db, viewer, new, &input.idempotency_key)
                .await?;
        Ok(Donation::shown_to(row, Some(viewer), true))
    }

    /// Pay out of a fund to a project (the fund's managers). Never takes the balance below
    /// zero: `INSUFFICIENT_FUNDS` when it does not cover the amount.
    async fn disburse(&self, ctx: &Context<'_>, input: DisburseInput) -> Result<Disbursement> {
        let viewer = ctx.require_account().await?;
        let new = NewDisbursement {
            fund_id: ids::decode(NodeType::CharityFund, &input.fund_id, "input.fundId")?,
            amount_fen: input.amount_fen,
            purpose: validate::title(&input.purpose, "input.purpose", 500)?,
            project_ref: input.project_ref,
            project_id: input
                .project_id
                .map(|id| ids::decode(NodeType::ServiceProject, &id, "input.projectId"))
                .transpose()?,
        };
        let row = service::disburse(&ctx.state().db, viewer, new, &input.idempotency_key).await?;
        Ok(Disbursement {
            model: row,
            manager: true,
        })
    }
}
