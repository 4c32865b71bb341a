//! GraphQL surface of the time bank.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{account, timebank_entry, timebank_transfer};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::service::{self, Owner};
use crate::{
    accounts::domain::Phone,
    context::ContextExt,
    error::{AppError, Noun},
    pagination::{PageArgs, connection},
    validate,
};

/// A movement of time coins.
#[derive(SimpleObject)]
pub struct TimeCoinTransfer {
    /// Hundredths of a coin.
    amount: i64,
    /// Why the coins moved.
    kind: entity::timebank_transfer::TransferKind,
    /// Why.
    memo: String,
    /// When.
    created_at: DateTime<Utc>,
}

impl From<timebank_transfer::Model> for TimeCoinTransfer {
    fn from(t: timebank_transfer::Model) -> Self {
        Self {
            amount: t.amount,
            kind: t.kind,
            memo: t.memo,
            created_at: t.created_at,
        }
    }
}

/// One line of an account's ledger.
pub struct TimeCoinEntry(timebank_entry::Model);

impl TimeCoinEntry {
    /// The transfer this line is one side of (batched with the page's other lines).
    async fn transfer(&self, ctx: &Context<'_>) -> Result<timebank_transfer::Model> {
        crate::batch::load(
            &ctx.state().db,
            self.0.transfer_id,
            crate::batch::ById::<timebank_transfer::Entity>::new,
        )
        .await?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "ledger entry {} has no transfer",
                self.0.id
            ))
            .into()
        })
    }
}

/// Who is on the other side of a ledger line: a person, or an organization's issuing account.
#[derive(async_graphql::Union)]
pub enum TimeCoinCounterparty {
    /// A person (phone masked unless the caller may see it).
    Account(crate::accounts::graphql::Account),
    /// An organization (its issuing account paid for service, or received a redemption).
    Organization(crate::organizations::graphql::Organization),
}

/// One line of an account's ledger.
#[Object]
impl TimeCoinEntry {
    /// Signed hundredths of a coin: credits positive, debits negative.
    async fn amount(&self) -> i64 {
        self.0.amount
    }

    /// When.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Why the coins moved: paid for service, a gift, a redemption, or a correction.
    async fn kind(&self, ctx: &Context<'_>) -> Result<timebank_transfer::TransferKind> {
        Ok(self.transfer(ctx).await?.kind)
    }

    /// The words that came with it (a gift's note, what a redemption paid for); may be empty.
    async fn memo(&self, ctx: &Context<'_>) -> Result<String> {
        Ok(self.transfer(ctx).await?.memo)
    }

    /// Who sent the coins (for a credit) or received them (for a debit).
    async fn counterparty(&self, ctx: &Context<'_>) -> Result<Option<TimeCoinCounterparty>> {
        let t = self.transfer(ctx).await?;
        let other = if t.from_account_id == self.0.account_id {
            t.to_account_id
        } else {
            t.from_account_id
        };
        let Some(bank) = crate::batch::load(
            &ctx.state().db,
            other,
            crate::batch::ById::<entity::timebank_account::Entity>::new,
        )
        .await?
        else {
            return Ok(None);
        };
        if let Some(person) = bank.owner_account_id {
            let a = crate::accounts::graphql::required(ctx, person).await?;
            return Ok(Some(TimeCoinCounterparty::Account(a)));
        }
        match bank.owner_organization_id {
            Some(org) => {
                let o = crate::organizations::graphql::required(ctx, org).await?;
                Ok(Some(TimeCoinCounterparty::Organization(o.0)))
            }
            None => Ok(None),
        }
    }

    /// The service record the coins paid for (`SERVICE`); `null` for other kinds.
    async fn service_record(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::checkins::graphql::ServiceRecord>> {
        let Some(id) = self.transfer(ctx).await?.service_record_id else {
            return Ok(None);
        };
        // The line is the caller's to see, and so is the service it paid for (the volunteer's
        // own record, or one of the paying organization's).
        Ok(crate::batch::load(
            &ctx.state().db,
            id,
            crate::batch::ById::<entity::service_record::Entity>::new,
        )
        .await?
        .map(crate::checkins::graphql::ServiceRecord))
    }
}

/// A time-bank account (时间银行): a person's, or an organization's issuing account.
pub struct TimeBank {
    account_id: i64,
    balance: i64,
}

/// A time-bank account (时间银行): a person's, or an organization's issuing account.
#[Object]
impl TimeBank {
    /// Balance in hundredths of a coin. A person's never goes below zero; an organization's
    /// issuing account goes below zero by what it has paid out for service.
    async fn balance(&self) -> i64 {
        self.balance
    }

    /// Ledger entries, oldest first; a page reads only this account's entries (indexed).
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<TimeCoinEntry>> {
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = service::entries(&state.db, self.account_id, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            crate::pagination::Total::of(&state.db, service::entries_of(self.account_id)),
            |e| e.id,
            TimeCoinEntry,
        ))
    }
}

/// The time bank of `owner` (the caller must already be allowed to see it).
pub async fn time_bank_of(ctx: &Context<'_>, owner: Owner) -> Result<TimeBank> {
    let a = service::account_of(&ctx.state().db, owner).await?;
    Ok(TimeBank {
        account_id: a.id,
        balance: a.balance,
    })
}

/// Input of `transferTimeCoins`.
#[derive(InputObject)]
pub struct TransferTimeCoinsInput {
    /// The receiver's registered phone number.
    to_phone: String,
    /// Hundredths of a coin, 1–1,000,000.
    amount: i64,
    /// A few words for the receiver.
    #[graphql(default)]
    memo: String,
    /// Client-chosen key; a retry with it transfers nothing more.
    idempotency_key: String,
}

/// Input of `redeemTimeCoins`.
#[derive(InputObject)]
pub struct RedeemTimeCoinsInput {
    /// The organization providing the service.
    organization_id: async_graphql::ID,
    /// Hundredths of a coin, 1–1,000,000.
    amount: i64,
    /// What for.
    #[graphql(default)]
    memo: String,
    /// Client-chosen key; a retry with it spends nothing more.
    idempotency_key: String,
}

/// Time-bank mutations.
#[derive(Default)]
pub struct TimeBankMutation;

#[Object]
impl TimeBankMutation {
    /// Spend time coins on a service an organization provides. Never takes the balance below
    /// zero (`CONFLICT`); idempotent per key. Recorded hours are not touched.
    async fn redeem_time_coins(
        &self,
        ctx: &Context<'_>,
        input: RedeemTimeCoinsInput,
    ) -> Result<TimeCoinTransfer> {
        let viewer = ctx.require_account().await?;
        let org = crate::ids::decode(
            crate::ids::NodeType::Organization,
            &input.organization_id,
            "input.organizationId",
        )?;
        crate::organizations::service::get(&ctx.state().db, org)
            .await?
            .ok_or(AppError::NotFound(Noun::Organization))?;
        let memo = validate::text(&input.memo, "input.memo", 200)?;
        Ok(service::redeem(
            &ctx.state().db,
            viewer.id,
            org,
            input.amount,
            memo,
            &input.idempotency_key,
        )
        .await?
        .into())
    }

    /// Give time coins to another registered person (e.g. an elderly relative). Never takes a
    /// balance below zero (`CONFLICT`); idempotent per key.
    async fn transfer_time_coins(
        &self,
        ctx: &Context<'_>,
        input: TransferTimeCoinsInput,
    ) -> Result<TimeCoinTransfer> {
        let viewer = ctx.require_account().await?;
        let phone = Phone::parse(&input.to_phone, "input.toPhone")?;
        let memo = validate::text(&input.memo, "input.memo", 200)?;
        let to = account::Entity::find()
            .filter(account::Column::Phone.eq(phone.as_str()))
            .one(&ctx.state().db)
            .await
            .map_err(AppError::from)?
            .ok_or(AppError::NotFound(Noun::AccountByPhone))?;
        Ok(service::give(
            &ctx.state().db,
            viewer.id,
            to.id,
            input.amount,
            memo,
            &input.idempotency_key,
        )
        .await?
        .into())
    }
}
