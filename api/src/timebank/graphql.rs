//! GraphQL surface of the time bank.

use async_graphql::{Context, InputObject, Object, Result, SimpleObject, connection::Connection};
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
#[derive(SimpleObject)]
pub struct TimeCoinEntry {
    /// Signed hundredths of a coin: credits positive, debits negative.
    amount: i64,
    /// When.
    created_at: DateTime<Utc>,
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
    ) -> Result<Connection<String, TimeCoinEntry>> {
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = service::entries(&state.db, self.account_id, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            |e| e.id,
            |e: timebank_entry::Model| TimeCoinEntry {
                amount: e.amount,
                created_at: e.created_at,
            },
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
