//! The lists behind 精准对接: a station's service list (服务清单), a community's needs list
//! (需求清单) and resources list (资源清单), and turning a need into something that answers it.

use chrono::{DateTime, Utc};
use entity::{
    account, charity_fund as fund,
    community_need::{self as need, NeedStatus},
    community_resource::{self as resource, ResourceKind},
    service_project::ServiceField,
    station_service as service,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

use crate::{
    authz,
    error::{AppError, AppResult, Noun},
    geo::GeoPoint,
    validate,
};

/// Most entries one list returns.
pub const MAX_LISTED: u64 = 500;

fn text(raw: &str, field: &str, min: usize, max: usize) -> AppResult<String> {
    let t = raw.trim();
    let n = t.chars().count();
    if n < min || n > max {
        return Err(AppError::bad_input(
            field,
            msg!("{min} to {max} characters", "须为 {min} 至 {max} 个字"),
        ));
    }
    Ok(t.to_owned())
}

fn window(from: Option<DateTime<Utc>>, until: Option<DateTime<Utc>>, field: &str) -> AppResult<()> {
    if let (Some(f), Some(u)) = (from, until)
        && u <= f
    {
        return Err(AppError::bad_input(
            field,
            msg!("must be after the start", "结束时间须晚于开始时间"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The service list.

/// A service a station offers.
#[derive(Clone, Debug)]
pub struct NewService {
    /// The station or room.
    pub organization: i64,
    /// 1–60 characters, unique in the organization's list.
    pub title: String,
    /// Field of service.
    pub field: ServiceField,
    /// At most 1,000 characters.
    pub description: String,
    /// When it is offered, in words; at most 100 characters.
    pub schedule: String,
}

/// Publish a service on an organization's list (its managers).
pub async fn add_service(
    db: &DatabaseConnection,
    viewer: &account::Model,
    n: NewService,
) -> AppResult<service::Model> {
    let title = text(&n.title, "input.title", 1, 60)?;
    let description = text(&n.description, "input.description", 0, 1000)?;
    let schedule = text(&n.schedule, "input.schedule", 0, 100)?;
    crate::organizations::service::get(db, n.organization)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    authz::require_manager(db, viewer, n.organization).await?;
    let now = Utc::now();
    // A withdrawn entry of the same title comes back, with what is said now.
    let revived = service::Entity::update_many()
        .col_expr(service::Column::Active, Expr::value(true))
        .col_expr(service::Column::Field, Expr::value(n.field))
        .col_expr(
            service::Column::Description,
            Expr::value(description.clone()),
        )
        .col_expr(service::Column::Schedule, Expr::value(schedule.clone()))
        .col_expr(service::Column::UpdatedAt, Expr::value(now))
        .filter(service::Column::OrganizationId.eq(n.organization))
        .filter(service::Column::Title.eq(title.as_str()))
        .filter(service::Column::Active.eq(false))
        .exec(db)
        .await?;
    if revived.rows_affected > 0
        && let Some(s) = service::Entity::find()
            .filter(service::Column::OrganizationId.eq(n.organization))
            .filter(service::Column::Title.eq(title.as_str()))
            .one(db)
            .await?
    {
        return Ok(s);
    }
    service::ActiveModel {
        organization_id: Set(n.organization),
        title: Set(title),
        field: Set(n.field),
        description: Set(description),
        schedule: Set(schedule),
        active: Set(true),
        created_by: Set(viewer.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| {
        AppError::from_db_unique(e, || {
            AppError::Conflict(msg!(
                "the list already has a service of that title",
                "服务清单中已有同名服务"
            ))
        })
    })
}

/// Take a service off the list (its organization's managers); it stays for the record.
pub async fn withdraw_service(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<service::Model> {
    let s = service::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::StationService))?;
    authz::require_manager(db, viewer, s.organization_id).await?;
    let mut a: service::ActiveModel = s.into();
    a.active = Set(false);
    a.updated_at = Set(Utc::now());
    Ok(a.update(db).await?)
}

/// An organization's service list by field and title (withdrawn entries too if asked).
pub async fn services_of<C: ConnectionTrait>(
    db: &C,
    org: i64,
    withdrawn_too: bool,
) -> AppResult<Vec<service::Model>> {
    let mut q = service::Entity::find().filter(service::Column::OrganizationId.eq(org));
    if !withdrawn_too {
        q = q.filter(service::Column::Active.eq(true));
    }
    Ok(q.order_by_asc(service::Column::Field)
        .order_by_asc(service::Column::Title)
        .limit(MAX_LISTED)
        .all(db)
        .await?)
}

// ---------------------------------------------------------------------------------------------
// The needs list.

/// A need as raised.
#[derive(Clone, Debug)]
pub struct NewNeed {
    /// The community (a room, station or any organization).
    pub organization: i64,
    /// 1–100 characters; public, so no names.
    pub title: String,
    /// At most 2,000 characters; public, so no names.
    pub description: String,
    /// Field of service.
    pub field: ServiceField,
    /// Skills that answer it (normalized here).
    pub skills: Vec<String>,
    /// Where; the organization's place when not given.
    pub location: Option<GeoPoint>,
    /// From when it is needed.
    pub needed_from: Option<DateTime<Utc>>,
    /// Until when.
    pub needed_until: Option<DateTime<Utc>>,
    /// How many people it concerns, 0 to 100,000.
    pub people: i32,
}

/// Raise a need on a community's list (its staff).
pub async fn raise_need(
    db: &DatabaseConnection,
    viewer: &account::Model,
    n: NewNeed,
) -> AppResult<need::Model> {
    let title = text(&n.title, "input.title", 1, 100)?;
    let description = text(&n.description, "input.description", 0, 2000)?;
    let skills = validate::skills(&n.skills, "input.skills")?;
    window(n.needed_from, n.needed_until, "input.neededUntil")?;
    if n.needed_until.is_some_and(|u| u <= Utc::now()) {
        return Err(AppError::bad_input(
            "input.neededUntil",
            msg!("must be in the future", "须晚于现在"),
        ));
    }
    if !(0..=100_000).contains(&n.people) {
        return Err(AppError::bad_input(
            "input.people",
            msg!("0 to 100,000", "人数须为 0 至 100000"),
        ));
    }
    crate::organizations::service::get(db, n.organization)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    if !authz::is_staff(db, viewer, n.organization).await? {
        return Err(AppError::Forbidden(msg!(
            "only the community's staff keep its needs list",
            "只有本社区的工作人员可以维护需求清单"
        )));
    }
    let now = Utc::now();
    Ok(need::ActiveModel {
        organization_id: Set(n.organization),
        title: Set(title),
        description: Set(description),
        field: Set(n.field),
        skills: Set(validate::skills_to_db(&skills)),
        latitude: Set(n.location.map(|p| p.latitude)),
        longitude: Set(n.location.map(|p| p.longitude)),
        needed_from: Set(n.needed_from),
        needed_until: Set(n.needed_until),
        people: Set(n.people),
        status: Set(NeedStatus::Open),
        help_request_id: Set(None),
        event_id: Set(None),
        project_id: Set(None),
        raised_by: Set(viewer.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// A need by key.
pub async fn get_need<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<need::Model>> {
    Ok(need::Entity::find_by_id(id).one(db).await?)
}

/// Close an open need without answering it (the community's staff).
pub async fn close_need(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<need::Model> {
    let n = get_need(db, id)
        .await?
        .ok_or(AppError::NotFound(Noun::CommunityNeed))?;
    require_need_staff(db, viewer, &n).await?;
    let moved = need::Entity::update_many()
        .col_expr(need::Column::Status, Expr::value(NeedStatus::Closed))
        .col_expr(need::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(need::Column::Id.eq(id))
        .filter(need::Column::Status.eq(NeedStatus::Open))
        .exec(db)
        .await?;
    if moved.rows_affected == 0 {
        return Err(not_open());
    }
    get_need(db, id)
        .await?
        .ok_or(AppError::NotFound(Noun::CommunityNeed))
}

fn not_open() -> AppError {
    AppError::Conflict(msg!("the need is no longer open", "该需求已对接或已关闭"))
}

async fn require_need_staff<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    n: &need::Model,
) -> AppResult<()> {
    if authz::is_staff(db, viewer, n.organization_id).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden(msg!(
            "only the community's staff act on its needs",
            "只有本社区的工作人员可以处理其需求"
        )))
    }
}

/// An organization's needs (and those of the organizations below it), oldest first, in one
/// status or all.
pub async fn needs_of<C: ConnectionTrait>(
    db: &C,
    org: i64,
    status: Option<NeedStatus>,
) -> AppResult<Vec<need::Model>> {
    let mut q = need::Entity::find().filter(authz::in_subtree(need::Column::OrganizationId, org));
    if let Some(s) = status {
        q = q.filter(need::Column::Status.eq(s));
    }
    Ok(q.order_by_asc(need::Column::Id)
        .limit(MAX_LISTED)
        .all(db)
        .await?)
}

/// What answered a need.
#[derive(Clone, Copy, Debug)]
pub enum Taken {
    /// A help request.
    HelpRequest(i64),
    /// An event.
    Event(i64),
    /// A service project.
    Project(i64),
}

/// Before creating what answers need `id` for organization `org`: the need exists, is open, the
/// viewer is staff of its community, and `org` is on the community's line of the hierarchy.
/// Errors name `input.needId`.
pub async fn check_need<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    id: i64,
    org: i64,
) -> AppResult<need::Model> {
    let n = get_need(db, id)
        .await?
        .ok_or_else(|| AppError::bad_input("input.needId", msg!("no such need", "找不到该需求")))?;
    require_need_staff(db, viewer, &n).await?;
    if n.status != NeedStatus::Open {
        return Err(not_open());
    }
    if !super::service::related(db, n.organization_id, org).await? {
        return Err(AppError::bad_input(
            "input.needId",
            msg!(
                "the need is another community's: answer it from its own line of the network",
                "该需求属于其他社区，须由其所在体系的组织对接"
            ),
        ));
    }
    Ok(n)
}

/// A need answered by `taken` is open again (what answered it was cancelled), in the caller's
/// transaction.
pub async fn reopen_need<C: ConnectionTrait>(db: &C, taken: Taken) -> AppResult<()> {
    let (col, key) = match taken {
        Taken::HelpRequest(k) => (need::Column::HelpRequestId, k),
        Taken::Event(k) => (need::Column::EventId, k),
        Taken::Project(k) => (need::Column::ProjectId, k),
    };
    need::Entity::update_many()
        .col_expr(need::Column::Status, Expr::value(NeedStatus::Open))
        .col_expr(col, Expr::value(Option::<i64>::None))
        .col_expr(need::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(col.eq(key))
        .filter(need::Column::Status.eq(NeedStatus::Addressed))
        .exec(db)
        .await?;
    Ok(())
}

/// Mark need `id` answered by `taken`, in the caller's transaction: a conditional update from
/// `OPEN`, so two answers racing for one need cannot both land (`CONFLICT`, and the caller's
/// transaction rolls back what it created).
pub async fn take_need<C: ConnectionTrait>(db: &C, id: i64, taken: Taken) -> AppResult<()> {
    let (col, key) = match taken {
        Taken::HelpRequest(k) => (need::Column::HelpRequestId, k),
        Taken::Event(k) => (need::Column::EventId, k),
        Taken::Project(k) => (need::Column::ProjectId, k),
    };
    let moved = need::Entity::update_many()
        .col_expr(need::Column::Status, Expr::value(NeedStatus::Addressed))
        .col_expr(col, Expr::value(key))
        .col_expr(need::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(need::Column::Id.eq(id))
        .filter(need::Column::Status.eq(NeedStatus::Open))
        .exec(db)
        .await?;
    if moved.rows_affected == 0 {
        return Err(not_open());
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The resources list.

/// A resource as listed.
#[derive(Clone, Debug)]
pub struct NewResource {
    /// The community.
    pub organization: i64,
    /// Person, venue, fund or skill.
    pub kind: ResourceKind,
    /// 1–60 characters.
    pub name: String,
    /// At most 1,000 characters.
    pub description: String,
    /// Fields it serves (at most 7, de-duplicated).
    pub fields: Vec<ServiceField>,
    /// Skills it brings.
    pub skills: Vec<String>,
    /// Where; the organization's place when not given.
    pub location: Option<GeoPoint>,
    /// Available from.
    pub available_from: Option<DateTime<Utc>>,
    /// Available until.
    pub available_until: Option<DateTime<Utc>>,
    /// People it serves or holds at once, 1 to 100,000.
    pub capacity: Option<i32>,
    /// How to reach it, at most 60 characters (personal data: staff only).
    pub contact: Option<String>,
    /// The person's account (a `PERSON`).
    pub account: Option<i64>,
    /// The fund (a `FUND`): a fund of the organization or above it.
    pub fund: Option<i64>,
}

/// Fields stored as a comma-separated list.
pub fn fields_to_db(fields: &[ServiceField]) -> String {
    use sea_orm::ActiveEnum;
    let mut f: Vec<ServiceField> = fields.to_vec();
    f.sort();
    f.dedup();
    f.iter().map(|x| x.to_value()).collect::<Vec<_>>().join(",")
}

/// Fields read back.
pub fn fields_from_db(stored: &str) -> Vec<ServiceField> {
    use sea_orm::ActiveEnum;
    stored
        .split(',')
        .filter_map(|s| ServiceField::try_from_value(&s.to_owned()).ok())
        .collect()
}

/// List a resource (the community's managers).
pub async fn add_resource(
    db: &DatabaseConnection,
    viewer: &account::Model,
    n: NewResource,
) -> AppResult<resource::Model> {
    let name = text(&n.name, "input.name", 1, 60)?;
    let description = text(&n.description, "input.description", 0, 1000)?;
    let skills = validate::skills(&n.skills, "input.skills")?;
    window(n.available_from, n.available_until, "input.availableUntil")?;
    if n.fields.is_empty() {
        return Err(AppError::bad_input(
            "input.fields",
            msg!(
                "name at least one field it serves",
                "须注明至少一个服务领域"
            ),
        ));
    }
    if n.capacity.is_some_and(|c| !(1..=100_000).contains(&c)) {
        return Err(AppError::bad_input(
            "input.capacity",
            msg!("1 to 100,000", "容量须为 1 至 100000"),
        ));
    }
    let contact = match &n.contact {
        Some(c) => Some(text(c, "input.contact", 1, 60)?),
        None => None,
    };
    if n.account.is_some() && n.kind != ResourceKind::Person {
        return Err(AppError::bad_input(
            "input.accountId",
            msg!(
                "only a PERSON is someone's account",
                "只有人力资源可关联账号"
            ),
        ));
    }
    if n.fund.is_some() && n.kind != ResourceKind::Fund {
        return Err(AppError::bad_input(
            "input.fundId",
            msg!(
                "only a FUND is a charity fund",
                "只有资金资源可关联慈善基金"
            ),
        ));
    }
    crate::organizations::service::get(db, n.organization)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    authz::require_manager(db, viewer, n.organization).await?;
    if let Some(a) = n.account {
        account::Entity::find_by_id(a)
            .filter(account::Column::PasswordHash.ne(crate::privacy::DELETED_HASH))
            .one(db)
            .await?
            .ok_or_else(|| {
                AppError::bad_input("input.accountId", msg!("no such account", "找不到该账号"))
            })?;
    }
    if let Some(f) = n.fund {
        let fund = fund::Entity::find_by_id(f).one(db).await?;
        let ok = match fund {
            Some(f) => super::service::related(db, f.organization_id, n.organization).await?,
            None => false,
        };
        if !ok {
            return Err(AppError::bad_input(
                "input.fundId",
                msg!(
                    "must be a fund of this organization or one on its line",
                    "须为本组织或其上下级组织的基金"
                ),
            ));
        }
    }
    let now = Utc::now();
    Ok(resource::ActiveModel {
        organization_id: Set(n.organization),
        kind: Set(n.kind),
        name: Set(name),
        description: Set(description),
        fields: Set(fields_to_db(&n.fields)),
        skills: Set(validate::skills_to_db(&skills)),
        latitude: Set(n.location.map(|p| p.latitude)),
        longitude: Set(n.location.map(|p| p.longitude)),
        available_from: Set(n.available_from),
        available_until: Set(n.available_until),
        capacity: Set(n.capacity),
        contact: Set(contact),
        account_id: Set(n.account),
        fund_id: Set(n.fund),
        active: Set(true),
        created_by: Set(viewer.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Take a resource off the list (the community's managers).
pub async fn withdraw_resource(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<resource::Model> {
    let r = resource::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::CommunityResource))?;
    authz::require_manager(db, viewer, r.organization_id).await?;
    let mut a: resource::ActiveModel = r.into();
    a.active = Set(false);
    a.updated_at = Set(Utc::now());
    Ok(a.update(db).await?)
}

/// An organization's resources (its own only), by kind and name.
pub async fn resources_of<C: ConnectionTrait>(
    db: &C,
    org: i64,
    kind: Option<ResourceKind>,
    withdrawn_too: bool,
) -> AppResult<Vec<resource::Model>> {
    let mut q = resource::Entity::find().filter(resource::Column::OrganizationId.eq(org));
    if let Some(k) = kind {
        q = q.filter(resource::Column::Kind.eq(k));
    }
    if !withdrawn_too {
        q = q.filter(resource::Column::Active.eq(true));
    }
    Ok(q.order_by_asc(resource::Column::Kind)
        .order_by_asc(resource::Column::Name)
        .order_by_asc(resource::Column::Id)
        .limit(MAX_LISTED)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_sorted_and_unique() {
        let stored = fields_to_db(&[
            ServiceField::ElderlyService,
            ServiceField::SocialWelfare,
            ServiceField::ElderlyService,
        ]);
        assert_eq!(stored, "SOCIAL_WELFARE,ELDERLY_SERVICE");
        assert_eq!(
            fields_from_db(&stored),
            vec![ServiceField::SocialWelfare, ServiceField::ElderlyService]
        );
        assert!(fields_from_db("").is_empty());
    }
}
