//! Idempotency keys for mutations sent over flaky mobile networks.
//!
//! Inside the mutation's write transaction, [`claim`] inserts `(account, key)` with the
//! operation and a fingerprint of its arguments. The primary key makes the first request win:
//! a retry that arrives while the first is still running waits on that row (PostgreSQL) or on
//! the write lock (SQLite), then finds the stored result and replays it. A failed first request
//! rolls back its claim, so a retry runs afresh. The same key with other arguments is
//! `IDEMPOTENCY_CONFLICT`.

use chrono::Utc;
use entity::idempotency_key;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, OnConflict},
};
use serde::{Serialize, de::DeserializeOwned};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// A validated key with what it is used for.
#[derive(Debug, Clone)]
pub struct IdempotentRequest {
    account_id: i64,
    key: String,
    operation: &'static str,
    fingerprint: String,
}

/// What [`claim`] found.
pub enum Claim<T> {
    /// First use of the key: do the work, then call [`complete`].
    New,
    /// The key was used before for the same request: here is its result.
    Replay(T),
}

impl IdempotentRequest {
    /// Check the key (1–128 visible ASCII characters) and fingerprint the arguments.
    pub fn new(
        account_id: i64,
        key: &str,
        operation: &'static str,
        arguments: &impl Serialize,
    ) -> AppResult<Self> {
        if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(AppError::bad_input(
                "idempotencyKey",
                msg!(
                    "must be 1 to 128 visible ASCII characters (a UUID is a good choice)",
                    "幂等键须为 1 至 128 个可见 ASCII 字符（建议使用 UUID）"
                ),
            ));
        }
        let json = serde_json::to_vec(arguments).map_err(|e| AppError::Internal(e.into()))?;
        let digest = Sha256::digest(&json);
        Ok(Self {
            account_id,
            key: key.to_owned(),
            operation,
            fingerprint: digest.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }
}

/// Claim the key inside the caller's write transaction.
pub async fn claim<C: ConnectionTrait, T: DeserializeOwned>(
    txn: &C,
    req: &IdempotentRequest,
) -> AppResult<Claim<T>> {
    let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        account_id: Set(req.account_id),
        key: Set(req.key.clone()),
        operation: Set(req.operation.to_owned()),
        request_hash: Set(req.fingerprint.clone()),
        response: Set(None),
        created_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([
            idempotency_key::Column::AccountId,
            idempotency_key::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let existing = idempotency_key::Entity::find()
        .filter(idempotency_key::Column::AccountId.eq(req.account_id))
        .filter(idempotency_key::Column::Key.eq(req.key.as_str()))
        .one(txn)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("idempotency key vanished")))?;
    if existing.operation != req.operation || existing.request_hash != req.fingerprint {
        return Err(AppError::IdempotencyConflict);
    }
    let stored = existing.response.ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "idempotency key committed without a response"
        ))
    })?;
    let value = serde_json::from_str(&stored).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Claim::Replay(value))
}

/// Store the result of the first request, in the same transaction as its work.
pub async fn complete<C: ConnectionTrait, T: Serialize>(
    txn: &C,
    req: &IdempotentRequest,
    result: &T,
) -> AppResult<()> {
    let json = serde_json::to_string(result).map_err(|e| AppError::Internal(e.into()))?;
    idempotency_key::Entity::update_many()
        .col_expr(idempotency_key::Column::Response, Expr::value(json))
        .filter(idempotency_key::Column::AccountId.eq(req.account_id))
        .filter(idempotency_key::Column::Key.eq(req.key.as_str()))
        .exec(txn)
        .await?;
    Ok(())
}

/// Forget keys older than `retention`; returns how many went.
pub async fn purge_older_than<C: ConnectionTrait>(
    db: &C,
    retention: chrono::Duration,
) -> AppResult<u64> {
    let res = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::CreatedAt.lt(Utc::now() - retention))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked_and_arguments_fingerprinted() {
        assert!(IdempotentRequest::new(1, "", "op", &1).is_err());
        assert!(IdempotentRequest::new(1, "has space", "op", &1).is_err());
        assert!(IdempotentRequest::new(1, &"k".repeat(129), "op", &1).is_err());
        let a = IdempotentRequest::new(1, "k-1", "op", &("shift", 1)).unwrap();
        let b = IdempotentRequest::new(1, "k-1", "op", &("shift", 2)).unwrap();
        let a2 = IdempotentRequest::new(1, "k-1", "op", &("shift", 1)).unwrap();
        assert_ne!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint, a2.fingerprint);
    }
}
