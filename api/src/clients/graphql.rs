//! GraphQL surface of API clients (for the staff who manage them).

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::api_client;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{Scope, service};
use crate::{
    context::ContextExt,
    error::{AppError, Noun},
    ids::{self, NodeType},
    validate,
};

/// A third-party system allowed to call the API for an organization.
pub struct ApiClient(pub(crate) api_client::Model);

/// A third-party system allowed to call the API for an organization.
#[Object]
impl ApiClient {
    /// The public client id, sent to `POST /oauth/token`.
    async fn client_id(&self) -> &str {
        &self.0.client_id
    }

    /// A name for people.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What it may do.
    async fn scopes(&self) -> Vec<Scope> {
        service::parse_scopes(&self.0.scopes).unwrap_or_default()
    }

    /// The organization it acts for (and within).
    async fn organization_id(&self) -> ID {
        ids::encode(NodeType::Organization, self.0.organization_id)
    }

    /// The staff member who registered it: it acts with their authority, narrowed to its
    /// organization and scopes.
    async fn registered_by(&self, ctx: &Context<'_>) -> Result<crate::accounts::graphql::Account> {
        crate::accounts::graphql::required(ctx, self.0.created_by).await
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was revoked, if it was.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// A client with a secret that is shown only this once.
#[derive(SimpleObject)]
pub struct ApiClientCredentials {
    /// The client.
    client: ApiClient,
    /// The secret: store it now, it cannot be shown again (only its digest is kept).
    client_secret: String,
}

/// Input of `createApiClient`.
#[derive(InputObject)]
pub struct CreateApiClientInput {
    /// The organization it will act for (its organizers and administrators register it).
    organization_id: ID,
    /// A name for people, 1–100 characters.
    name: String,
    /// What it may do.
    scopes: Vec<Scope>,
}

/// API client mutations.
#[derive(Default)]
pub struct ApiClientMutation;

async fn client_key(ctx: &Context<'_>, client_id: &str) -> Result<i64> {
    Ok(api_client::Entity::find()
        .filter(api_client::Column::ClientId.eq(client_id))
        .one(&ctx.state().db)
        .await
        .map_err(AppError::from)?
        .ok_or(AppError::NotFound(Noun::ApiClient))?
        .id)
}

#[Object]
impl ApiClientMutation {
    /// Register a third-party client for an organization; the answer carries its secret, shown
    /// once. The client gets tokens at `POST /oauth/token` (client-credentials grant).
    async fn create_api_client(
        &self,
        ctx: &Context<'_>,
        input: CreateApiClientInput,
    ) -> Result<ApiClientCredentials> {
        let viewer = ctx.require_account().await?;
        let org = ids::decode(
            NodeType::Organization,
            &input.organization_id,
            "input.organizationId",
        )?;
        let name = validate::title(&input.name, "input.name", 100)?;
        let (c, secret) = service::create(&ctx.state().db, viewer, org, name, input.scopes).await?;
        Ok(ApiClientCredentials {
            client: ApiClient(c),
            client_secret: secret,
        })
    }

    /// Issue a new secret; the current ones keep working for `overlapMinutes` (default 60, at
    /// most a week), so a system can switch without downtime.
    async fn rotate_api_client_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client id.")] client_id: String,
        #[graphql(desc = "Minutes the current secrets stay valid.", default = 60)]
        overlap_minutes: i32,
    ) -> Result<ApiClientCredentials> {
        let viewer = ctx.require_account().await?;
        if !(0..=service::MAX_OVERLAP_HOURS * 60).contains(&i64::from(overlap_minutes)) {
            return Err(AppError::bad_input(
                "overlapMinutes",
                msg!("must be 0 to 10080", "须为 0 至 10080 分钟"),
            )
            .into());
        }
        let key = client_key(ctx, &client_id).await?;
        let (c, secret) = service::rotate(
            &ctx.state().db,
            viewer,
            key,
            chrono::Duration::minutes(i64::from(overlap_minutes)),
        )
        .await?;
        Ok(ApiClientCredentials {
            client: ApiClient(c),
            client_secret: secret,
        })
    }

    /// Revoke a client: its secrets and tokens stop working at once.
    async fn revoke_api_client(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The client id.")] client_id: String,
    ) -> Result<ApiClient> {
        let viewer = ctx.require_account().await?;
        let key = client_key(ctx, &client_id).await?;
        Ok(ApiClient(
            service::revoke(&ctx.state().db, viewer, key).await?,
        ))
    }
}
