//! GraphQL surface of station staffing: `Organization.staffing`, `Organization.dispatchedWorkers`,
//! `assignSocialWorker`, `endStaffAssignment`.

use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};
use entity::staff_assignment::{self as assignment, AssignmentKind, SocialWorkerLevel};

use super::service;
use crate::{
    authz,
    context::ContextExt,
    error::AppError,
    ids::{self, NodeType},
    scalars::Date,
};

/// A social worker's assignment to a station or room: resident (驻站社工) or dispatched by an
/// operator organization (外派社工).
pub struct StaffAssignment(pub assignment::Model);

/// A social worker's assignment to a station or room (社工派驻): resident (驻站社工) or
/// dispatched by an operator organization (外派社工), for a period of days.
#[Object]
impl StaffAssignment {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::StaffAssignment, self.0.id)
    }

    /// The social worker (社工).
    async fn worker(&self, ctx: &Context<'_>) -> Result<crate::accounts::graphql::Account> {
        crate::accounts::graphql::required(ctx, self.0.account_id).await
    }

    /// The station or room served (服务站点).
    async fn station(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::direct::Fast<crate::organizations::graphql::Organization>> {
        crate::organizations::graphql::required(ctx, self.0.station_id).await
    }

    /// Resident (驻站) or dispatched (外派).
    async fn kind(&self) -> AssignmentKind {
        self.0.kind
    }

    /// The social organization that sent the worker (运营机构), when dispatched.
    async fn operator(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::direct::Fast<crate::organizations::graphql::Organization>>> {
        match self.0.operator_id {
            Some(id) => Ok(Some(
                crate::organizations::graphql::required(ctx, id).await?,
            )),
            None => Ok(None),
        }
    }

    /// First day (city date).
    async fn starts_on(&self) -> Date {
        Date(self.0.starts_on)
    }

    /// Last day, inclusive (`null`: open-ended). The assignment ends by itself after it.
    async fn ends_on(&self) -> Option<Date> {
        self.0.ends_on.map(Date)
    }

    /// Whether it runs today: the worker is staff of the station while it does.
    async fn running(&self) -> bool {
        let today = service::today();
        self.0.starts_on <= today && self.0.ends_on.is_none_or(|e| e >= today)
    }

    /// Qualification level (社会工作者职业水平): 助理社会工作师, 社会工作师, 高级社会工作师.
    async fn qualification(&self) -> Option<SocialWorkerLevel> {
        self.0.qualification
    }

    /// Certificate number (证书编号): in full for the worker and the administrators of the
    /// station or the operator; its last four characters for other staff.
    async fn certificate_number(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(number) = &self.0.certificate_number else {
            return Ok(None);
        };
        let viewer = ctx.require_account().await?;
        let db = &ctx.state().db;
        let full = authz::is_self(viewer, self.0.account_id)
            || authz::administers(db, viewer, self.0.station_id).await?
            || match self.0.operator_id {
                Some(op) => authz::administers(db, viewer, op).await?,
                None => false,
            };
        Ok(Some(if full {
            number.clone()
        } else {
            service::mask_certificate(number)
        }))
    }

    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// `organization.staffing(activeOn:)`: the station's staff only.
pub async fn staffing_of(
    ctx: &Context<'_>,
    station: i64,
    active_on: Option<Date>,
) -> Result<Vec<StaffAssignment>> {
    let viewer = ctx.require_account().await?;
    let db = &ctx.state().db;
    if !authz::is_staff(db, viewer, station).await? {
        return Err(AppError::Forbidden(msg!(
            "only the station's staff see its staffing",
            "只有本站工作人员可以查看派驻社工"
        ))
        .into());
    }
    let day = active_on.map_or_else(service::today, |d| d.0);
    Ok(service::of_station(db, station, day)
        .await?
        .into_iter()
        .map(StaffAssignment)
        .collect())
}

/// `organization.dispatchedWorkers(activeOn:)`: the operator's staff only.
pub async fn dispatched_by(
    ctx: &Context<'_>,
    operator: i64,
    active_on: Option<Date>,
) -> Result<Vec<StaffAssignment>> {
    let viewer = ctx.require_account().await?;
    let db = &ctx.state().db;
    if !authz::is_staff(db, viewer, operator).await? {
        return Err(AppError::Forbidden(msg!(
            "only the operator's staff see whom it dispatched",
            "只有运营机构的工作人员可以查看其外派社工"
        ))
        .into());
    }
    let day = active_on.map_or_else(service::today, |d| d.0);
    Ok(service::of_operator(db, operator, day)
        .await?
        .into_iter()
        .map(StaffAssignment)
        .collect())
}

/// A social worker to assign.
#[derive(InputObject)]
pub struct AssignSocialWorkerInput {
    /// The station or room (社工站 / 社工室).
    pub station_id: ID,
    /// The social worker's account.
    pub account_id: ID,
    /// Resident (驻站) or dispatched (外派).
    pub kind: AssignmentKind,
    /// The social organization that sends the worker (运营机构); required when dispatched.
    pub operator_id: Option<ID>,
    /// First day.
    pub starts_on: Date,
    /// Last day, inclusive; open-ended when left out. At most ten years.
    pub ends_on: Option<Date>,
    /// Qualification level.
    pub qualification: Option<SocialWorkerLevel>,
    /// Certificate number (with a qualification): 4 to 32 letters, digits or hyphens.
    pub certificate_number: Option<String>,
}

/// Staffing mutations.
#[derive(Default)]
pub struct StaffingMutation;

#[Object]
impl StaffingMutation {
    /// Assign a social worker to a station or room (派驻社工). Needs an administrator of the
    /// station or above. While the assignment runs, the worker is staff of the station.
    async fn assign_social_worker(
        &self,
        ctx: &Context<'_>,
        input: AssignSocialWorkerInput,
    ) -> Result<StaffAssignment> {
        let viewer = ctx.require_account().await?;
        let a = service::Assign {
            station: ids::decode(NodeType::Organization, &input.station_id, "input.stationId")?,
            account: ids::decode(NodeType::Account, &input.account_id, "input.accountId")?,
            kind: input.kind,
            operator: input
                .operator_id
                .map(|id| ids::decode(NodeType::Organization, &id, "input.operatorId"))
                .transpose()?,
            starts_on: input.starts_on.0,
            ends_on: input.ends_on.map(|d| d.0),
            qualification: input.qualification,
            certificate_number: input.certificate_number,
        };
        Ok(StaffAssignment(
            service::assign(&ctx.state().db, viewer, a).await?,
        ))
    }

    /// End an assignment: `endsOn` is its last day (today when left out; never later than it
    /// was to end). The station's or the operator's administrators.
    async fn end_staff_assignment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the assignment.")] id: ID,
        #[graphql(desc = "Its last day; today when left out.")] ends_on: Option<Date>,
    ) -> Result<StaffAssignment> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::StaffAssignment, &id, "id")?;
        let on = ends_on.map_or_else(service::today, |d| d.0);
        Ok(StaffAssignment(
            service::end(&ctx.state().db, viewer, key, on).await?,
        ))
    }
}
