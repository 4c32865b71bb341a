//! GraphQL surface of service projects and the service, needs and resources lists.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::{
    community_need::{self as need, NeedStatus},
    community_resource::{self as resource, ResourceKind},
    project_deliverable::{self as deliverable, DeliverableStatus},
    project_review::{self as review, ReviewGrade, ReviewStage},
    service_project::{self as project, FundingSource, ServiceField},
    station_service,
};

use super::{
    lists,
    matching::{self, Candidate, MatchReason},
    service,
};
use crate::{
    accounts::graphql::Account,
    authz,
    context::ContextExt,
    direct::Fast,
    error::AppError,
    geo::{GeoPoint, LocationInput},
    ids::{self, NodeType},
    organizations::graphql::Organization,
    scalars::Date,
    staffing::service::today,
    validate,
};

async fn org(ctx: &Context<'_>, id: i64) -> Result<Fast<Organization>> {
    crate::organizations::graphql::required(ctx, id).await
}

async fn maybe_org(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<Fast<Organization>>> {
    match id {
        Some(id) => Ok(Some(org(ctx, id).await?)),
        None => Ok(None),
    }
}

/// A social-work service project (社工服务项目).
pub struct ServiceProject(pub project::Model);

/// A social-work service project (社工服务项目): run by an operator organization (运营机构) for
/// a station or room, paid from a funding source (资金来源), over a period, with deliverables
/// (项目产出) and a third-party evaluator's reviews (第三方评估). Public, like a government
/// purchase of services is; the reviews are for the parties only.
#[Object]
impl ServiceProject {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ServiceProject, self.0.id)
    }

    /// Title (项目名称).
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// What it does (项目简介).
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Field of service (服务领域).
    async fn field(&self) -> ServiceField {
        self.0.field
    }

    /// Funding source (资金来源): 政府购买, 福彩公益金, 慈善基金, 联合创投.
    async fn funding(&self) -> FundingSource {
        self.0.funding
    }

    /// Budget in fen (项目预算，单位：分).
    async fn budget_fen(&self) -> i64 {
        self.0.budget_fen
    }

    /// First day (city date).
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }

    /// Last day, inclusive (city date).
    async fn ends_on(&self) -> Date {
        Date(self.0.ends_on)
    }

    /// Whether today falls within its period (执行中).
    async fn running(&self) -> bool {
        let day = today();
        self.0.starts_on <= day && day <= self.0.ends_on
    }

    /// Who it is for (目标服务对象), in words.
    async fn beneficiaries(&self) -> &str {
        &self.0.beneficiaries
    }

    /// How many people it means to reach (目标服务人数).
    async fn beneficiary_target(&self) -> i32 {
        self.0.beneficiary_target
    }

    /// The station or room served (服务站点); its managers own the project.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        org(ctx, self.0.organization_id).await
    }

    /// The organization running it (运营机构 / 承接机构).
    async fn operator(&self, ctx: &Context<'_>) -> Result<Option<Fast<Organization>>> {
        maybe_org(ctx, self.0.operator_id).await
    }

    /// The third-party evaluator (第三方评估机构).
    async fn evaluator(&self, ctx: &Context<'_>) -> Result<Option<Fast<Organization>>> {
        maybe_org(ctx, self.0.evaluator_id).await
    }

    /// The community need it was started for (来源需求), if any.
    async fn need(&self, ctx: &Context<'_>) -> Result<Option<CommunityNeed>> {
        match self.0.need_id {
            Some(id) => Ok(crate::batch::load(
                &ctx.state().db,
                id,
                crate::batch::ById::<need::Entity>::new,
            )
            .await?
            .map(CommunityNeed)),
            None => Ok(None),
        }
    }

    /// Its deliverables (项目产出), by due day.
    async fn deliverables(&self, ctx: &Context<'_>) -> Result<Vec<ProjectDeliverable>> {
        Ok(
            crate::batch::load(&ctx.state().db, self.0.id, || service::DeliverablesOf)
                .await?
                .unwrap_or_default()
                .into_iter()
                .map(ProjectDeliverable)
                .collect(),
        )
    }

    /// The evaluator's reviews (评估记录), oldest first: `null` except to the staff of the
    /// station served (or above it), of the operator and of the evaluator.
    async fn reviews(&self, ctx: &Context<'_>) -> Result<Option<Vec<ProjectReview>>> {
        let Some(viewer) = ctx.optional_account().await? else {
            return Ok(None);
        };
        let db = &ctx.state().db;
        let mut sees = false;
        for org in [
            Some(self.0.organization_id),
            self.0.operator_id,
            self.0.evaluator_id,
        ]
        .into_iter()
        .flatten()
        {
            if authz::check(db, viewer, authz::CheckKind::Staff, org).await? {
                sees = true;
                break;
            }
        }
        if !sees {
            return Ok(None);
        }
        Ok(Some(
            service::reviews_of(db, self.0.id)
                .await?
                .into_iter()
                .map(ProjectReview)
                .collect(),
        ))
    }

    /// What it has achieved (项目进度): deliverables met, events held, hours served, money
    /// disbursed to it. Counted from the rows, batched over a list of projects.
    async fn progress(&self, ctx: &Context<'_>) -> Result<ProjectProgress> {
        let p = crate::batch::load(&ctx.state().db, self.0.id, || service::ProgressOf)
            .await?
            .unwrap_or_default();
        Ok(ProjectProgress {
            p,
            budget_fen: self.0.budget_fen,
        })
    }

    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// What a project has achieved (项目进度).
pub struct ProjectProgress {
    p: service::Progress,
    budget_fen: i64,
}

/// What a project has achieved (项目进度), counted from its deliverables, its events and help
/// requests, their approved service records, and the disbursements made to it.
#[Object]
impl ProjectProgress {
    /// Deliverables promised (产出总数).
    async fn deliverables(&self) -> i64 {
        self.p.deliverables
    }

    /// Deliverables met (已达成).
    async fn deliverables_met(&self) -> i64 {
        self.p.deliverables_met
    }

    /// Deliverables missed (未达成).
    async fn deliverables_missed(&self) -> i64 {
        self.p.deliverables_missed
    }

    /// Deliverables still pending after their due day (逾期).
    async fn deliverables_overdue(&self) -> i64 {
        self.p.deliverables_overdue
    }

    /// Share of the deliverables met, 0 to 1 (`null` with none).
    async fn deliverables_met_share(&self) -> Option<f64> {
        (self.p.deliverables > 0)
            .then(|| self.p.deliverables_met as f64 / self.p.deliverables as f64)
    }

    /// Its events (published or completed) that have ended (已开展活动).
    async fn events_held(&self) -> i64 {
        self.p.events_held
    }

    /// Its events (published or completed), ended or not.
    async fn events_planned(&self) -> i64 {
        self.p.events_planned
    }

    /// Its help requests completed (已完成求助).
    async fn help_requests_completed(&self) -> i64 {
        self.p.help_requests_completed
    }

    /// Approved minutes of volunteer service at its events and on its help requests.
    async fn minutes_served(&self) -> i64 {
        self.p.minutes_served
    }

    /// The same in hours (服务时长), to one decimal.
    async fn hours_served(&self) -> f64 {
        (self.p.minutes_served as f64 / 6.0).round() / 10.0
    }

    /// Fen disbursed to it from charity funds (已拨付).
    async fn disbursed_fen(&self) -> i64 {
        self.p.disbursed_fen
    }

    /// Disbursed over budget, 0 and up (`null` with no budget).
    async fn budget_spent_share(&self) -> Option<f64> {
        (self.budget_fen > 0).then(|| self.p.disbursed_fen as f64 / self.budget_fen as f64)
    }
}

/// Something a project promised by a day (项目产出).
pub struct ProjectDeliverable(pub deliverable::Model);

/// Something a project promised by a day (项目产出), and whether it was met.
#[Object]
impl ProjectDeliverable {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ProjectDeliverable, self.0.id)
    }

    /// What (产出内容).
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Due day (截止日期, city date).
    async fn due_on(&self) -> Date {
        Date(self.0.due_on)
    }

    /// Pending, met or missed.
    async fn status(&self) -> DeliverableStatus {
        self.0.status
    }

    /// Still pending after its due day (逾期).
    async fn overdue(&self) -> bool {
        self.0.status == DeliverableStatus::Pending && self.0.due_on < today()
    }

    /// What was delivered, or why not.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }

    /// When it was settled.
    async fn settled_at(&self) -> Option<DateTime<Utc>> {
        self.0.settled_at
    }
}

/// An evaluator's review of a project (第三方评估).
pub struct ProjectReview(pub review::Model);

/// An evaluator organization's review of a project (第三方评估): one per stage.
#[Object]
impl ProjectReview {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::ProjectReview, self.0.id)
    }

    /// Mid-term (中期评估) or final (结项评估).
    async fn stage(&self) -> ReviewStage {
        self.0.stage
    }

    /// Grade (评估等级): 优秀, 良好, 合格, 不合格.
    async fn grade(&self) -> ReviewGrade {
        self.0.grade
    }

    /// Comments (评估意见).
    async fn comments(&self) -> &str {
        &self.0.comments
    }

    /// The evaluator organization.
    async fn evaluator(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        org(ctx, self.0.evaluator_id).await
    }

    /// Who wrote it.
    async fn reviewer(&self, ctx: &Context<'_>) -> Result<Account> {
        crate::accounts::graphql::required(ctx, self.0.reviewer_id).await
    }

    /// When.
    async fn reviewed_at(&self) -> DateTime<Utc> {
        self.0.reviewed_at
    }
}

/// A service on a station's list (服务清单).
pub struct StationService(pub station_service::Model);

/// A service a station or room offers residents (服务清单条目). Public.
#[Object]
impl StationService {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::StationService, self.0.id)
    }

    /// The station or room.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        org(ctx, self.0.organization_id).await
    }

    /// Name of the service (服务名称).
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Field of service (服务领域).
    async fn field(&self) -> ServiceField {
        self.0.field
    }

    /// What it is.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// When it is offered, in words (服务时间, e.g. 每周三上午).
    async fn schedule(&self) -> &str {
        &self.0.schedule
    }

    /// Still on the list (withdrawn entries stay for the record).
    async fn active(&self) -> bool {
        self.0.active
    }

    /// When it was listed.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A need on a community's list (需求清单).
pub struct CommunityNeed(pub need::Model);

/// Something a community needs (需求清单条目), until it is turned into a help request, an event
/// or a project (已对接) or closed. Public, so it names no one.
#[Object]
impl CommunityNeed {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::CommunityNeed, self.0.id)
    }

    /// The community (社区).
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        org(ctx, self.0.organization_id).await
    }

    /// What is needed (需求名称).
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Details (需求描述).
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Field of service (服务领域).
    async fn field(&self) -> ServiceField {
        self.0.field
    }

    /// Skills that answer it (所需技能), normalized.
    async fn skills(&self) -> Vec<String> {
        validate::skills_from_db(&self.0.skills)
    }

    /// Latitude, when a place was given (else the community's): exact for the community's
    /// staff, rounded to about 1 km for everyone else.
    async fn latitude(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        self.place(ctx, self.0.latitude).await
    }

    /// Longitude, when a place was given: exact for the community's staff, rounded to about
    /// 1 km for everyone else.
    async fn longitude(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        self.place(ctx, self.0.longitude).await
    }

    /// From when it is needed.
    async fn needed_from(&self) -> Option<DateTime<Utc>> {
        self.0.needed_from
    }

    /// Until when it is needed.
    async fn needed_until(&self) -> Option<DateTime<Utc>> {
        self.0.needed_until
    }

    /// How many people it concerns (涉及人数).
    async fn people(&self) -> i32 {
        self.0.people
    }

    /// Open (待对接), addressed (已对接) or closed (已关闭).
    async fn status(&self) -> NeedStatus {
        self.0.status
    }

    /// The help request that answers it (its own fields say what the caller may see).
    async fn help_request(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::help::graphql::HelpRequest>> {
        match self.0.help_request_id {
            Some(id) => Ok(crate::batch::load(
                &ctx.state().db,
                id,
                crate::batch::ById::<entity::help_request::Entity>::new,
            )
            .await?
            .map(crate::help::graphql::HelpRequest)),
            None => Ok(None),
        }
    }

    /// The event that answers it, if the caller may see it.
    async fn event(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::events::graphql::CharityEvent>> {
        match self.0.event_id {
            Some(id) => Ok(crate::events::graphql::visible(ctx, id).await?),
            None => Ok(None),
        }
    }

    /// The project that answers it.
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<ServiceProject>> {
        by_key(ctx, self.0.project_id).await
    }

    /// Who raised it: the community's staff only (`null` for others).
    async fn raised_by(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        if !self.staff(ctx).await? {
            return Ok(None);
        }
        crate::accounts::graphql::by_id(ctx, self.0.raised_by)
            .await
            .map_err(Into::into)
    }

    /// When it was raised.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

impl CommunityNeed {
    /// Whether the caller is staff of the need's community (batched over a list).
    async fn staff(&self, ctx: &Context<'_>) -> Result<bool> {
        let Some(viewer) = ctx.optional_account().await? else {
            return Ok(false);
        };
        Ok(authz::check(
            &ctx.state().db,
            viewer,
            authz::CheckKind::Staff,
            self.0.organization_id,
        )
        .await?)
    }

    async fn place(&self, ctx: &Context<'_>, v: Option<f64>) -> Result<Option<f64>> {
        let Some(v) = v else { return Ok(None) };
        Ok(Some(if self.staff(ctx).await? {
            v
        } else {
            crate::help::graphql::approximate(v)
        }))
    }
}

/// A resource on a community's list (资源清单).
pub struct CommunityResource(pub resource::Model);

/// Mask a contact for staff who do not manage the resource: a mobile number as `138****5678`,
/// anything else (a landline, a name, a WeChat ID) wholly.
pub fn mask_contact(contact: &str) -> String {
    let digits: String = contact
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .collect();
    if digits.len() == 11 && digits.chars().all(|c| c.is_ascii_digit()) {
        crate::accounts::domain::mask_phone(&digits)
    } else {
        "****".to_owned()
    }
}

/// A person, venue, fund or skill a community can call on (资源清单条目). Staff of the
/// community (and above it) only.
#[Object]
impl CommunityResource {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::CommunityResource, self.0.id)
    }

    /// The community.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        org(ctx, self.0.organization_id).await
    }

    /// Person (人力), venue (场地), fund (资金) or skill (技能).
    async fn kind(&self) -> ResourceKind {
        self.0.kind
    }

    /// Name (资源名称).
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What it is.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Fields it serves (服务领域).
    async fn fields(&self) -> Vec<ServiceField> {
        lists::fields_from_db(&self.0.fields)
    }

    /// Skills it brings (技能), normalized.
    async fn skills(&self) -> Vec<String> {
        validate::skills_from_db(&self.0.skills)
    }

    /// Latitude, when a place was given (else the community's).
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }

    /// Longitude, when a place was given.
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }

    /// Available from.
    async fn available_from(&self) -> Option<DateTime<Utc>> {
        self.0.available_from
    }

    /// Available until.
    async fn available_until(&self) -> Option<DateTime<Utc>> {
        self.0.available_until
    }

    /// People it serves or holds at once (容量).
    async fn capacity(&self) -> Option<i32> {
        self.0.capacity
    }

    /// How to reach it (联系方式): in full to the community's managers; for other staff a
    /// mobile number masked as `138****5678`, anything else as `****`.
    async fn contact(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(c) = &self.0.contact else {
            return Ok(None);
        };
        let viewer = ctx.require_account().await?;
        Ok(Some(
            if authz::check(
                &ctx.state().db,
                viewer,
                authz::CheckKind::Manages,
                self.0.organization_id,
            )
            .await?
            {
                c.clone()
            } else {
                mask_contact(c)
            },
        ))
    }

    /// The person, when it is someone with an account.
    async fn account(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        match self.0.account_id {
            Some(id) => Ok(crate::accounts::graphql::by_id(ctx, id).await?),
            None => Ok(None),
        }
    }

    /// The fund, when it is a charity fund.
    async fn fund(&self, ctx: &Context<'_>) -> Result<Option<crate::funds::graphql::CharityFund>> {
        match self.0.fund_id {
            Some(id) => Ok(crate::batch::load(
                &ctx.state().db,
                id,
                crate::batch::ById::<entity::charity_fund::Entity>::new,
            )
            .await?
            .map(crate::funds::graphql::CharityFund)),
            None => Ok(None),
        }
    }

    /// Still on the list.
    async fn active(&self) -> bool {
        self.0.active
    }

    /// When it was listed.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One open need and what could answer it.
pub struct NeedMatches(matching::NeedMatches);

/// One open need and the resources and projects that could answer it, best first (精准对接).
#[Object]
impl NeedMatches {
    /// The open need.
    async fn need(&self) -> CommunityNeed {
        CommunityNeed(self.0.need.clone())
    }

    /// Its matches, best first.
    async fn matches(&self) -> Vec<NeedMatch> {
        self.0
            .matches
            .iter()
            .map(|(c, s)| NeedMatch(c.clone(), s.clone()))
            .collect()
    }
}

/// A resource or project that could answer a need.
pub struct NeedMatch(Candidate, matching::Score);

/// A resource or a project that could answer a need, with how well (匹配结果).
#[Object]
impl NeedMatch {
    /// 0 to 1: field 0.4, skills 0.3, place 0.2, time 0.1.
    async fn score(&self) -> f64 {
        self.1.score
    }

    /// The resource, when it is one.
    async fn resource(&self) -> Option<CommunityResource> {
        match &self.0 {
            Candidate::Resource(r) => Some(CommunityResource(r.clone())),
            Candidate::Project(_) => None,
        }
    }

    /// The project, when it is one.
    async fn project(&self) -> Option<ServiceProject> {
        match &self.0 {
            Candidate::Project(p) => Some(ServiceProject(p.clone())),
            Candidate::Resource(_) => None,
        }
    }

    /// Meters between the need and it, when both places are known.
    async fn distance_meters(&self) -> Option<f64> {
        self.1.distance_m.map(|d| d.round())
    }

    /// The needed skills it brings.
    async fn skills_covered(&self) -> Vec<String> {
        self.1.skills_covered.clone()
    }

    /// Why it matched (领域, 技能, 就近, 时间).
    async fn reasons(&self) -> Vec<MatchReason> {
        self.1.reasons.clone()
    }
}

/// Which of an organization's projects to list.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum ProjectRole {
    /// Projects serving it or an organization below it (服务).
    Served,
    /// Projects it runs as the operator (运营).
    Operated,
    /// Projects it evaluates (评估).
    Evaluated,
}

/// The project with key `id`, batched with the other projects the request asks for at once.
async fn by_key(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<ServiceProject>> {
    match id {
        Some(id) => Ok(crate::batch::load(
            &ctx.state().db,
            id,
            crate::batch::ById::<project::Entity>::new,
        )
        .await?
        .map(ServiceProject)),
        None => Ok(None),
    }
}

/// `CharityEvent.project`, `HelpRequest.project`, `CharityFund.project`, `Disbursement.project`.
pub async fn project_of(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<ServiceProject>> {
    by_key(ctx, id).await
}

/// `Organization.serviceProjects(role:)`.
pub async fn of_organization(
    ctx: &Context<'_>,
    org: i64,
    role: ProjectRole,
) -> Result<Vec<ServiceProject>> {
    let role = match role {
        ProjectRole::Served => service::Role::Served,
        ProjectRole::Operated => service::Role::Operated,
        ProjectRole::Evaluated => service::Role::Evaluated,
    };
    Ok(service::of_organization(&ctx.state().db, org, role)
        .await?
        .into_iter()
        .map(ServiceProject)
        .collect())
}

/// `Organization.serviceList`.
pub async fn services_of(
    ctx: &Context<'_>,
    org: i64,
    withdrawn_too: bool,
) -> Result<Vec<StationService>> {
    Ok(lists::services_of(&ctx.state().db, org, withdrawn_too)
        .await?
        .into_iter()
        .map(StationService)
        .collect())
}

/// `Organization.needs`.
pub async fn needs_of(
    ctx: &Context<'_>,
    org: i64,
    status: Option<NeedStatus>,
) -> Result<Vec<CommunityNeed>> {
    Ok(lists::needs_of(&ctx.state().db, org, status)
        .await?
        .into_iter()
        .map(CommunityNeed)
        .collect())
}

/// `Organization.resources`: its staff only.
pub async fn resources_of(
    ctx: &Context<'_>,
    org: i64,
    kind: Option<ResourceKind>,
    withdrawn_too: bool,
) -> Result<Vec<CommunityResource>> {
    let viewer = ctx.require_account().await?;
    let db = &ctx.state().db;
    if !authz::is_staff(db, viewer, org).await? {
        return Err(AppError::Forbidden(msg!(
            "only the community's staff see its resources list",
            "只有本社区的工作人员可以查看资源清单"
        ))
        .into());
    }
    Ok(lists::resources_of(db, org, kind, withdrawn_too)
        .await?
        .into_iter()
        .map(CommunityResource)
        .collect())
}

/// Project queries.
#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// A service project by ID (public).
    async fn service_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project.")] id: ID,
    ) -> Result<Option<ServiceProject>> {
        let key = ids::decode(NodeType::ServiceProject, &id, "id")?;
        by_key(ctx, Some(key)).await
    }

    /// Rank the resources and projects of an organization's line of the hierarchy (it, the
    /// organizations below it and those above it) against the open needs of it and below it
    /// (精准对接), oldest need first, at most 200 needs. The organization's staff only.
    async fn match_needs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The community (or station, or district) whose needs to match.")]
        organization_id: ID,
        #[graphql(desc = "Only this need.")] need_id: Option<ID>,
        #[graphql(desc = "Matches per need, 1 to 20 (default 5).")] first: Option<i32>,
    ) -> Result<Vec<NeedMatches>> {
        let viewer = ctx.require_account().await?;
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        let need = need_id
            .map(|id| ids::decode(NodeType::CommunityNeed, &id, "needId"))
            .transpose()?;
        let per_need = usize::try_from(first.unwrap_or(5)).unwrap_or(0);
        Ok(
            matching::match_needs(&ctx.state().db, viewer, org, need, per_need)
                .await?
                .into_iter()
                .map(NeedMatches)
                .collect(),
        )
    }
}

/// A deliverable to promise.
#[derive(InputObject)]
pub struct DeliverableInput {
    /// What, 1–100 characters.
    pub title: String,
    /// By when, within the project's period.
    pub due_on: Date,
}

/// Input of `createServiceProject`.
#[derive(InputObject)]
pub struct CreateServiceProjectInput {
    /// The station or room served (you must be its ORGANIZER or ADMIN, or an administrator
    /// above it).
    pub organization_id: ID,
    /// The organization running it (运营机构): a social organization or charity.
    pub operator_id: Option<ID>,
    /// The third-party evaluator (评估机构): neither the operator nor the station.
    pub evaluator_id: Option<ID>,
    /// Title, 1–100 characters.
    pub title: String,
    /// What it does, at most 2,000 characters.
    #[graphql(default)]
    pub description: String,
    /// Field of service.
    pub field: ServiceField,
    /// Funding source.
    pub funding: FundingSource,
    /// Budget in fen, 0 to 10,000,000,000.
    pub budget_fen: i64,
    /// First day.
    pub starts_on: Date,
    /// Last day, inclusive; at most ten years on.
    pub ends_on: Date,
    /// Who it is for, at most 200 characters.
    #[graphql(default)]
    pub beneficiaries: String,
    /// How many people it means to reach, 0 to 1,000,000.
    #[graphql(default)]
    pub beneficiary_target: i32,
    /// Its deliverables, at most 50, each due within the period.
    #[graphql(default)]
    pub deliverables: Vec<DeliverableInput>,
    /// An open community need it answers: the need becomes `ADDRESSED` with it, or neither
    /// happens.
    pub need_id: Option<ID>,
}

/// Input of `reviewServiceProject`.
#[derive(InputObject)]
pub struct ReviewServiceProjectInput {
    /// The project.
    pub project_id: ID,
    /// Mid-term (from its first day) or final (from its last day); one review each.
    pub stage: ReviewStage,
    /// Grade.
    pub grade: ReviewGrade,
    /// Comments, 1–2,000 characters.
    pub comments: String,
}

/// Input of `addStationService`.
#[derive(InputObject)]
pub struct AddStationServiceInput {
    /// The station or room (you must manage it).
    pub organization_id: ID,
    /// Name, 1–60 characters, unique in its list.
    pub title: String,
    /// Field of service.
    pub field: ServiceField,
    /// What it is, at most 1,000 characters.
    #[graphql(default)]
    pub description: String,
    /// When it is offered, in words, at most 100 characters.
    #[graphql(default)]
    pub schedule: String,
}

/// Input of `raiseCommunityNeed`.
#[derive(InputObject)]
pub struct RaiseCommunityNeedInput {
    /// The community (you must be its staff).
    pub organization_id: ID,
    /// What is needed, 1–100 characters; public, so no names.
    pub title: String,
    /// Details, at most 2,000 characters; public, so no names.
    #[graphql(default)]
    pub description: String,
    /// Field of service.
    pub field: ServiceField,
    /// Skills that answer it (at most 20).
    #[graphql(default)]
    pub skills: Vec<String>,
    /// Where, if not at the community's own place.
    pub location: Option<LocationInput>,
    /// From when it is needed.
    pub needed_from: Option<DateTime<Utc>>,
    /// Until when it is needed.
    pub needed_until: Option<DateTime<Utc>>,
    /// How many people it concerns, 0 to 100,000.
    #[graphql(default)]
    pub people: i32,
}

/// Input of `addCommunityResource`.
#[derive(InputObject)]
pub struct AddCommunityResourceInput {
    /// The community (you must manage it).
    pub organization_id: ID,
    /// Person, venue, fund or skill.
    pub kind: ResourceKind,
    /// Name, 1–60 characters.
    pub name: String,
    /// What it is, at most 1,000 characters.
    #[graphql(default)]
    pub description: String,
    /// Fields it serves (at least one).
    pub fields: Vec<ServiceField>,
    /// Skills it brings (at most 20).
    #[graphql(default)]
    pub skills: Vec<String>,
    /// Where, if not at the community's own place.
    pub location: Option<LocationInput>,
    /// Available from.
    pub available_from: Option<DateTime<Utc>>,
    /// Available until.
    pub available_until: Option<DateTime<Utc>>,
    /// People it serves or holds at once, 1 to 100,000.
    pub capacity: Option<i32>,
    /// How to reach it, at most 60 characters (shown in full to the community's managers only).
    pub contact: Option<String>,
    /// The person's account, for a `PERSON`.
    pub account_id: Option<ID>,
    /// The charity fund, for a `FUND`: one of this organization's line.
    pub fund_id: Option<ID>,
}

fn point(l: Option<LocationInput>, field: &str) -> Result<Option<GeoPoint>, AppError> {
    l.map(|l| GeoPoint::new(l.latitude, l.longitude, field))
        .transpose()
}

fn opt_key(id: Option<ID>, ty: NodeType, field: &str) -> Result<Option<i64>, AppError> {
    id.map(|id| ids::decode(ty, &id, field)).transpose()
}

/// Project and list mutations.
#[derive(Default)]
pub struct ProjectMutation;

#[Object]
impl ProjectMutation {
    /// Start a service project (立项) with its deliverables. The managers of the station or
    /// room served.
    async fn create_service_project(
        &self,
        ctx: &Context<'_>,
        input: CreateServiceProjectInput,
    ) -> Result<ServiceProject> {
        let viewer = ctx.require_account().await?;
        let n = service::NewProject {
            organization: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            operator: opt_key(
                input.operator_id,
                NodeType::Organization,
                "input.operatorId",
            )?,
            evaluator: opt_key(
                input.evaluator_id,
                NodeType::Organization,
                "input.evaluatorId",
            )?,
            title: input.title,
            description: input.description,
            field: input.field,
            funding: input.funding,
            budget_fen: input.budget_fen,
            starts_on: input.starts_on.0,
            ends_on: input.ends_on.0,
            beneficiaries: input.beneficiaries,
            beneficiary_target: input.beneficiary_target,
            deliverables: input
                .deliverables
                .into_iter()
                .map(|d| service::NewDeliverable {
                    title: d.title,
                    due_on: d.due_on.0,
                })
                .collect(),
            need: opt_key(input.need_id, NodeType::CommunityNeed, "input.needId")?,
        };
        Ok(ServiceProject(
            service::create(&ctx.state().db, viewer, n).await?,
        ))
    }

    /// Promise another deliverable. The managers of the station served or of the operator.
    async fn add_project_deliverable(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the project.")] project_id: ID,
        input: DeliverableInput,
    ) -> Result<ProjectDeliverable> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::ServiceProject, &project_id, "projectId")?;
        let d = service::NewDeliverable {
            title: input.title,
            due_on: input.due_on.0,
        };
        Ok(ProjectDeliverable(
            service::add_deliverable(&ctx.state().db, viewer, key, d).await?,
        ))
    }

    /// Settle a pending deliverable as `MET` or `MISSED`, once (`CONFLICT` after). The managers
    /// of the station served or of the operator.
    async fn settle_project_deliverable(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the deliverable.")] id: ID,
        #[graphql(desc = "`MET` or `MISSED`.")] status: DeliverableStatus,
        #[graphql(desc = "What was delivered, or why not; at most 500 characters.")] note: Option<
            String,
        >,
    ) -> Result<ProjectDeliverable> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::ProjectDeliverable, &id, "id")?;
        Ok(ProjectDeliverable(
            service::settle_deliverable(&ctx.state().db, viewer, key, status, note).await?,
        ))
    }

    /// Review a project (第三方评估). The managers of its evaluator; one review per stage.
    async fn review_service_project(
        &self,
        ctx: &Context<'_>,
        input: ReviewServiceProjectInput,
    ) -> Result<ProjectReview> {
        let viewer = ctx.require_account().await?;
        let r = service::NewReview {
            project: ids::decode(
                NodeType::ServiceProject,
                &input.project_id,
                "input.projectId",
            )?,
            stage: input.stage,
            grade: input.grade,
            comments: input.comments,
        };
        Ok(ProjectReview(
            service::review(&ctx.state().db, viewer, r).await?,
        ))
    }

    /// Tag a charity fund to a project (`projectId` left out: untag it). Its later
    /// disbursements count towards the project unless they name another. The fund's managers.
    async fn tag_fund_to_project(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the fund.")] fund_id: ID,
        #[graphql(desc = "Global ID of the project; left out to untag.")] project_id: Option<ID>,
    ) -> Result<crate::funds::graphql::CharityFund> {
        let viewer = ctx.require_account().await?;
        let fund = ids::decode(NodeType::CharityFund, &fund_id, "fundId")?;
        let project = opt_key(project_id, NodeType::ServiceProject, "projectId")?;
        Ok(crate::funds::graphql::CharityFund(
            service::tag_fund(&ctx.state().db, viewer, fund, project).await?,
        ))
    }

    /// Put a service on a station's or room's list (服务清单). Its managers.
    async fn add_station_service(
        &self,
        ctx: &Context<'_>,
        input: AddStationServiceInput,
    ) -> Result<StationService> {
        let viewer = ctx.require_account().await?;
        let n = lists::NewService {
            organization: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            title: input.title,
            field: input.field,
            description: input.description,
            schedule: input.schedule,
        };
        Ok(StationService(
            lists::add_service(&ctx.state().db, viewer, n).await?,
        ))
    }

    /// Take a service off the list (it stays for the record). Its organization's managers.
    async fn withdraw_station_service(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the service.")] id: ID,
    ) -> Result<StationService> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::StationService, &id, "id")?;
        Ok(StationService(
            lists::withdraw_service(&ctx.state().db, viewer, key).await?,
        ))
    }

    /// Raise a need on a community's list (需求清单). Its staff. Answer it by naming it as
    /// `needId` when creating a help request, an event or a service project.
    async fn raise_community_need(
        &self,
        ctx: &Context<'_>,
        input: RaiseCommunityNeedInput,
    ) -> Result<CommunityNeed> {
        let viewer = ctx.require_account().await?;
        let n = lists::NewNeed {
            organization: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            title: input.title,
            description: input.description,
            field: input.field,
            skills: input.skills,
            location: point(input.location, "input.location")?,
            needed_from: input.needed_from,
            needed_until: input.needed_until,
            people: input.people,
        };
        Ok(CommunityNeed(
            lists::raise_need(&ctx.state().db, viewer, n).await?,
        ))
    }

    /// Close an open need without answering it (`CONFLICT` when it is not open). Its
    /// community's staff.
    async fn close_community_need(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the need.")] id: ID,
    ) -> Result<CommunityNeed> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CommunityNeed, &id, "id")?;
        Ok(CommunityNeed(
            lists::close_need(&ctx.state().db, viewer, key).await?,
        ))
    }

    /// List a resource on a community's list (资源清单). Its managers.
    async fn add_community_resource(
        &self,
        ctx: &Context<'_>,
        input: AddCommunityResourceInput,
    ) -> Result<CommunityResource> {
        let viewer = ctx.require_account().await?;
        let n = lists::NewResource {
            organization: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            kind: input.kind,
            name: input.name,
            description: input.description,
            fields: input.fields,
            skills: input.skills,
            location: point(input.location, "input.location")?,
            available_from: input.available_from,
            available_until: input.available_until,
            capacity: input.capacity,
            contact: input.contact,
            account: opt_key(input.account_id, NodeType::Account, "input.accountId")?,
            fund: opt_key(input.fund_id, NodeType::CharityFund, "input.fundId")?,
        };
        Ok(CommunityResource(
            lists::add_resource(&ctx.state().db, viewer, n).await?,
        ))
    }

    /// Take a resource off the list. Its community's managers.
    async fn withdraw_community_resource(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the resource.")] id: ID,
    ) -> Result<CommunityResource> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::CommunityResource, &id, "id")?;
        Ok(CommunityResource(
            lists::withdraw_resource(&ctx.state().db, viewer, key).await?,
        ))
    }
}
