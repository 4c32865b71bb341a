//! Setting and reading a person's identity.

use chrono::Utc;
use entity::identity;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use super::{
    domain::{self, IdType},
    vault::IdentityVault,
};
use crate::error::{AppError, AppResult};

/// What a person declares.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    /// Legal name as on the document.
    pub legal_name: String,
    /// Kind of document.
    pub id_type: IdType,
    /// Its number as typed.
    pub id_number: String,
}

/// The identity of an account, if it gave one.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> AppResult<Option<identity::Model>> {
    Ok(identity::Entity::find_by_id(account_id).one(db).await?)
}

/// Set (or replace) the real-name identity of `account_id`. The number is validated, encrypted,
/// masked and digested; the same document on another account is a `CONFLICT` (the unique
/// digest decides, also between two simultaneous requests).
#[tracing::instrument(skip_all, fields(account_id))]
pub async fn set<C: ConnectionTrait>(
    db: &C,
    vault: &IdentityVault,
    account_id: i64,
    input: NewIdentity,
) -> AppResult<identity::Model> {
    let legal_name = domain::legal_name(&input.legal_name)?;
    let today = Utc::now()
        .with_timezone(&crate::clock::city_offset())
        .date_naive();
    let number = domain::normalize_id_number(input.id_type, &input.id_number, today)?;
    let now = Utc::now();
    let row = identity::ActiveModel {
        account_id: Set(account_id),
        legal_name: Set(legal_name),
        id_type: Set(input.id_type),
        id_ciphertext: Set(vault.seal(account_id, &number)),
        id_masked: Set(domain::mask_id_number(&number)),
        id_digest: Set(vault.digest(input.id_type, &number)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let taken = || {
        AppError::Conflict(msg!(
            "this ID document is registered to another account",
            "该证件已被其他账号实名认证"
        ))
    };
    let saved = match get(db, account_id).await? {
        Some(existing) => {
            let mut row = row;
            row.created_at = Set(existing.created_at);
            row.update(db).await
        }
        None => row.insert(db).await,
    };
    let saved = saved.map_err(|e| AppError::from_db_unique(e, taken))?;
    tracing::info!("identity set");
    Ok(saved)
}
