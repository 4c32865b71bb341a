//! Registering, rotating, revoking and authenticating clients.

use chrono::{Duration, Utc};
use entity::{account, api_client as client, api_client_secret as secret};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, Set, sea_query::Expr,
};

use super::Scope;
use crate::{
    auth::refresh,
    authz,
    error::{AppError, AppResult, Noun},
};

/// Longest roll-over during which the previous secret keeps working.
pub const MAX_OVERLAP_HOURS: i64 = 7 * 24;

/// Parse a scope list (OAuth names, space- or comma-separated).
pub fn parse_scopes(raw: &str) -> Option<Vec<Scope>> {
    let mut out = Vec::new();
    for s in raw.split([' ', ',']).filter(|s| !s.is_empty()) {
        let scope = Scope::parse(s)?;
        if !out.contains(&scope) {
            out.push(scope);
        }
    }
    Some(out)
}

/// Space-separated OAuth names.
pub fn scope_string(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

async fn managed_client(
    db: &DatabaseConnection,
    viewer: &account::Model,
    key: i64,
) -> AppResult<client::Model> {
    let c = client::Entity::find_by_id(key)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::ApiClient))?;
    if !authz::manages(db, viewer, c.organization_id).await? {
        return Err(AppError::NotFound(Noun::ApiClient));
    }
    Ok(c)
}

async fn add_secret<C: ConnectionTrait>(db: &C, client_key: i64) -> AppResult<String> {
    let plain = format!("txs_{}", refresh::generate());
    secret::ActiveModel {
        api_client_id: Set(client_key),
        secret_hash: Set(refresh::digest(&plain)),
        created_at: Set(Utc::now()),
        expires_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(plain)
}

/// The clients registered for `organization_id`, oldest first, revoked ones too when
/// `include_revoked`: its organizers and administrators (or those above) only (`FORBIDDEN`).
pub async fn of_organization(
    db: &DatabaseConnection,
    viewer: &account::Model,
    organization_id: i64,
    include_revoked: bool,
    page: crate::pagination::PageArgs,
) -> AppResult<crate::pagination::Page<client::Model>> {
    authz::require_manager(db, viewer, organization_id).await?;
    let select = registered_for(organization_id, include_revoked);
    crate::pagination::fetch_page(db, select, client::Column::Id, page).await
}

/// Every client [`of_organization`] pages through (its `totalCount`; the caller is checked
/// there).
pub fn registered_for(
    organization_id: i64,
    include_revoked: bool,
) -> sea_orm::Select<client::Entity> {
    let select = client::Entity::find().filter(client::Column::OrganizationId.eq(organization_id));
    if include_revoked {
        select
    } else {
        select.filter(client::Column::RevokedAt.is_null())
    }
}

/// Register a client for `organization_id` (its organizers and administrators only). Returns
/// the client and its secret, which is shown this once and stored only as a digest.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, organization_id))]
pub async fn create(
    db: &DatabaseConnection,
    viewer: &account::Model,
    organization_id: i64,
    name: String,
    scopes: Vec<Scope>,
) -> AppResult<(client::Model, String)> {
    authz::require_manager(db, viewer, organization_id).await?;
    if scopes.is_empty() {
        return Err(AppError::bad_input(
            "input.scopes",
            msg!("name at least one scope", "请至少选择一项权限范围"),
        ));
    }
    let txn = crate::db::begin_write(db).await?;
    let c = client::ActiveModel {
        client_id: Set(format!("txc_{}", uuid::Uuid::new_v4().simple())),
        organization_id: Set(organization_id),
        name: Set(name),
        scopes: Set(scope_string(&scopes)),
        created_by: Set(viewer.id),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let plain = add_secret(&txn, c.id).await?;
    txn.commit().await?;
    tracing::info!(client = c.id, "API client registered");
    Ok((c, plain))
}

/// Issue a new secret. The secrets active until now keep working for `overlap` (a roll-over
/// without downtime: deploy the new secret, then the old one lapses), then stop.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, client = key))]
pub async fn rotate(
    db: &DatabaseConnection,
    viewer: &account::Model,
    key: i64,
    overlap: Duration,
) -> AppResult<(client::Model, String)> {
    let c = managed_client(db, viewer, key).await?;
    if c.revoked_at.is_some() {
        return Err(AppError::Conflict(msg!(
            "the client is revoked",
            "该 API 客户端已被撤销"
        )));
    }
    let now = Utc::now();
    let txn = crate::db::begin_write(db).await?;
    // Older secrets end now + overlap (or earlier, if they were already ending).
    secret::Entity::update_many()
        .col_expr(secret::Column::ExpiresAt, Expr::value(now + overlap))
        .filter(secret::Column::ApiClientId.eq(key))
        .filter(
            Condition::any()
                .add(secret::Column::ExpiresAt.is_null())
                .add(secret::Column::ExpiresAt.gt(now + overlap)),
        )
        .exec(&txn)
        .await?;
    let plain = add_secret(&txn, key).await?;
    txn.commit().await?;
    tracing::info!("API client secret rotated");
    Ok((c, plain))
}

/// Revoke a client: its secrets stop working and its tokens with them.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, client = key))]
pub async fn revoke(
    db: &DatabaseConnection,
    viewer: &account::Model,
    key: i64,
) -> AppResult<client::Model> {
    managed_client(db, viewer, key).await?;
    client::Entity::update_many()
        .col_expr(client::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(client::Column::Id.eq(key))
        .filter(client::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    tracing::info!("API client revoked");
    client::Entity::find_by_id(key)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::ApiClient))
}

/// The client with this id and secret, if both are right, the client is not revoked and the
/// secret has not lapsed.
pub async fn authenticate<C: ConnectionTrait>(
    db: &C,
    client_id: &str,
    plain_secret: &str,
) -> AppResult<Option<client::Model>> {
    let Some(c) = client::Entity::find()
        .filter(client::Column::ClientId.eq(client_id))
        .filter(client::Column::RevokedAt.is_null())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    let found = secret::Entity::find()
        .filter(secret::Column::ApiClientId.eq(c.id))
        .filter(secret::Column::SecretHash.eq(refresh::digest(plain_secret)))
        .filter(
            Condition::any()
                .add(secret::Column::ExpiresAt.is_null())
                .add(secret::Column::ExpiresAt.gt(now)),
        )
        .order_by_desc(secret::Column::Id)
        .one(db)
        .await?;
    Ok(found.map(|_| c))
}

/// A client that may still act (not revoked).
pub async fn active<C: ConnectionTrait>(db: &C, key: i64) -> AppResult<Option<client::Model>> {
    Ok(client::Entity::find_by_id(key)
        .filter(client::Column::RevokedAt.is_null())
        .one(db)
        .await?)
}

/// Revoke the API clients `account_id` registered (for organization `within` and everything
/// below it, or everywhere): they act with that person's authority, which is gone. Returns how
/// many were revoked.
pub async fn revoke_registered_by<C: sea_orm::ConnectionTrait>(
    db: &C,
    account_id: i64,
    within: Option<i64>,
) -> crate::error::AppResult<u64> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let mut update = entity::api_client::Entity::update_many()
        .col_expr(
            entity::api_client::Column::RevokedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(entity::api_client::Column::CreatedBy.eq(account_id))
        .filter(entity::api_client::Column::RevokedAt.is_null());
    if let Some(org) = within {
        update = update.filter(crate::authz::in_subtree(
            entity::api_client::Column::OrganizationId,
            org,
        ));
    }
    Ok(update.exec(db).await?.rows_affected)
}
