//! Ledger logic. Every transfer is one write transaction: both balances move by conditional
//! `UPDATE`s (a person's can never go below zero — the `UPDATE` refuses and a `CHECK` backs it),
//! in account-id order so two opposite transfers cannot deadlock, and the transfer and its two
//! entries (which sum to zero) are inserted with them.

use chrono::Utc;
use entity::{
    timebank_account as tb_account, timebank_entry as entry,
    timebank_transfer::{self as transfer, TransferKind},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, Set,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{
    db::begin_write,
    error::{AppError, AppResult},
    idempotency::{self, Claim, IdempotentRequest},
    pagination::{Page, PageArgs},
};

/// Largest single transfer: 10,000 coins.
pub const MAX_TRANSFER_CENTS: i64 = 1_000_000;

/// Coins (hundredths) earned for `minutes` of approved service at `cents_per_hour`, rounded
/// down.
pub fn coins_for_minutes(minutes: i32, cents_per_hour: i64) -> i64 {
    i64::from(Ord::max(minutes, 0)) * cents_per_hour / 60
}

/// Whose account.
#[derive(Clone, Copy, Debug)]
pub enum Owner {
    /// A person's.
    Person(i64),
    /// An organization's issuing account.
    Organization(i64),
}

/// The account of `owner`, created on first use (one upsert, safe under concurrency).
pub async fn account_of<C: ConnectionTrait>(db: &C, owner: Owner) -> AppResult<tb_account::Model> {
    let (col, id, allow_negative) = match owner {
        Owner::Person(id) => (tb_account::Column::OwnerAccountId, id, false),
        Owner::Organization(id) => (tb_account::Column::OwnerOrganizationId, id, true),
    };
    if let Some(a) = tb_account::Entity::find()
        .filter(col.eq(id))
        .one(db)
        .await?
    {
        return Ok(a);
    }
    let (person, org) = match owner {
        Owner::Person(id) => (Some(id), None),
        Owner::Organization(id) => (None, Some(id)),
    };
    tb_account::Entity::insert(tb_account::ActiveModel {
        owner_account_id: Set(person),
        owner_organization_id: Set(org),
        balance: Set(0),
        allow_negative: Set(allow_negative),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(OnConflict::column(col).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    tb_account::Entity::find()
        .filter(col.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("time-bank account vanished")))
}

/// What a transfer is.
#[derive(Debug, Clone)]
pub struct TransferSpec {
    /// Paying account.
    pub from: i64,
    /// Receiving account.
    pub to: i64,
    /// Hundredths of a coin, positive.
    pub amount: i64,
    /// Why the coins move.
    pub kind: TransferKind,
    /// Why.
    pub memo: String,
    /// The service record it pays for.
    pub service_record_id: Option<i64>,
    /// Who made it.
    pub by: i64,
}

/// Post a transfer inside the caller's write transaction.
pub async fn post<C: ConnectionTrait>(txn: &C, spec: &TransferSpec) -> AppResult<transfer::Model> {
    if spec.amount <= 0 || spec.amount > MAX_TRANSFER_CENTS {
        return Err(AppError::bad_input(
            "input.amount",
            msg!(
                "must be 1 to {MAX_TRANSFER_CENTS} hundredths of a coin",
                "数额须为 1 至 {MAX_TRANSFER_CENTS}（单位：0.01 时间币）"
            ),
        ));
    }
    if spec.from == spec.to {
        return Err(AppError::bad_input(
            "input.toPhone",
            msg!("cannot transfer to the same account", "不能转给自己"),
        ));
    }
    let mut moves = [(spec.from, -spec.amount), (spec.to, spec.amount)];
    moves.sort_by_key(|(id, _)| *id);
    for (id, delta) in moves {
        let done = tb_account::Entity::update_many()
            .col_expr(
                tb_account::Column::Balance,
                Expr::col(tb_account::Column::Balance).add(delta),
            )
            .filter(tb_account::Column::Id.eq(id))
            .filter(
                Condition::any()
                    .add(tb_account::Column::AllowNegative.eq(true))
                    .add(Expr::col(tb_account::Column::Balance).add(delta).gte(0)),
            )
            .exec(txn)
            .await?;
        if done.rows_affected == 0 {
            return Err(AppError::Conflict(msg!(
                "not enough time coins",
                "时间币余额不足"
            )));
        }
    }
    let now = Utc::now();
    let t = transfer::ActiveModel {
        from_account_id: Set(spec.from),
        to_account_id: Set(spec.to),
        amount: Set(spec.amount),
        kind: Set(spec.kind),
        memo: Set(spec.memo.clone()),
        service_record_id: Set(spec.service_record_id),
        created_by: Set(spec.by),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    entry::Entity::insert_many([
        entry::ActiveModel {
            transfer_id: Set(t.id),
            account_id: Set(spec.from),
            amount: Set(-spec.amount),
            created_at: Set(now),
            ..Default::default()
        },
        entry::ActiveModel {
            transfer_id: Set(t.id),
            account_id: Set(spec.to),
            amount: Set(spec.amount),
            created_at: Set(now),
            ..Default::default()
        },
    ])
    .exec_without_returning(txn)
    .await?;
    Ok(t)
}

/// A volunteer gives coins to another registered person. Idempotent per key.
pub async fn give(
    db: &DatabaseConnection,
    from_person: i64,
    to_person: i64,
    amount: i64,
    memo: String,
    idempotency_key: &str,
) -> AppResult<transfer::Model> {
    spend(
        db,
        from_person,
        Owner::Person(to_person),
        amount,
        memo,
        idempotency_key,
    )
    .await
}

/// A volunteer spends coins on a service an organization provides. Idempotent per key.
pub async fn redeem(
    db: &DatabaseConnection,
    person: i64,
    organization_id: i64,
    amount: i64,
    memo: String,
    idempotency_key: &str,
) -> AppResult<transfer::Model> {
    spend(
        db,
        person,
        Owner::Organization(organization_id),
        amount,
        memo,
        idempotency_key,
    )
    .await
}

/// Move coins out of a person's account, idempotently.
#[tracing::instrument(skip_all, fields(from = from_person))]
async fn spend(
    db: &DatabaseConnection,
    from_person: i64,
    to_owner: Owner,
    amount: i64,
    memo: String,
    idempotency_key: &str,
) -> AppResult<transfer::Model> {
    let (operation, kind, to_key) = match to_owner {
        Owner::Person(id) => ("transferTimeCoins", TransferKind::Gift, id),
        Owner::Organization(id) => ("redeemTimeCoins", TransferKind::Redeem, id),
    };
    let req = IdempotentRequest::new(
        from_person,
        idempotency_key,
        operation,
        &(to_key, amount, &memo),
    )?;
    let from = account_of(db, Owner::Person(from_person)).await?;
    let to = account_of(db, to_owner).await?;
    let txn = begin_write(db).await?;
    if let Claim::Replay(original) = idempotency::claim::<_, transfer::Model>(&txn, &req).await? {
        txn.commit().await?;
        return Ok(original);
    }
    let t = post(
        &txn,
        &TransferSpec {
            from: from.id,
            to: to.id,
            amount,
            kind,
            memo,
            service_record_id: None,
            by: from_person,
        },
    )
    .await?;
    idempotency::complete(&txn, &req, &t).await?;
    txn.commit().await?;
    Ok(t)
}

/// One page of an account's entries, oldest first, by the (account, id) index.
pub async fn entries<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    page: PageArgs,
) -> AppResult<Page<entry::Model>> {
    crate::pagination::fetch_page(db, entries_of(account_id), entry::Column::Id, page).await
}

/// Every entry [`entries`] pages through (its `totalCount`).
pub fn entries_of(account_id: i64) -> sea_orm::Select<entry::Entity> {
    entry::Entity::find().filter(entry::Column::AccountId.eq(account_id))
}

/// What one service record is worth in coins.
#[derive(Debug, Clone, Copy)]
pub struct ServiceSettlement {
    /// The organization whose issuing account pays.
    pub organization_id: i64,
    /// The volunteer.
    pub person: i64,
    /// The record.
    pub record_id: i64,
    /// Approved minutes now (0 when not approved).
    pub approved_minutes: i32,
    /// Hundredths of a coin per hour for the event's category.
    pub cents_per_hour: i64,
    /// Who caused the change.
    pub by: i64,
}

/// Bring the coins paid for a service record in line with its approved minutes, inside the
/// caller's transaction: what the record is worth now minus what its transfers have paid so
/// far moves between the organization's issuing account and the volunteer (a correcting
/// transfer when it shrinks). Reading what was paid, rather than recomputing the old worth,
/// keeps it right when the configured rate changed since the approval.
pub async fn settle_service<C: ConnectionTrait>(txn: &C, s: ServiceSettlement) -> AppResult<()> {
    let org = account_of(txn, Owner::Organization(s.organization_id)).await?;
    let vol = account_of(txn, Owner::Person(s.person)).await?;
    let paid: i64 = transfer::Entity::find()
        .filter(transfer::Column::ServiceRecordId.eq(s.record_id))
        .all(txn)
        .await?
        .iter()
        .map(|t| {
            if t.to_account_id == vol.id {
                t.amount
            } else {
                -t.amount
            }
        })
        .sum();
    let delta = coins_for_minutes(s.approved_minutes, s.cents_per_hour) - paid;
    if delta == 0 {
        return Ok(());
    }
    let (from, to, kind, memo) = if delta > 0 {
        (
            org.id,
            vol.id,
            if paid == 0 {
                TransferKind::Service
            } else {
                TransferKind::Correction
            },
            "approved service",
        )
    } else {
        (
            vol.id,
            org.id,
            TransferKind::Correction,
            "corrected service",
        )
    };
    post(
        txn,
        &TransferSpec {
            from,
            to,
            amount: delta.abs(),
            kind,
            memo: memo.to_owned(),
            service_record_id: Some(s.record_id),
            by: s.by,
        },
    )
    .await?;
    Ok(())
}
