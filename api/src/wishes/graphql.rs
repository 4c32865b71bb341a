//! GraphQL surface of micro-wishes.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::micro_wish as wish;

use super::service::{self, NewWish, WishFilter};
use crate::{
    authz,
    context::ContextExt,
    direct::Fast,
    geo::NearInput,
    ids::{self, NodeType},
    organizations::graphql::Organization,
    pagination::{PageArgs, connection},
    validate,
};
use entity::micro_wish::WishStatus;

/// A resident's small wish (微心愿). The resident appears only under an alias; who claimed it
/// only the claimant and the organization's staff see.
pub struct MicroWish(pub wish::Model);

impl MicroWish {
    /// Whether the caller is staff of the posting organization (never an API client).
    async fn staff(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(crate::context::person_is_staff(ctx, self.0.organization_id).await?)
    }
}

/// A resident's small wish (微心愿), posted by a station's staff.
#[Object]
impl MicroWish {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::MicroWish, self.0.id)
    }

    /// What is wished for.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The story behind it.
    async fn story(&self) -> &str {
        &self.0.story
    }

    /// Expected cost, in fen.
    async fn budget_fen(&self) -> i64 {
        self.0.budget_fen
    }

    /// How the resident is named (never their real name).
    async fn beneficiary_alias(&self) -> &str {
        &self.0.beneficiary_alias
    }

    /// Where it stands now (a lapsed claim is `OPEN`).
    async fn status(&self) -> WishStatus {
        service::status_at(&self.0, Utc::now())
    }

    /// The posting organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Option<Fast<Organization>>> {
        Ok(crate::organizations::graphql::by_id(ctx, self.0.organization_id).await?)
    }

    /// Whether the caller holds the current claim (or fulfilled it).
    async fn claimed_by_me(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(match ctx.optional_account().await? {
            Some(v) => {
                self.0.claimed_by.is_some_and(|c| authz::is_self(v, c))
                    && service::status_at(&self.0, Utc::now()) != WishStatus::Open
            }
            None => false,
        })
    }

    /// Who claimed it: only for the organization's staff (`null` for everyone else).
    async fn claimant_name(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(claimant) = self.0.claimed_by else {
            return Ok(None);
        };
        if service::status_at(&self.0, Utc::now()) == WishStatus::Open || !self.staff(ctx).await? {
            return Ok(None);
        }
        let db = &ctx.state().db;
        Ok(crate::batch::load(
            db,
            claimant,
            crate::batch::ById::<entity::account::Entity>::new,
        )
        .await?
        .map(|a| a.display_name))
    }

    /// Until when the current claim holds.
    async fn claim_expires_at(&self) -> Option<DateTime<Utc>> {
        match service::status_at(&self.0, Utc::now()) {
            WishStatus::Claimed => self.0.claim_expires_at,
            _ => None,
        }
    }

    /// When the claimant reported it fulfilled.
    async fn fulfilled_at(&self) -> Option<DateTime<Utc>> {
        self.0.fulfilled_at
    }

    /// The claimant's note on fulfilment: for the claimant and the organization's staff only
    /// (free text may name the resident).
    async fn fulfilment_note(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let claimant = match ctx.optional_account().await? {
            Some(v) => self.0.claimed_by.is_some_and(|c| authz::is_self(v, c)),
            None => false,
        };
        Ok(if claimant || self.staff(ctx).await? {
            self.0.fulfilment_note.as_deref()
        } else {
            None
        })
    }

    /// When staff confirmed it.
    async fn confirmed_at(&self) -> Option<DateTime<Utc>> {
        self.0.confirmed_at
    }

    /// When it was posted.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Input of `postMicroWish`.
#[derive(InputObject)]
pub struct PostMicroWishInput {
    /// The posting organization (you must be its ORGANIZER or ADMIN, or an administrator above).
    organization_id: ID,
    /// What is wished for, 1–100 characters.
    title: String,
    /// The story, at most 2,000 characters.
    #[graphql(default)]
    story: String,
    /// Expected cost in fen, 1 to 100,000,000.
    budget_fen: i64,
    /// How the resident is named, 1–50 characters (not their real name).
    beneficiary_alias: String,
}

/// Filter of `microWishes`.
#[derive(InputObject, Default)]
pub struct MicroWishFilter {
    /// In this status (lapsed claims count as `OPEN`).
    status: Option<WishStatus>,
    /// Posted by this organization or one below it.
    organization_id: Option<ID>,
    /// Within a radius of a point (the posting organization's location).
    near: Option<NearInput>,
}

/// Micro-wish queries.
#[derive(Default)]
pub struct WishQuery;

#[Object]
impl WishQuery {
    /// One micro-wish by ID (`null` if there is none): public, like the list.
    async fn micro_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the wish.")] id: ID,
    ) -> Result<Option<MicroWish>> {
        let key = ids::decode(NodeType::MicroWish, &id, "id")?;
        Ok(service::get(&ctx.state().db, key).await?.map(MicroWish))
    }

    /// Micro-wishes, oldest first.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn micro_wishes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "What to list.", default)] filter: MicroWishFilter,
    ) -> Result<crate::pagination::Conn<MicroWish>> {
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let filter = WishFilter {
            status: filter.status,
            organization_id: filter
                .organization_id
                .map(|id| ids::decode(NodeType::Organization, &id, "filter.organizationId"))
                .transpose()?,
            near: filter.near.map(|n| n.parse("filter.near")).transpose()?,
        };
        let rows = service::list(&state.db, &filter, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            crate::pagination::Total::of(&state.db, service::listed(&filter)),
            |w| w.id,
            MicroWish,
        ))
    }
}

/// Micro-wish mutations.
#[derive(Default)]
pub struct WishMutation;

fn wish_key(id: &ID) -> Result<i64> {
    Ok(ids::decode(NodeType::MicroWish, id, "id")?)
}

#[Object]
impl WishMutation {
    /// Post a resident's wish.
    async fn post_micro_wish(
        &self,
        ctx: &Context<'_>,
        input: PostMicroWishInput,
    ) -> Result<MicroWish> {
        let viewer = ctx.require_account().await?;
        let new = NewWish {
            organization_id: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            title: validate::title(&input.title, "input.title", 100)?,
            story: validate::text(&input.story, "input.story", 2_000)?,
            budget_fen: input.budget_fen,
            beneficiary_alias: validate::title(
                &input.beneficiary_alias,
                "input.beneficiaryAlias",
                50,
            )?,
        };
        Ok(MicroWish(
            service::post(&ctx.state().db, viewer, new).await?,
        ))
    }

    /// Take a wish on. Exactly one claimant wins (`CONFLICT` for the others); the claim lapses
    /// after the configured time unless the wish is fulfilled. One account holds at most
    /// `TONGXING_WISH_CLAIMS_PER_ACCOUNT` open claims (`CONFLICT` past it).
    async fn claim_micro_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The wish.")] id: ID,
    ) -> Result<MicroWish> {
        let viewer = ctx.require_account().await?;
        let state = ctx.state();
        let hold = chrono::Duration::hours(i64::from(state.config.wish_claim_hours));
        Ok(MicroWish(
            service::claim(
                &state.db,
                viewer,
                wish_key(&id)?,
                hold,
                state.config.wish_claims_per_account,
            )
            .await?,
        ))
    }

    /// Report a claimed wish fulfilled (the claimant, before the claim lapses).
    async fn fulfill_micro_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The wish.")] id: ID,
        #[graphql(desc = "What was done, at most 500 characters.", default)] note: String,
    ) -> Result<MicroWish> {
        let viewer = ctx.require_account().await?;
        let note = validate::text(&note, "note", 500)?;
        Ok(MicroWish(
            service::fulfil(&ctx.state().db, viewer, wish_key(&id)?, note).await?,
        ))
    }

    /// Confirm a fulfilled wish (the organization's managers).
    async fn confirm_micro_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The wish.")] id: ID,
    ) -> Result<MicroWish> {
        let viewer = ctx.require_account().await?;
        Ok(MicroWish(
            service::settle(
                &ctx.state().db,
                viewer,
                wish_key(&id)?,
                WishStatus::Confirmed,
            )
            .await?,
        ))
    }

    /// Withdraw a wish that is open or claimed (the organization's managers).
    async fn cancel_micro_wish(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The wish.")] id: ID,
    ) -> Result<MicroWish> {
        let viewer = ctx.require_account().await?;
        Ok(MicroWish(
            service::settle(
                &ctx.state().db,
                viewer,
                wish_key(&id)?,
                WishStatus::Cancelled,
            )
            .await?,
        ))
    }
}
