//! GraphQL surface of organizations and memberships.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::{membership, organization};

use super::{
    domain::{MemberRole, OrganizationKind},
    service::{self, NewOrganization, OrganizationChanges, OrganizationFilter},
};
use crate::{
    accounts::{domain::Phone, graphql::Account},
    authz,
    batch::ChildCounts,
    context::ContextExt,
    direct::Fast,
    error::{AppError, AppResult, Noun},
    ids::{self, NodeType},
    pagination::{PageArgs, Total, connection},
};

/// A node of the five-society hierarchy, or a social organization or charity attached to one.
#[derive(Clone)]
pub struct Organization(pub organization::Model);

/// What an organization and everything below it did in a period.
pub struct OrganizationStats(crate::stats::Stats);

impl crate::direct::Direct for Organization {
    fn graphql_type(&self) -> &'static str {
        "Organization"
    }

    fn answer(&self, field: &str) -> crate::direct::Answer<'_> {
        use crate::direct::{Answer, value};
        match field {
            "id" => value(&ids::encode(NodeType::Organization, self.0.id)),
            "name" => value(&self.0.name),
            "kind" => value(&self.0.kind),
            "regionCode" => value(&self.0.region_code),
            "address" => value(&self.0.address),
            "latitude" => value(&self.0.latitude),
            "longitude" => value(&self.0.longitude),
            "createdAt" => value(&self.0.created_at),
            "updatedAt" => value(&self.0.updated_at),
            _ => Answer::Resolver,
        }
    }
}

/// What an organization and everything below it did in a period.
#[Object]
impl OrganizationStats {
    /// Distinct volunteers who took part: a confirmed or attended sign-up for a shift starting
    /// in the period, or a help request accepted in it.
    async fn volunteer_count(&self) -> i64 {
        self.0.volunteer_count
    }

    /// Distinct volunteers with approved service that began in the period.
    async fn active_volunteer_count(&self) -> i64 {
        self.0.active_volunteer_count
    }

    /// Approved minutes of service (shifts and help requests) that began in the period.
    async fn approved_minutes(&self) -> i64 {
        self.0.approved_minutes
    }

    /// Published or completed events starting in the period.
    async fn event_count(&self) -> i64 {
        self.0.event_count
    }

    /// Shifts (not cancelled) starting in the period with every place taken.
    async fn shifts_filled(&self) -> i64 {
        self.0.shifts_filled
    }

    /// Donations confirmed in the period (money that arrived) to the subtree's funds and
    /// campaigns, in fen.
    async fn donations_fen(&self) -> i64 {
        self.0.donations_fen
    }

    /// Disbursements made in the period from the subtree's funds, in fen.
    async fn disbursed_fen(&self) -> i64 {
        self.0.disbursed_fen
    }

    /// Help requests completed in the period.
    async fn help_requests_resolved(&self) -> i64 {
        self.0.help_requests_resolved
    }

    /// Median minutes from report to acceptance, over help requests accepted in the period
    /// (`null` when none was).
    async fn median_response_minutes(&self) -> Option<f64> {
        self.0.median_response_minutes
    }

    /// Resident social workers (驻站社工) assigned in the subtree at some time in the period.
    async fn resident_social_workers(&self) -> i64 {
        self.0.staffing.resident
    }

    /// Dispatched social workers (外派社工) assigned in the subtree at some time in the period.
    async fn dispatched_social_workers(&self) -> i64 {
        self.0.staffing.dispatched
    }

    /// Of the social workers of either kind, those holding a qualification (持证社工).
    async fn certified_social_workers(&self) -> i64 {
        self.0.staffing.certified
    }

    /// The certified share of the social workers (0 to 1; `null` with none).
    async fn certified_share(&self) -> Option<f64> {
        let s = &self.0.staffing;
        (s.workers > 0).then(|| s.certified as f64 / s.workers as f64)
    }

    /// Service projects (社工服务项目) of the subtree whose period touches the period.
    async fn service_projects(&self) -> i64 {
        self.0.projects.projects
    }

    /// Their budget, in fen (项目预算合计).
    async fn service_project_budget_fen(&self) -> i64 {
        self.0.projects.budget_fen
    }

    /// Community needs (需求清单) raised in the subtree in the period.
    async fn needs_raised(&self) -> i64 {
        self.0.projects.needs_raised
    }

    /// Of those, the ones turned into a help request, an event or a project (已对接).
    async fn needs_addressed(&self) -> i64 {
        self.0.projects.needs_addressed
    }

    /// People served (服务对象) on the subtree's registers by the end of the period, erased
    /// records included: a count, never who.
    async fn people_registered(&self) -> i64 {
        self.0.projects.people_registered
    }

    /// People served with a running care plan (四方关爱覆盖人数) now.
    async fn people_with_care_plan(&self) -> i64 {
        self.0.care.people_with_plan
    }

    /// Care visits and calls made in the period (已完成探访).
    async fn care_visits_done(&self) -> i64 {
        self.0.care.visits_done
    }

    /// Care tasks of running plans past their day now (逾期探访).
    async fn care_tasks_overdue(&self) -> i64 {
        self.0.care.tasks_overdue
    }

    /// Visits in the period that raised an alert: a concern, something urgent, or help asked
    /// for (探访预警).
    async fn care_alerts_raised(&self) -> i64 {
        self.0.care.alerts_raised
    }

    /// Of those, the ones handled: by a staff member (`handleCareAlert`), or by a volunteer
    /// taking the help request (已响应).
    async fn care_alerts_answered(&self) -> i64 {
        self.0.care.alerts_answered
    }
}

/// A node of the five-society hierarchy, or a social organization or charity attached to one.
#[Object]
impl Organization {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Organization, self.0.id)
    }

    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Kind, which fixes where it may sit in the hierarchy.
    async fn kind(&self) -> OrganizationKind {
        self.0.kind
    }

    /// Administrative region code.
    async fn region_code(&self) -> Option<&str> {
        self.0.region_code.as_deref()
    }

    /// Street address.
    async fn address(&self) -> Option<&str> {
        self.0.address.as_deref()
    }

    /// Social workers serving this station or room (派驻社工) on `activeOn` (today when left
    /// out): resident (驻站) first, then dispatched (外派). Its staff only.
    async fn staffing(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day (city date); today when left out.")] active_on: Option<
            crate::scalars::Date,
        >,
    ) -> Result<Vec<crate::staffing::graphql::StaffAssignment>> {
        crate::staffing::graphql::staffing_of(ctx, self.0.id, active_on).await
    }

    /// The social workers this operator organization has dispatched (外派社工) on `activeOn`
    /// (today when left out), across every station. Its staff only.
    async fn dispatched_workers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The day (city date); today when left out.")] active_on: Option<
            crate::scalars::Date,
        >,
    ) -> Result<Vec<crate::staffing::graphql::StaffAssignment>> {
        crate::staffing::graphql::dispatched_by(ctx, self.0.id, active_on).await
    }

    /// Service projects (社工服务项目): with `SERVED` (the default) those serving it or an
    /// organization below it, with `OPERATED` those it runs, with `EVALUATED` those it
    /// evaluates; latest period first, at most 500. Public.
    async fn service_projects(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Its part in the projects.",
            default_with = "crate::projects::graphql::ProjectRole::Served"
        )]
        role: crate::projects::graphql::ProjectRole,
    ) -> Result<Vec<crate::projects::graphql::ServiceProject>> {
        crate::projects::graphql::of_organization(ctx, self.0.id, role).await
    }

    /// Its service list (服务清单): the services it offers residents, by field and title.
    /// Public.
    async fn service_list(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Include withdrawn entries.", default)] include_withdrawn: bool,
    ) -> Result<Vec<crate::projects::graphql::StationService>> {
        crate::projects::graphql::services_of(ctx, self.0.id, include_withdrawn).await
    }

    /// Its needs list (需求清单), with those of the organizations below it, oldest first, at
    /// most 500. Public.
    async fn needs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only needs in this status.")] status: Option<
            entity::community_need::NeedStatus,
        >,
    ) -> Result<Vec<crate::projects::graphql::CommunityNeed>> {
        crate::projects::graphql::needs_of(ctx, self.0.id, status).await
    }

    /// Its resources list (资源清单): people, venues, funds and skills it can call on, by kind
    /// and name. Its staff only.
    async fn resources(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only this kind.")] kind: Option<entity::community_resource::ResourceKind>,
        #[graphql(desc = "Include withdrawn entries.", default)] include_withdrawn: bool,
    ) -> Result<Vec<crate::projects::graphql::CommunityResource>> {
        crate::projects::graphql::resources_of(ctx, self.0.id, kind, include_withdrawn).await
    }

    /// Its volunteer squads (志愿分队), by name.
    async fn squads(&self, ctx: &Context<'_>) -> Result<Vec<crate::squads::graphql::Squad>> {
        crate::squads::graphql::of_organization(ctx, self.0.id).await
    }

    /// How long before its shifts volunteers are reminded, in minutes, largest first (empty:
    /// never). Set with `setOrganizationReminders`.
    async fn reminder_minutes(&self, ctx: &Context<'_>) -> Result<Vec<i32>> {
        Ok(crate::notifications::schedule::offsets_of(&ctx.state().db, self.0.id).await?)
    }

    /// Figures for this organization and everything below it over `[from, to)` (at most ten
    /// years): its staff and the administrators above it only (`FORBIDDEN`; also for API
    /// clients).
    async fn stats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Start of the period (inclusive).")] from: DateTime<Utc>,
        #[graphql(desc = "End of the period (exclusive).")] to: DateTime<Utc>,
    ) -> Result<OrganizationStats> {
        let viewer = ctx.require_account().await?;
        let db = &ctx.state().db;
        // A client with `public:read` reaches organizations; their figures are for staff.
        if crate::clients::confined_to().is_some()
            || !authz::is_staff(db, viewer, self.0.id).await?
        {
            return Err(AppError::Forbidden(msg!(
                "only the organization's staff read its statistics",
                "仅该组织的工作人员可查看统计数据"
            ))
            .into());
        }
        Ok(OrganizationStats(
            crate::stats::of_subtree(db, self.0.id, from, to).await?,
        ))
    }

    /// Its community charity funds, oldest first: the first `first`.
    #[graphql(complexity = "crate::pagination::list_cost(first, child_complexity)")]
    async fn funds(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (default 20, at most 100).")] first: Option<i32>,
    ) -> Result<Vec<crate::funds::graphql::CharityFund>> {
        let db = &ctx.state().db;
        let funds = crate::batch::first_children::<crate::funds::service::FundsOf>(
            db,
            self.0.id,
            crate::pagination::list_first(first)?,
        )
        .await?;
        Ok(funds
            .into_iter()
            .map(crate::funds::graphql::CharityFund)
            .collect())
    }

    /// The API clients registered for it (`createApiClient`), oldest first; revoked ones only
    /// when asked. Its organizers and administrators (and those above) only (`FORBIDDEN`).
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn api_clients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Revoked clients too (default false).")] include_revoked: Option<bool>,
    ) -> Result<crate::pagination::Conn<crate::clients::graphql::ApiClient>> {
        let viewer = ctx.require_account().await?;
        let state = ctx.state();
        let page = crate::pagination::PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = crate::clients::service::of_organization(
            &state.db,
            viewer,
            self.0.id,
            include_revoked.unwrap_or(false),
            page,
        )
        .await?;
        Ok(crate::pagination::connection(
            rows,
            page.after.is_some(),
            crate::pagination::Total::of(
                &state.db,
                crate::clients::service::registered_for(
                    self.0.id,
                    include_revoked.unwrap_or(false),
                ),
            ),
            |c| c.id,
            crate::clients::graphql::ApiClient,
        ))
    }

    /// Latitude (WGS-84).
    async fn latitude(&self) -> Option<f64> {
        self.0.latitude
    }

    /// Longitude (WGS-84).
    async fn longitude(&self) -> Option<f64> {
        self.0.longitude
    }

    /// The organization directly above; `null` for a city center.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Fast<Organization>>> {
        let Some(pid) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(by_id(ctx, pid).await?)
    }

    /// The organizations directly below.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn children(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<Fast<Organization>>> {
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = crate::batch::load(
            &state.db,
            (self.0.id, page),
            crate::batch::ChildPages::<service::ChildrenOf>::new,
        )
        .await?
        .unwrap_or_default();
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::batched(
                &state.db,
                self.0.id,
                ChildCounts::<service::ChildrenOf>::new,
            ),
            |o| o.id,
            |o| Fast(Organization(o)),
        ))
    }

    /// Every organization above this one, from the top of the hierarchy down to the parent.
    async fn ancestors(&self, ctx: &Context<'_>) -> Result<Vec<Organization>> {
        let rows = service::ancestors(&ctx.state().db, self.0.id).await?;
        Ok(rows.into_iter().map(Organization).collect())
    }

    /// Members and their roles. Visible to the organization's staff and administrators above.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<Membership>> {
        let state = ctx.state();
        let viewer = ctx.require_account().await?;
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let db = &state.db;
        if !authz::check(db, viewer, authz::CheckKind::Staff, self.0.id).await? {
            return Err(AppError::Forbidden(msg!(
                "only the organization's staff see its members",
                "仅该组织的工作人员可查看成员"
            ))
            .into());
        }
        let rows = crate::batch::load(
            db,
            (self.0.id, page),
            crate::batch::ChildPages::<service::MembersOf>::new,
        )
        .await?
        .unwrap_or_default();
        // Administrators of this organization see its members' phones; others see them masked.
        let phones_visible =
            authz::check(db, viewer, authz::CheckKind::Administers, self.0.id).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::batched(db, self.0.id, ChildCounts::<service::MembersOf>::new),
            |m| m.id,
            |m| Membership {
                model: m,
                phones_visible: Some(phones_visible),
            },
        ))
    }

    /// Whether the caller administers this organization (and so may change it and add members).
    async fn viewer_can_administer(&self, ctx: &Context<'_>) -> Result<bool> {
        match ctx.optional_account().await? {
            Some(viewer) => Ok(authz::check(
                &ctx.state().db,
                viewer,
                authz::CheckKind::Administers,
                self.0.id,
            )
            .await?),
            None => Ok(false),
        }
    }

    /// The organization's time-bank account, which pays volunteers time coins for approved
    /// service and receives the coins spent on its services. Its staff only (`FORBIDDEN`).
    async fn time_bank(&self, ctx: &Context<'_>) -> Result<crate::timebank::graphql::TimeBank> {
        let viewer = ctx.require_account().await?;
        if !authz::is_staff(&ctx.state().db, viewer, self.0.id).await? {
            return Err(AppError::Forbidden(msg!(
                "only this organization's staff see its time bank",
                "仅该组织的工作人员可查看其时间银行"
            ))
            .into());
        }
        crate::timebank::graphql::time_bank_of(
            ctx,
            crate::timebank::service::Owner::Organization(self.0.id),
        )
        .await
    }

    /// When the organization was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When the organization was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// An account's role in an organization.
pub struct Membership {
    model: membership::Model,
    phones_visible: Option<bool>,
}

/// A role offered to a phone number.
pub struct Invitation(entity::invitation::Model);

/// A role in an organization offered to a phone number (`addMember`). It is granted only when
/// the number's owner, signed in, accepts it (`acceptInvitation`).
#[Object]
impl Invitation {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Invitation, self.0.id)
    }

    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        required(ctx, self.0.organization_id).await
    }

    /// The role offered.
    async fn role(&self) -> MemberRole {
        self.0.role
    }

    /// When it was offered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// When it was accepted (`null` while it waits).
    async fn accepted_at(&self) -> Option<DateTime<Utc>> {
        self.0.accepted_at
    }
}

impl From<membership::Model> for Membership {
    fn from(model: membership::Model) -> Self {
        Self {
            model,
            phones_visible: None,
        }
    }
}

/// An account's role in an organization.
#[Object]
impl Membership {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Membership, self.model.id)
    }

    /// The role.
    async fn role(&self) -> MemberRole {
        self.model.role
    }

    /// The organization.
    async fn organization(&self, ctx: &Context<'_>) -> Result<Fast<Organization>> {
        required(ctx, self.model.organization_id).await
    }

    /// The member.
    async fn account(&self, ctx: &Context<'_>) -> Result<Account> {
        let model = crate::batch::load(
            &ctx.state().db,
            self.model.account_id,
            crate::batch::ById::<entity::account::Entity>::new,
        )
        .await?
        .ok_or(AppError::NotFound(Noun::Account))?;
        Ok(match self.phones_visible {
            Some(true) => Account::with_phone_visibility(model, true),
            _ => Account::new(model),
        })
    }

    /// Since when.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
}

/// Filter of `organizations`.
#[derive(InputObject, Default)]
pub struct OrganizationFilterInput {
    /// Only this kind.
    kind: Option<OrganizationKind>,
    /// Only the direct children of this organization.
    parent_id: Option<ID>,
    /// Only organizations anywhere below this one (its whole subtree, itself excluded).
    ancestor_id: Option<ID>,
    /// Name contains this text (at most 50 characters).
    search: Option<String>,
}

/// Input of `createOrganization`.
#[derive(InputObject)]
pub struct CreateOrganizationInput {
    /// Name, 1–128 characters.
    name: String,
    /// Kind; it must fit under the parent (`CITY_CENTER` → `DISTRICT_CENTER` → `STATION` →
    /// `ROOM`; `SOCIAL_ORG` and `CHARITY` under any of those).
    kind: OrganizationKind,
    /// The organization above; omitted only for a city center.
    parent_id: Option<ID>,
    /// Administrative region code, 6–12 digits.
    region_code: Option<String>,
    /// Street address.
    address: Option<String>,
    /// Latitude (WGS-84), with longitude.
    latitude: Option<f64>,
    /// Longitude (WGS-84), with latitude.
    longitude: Option<f64>,
}

/// Input of `updateOrganization`: fields left out stay as they are.
#[derive(InputObject)]
pub struct UpdateOrganizationInput {
    /// New name.
    name: Option<String>,
    /// New region code.
    region_code: Option<String>,
    /// New address.
    address: Option<String>,
    /// New latitude (give longitude too).
    latitude: Option<f64>,
    /// New longitude (give latitude too).
    longitude: Option<f64>,
}

/// Organization queries.
#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// Roles offered to the caller's phone number and not yet accepted, newest first.
    async fn my_invitations(&self, ctx: &Context<'_>) -> Result<Vec<Invitation>> {
        let viewer = ctx.require_account().await?;
        Ok(service::pending_invitations(&ctx.state().db, viewer)
            .await?
            .into_iter()
            .map(Invitation)
            .collect())
    }

    /// One organization, or `null` if there is none with this ID.
    async fn organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the organization.")] id: ID,
    ) -> Result<Option<Organization>> {
        let key = ids::decode(NodeType::Organization, &id, "id")?;
        Ok(service::get(&ctx.state().db, key).await?.map(Organization))
    }

    /// Organizations, oldest first. The directory is public.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn organizations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Which organizations.")] filter: Option<OrganizationFilterInput>,
    ) -> Result<crate::pagination::Conn<Fast<Organization>>> {
        let state = ctx.state();
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let f = filter.unwrap_or_default();
        let filter = OrganizationFilter {
            kind: f.kind,
            parent_id: f
                .parent_id
                .map(|id| ids::decode(NodeType::Organization, &id, "filter.parentId"))
                .transpose()?,
            ancestor_id: f
                .ancestor_id
                .map(|id| ids::decode(NodeType::Organization, &id, "filter.ancestorId"))
                .transpose()?,
            search: crate::validate::search(f.search, "filter.search")?,
        };
        let rows = service::list(&state.db, &filter, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::of(&state.db, service::listed(&filter)),
            |o| o.id,
            |o| Fast(Organization(o)),
        ))
    }
}

/// Organization mutations.
#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    /// Create an organization. Needs an ADMIN of the parent or above (a system administrator
    /// for a city center).
    async fn create_organization(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganizationInput,
    ) -> Result<Organization> {
        let viewer = ctx.require_account().await?;
        let new = NewOrganization {
            name: service::parse_name(&input.name, "input.name")?,
            kind: input.kind,
            parent_id: input
                .parent_id
                .map(|id| ids::decode(NodeType::Organization, &id, "input.parentId"))
                .transpose()?,
            region_code: input
                .region_code
                .map(|c| service::parse_region_code(&c, "input.regionCode"))
                .transpose()?,
            address: input
                .address
                .map(|a| service::parse_address(&a, "input.address"))
                .transpose()?,
            latitude: input.latitude,
            longitude: input.longitude,
        };
        Ok(Organization(
            service::create(&ctx.state().db, viewer, new).await?,
        ))
    }

    /// Change an organization's name, region, address or location. Needs an ADMIN of it or
    /// above.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization.")] id: ID,
        input: UpdateOrganizationInput,
    ) -> Result<Organization> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::Organization, &id, "id")?;
        let changes = OrganizationChanges {
            name: input
                .name
                .map(|n| service::parse_name(&n, "input.name"))
                .transpose()?,
            region_code: input
                .region_code
                .map(|c| service::parse_region_code(&c, "input.regionCode"))
                .transpose()?,
            address: input
                .address
                .map(|a| service::parse_address(&a, "input.address"))
                .transpose()?,
            latitude: input.latitude,
            longitude: input.longitude,
        };
        Ok(Organization(
            service::update(&ctx.state().db, viewer, key, changes).await?,
        ))
    }

    /// Invite a phone number to a role in an organization (or to another role there). Nothing
    /// is granted until the number's owner, signed in, accepts (`acceptInvitation`): a role
    /// never goes to whoever happens to hold a number. Inviting again replaces the offer.
    /// Needs an ADMIN of the organization or above.
    async fn add_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization.")] organization_id: ID,
        #[graphql(desc = "The person's phone number.")] phone: String,
        #[graphql(desc = "The role to offer.")] role: MemberRole,
    ) -> Result<Invitation> {
        let viewer = ctx.require_account().await?;
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        let phone = Phone::parse(&phone, "phone")?;
        let row = service::invite(&ctx.state().db, viewer, org, phone.as_str(), role).await?;
        Ok(Invitation(row))
    }

    /// Accept an invitation to the caller's own phone number: the role is granted now.
    /// Another number's invitation is `NOT_FOUND`.
    async fn accept_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitation.")] id: ID,
    ) -> Result<Membership> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::Invitation, &id, "id")?;
        let row = service::accept_invitation(&ctx.state().db, viewer, key).await?;
        Ok(Membership {
            model: row,
            phones_visible: Some(true),
        })
    }

    /// Take an account out of an organization. Returns whether it was a member. Needs an ADMIN
    /// of the organization or above.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization.")] organization_id: ID,
        #[graphql(desc = "The member's account.")] account_id: ID,
    ) -> Result<bool> {
        let viewer = ctx.require_account().await?;
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        let account = ids::decode(NodeType::Account, &account_id, "accountId")?;
        Ok(service::remove_member(&ctx.state().db, viewer, org, account).await?)
    }
}

/// The organization with key `id`, batched with the other organizations the request asks for
/// at the same time (organizations are public), ready to write its plain columns directly.
pub async fn by_id(ctx: &Context<'_>, id: i64) -> AppResult<Option<Fast<Organization>>> {
    Ok(crate::batch::load(
        &ctx.state().db,
        id,
        crate::batch::ById::<entity::organization::Entity>::new,
    )
    .await?
    .map(|o| Fast(Organization(o))))
}

/// [`by_id`] for a key a row refers to: `NOT_FOUND` if it is gone.
pub async fn required(ctx: &Context<'_>, id: i64) -> Result<Fast<Organization>> {
    by_id(ctx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(Noun::Organization).into())
}
