//! What resolvers get from the GraphQL context: the app state and the caller.

use std::sync::Arc;

use async_graphql::Context;
use entity::account;

use crate::{AppState, auth::Viewer, error::AppResult};

/// Accessors on the resolver context.
pub trait ContextExt {
    /// The shared application state.
    fn state(&self) -> &AppState;
    /// The caller of this request.
    fn viewer(&self) -> &Viewer;
    /// The calling account, or `UNAUTHENTICATED`.
    fn require_account(&self) -> impl Future<Output = AppResult<&account::Model>> + Send;
    /// The calling account when valid credentials were given; `None` for anonymous callers,
    /// and for an API client without `org:read`, which reads only what the public reads.
    fn optional_account(&self) -> impl Future<Output = AppResult<Option<&account::Model>>> + Send;
    /// The language the caller reads (`Accept-Language`; Chinese by default).
    fn lang(&self) -> crate::i18n::Lang;
}

impl ContextExt for Context<'_> {
    fn state(&self) -> &AppState {
        // Both are put into every schema and request by `build_schema` and the HTTP handler;
        // a missing one is a wiring bug caught by every end-to-end test.
        self.data_unchecked::<AppState>()
    }

    fn viewer(&self) -> &Viewer {
        self.data_unchecked::<Arc<Viewer>>()
    }

    async fn require_account(&self) -> AppResult<&account::Model> {
        self.viewer().require(&self.state().db).await
    }

    async fn optional_account(&self) -> AppResult<Option<&account::Model>> {
        let viewer = self.viewer();
        if viewer
            .grant()
            .is_some_and(|g| !g.scopes.contains(&crate::clients::Scope::OrgRead))
        {
            // It reads as the public (the HTTP layer already refused a revoked client).
            return Ok(None);
        }
        if viewer.presented_credentials() {
            viewer.require(&self.state().db).await.map(Some)
        } else {
            Ok(None)
        }
    }

    fn lang(&self) -> crate::i18n::Lang {
        self.data_opt::<crate::i18n::Lang>()
            .copied()
            .unwrap_or_default()
    }
}

/// Whether the caller is a person (never an API client) holding `kind` over organization
/// `org_id`: what only an organization's people see (claimants, offers, notes, receipt
/// numbers) stays out of third-party systems. The one place these caller checks are made.
pub async fn person_holds(
    ctx: &Context<'_>,
    kind: crate::authz::CheckKind,
    org_id: i64,
) -> AppResult<bool> {
    if crate::clients::confined_to().is_some() {
        return Ok(false);
    }
    match ctx.optional_account().await? {
        Some(v) => crate::authz::check(&ctx.state().db, v, kind, org_id).await,
        None => Ok(false),
    }
}

/// Whether the caller is a person on the staff of organization `org_id` ([`person_holds`]).
pub async fn person_is_staff(ctx: &Context<'_>, org_id: i64) -> AppResult<bool> {
    person_holds(ctx, crate::authz::CheckKind::Staff, org_id).await
}

/// Whether the caller is a person who manages organization `org_id` ([`person_holds`]).
pub async fn person_manages(ctx: &Context<'_>, org_id: i64) -> AppResult<bool> {
    person_holds(ctx, crate::authz::CheckKind::Manages, org_id).await
}
