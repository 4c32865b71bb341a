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
    /// The calling account when valid credentials were given; `None` for anonymous callers.
    fn optional_account(&self) -> impl Future<Output = AppResult<Option<&account::Model>>> + Send;
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
        if viewer.presented_credentials() {
            viewer.require(&self.state().db).await.map(Some)
        } else {
            Ok(None)
        }
    }
}
