//! GraphQL surface of sign-ups.

use async_graphql::{Context, ID, Object, Result};
use chrono::{DateTime, Utc};
use entity::signup;

use super::service::{self, SignupStatus};
use crate::{
    accounts::graphql::Account,
    context::ContextExt,
    ids::{self, NodeType},
    shifts::graphql::Shift,
    validate,
};

/// A volunteer's sign-up for a shift; the volunteer (with phone visibility) when a list query
/// fetched it for the whole page.
pub struct Signup(
    pub signup::Model,
    pub Option<(entity::account::Model, bool)>,
);

impl From<signup::Model> for Signup {
    fn from(model: signup::Model) -> Self {
        Self(model, None)
    }
}

/// A volunteer's sign-up (报名) for a shift.
#[Object]
impl Signup {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Signup, self.0.id)
    }

    /// Where it stands.
    async fn status(&self) -> SignupStatus {
        self.0.status
    }

    /// Place in the waitlist (1 = next to get a place) while `WAITLISTED`.
    async fn waitlist_position(&self, ctx: &Context<'_>) -> Result<Option<u64>> {
        let Some(ticket) = self
            .0
            .waitlist_ticket
            .filter(|_| self.0.status == SignupStatus::Waitlisted)
        else {
            return Ok(None);
        };
        let db = &ctx.state().db;
        let ahead = crate::batch::load(db, (self.0.shift_id, ticket), || service::WaitlistAhead)
            .await?
            .unwrap_or(0);
        Ok(Some(ahead + 1))
    }

    /// The shift.
    async fn shift(&self, ctx: &Context<'_>) -> Result<crate::direct::Fast<Shift>> {
        crate::shifts::graphql::required(ctx, self.0.shift_id)
            .await
            .map(crate::direct::Fast)
    }

    /// The volunteer (phone masked unless the caller may see it).
    async fn volunteer(&self, ctx: &Context<'_>) -> Result<Account> {
        if let Some((model, visible)) = &self.1 {
            return Ok(Account::with_phone_visibility(model.clone(), *visible));
        }
        crate::accounts::graphql::required(ctx, self.0.account_id).await
    }

    /// When the volunteer signed up.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it last changed (status, promotion, cancellation, check-in): what
    /// `signups(filter: {updatedSince})` compares.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When a waitlisted sign-up got a place.
    async fn promoted_at(&self) -> Option<DateTime<Utc>> {
        self.0.promoted_at
    }

    /// When it was cancelled.
    async fn cancelled_at(&self) -> Option<DateTime<Utc>> {
        self.0.cancelled_at
    }

    /// Why it was cancelled (written by whoever cancelled it, e.g. the organizers).
    async fn cancel_reason(&self) -> Option<&str> {
        self.0.cancel_reason.as_deref()
    }
}

/// Sign-up mutations.
#[derive(Default)]
pub struct SignupMutation;

#[Object]
impl SignupMutation {
    /// Sign up for a shift: `CONFIRMED` while there is room, else `WAITLISTED` with a position
    /// when the shift keeps a waitlist, else the error `SHIFT_FULL`. Send a fresh
    /// `idempotencyKey` (e.g. a UUID) per intended sign-up and reuse it on retries: a retry
    /// returns the original sign-up and creates nothing.
    async fn sign_up_for_shift(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shift.")] shift_id: ID,
        #[graphql(desc = "Client-chosen key, 1–128 visible ASCII characters; kept 24 h or more.")]
        idempotency_key: String,
    ) -> Result<Signup> {
        let viewer = ctx.require_account().await?;
        let shift = ids::decode(NodeType::Shift, &shift_id, "shiftId")?;
        let db = &ctx.state().db;
        let signup =
            crate::db::retry_transient(|| service::sign_up(db, viewer, shift, &idempotency_key))
                .await?;
        ctx.state()
            .metrics
            .signup(&sea_orm::ActiveEnum::to_value(&signup.status));
        Ok(Signup::from(signup))
    }

    /// Cancel a sign-up: the volunteer until the shift starts, or the organization's staff. A
    /// freed place goes to the head of the waitlist.
    async fn cancel_signup(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sign-up.")] signup_id: ID,
        #[graphql(desc = "Why (shown to the volunteer when staff cancel).")] reason: Option<String>,
    ) -> Result<Signup> {
        let viewer = ctx.require_account().await?;
        let id = ids::decode(NodeType::Signup, &signup_id, "signupId")?;
        let reason = reason
            .map(|r| validate::title(&r, "reason", 500))
            .transpose()?;
        let db = &ctx.state().db;
        Ok(Signup::from(
            crate::db::retry_transient(|| service::cancel(db, viewer, id, reason.clone())).await?,
        ))
    }

    /// Mark a confirmed volunteer of a started shift as not having come. Staff only.
    async fn mark_no_show(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sign-up.")] signup_id: ID,
    ) -> Result<Signup> {
        let viewer = ctx.require_account().await?;
        let id = ids::decode(NodeType::Signup, &signup_id, "signupId")?;
        Ok(Signup::from(
            service::mark_no_show(&ctx.state().db, viewer, id).await?,
        ))
    }
}
