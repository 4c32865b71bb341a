//! Wrong check-in PINs are limited: a 6-digit PIN is one in a million, but only if nobody may
//! try thousands. Every PIN attempt is written down *before* it is checked and forgotten only
//! when it proves right, so concurrent attempts (aliases in one document, items of one
//! `syncCheckEvents` batch, parallel connections, other replicas) each count: the last one to
//! count sees all that started before it, so no more than the limit ever get through.
//!
//! Two budgets over a sliding window: per account (any shift), and per shift (all accounts,
//! against one person guessing through many accounts). When either is spent, every PIN is
//! refused with `RATE_LIMITED` — the right one too — until the oldest counted guess leaves the
//! window.

use chrono::{DateTime, Duration, Utc};
use entity::pin_guess;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::error::{AppError, AppResult};

/// How long a wrong guess counts.
pub const WINDOW: Duration = Duration::minutes(10);

/// The budgets, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Budgets {
    /// Wrong guesses one account may make in [`WINDOW`].
    pub per_account: u32,
    /// Wrong guesses all accounts together may make at one shift in [`WINDOW`].
    pub per_shift: u32,
}

/// A counted attempt; [`Attempt::proved_right`] forgets it.
#[must_use = "a right PIN must be forgotten, or it counts as a wrong one"]
pub struct Attempt {
    id: i64,
}

/// Count an attempt of `account_id` at `shift_id`, or refuse it when a budget is spent.
pub async fn attempt<C: ConnectionTrait>(
    db: &C,
    budgets: Budgets,
    account_id: i64,
    shift_id: i64,
    now: DateTime<Utc>,
) -> AppResult<Attempt> {
    let row = pin_guess::ActiveModel {
        account_id: Set(account_id),
        shift_id: Set(shift_id),
        at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let since = now - WINDOW;
    for (column, key, budget) in [
        (
            pin_guess::Column::AccountId,
            account_id,
            budgets.per_account,
        ),
        (pin_guess::Column::ShiftId, shift_id, budgets.per_shift),
    ] {
        let counted = pin_guess::Entity::find()
            .filter(column.eq(key))
            .filter(pin_guess::Column::At.gt(since))
            .count(db)
            .await?;
        if counted > u64::from(budget) {
            // A refused attempt is not a guess: it checked nothing.
            pin_guess::Entity::delete_by_id(row.id).exec(db).await?;
            let oldest: Option<DateTime<Utc>> = pin_guess::Entity::find()
                .select_only()
                .column(pin_guess::Column::At)
                .filter(column.eq(key))
                .filter(pin_guess::Column::At.gt(since))
                .order_by_asc(pin_guess::Column::At)
                .into_tuple()
                .one(db)
                .await?;
            let wait = oldest.map_or(WINDOW, |t| t + WINDOW - now);
            tracing::warn!(
                outcome = "rate_limited",
                account_id,
                shift_id,
                "PIN guesses throttled"
            );
            return Err(AppError::RateLimited {
                limit: "checkInPin",
                retry_after_secs: u64::try_from(wait.num_seconds()).unwrap_or(0).max(1),
            });
        }
    }
    Ok(Attempt { id: row.id })
}

impl Attempt {
    /// The PIN was right: it was no guess.
    pub async fn proved_right<C: ConnectionTrait>(self, db: &C) -> AppResult<()> {
        pin_guess::Entity::delete_by_id(self.id).exec(db).await?;
        Ok(())
    }
}

/// Forget guesses older than the window (housekeeping).
pub async fn forget_old<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(pin_guess::Entity::delete_many()
        .filter(pin_guess::Column::At.lte(now - WINDOW))
        .exec(db)
        .await?
        .rows_affected)
}
