//! GraphQL surface of the register of people served: `careRecipients`, `careRecipient`,
//! `registerCareRecipient`, `recordCareConsent`, `withdrawCareConsent`, `eraseCareRecipient`.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    care_consent::{self as consent, ConsentGiver, ConsentMeans},
    care_recipient::{self as recipient, AgeGroup, RecipientStatus},
};

use super::register::{self, CareCategory, ConsentPurpose, Personal};
use crate::{
    context::ContextExt,
    direct::Fast,
    geo::LocationInput,
    ids::{self, NodeType},
    organizations::graphql::Organization,
    scalars::Date,
};

/// A person on the register of people served (服务对象档案).
pub struct CareRecipient {
    model: recipient::Model,
    /// The personal part, when the record was opened whole (`careRecipient`); `None` in lists.
    personal: Option<Personal>,
    /// The masked name (lists).
    masked: Option<String>,
    consents: Vec<consent::Model>,
}

/// A person the network serves (服务对象), kept by a station or room: sensitive personal
/// information. Lists show a masked name and the counted fields; `careRecipient(id)` opens the
/// whole record. Every read is in the audit log. Its staff only; never an API client.
#[Object]
impl CareRecipient {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::CareRecipient, self.model.id)
    }

    /// The station or room keeping the record.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        crate::organizations::graphql::required(ctx, self.model.organization_id).await
    }

    /// Name (姓名): whole when the record is opened, masked (`许**`) in lists, `null` once
    /// erased.
    async fn name(&self) -> Option<String> {
        match &self.personal {
            Some(p) => Some(p.name.clone()),
            None => self.masked.clone(),
        }
    }

    /// Age group (年龄段).
    async fn age_group(&self) -> AgeGroup {
        self.model.age_group
    }

    /// Categories (类别): 独居, 空巢, 失独, 特扶, 困境儿童, 残疾人, 低保, 特困.
    async fn categories(&self) -> Vec<CareCategory> {
        CareCategory::list_from_db(&self.model.categories)
    }

    /// On the register, or erased on request.
    async fn status(&self) -> RecipientStatus {
        self.model.status
    }

    /// Home address (住址): the opened record only.
    async fn address(&self) -> Option<&str> {
        self.personal.as_ref().map(|p| p.address.as_str())
    }

    /// Where the home is: the opened record only.
    async fn location(&self) -> Option<crate::profiles::graphql::Location> {
        let p = self.personal.as_ref()?;
        Some(crate::profiles::graphql::Location::new(
            p.latitude?,
            p.longitude?,
        ))
    }

    /// What they need (需求): the opened record only.
    async fn needs(&self) -> Option<&str> {
        self.personal.as_ref().map(|p| p.needs.as_str())
    }

    /// People to call (紧急联系人): the opened record only (empty in lists).
    async fn contacts(&self) -> Vec<CareContact> {
        self.personal
            .as_ref()
            .map(|p| {
                p.contacts
                    .iter()
                    .map(|c| CareContact {
                        name: c.name.clone(),
                        relation: c.relation.clone(),
                        phone: c.phone.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The consents on record, oldest first: the opened record only (empty in lists).
    async fn consents(&self, ctx: &Context<'_>) -> Vec<CareConsent> {
        let vault = &ctx.state().care_vault;
        self.consents
            .iter()
            .map(|c| CareConsent {
                id: ids::encode(NodeType::CareConsent, c.id),
                given_by: c.given_by,
                name: register::consent_name(vault, c),
                purposes: ConsentPurpose::list_from_db(&c.purposes),
                means: c.means,
                given_on: Date(c.given_on),
                withdrawn_at: c.withdrawn_at,
            })
            .collect()
    }

    /// When it was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When it was erased.
    async fn erased_at(&self) -> Option<DateTime<Utc>> {
        self.model.erased_at
    }
}

/// Someone to call about a person served (联系人).
#[derive(SimpleObject)]
pub struct CareContact {
    /// Name.
    name: String,
    /// How they are related (子女, 邻居…).
    relation: String,
    /// Phone number.
    phone: String,
}

/// A consent to keep and use a person's record (知情同意).
#[derive(SimpleObject)]
pub struct CareConsent {
    /// Global ID.
    id: ID,
    /// The person, a guardian or an agent.
    given_by: ConsentGiver,
    /// Who consented (`null` once erased).
    name: Option<String>,
    /// What it allows.
    purposes: Vec<ConsentPurpose>,
    /// How it was given.
    means: ConsentMeans,
    /// The day it was given.
    given_on: Date,
    /// When it was withdrawn, if it was.
    withdrawn_at: Option<DateTime<Utc>>,
}

/// A contact to record.
#[derive(InputObject)]
pub struct CareContactInput {
    /// Name, 1–30 characters.
    pub name: String,
    /// How they are related, at most 10 characters.
    #[graphql(default)]
    pub relation: String,
    /// Phone number, 5–20 digits.
    pub phone: String,
}

/// A consent to record.
#[derive(InputObject)]
pub struct CareConsentInput {
    /// Who gave it (a guardian, for a minor).
    pub given_by: ConsentGiver,
    /// Their name, 1–30 characters.
    pub name: String,
    /// What it allows (`REGISTER` to keep the record at all).
    pub purposes: Vec<ConsentPurpose>,
    /// How it was given.
    pub means: ConsentMeans,
    /// The day (not in the future, at most ten years ago).
    pub given_on: Date,
}

impl CareConsentInput {
    fn parse(self) -> register::NewConsent {
        register::NewConsent {
            given_by: self.given_by,
            name: self.name,
            purposes: self.purposes,
            means: self.means,
            given_on: self.given_on.0,
        }
    }
}

/// Input of `registerCareRecipient`.
#[derive(InputObject)]
pub struct RegisterCareRecipientInput {
    /// The station or room keeping the record (you must be its staff).
    pub organization_id: ID,
    /// Name, 1–30 characters.
    pub name: String,
    /// Age group.
    pub age_group: AgeGroup,
    /// Home address, at most 200 characters.
    #[graphql(default)]
    pub address: String,
    /// Where the home is.
    pub location: Option<LocationInput>,
    /// Categories (at least one).
    pub categories: Vec<CareCategory>,
    /// What they need, at most 1,000 characters.
    #[graphql(default)]
    pub needs: String,
    /// People to call, at most 5.
    #[graphql(default)]
    pub contacts: Vec<CareContactInput>,
    /// The consent to keep the record.
    pub consent: CareConsentInput,
}

/// Register queries.
#[derive(Default)]
pub struct CareQuery;

#[Object]
impl CareQuery {
    /// The people served on the registers of an organization and those below it, oldest first
    /// (at most 500), names masked. Its staff only; every record listed is audited.
    async fn care_recipients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The station or room (or any organization above them).")]
        organization_id: ID,
        #[graphql(desc = "Only this category.")] category: Option<CareCategory>,
    ) -> Result<Vec<CareRecipient>> {
        let viewer = ctx.require_account().await?;
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        let state = ctx.state();
        Ok(register::list(&state.db, viewer, org, category)
            .await?
            .into_iter()
            .map(|m| {
                let masked = register::open(&state.care_vault, &m)
                    .map(|p| crate::identity::domain::mask_name(&p.name));
                CareRecipient {
                    model: m,
                    personal: None,
                    masked,
                    consents: Vec::new(),
                }
            })
            .collect())
    }

    /// One person's whole record (its organization's staff), audited.
    async fn care_recipient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the record.")] id: ID,
    ) -> Result<CareRecipient> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CareRecipient, &id, "id")?;
        let state = ctx.state();
        let (model, consents) = register::read(&state.db, viewer, key).await?;
        let personal = register::open(&state.care_vault, &model);
        Ok(CareRecipient {
            model,
            personal,
            masked: None,
            consents,
        })
    }
}

/// Register mutations.
#[derive(Default)]
pub struct CareMutation;

#[Object]
impl CareMutation {
    /// Register a person served (建档), with the consent that allows it (must include
    /// `REGISTER`; a minor's comes from a guardian). The station's or room's staff.
    async fn register_care_recipient(
        &self,
        ctx: &Context<'_>,
        input: RegisterCareRecipientInput,
    ) -> Result<CareRecipient> {
        let viewer = ctx.require_account().await?;
        let state = ctx.state();
        let n = register::NewRecipient {
            organization: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            personal: Personal {
                name: input.name,
                address: input.address,
                latitude: input.location.as_ref().map(|l| l.latitude),
                longitude: input.location.as_ref().map(|l| l.longitude),
                needs: input.needs,
                contacts: input
                    .contacts
                    .into_iter()
                    .map(|c| register::Contact {
                        name: c.name,
                        relation: c.relation,
                        phone: c.phone,
                    })
                    .collect(),
            },
            age_group: input.age_group,
            categories: input.categories,
            consent: input.consent.parse(),
        };
        let model = register::register(&state.db, &state.care_vault, viewer, n).await?;
        let (model, consents) = register::read(&state.db, viewer, model.id).await?;
        let personal = register::open(&state.care_vault, &model);
        Ok(CareRecipient {
            model,
            personal,
            masked: None,
            consents,
        })
    }

    /// Record another consent for a person (its organization's staff).
    async fn record_care_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the record.")] recipient_id: ID,
        input: CareConsentInput,
    ) -> Result<ID> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CareRecipient, &recipient_id, "recipientId")?;
        let state = ctx.state();
        let c = register::record_consent(&state.db, &state.care_vault, viewer, key, input.parse())
            .await?;
        Ok(ids::encode(NodeType::CareConsent, c.id))
    }

    /// Withdraw a consent (its organization's staff), audited; returns when it was withdrawn. The
    /// last consent to keep the record is not withdrawn but the record erased
    /// (`eraseCareRecipient` with `CONSENT_WITHDRAWN`): `CONFLICT` says so.
    async fn withdraw_care_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the consent.")] id: ID,
    ) -> Result<Option<DateTime<Utc>>> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CareConsent, &id, "id")?;
        Ok(register::withdraw_consent(&ctx.state().db, viewer, key)
            .await?
            .withdrawn_at)
    }

    /// Erase a person's record on request (删除档案): the personal data and the consenters'
    /// names go, the counts stay. An administrator of its organization (or above).
    async fn erase_care_recipient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the record.")] id: ID,
        #[graphql(desc = "Why: a code, never free text (the audit log outlives the record).")]
        reason: register::ErasureReason,
    ) -> Result<CareRecipient> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CareRecipient, &id, "id")?;
        let model = register::erase(&ctx.state().db, viewer, key, reason).await?;
        Ok(CareRecipient {
            model,
            personal: None,
            masked: None,
            consents: Vec::new(),
        })
    }
}
