//! Organization and membership logic, independent of GraphQL.

use std::collections::HashMap;

use chrono::Utc;
use entity::{account, invitation, membership, organization, organization_closure as closure};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait,
    JoinType, QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set,
    sea_query::{Expr, OnConflict, Query},
};

use super::domain::{MemberRole, OrganizationKind, check_location, check_parent};
use crate::{
    authz,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    pagination::{Page, PageArgs, contains_text, fetch_page},
};

/// Fields of a new organization, validated.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    /// Name, 1–128 characters.
    pub name: String,
    /// Kind.
    pub kind: OrganizationKind,
    /// Parent; `None` only for a city center.
    pub parent_id: Option<i64>,
    /// Administrative region code (GB/T 2260 style, digits).
    pub region_code: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Latitude (WGS-84).
    pub latitude: Option<f64>,
    /// Longitude (WGS-84).
    pub longitude: Option<f64>,
}

/// Changes to an organization; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrganizationChanges {
    /// New name.
    pub name: Option<String>,
    /// New region code.
    pub region_code: Option<String>,
    /// New address.
    pub address: Option<String>,
    /// New latitude (with longitude).
    pub latitude: Option<f64>,
    /// New longitude (with latitude).
    pub longitude: Option<f64>,
}

/// Filter of `organizations`.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFilter {
    /// Only this kind.
    pub kind: Option<OrganizationKind>,
    /// Only direct children of this organization.
    pub parent_id: Option<i64>,
    /// Only organizations anywhere below this one.
    pub ancestor_id: Option<i64>,
    /// Name contains this text (case-insensitive for Latin letters).
    pub search: Option<String>,
}

/// Check and normalize a name.
pub fn parse_name(raw: &str, field: &str) -> AppResult<String> {
    let name = raw.trim();
    let n = name.chars().count();
    if n == 0 || n > 128 || name.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            msg!(
                "must be 1 to 128 characters without control characters",
                "须为 1 至 128 个字，不含控制字符"
            ),
        ));
    }
    Ok(name.to_owned())
}

/// Check a region code: 6 to 12 digits.
pub fn parse_region_code(raw: &str, field: &str) -> AppResult<String> {
    let code = raw.trim();
    if (6..=12).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_owned())
    } else {
        Err(AppError::bad_input(
            field,
            msg!("must be 6 to 12 digits", "行政区划代码须为 6 至 12 位数字"),
        ))
    }
}

/// Check an address: at most 256 characters.
pub fn parse_address(raw: &str, field: &str) -> AppResult<String> {
    let address = raw.trim();
    if address.chars().count() > 256 || address.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            field,
            msg!(
                "must be at most 256 characters without control characters",
                "最多 256 个字，不含控制字符"
            ),
        ));
    }
    Ok(address.to_owned())
}

/// Load an organization.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<organization::Model>> {
    Ok(organization::Entity::find_by_id(id).one(db).await?)
}

/// Load several organizations at once, by key.
pub async fn get_many<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = i64>,
) -> AppResult<HashMap<i64, organization::Model>> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(organization::Entity::find()
        .filter(organization::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect())
}

async fn get_required<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<organization::Model> {
    get(db, id)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))
}

/// Create an organization under `parent_id`. Only a system administrator creates a city
/// center; anything else needs an administrator of the parent (or above it).
#[tracing::instrument(skip_all, fields(viewer = viewer.id))]
pub async fn create(
    db: &DatabaseConnection,
    viewer: &account::Model,
    new: NewOrganization,
) -> AppResult<organization::Model> {
    check_location(new.latitude, new.longitude)?;
    let parent = match new.parent_id {
        Some(pid) => Some(get(db, pid).await?.ok_or_else(|| {
            AppError::bad_input(
                "input.parentId",
                msg!("no such organization", "上级组织不存在"),
            )
        })?),
        None => None,
    };
    let parent_kind = parent.as_ref().map(|p| p.kind);
    match &parent {
        Some(p) => authz::require_admin(db, viewer, p.id).await?,
        None if viewer.is_system_admin => {}
        None => {
            return Err(AppError::Forbidden(msg!(
                "only a system administrator creates a top-level organization",
                "仅系统管理员可创建顶级组织"
            )));
        }
    }
    check_parent(new.kind, parent_kind, "input.kind")?;

    let now = Utc::now();
    let txn = begin_write(db).await?;
    let org = organization::ActiveModel {
        name: Set(new.name),
        kind: Set(new.kind),
        parent_id: Set(new.parent_id),
        region_code: Set(new.region_code),
        address: Set(new.address),
        latitude: Set(new.latitude),
        longitude: Set(new.longitude),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    // The new node is its own ancestor at depth 0, and below each ancestor of its parent.
    let mut rows = vec![closure::ActiveModel {
        ancestor_id: Set(org.id),
        descendant_id: Set(org.id),
        depth: Set(0),
    }];
    if let Some(pid) = new.parent_id {
        let above = closure::Entity::find()
            .filter(closure::Column::DescendantId.eq(pid))
            .all(&txn)
            .await?;
        rows.extend(above.into_iter().map(|c| closure::ActiveModel {
            ancestor_id: Set(c.ancestor_id),
            descendant_id: Set(org.id),
            depth: Set(c.depth + 1),
        }));
    }
    closure::Entity::insert_many(rows).exec(&txn).await?;
    txn.commit().await?;
    tracing::info!(organization_id = org.id, kind = ?org.kind, "organization created");
    Ok(org)
}

/// Change an organization's descriptive fields. Kind and parent are fixed at creation: moving a
/// subtree would move authority with it, which deserves its own reviewed operation.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, organization_id = id))]
pub async fn update(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
    changes: OrganizationChanges,
) -> AppResult<organization::Model> {
    get_required(db, id).await?;
    authz::require_admin(db, viewer, id).await?;
    if changes.latitude.is_some() || changes.longitude.is_some() {
        check_location(changes.latitude, changes.longitude)?;
    }
    // One UPDATE of just the changed columns: concurrent edits of different fields both land.
    let mut update = organization::Entity::update_many()
        .col_expr(organization::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(organization::Column::Id.eq(id));
    if let Some(name) = changes.name {
        update = update.col_expr(organization::Column::Name, Expr::value(name));
    }
    if let Some(code) = changes.region_code {
        update = update.col_expr(organization::Column::RegionCode, Expr::value(code));
    }
    if let Some(address) = changes.address {
        update = update.col_expr(organization::Column::Address, Expr::value(address));
    }
    if let (Some(lat), Some(lng)) = (changes.latitude, changes.longitude) {
        update = update
            .col_expr(organization::Column::Latitude, Expr::value(lat))
            .col_expr(organization::Column::Longitude, Expr::value(lng));
    }
    update.exec(db).await?;
    get_required(db, id).await
}

/// One page of organizations matching `filter`, in creation order.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    filter: &OrganizationFilter,
    page: PageArgs,
) -> AppResult<Page<organization::Model>> {
    fetch_page(db, listed(filter), organization::Column::Id, page).await
}

/// Every organization [`list`] pages through (its `totalCount`).
pub fn listed(filter: &OrganizationFilter) -> sea_orm::Select<organization::Entity> {
    let mut cond = Condition::all();
    if let Some(kind) = filter.kind {
        cond = cond.add(organization::Column::Kind.eq(kind));
    }
    if let Some(parent) = filter.parent_id {
        cond = cond.add(organization::Column::ParentId.eq(parent));
    }
    if let Some(ancestor) = filter.ancestor_id {
        cond = cond.add(
            organization::Column::Id.in_subquery(
                Query::select()
                    .column(closure::Column::DescendantId)
                    .from(closure::Entity)
                    .and_where(closure::Column::AncestorId.eq(ancestor))
                    .and_where(closure::Column::Depth.gt(0))
                    .to_owned(),
            ),
        );
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        cond = cond.add(contains_text(organization::Column::Name, search));
    }
    organization::Entity::find().filter(cond)
}

/// The ancestors of an organization, from the top of the hierarchy down to its parent.
pub async fn ancestors<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Vec<organization::Model>> {
    Ok(organization::Entity::find()
        .join(JoinType::InnerJoin, closure::Relation::Ancestor.def().rev())
        .filter(closure::Column::DescendantId.eq(id))
        .filter(closure::Column::Depth.gt(0))
        .order_by_desc(closure::Column::Depth)
        .all(db)
        .await?)
}

/// Offer `role` in an organization to the number `phone` (ADMIN of the organization or
/// above); the number's owner accepts it signed in ([`accept_invitation`]). Inviting the same
/// number again replaces the offer.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, organization_id = org_id))]
pub async fn invite(
    db: &DatabaseConnection,
    viewer: &account::Model,
    org_id: i64,
    phone: &str,
    role: MemberRole,
) -> AppResult<invitation::Model> {
    get_required(db, org_id).await?;
    authz::require_admin(db, viewer, org_id).await?;
    let txn = crate::db::begin_write(db).await?;
    invitation::Entity::insert(invitation::ActiveModel {
        organization_id: Set(org_id),
        phone: Set(phone.to_owned()),
        role: Set(role),
        invited_by: Set(viewer.id),
        created_at: Set(Utc::now()),
        accepted_at: Set(None),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            invitation::Column::OrganizationId,
            invitation::Column::Phone,
        ])
        .update_columns([
            invitation::Column::Role,
            invitation::Column::InvitedBy,
            invitation::Column::CreatedAt,
            invitation::Column::AcceptedAt,
        ])
        .to_owned(),
    )
    .exec(&txn)
    .await?;
    let row = invitation::Entity::find()
        .filter(invitation::Column::OrganizationId.eq(org_id))
        .filter(invitation::Column::Phone.eq(phone))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("invitation vanished after upsert")))?;
    tracing::info!(invitation = row.id, role = ?row.role, "member invited");
    // Someone already registered with the number hears of it (again when offered another
    // role, not when the same offer is repeated).
    if let Some(invitee) = account::Entity::find()
        .filter(account::Column::Phone.eq(phone))
        .one(&txn)
        .await?
    {
        crate::notifications::service::write(
            &txn,
            vec![
                crate::notifications::service::Notice::subject(
                    entity::notification::NotificationKind::Invited,
                    invitee.id,
                    row.id,
                )
                .on(format!("{:?}", row.role)),
            ],
        )
        .await?;
    }
    txn.commit().await?;
    Ok(row)
}

/// The invitations waiting for the caller's number, newest first.
pub async fn pending_invitations<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
) -> AppResult<Vec<invitation::Model>> {
    Ok(invitation::Entity::find()
        .filter(invitation::Column::Phone.eq(viewer.phone.as_str()))
        .filter(invitation::Column::AcceptedAt.is_null())
        .order_by_desc(invitation::Column::Id)
        .all(db)
        .await?)
}

/// Accept an invitation to the caller's own number: the role is granted now. Someone else's
/// invitation is `NOT_FOUND`; one accepted already is a `CONFLICT`.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, invitation_id = id))]
pub async fn accept_invitation(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<membership::Model> {
    let inv = invitation::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|i| i.phone == viewer.phone)
        .ok_or(AppError::NotFound(Noun::Invitation))?;
    let txn = crate::db::begin_write(db).await?;
    let taken = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(Utc::now()))
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(&txn)
        .await?;
    if taken.rows_affected == 0 {
        return Err(AppError::Conflict(msg!(
            "this invitation was accepted already",
            "该邀请已被接受"
        )));
    }
    let row = put_membership(&txn, viewer.id, inv.organization_id, inv.role).await?;
    txn.commit().await?;
    tracing::info!(role = ?row.role, "invitation accepted");
    Ok(row)
}

async fn put_membership<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    org_id: i64,
    role: MemberRole,
) -> AppResult<membership::Model> {
    membership::Entity::insert(membership::ActiveModel {
        account_id: Set(account_id),
        organization_id: Set(org_id),
        role: Set(role),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            membership::Column::AccountId,
            membership::Column::OrganizationId,
        ])
        .update_column(membership::Column::Role)
        .to_owned(),
    )
    .exec(db)
    .await?;
    membership::Entity::find()
        .filter(membership::Column::AccountId.eq(account_id))
        .filter(membership::Column::OrganizationId.eq(org_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("membership vanished after upsert")))
}

/// Give the account with `phone` a role in an organization (or change its role there) at
/// once, without an invitation: for operator tools (`seed-demo`) that vouch for the person,
/// never for a request (`addMember` invites).
#[tracing::instrument(skip_all, fields(viewer = viewer.id, organization_id = org_id))]
pub async fn grant_membership(
    db: &DatabaseConnection,
    viewer: &account::Model,
    org_id: i64,
    phone: &str,
    role: MemberRole,
) -> AppResult<membership::Model> {
    get_required(db, org_id).await?;
    authz::require_admin(db, viewer, org_id).await?;
    let member = account::Entity::find()
        .filter(account::Column::Phone.eq(phone))
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::AccountByPhone))?;
    let row = put_membership(db, member.id, org_id, role).await?;
    tracing::info!(member = member.id, role = ?row.role, "member added");
    Ok(row)
}

/// Take an account out of an organization: its role goes, the API clients it registered there
/// are revoked, and its live connections close. Returns whether it was a member.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, organization_id = org_id))]
pub async fn remove_member(
    db: &DatabaseConnection,
    viewer: &account::Model,
    org_id: i64,
    account_id: i64,
) -> AppResult<bool> {
    get_required(db, org_id).await?;
    authz::require_admin(db, viewer, org_id).await?;
    let txn = crate::db::begin_write(db).await?;
    let res = membership::Entity::delete_many()
        .filter(membership::Column::OrganizationId.eq(org_id))
        .filter(membership::Column::AccountId.eq(account_id))
        .exec(&txn)
        .await?;
    // The API clients they registered for this organization (and below) acted with the role
    // they just lost: revoked (the organization can register new ones).
    crate::clients::service::revoke_registered_by(&txn, account_id, Some(org_id)).await?;
    txn.commit().await?;
    // Their live connections close and reconnect with what they may still see.
    crate::live::record(crate::live::Change::AccessChanged { account_id });
    Ok(res.rows_affected > 0)
}

/// Members of an organization, for its staff only.
pub async fn members(
    db: &DatabaseConnection,
    viewer: &account::Model,
    org_id: i64,
    page: PageArgs,
) -> AppResult<Page<membership::Model>> {
    if !authz::is_staff(db, viewer, org_id).await? {
        return Err(AppError::Forbidden(msg!(
            "only the organization's staff see its members",
            "仅该组织的工作人员可查看成员"
        )));
    }
    fetch_page(
        db,
        membership::Entity::find().filter(membership::Column::OrganizationId.eq(org_id)),
        membership::Column::Id,
        page,
    )
    .await
}

/// The memberships of one account.
pub async fn memberships_of<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
) -> AppResult<Vec<membership::Model>> {
    Ok(membership::Entity::find()
        .filter(membership::Column::AccountId.eq(account_id))
        .order_by_asc(membership::Column::Id)
        .all(db)
        .await?)
}

/// Load a membership.
pub async fn get_membership<C: ConnectionTrait>(
    db: &C,
    id: i64,
) -> AppResult<Option<membership::Model>> {
    Ok(membership::Entity::find_by_id(id).one(db).await?)
}

/// The membership with key `id` if `viewer` may see it: their own, or one of an organization
/// they are on the staff of. The membership read rule.
pub async fn get_visible_membership<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    id: i64,
) -> AppResult<Option<membership::Model>> {
    Ok(match get_membership(db, id).await? {
        Some(m)
            if authz::is_self(viewer, m.account_id)
                || authz::is_staff(db, viewer, m.organization_id).await? =>
        {
            Some(m)
        }
        _ => None,
    })
}

/// An organization's direct children, in creation order ([`crate::batch::ChildPages`]).
pub struct ChildrenOf;

impl crate::batch::Children for ChildrenOf {
    type Entity = organization::Entity;
    fn parent() -> organization::Column {
        organization::Column::ParentId
    }
    fn key() -> organization::Column {
        organization::Column::Id
    }
    fn parent_of(row: &organization::Model) -> i64 {
        row.parent_id.unwrap_or_default()
    }
}

/// An organization's memberships, oldest first ([`crate::batch::ChildPages`]); who may see
/// them is the resolver's check.
pub struct MembersOf;

impl crate::batch::Children for MembersOf {
    type Entity = membership::Entity;
    fn parent() -> membership::Column {
        membership::Column::OrganizationId
    }
    fn key() -> membership::Column {
        membership::Column::Id
    }
    fn parent_of(row: &membership::Model) -> i64 {
        row.organization_id
    }
}
