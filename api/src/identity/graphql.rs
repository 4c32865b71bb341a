//! GraphQL surface of real-name identity.

use async_graphql::{Context, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::identity;

use super::{
    domain::IdType,
    service::{self, NewIdentity},
};
use crate::context::ContextExt;

/// A person's real-name identity (实名信息). The ID number is never shown in full, not even to
/// its owner.
pub struct Identity(pub identity::Model);

/// A person's real-name identity (实名信息). The ID number is never shown in full, not even to
/// its owner.
#[Object]
impl Identity {
    /// Legal name as on the ID document.
    async fn legal_name(&self) -> &str {
        &self.0.legal_name
    }

    /// Kind of ID document.
    async fn id_type(&self) -> IdType {
        self.0.id_type
    }

    /// The ID number masked: `320***********123X`.
    async fn id_number_masked(&self) -> &str {
        &self.0.id_masked
    }

    /// When it was last set.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Input of `setMyIdentity`.
#[derive(InputObject)]
pub struct SetMyIdentityInput {
    /// Legal name as on the ID document (1–50 letters; `·` for minority names).
    legal_name: String,
    /// Kind of ID document.
    id_type: IdType,
    /// The document's number; spaces are ignored, letters may be lower case. A mainland ID
    /// number must pass its check digit.
    id_number: String,
}

/// Identity mutations.
#[derive(Default)]
pub struct IdentityMutation;

#[Object]
impl IdentityMutation {
    /// Add or replace the caller's real-name identity, needed for service certificates. The ID
    /// number is validated (`BAD_USER_INPUT`), stored encrypted and shown masked; a document
    /// already registered to another account is a `CONFLICT`. At most 5 attempts an hour
    /// (`RATE_LIMITED`).
    async fn set_my_identity(
        &self,
        ctx: &Context<'_>,
        input: SetMyIdentityInput,
    ) -> Result<Identity> {
        let viewer = ctx.require_account().await?;
        let state = ctx.state();
        state.login_throttle.check_identity_change(viewer.id)?;
        let saved = service::set(
            &state.db,
            &state.identity_vault,
            viewer.id,
            NewIdentity {
                legal_name: input.legal_name,
                id_type: input.id_type,
                id_number: input.id_number,
            },
        )
        .await?;
        Ok(Identity(saved))
    }
}
