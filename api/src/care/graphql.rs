//! GraphQL surface of the register of people served (`careRecipients`, `careRecipient`,
//! `registerCareRecipient`, `recordCareConsent`, `withdrawCareConsent`, `eraseCareRecipient`)
//! and of care plans (`startCarePlan`, `myCareTasks`, `careTasksDue`, `logCareVisit`,
//! `careAlerts`, `handleCareAlert`, `endCarePlan`, `careReport`).

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

/// A task of a care plan (四方关爱): one party's calls or visits.
pub struct CareTask(entity::care_task::Model);

/// One party's part of a care plan (四方关爱): a call or a home visit, how often, by whom, and
/// when it is next due (city dates).
#[Object]
impl CareTask {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::CareTask, self.0.id)
    }

    /// Which of the four parties (民政干部, 社区工作者, 第三方机构, 志愿者).
    async fn party(&self) -> entity::care_task::CareParty {
        self.0.party
    }

    /// A phone call or a home visit.
    async fn kind(&self) -> entity::care_task::CareTaskKind {
        self.0.kind
    }

    /// How often.
    async fn cadence(&self) -> entity::care_task::Cadence {
        self.0.cadence
    }

    /// Who does it.
    async fn assignee(&self, ctx: &Context<'_>) -> Result<crate::accounts::graphql::Account> {
        crate::accounts::graphql::required(ctx, self.0.assignee_id).await
    }

    /// Next due day (city date).
    async fn next_due_on(&self) -> Date {
        Date(self.0.next_due_on)
    }

    /// When it was last done.
    async fn last_done_on(&self) -> Option<Date> {
        self.0.last_done_on.map(Date)
    }

    /// Past its day (逾期), as the city reads today.
    async fn overdue(&self) -> bool {
        super::plans::overdue(&self.0, Utc::now())
    }

    /// The person served, whole: for the organization's staff, and for the assignee from two
    /// days before the task is due until it is done (a volunteer only with the consent to
    /// share); `null` otherwise. Each read is audited.
    async fn recipient(&self, ctx: &Context<'_>) -> Result<Option<CareRecipient>> {
        let viewer = ctx.require_account().await?;
        let state = ctx.state();
        if !super::plans::may_open_for_task(&state.db, viewer, &self.0).await? {
            return Ok(None);
        }
        crate::privacy::audit(
            &state.db,
            viewer.id,
            "care.read.task",
            Some(self.0.organization_id),
            None,
            format!(
                "care recipient {} for care task {}",
                self.0.recipient_id, self.0.id
            ),
        )
        .await?;
        let Some(model) =
            <recipient::Entity as sea_orm::EntityTrait>::find_by_id(self.0.recipient_id)
                .one(&state.db)
                .await?
        else {
            return Ok(None);
        };
        let personal = register::open(&state.care_vault, &model);
        Ok(Some(CareRecipient {
            model,
            personal,
            masked: None,
            consents: Vec::new(),
        }))
    }
}

/// A visit that raised an alert.
pub struct CareAlert(entity::care_visit::Model);

/// A visit that raised an alert (关爱预警): what was observed, the help request it raised, and
/// who handled it. The staff's (`careAlerts`); the notes stay sealed here.
#[Object]
impl CareAlert {
    /// Global ID (of the visit).
    async fn id(&self) -> ID {
        ids::encode(NodeType::CareVisit, self.0.id)
    }

    /// The station or room of the person served.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        crate::organizations::graphql::required(ctx, self.0.organization_id).await
    }

    /// The task the visit was made under (its `recipient` opens the record, audited).
    async fn task(&self, ctx: &Context<'_>) -> Result<Option<CareTask>> {
        Ok(crate::batch::load(
            &ctx.state().db,
            self.0.task_id,
            crate::batch::ById::<entity::care_task::Entity>::new,
        )
        .await?
        .map(CareTask))
    }

    /// The day of the visit.
    async fn visited_on(&self) -> Date {
        Date(self.0.visited_on)
    }

    /// When it was logged: the alert's moment.
    async fn logged_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Health (健康).
    async fn health(&self) -> entity::care_visit::Observation {
        self.0.health
    }

    /// Safety (安全).
    async fn safety(&self) -> entity::care_visit::Observation {
        self.0.safety
    }

    /// Living conditions (居住环境).
    async fn living(&self) -> entity::care_visit::Observation {
        self.0.living
    }

    /// Mood (情绪).
    async fn mood(&self) -> entity::care_visit::Observation {
        self.0.mood
    }

    /// The help request it raised, if something was urgent.
    async fn help_request(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::help::graphql::HelpRequest>> {
        let Some(id) = self.0.help_request_id else {
            return Ok(None);
        };
        Ok(crate::batch::load(
            &ctx.state().db,
            id,
            crate::batch::ById::<entity::help_request::Entity>::new,
        )
        .await?
        .map(crate::help::graphql::HelpRequest))
    }

    /// When a staff member handled it (`null`: not by staff).
    async fn handled_at(&self) -> Option<DateTime<Utc>> {
        self.0.alert_handled_at
    }

    /// Who handled it.
    async fn handled_by(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::accounts::graphql::Account>> {
        match self.0.alert_handled_by {
            Some(id) => Ok(Some(crate::accounts::graphql::required(ctx, id).await?)),
            None => Ok(None),
        }
    }
}

/// A care report over a period (关爱统计): visits due against done, and how alerts fared.
#[derive(SimpleObject)]
pub struct CareReport {
    /// First day of the period (city date).
    from: Date,
    /// The day after the period.
    to: Date,
    /// Calls and visits the plans that ran scheduled in the period, up to today (应访).
    visits_due: i64,
    /// Calls and visits made in the period (实访).
    visits_done: i64,
    /// Of those, the ones made by the day they were due (按时).
    visits_on_time: i64,
    /// Visits in the period that raised an alert.
    alerts_raised: i64,
    /// Of those, the ones handled: by a staff member, or by a volunteer taking the help
    /// request.
    alerts_handled: i64,
    /// The median minutes from a visit being logged to its alert being handled (`null`: none
    /// handled).
    median_minutes_to_handle: Option<i64>,
}

/// A logged visit and the help request it raised.
#[derive(SimpleObject)]
pub struct CareVisitLogged {
    /// Global ID of the visit.
    id: ID,
    /// The day of the visit.
    visited_on: Date,
    /// Whether it raised an alert to the staff: a concern, something urgent, or help asked
    /// for (需关注).
    alert: bool,
    /// The help request it raised for the staff, when something was urgent.
    help_request: Option<crate::help::graphql::HelpRequest>,
    /// The task's next due day.
    next_due_on: Date,
}

/// A task to give a party in a new plan.
#[derive(InputObject)]
pub struct CareTaskInput {
    /// Which party.
    pub party: entity::care_task::CareParty,
    /// A call or a home visit.
    pub kind: entity::care_task::CareTaskKind,
    /// How often.
    pub cadence: entity::care_task::Cadence,
    /// Who does it.
    pub assignee_id: ID,
}

/// Input of `startCarePlan`.
#[derive(InputObject)]
pub struct StartCarePlanInput {
    /// The person served.
    pub recipient_id: ID,
    /// First day (city date): today or later, or at most 30 days back.
    pub starts_on: Date,
    /// The parties' tasks, 1 to 8.
    pub tasks: Vec<CareTaskInput>,
}

/// Input of `logCareVisit`.
#[derive(InputObject)]
pub struct LogCareVisitInput {
    /// The task.
    pub task_id: ID,
    /// The day of the visit (not in the future, at most 30 days back).
    pub visited_on: Date,
    /// Health (健康).
    pub health: entity::care_visit::Observation,
    /// Safety (安全).
    pub safety: entity::care_visit::Observation,
    /// Living conditions (居住环境).
    pub living: entity::care_visit::Observation,
    /// Mood (情绪).
    pub mood: entity::care_visit::Observation,
    /// What was seen, at most 1,000 characters (sealed; the staff and the help request's
    /// volunteer read it).
    #[graphql(default)]
    pub notes: String,
    /// Raise a help request even if nothing is marked urgent.
    #[graphql(default)]
    pub raise_help: bool,
}

/// Care plan queries.
#[derive(Default)]
pub struct CarePlanQuery;

#[Object]
impl CarePlanQuery {
    /// The caller's care tasks due within the coming week, overdue ones first (每方的待办).
    async fn my_care_tasks(&self, ctx: &Context<'_>) -> Result<Vec<CareTask>> {
        let viewer = ctx.require_account().await?;
        if crate::clients::confined_to().is_some() {
            return Ok(Vec::new());
        }
        Ok(super::plans::due_for(&ctx.state().db, viewer)
            .await?
            .into_iter()
            .map(CareTask)
            .collect())
    }

    /// The care tasks due within the coming week in an organization and below it — or, with
    /// `overdueOnly`, those past their day (逾期探访) — overdue first. Its staff only.
    async fn care_tasks_due(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The station or room (or above).")] organization_id: ID,
        #[graphql(desc = "Only those past their day.", default)] overdue_only: bool,
    ) -> Result<Vec<CareTask>> {
        let viewer = ctx.require_account().await?;
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        Ok(
            super::plans::due_in(&ctx.state().db, viewer, org, overdue_only)
                .await?
                .into_iter()
                .map(CareTask)
                .collect(),
        )
    }

    /// The care alerts of an organization and below it, newest first (up to 200); by default
    /// only the open ones (not handled, and no volunteer has taken the help request). Its
    /// staff only.
    async fn care_alerts(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The station or room (or above).")] organization_id: ID,
        #[graphql(desc = "Only those not yet handled.", default = true)] open_only: bool,
    ) -> Result<Vec<CareAlert>> {
        let viewer = ctx.require_account().await?;
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        Ok(
            super::plans::alerts_in(&ctx.state().db, viewer, org, open_only)
                .await?
                .into_iter()
                .map(CareAlert)
                .collect(),
        )
    }

    /// The care report of an organization and below it over `[from, to)` (city dates, at
    /// most 366 days): visits due against done, on time, and alerts raised, handled and how
    /// fast. Its staff, and administrators above it.
    async fn care_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The station (or a level above it).")] organization_id: ID,
        #[graphql(desc = "First day of the period.")] from: Date,
        #[graphql(desc = "The day after the period.")] to: Date,
    ) -> Result<CareReport> {
        let viewer = ctx.require_account().await?;
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        let r = super::plans::report(&ctx.state().db, viewer, org, from.0, to.0).await?;
        Ok(CareReport {
            from,
            to,
            visits_due: r.visits_due,
            visits_done: r.visits_done,
            visits_on_time: r.visits_on_time,
            alerts_raised: r.alerts_raised,
            alerts_handled: r.alerts_handled,
            median_minutes_to_handle: r.median_minutes_to_handle,
        })
    }
}

/// Care plan mutations.
#[derive(Default)]
pub struct CarePlanMutation;

#[Object]
impl CarePlanMutation {
    /// Start a care plan (四方关爱计划) for a person served: the parties' tasks, due from its
    /// first day. The staff of the person's station or room; needs a consent to care visits
    /// (and, with a volunteer, to sharing with them) on record, else `CONFLICT`; one plan runs
    /// per person.
    async fn start_care_plan(
        &self,
        ctx: &Context<'_>,
        input: StartCarePlanInput,
    ) -> Result<Vec<CareTask>> {
        let viewer = ctx.require_account().await?;
        let mut tasks = Vec::with_capacity(input.tasks.len());
        for (i, t) in input.tasks.into_iter().enumerate() {
            tasks.push(super::plans::NewTask {
                party: t.party,
                kind: t.kind,
                cadence: t.cadence,
                assignee: ids::decode(
                    NodeType::Account,
                    &t.assignee_id,
                    &format!("input.tasks.{i}.assigneeId"),
                )?,
            });
        }
        let n = super::plans::NewPlan {
            recipient: ids::decode(
                NodeType::CareRecipient,
                &input.recipient_id,
                "input.recipientId",
            )?,
            starts_on: input.starts_on.0,
            tasks,
        };
        let (_, tasks) = super::plans::create(&ctx.state().db, viewer, n).await?;
        Ok(tasks.into_iter().map(CareTask).collect())
    }

    /// Log a call or visit (the task's assignee, or the staff): the checklist, notes, and a
    /// help request for the staff when something is urgent. The task moves to its next day.
    async fn log_care_visit(
        &self,
        ctx: &Context<'_>,
        input: LogCareVisitInput,
    ) -> Result<CareVisitLogged> {
        let viewer = ctx.require_account().await?;
        let state = ctx.state();
        let v = super::plans::LoggedVisit {
            task: ids::decode(NodeType::CareTask, &input.task_id, "input.taskId")?,
            visited_on: input.visited_on.0,
            health: input.health,
            safety: input.safety,
            living: input.living,
            mood: input.mood,
            notes: input.notes,
            raise_help: input.raise_help,
        };
        let (visit, help) =
            super::plans::log_visit(&state.db, &state.care_vault, viewer, v).await?;
        let task = <entity::care_task::Entity as sea_orm::EntityTrait>::find_by_id(visit.task_id)
            .one(&state.db)
            .await?;
        Ok(CareVisitLogged {
            id: ids::encode(NodeType::CareVisit, visit.id),
            visited_on: Date(visit.visited_on),
            alert: visit.alert,
            help_request: help.map(crate::help::graphql::HelpRequest),
            next_due_on: Date(task.map_or(visit.visited_on, |t| t.next_due_on)),
        })
    }

    /// Mark a care alert handled (the staff of the person's station or room): once, else
    /// `CONFLICT`.
    async fn handle_care_alert(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The alert (`CareAlert.id`).")] id: ID,
    ) -> Result<CareAlert> {
        let viewer = ctx.require_account().await?;
        let visit = ids::decode(NodeType::CareVisit, &id, "id")?;
        Ok(CareAlert(
            super::plans::handle_alert(&ctx.state().db, viewer, visit).await?,
        ))
    }

    /// End the person's running care plan (the staff of their station or room): its tasks
    /// leave the due lists, its visits stay counted. `NOT_FOUND` when none runs. Returns when
    /// it ended.
    async fn end_care_plan(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person served.")] recipient_id: ID,
    ) -> Result<DateTime<Utc>> {
        let viewer = ctx.require_account().await?;
        let r = ids::decode(NodeType::CareRecipient, &recipient_id, "recipientId")?;
        let p = super::plans::end_plan(&ctx.state().db, viewer, r).await?;
        Ok(p.ended_at.unwrap_or_else(Utc::now))
    }
}
