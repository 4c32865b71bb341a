//! Who may do what. Authority flows down the hierarchy: an ADMIN of an organization administers
//! it and everything under it; a system administrator administers everything. Each check is one
//! indexed query through the closure table, whatever the depth.

use entity::{account, membership, organization, organization_closure as closure};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::Query,
};

use crate::{
    error::{AppError, AppResult},
    organizations::domain::MemberRole,
};

/// Whether the current request may touch `org_id` at all: always, unless an API client makes
/// it, which is confined to its organization's subtree.
async fn within_confinement<C: ConnectionTrait>(db: &C, org_id: i64) -> AppResult<bool> {
    let Some(root) = crate::clients::confined_to() else {
        return Ok(true);
    };
    Ok(closure::Entity::find()
        .filter(closure::Column::AncestorId.eq(root))
        .filter(closure::Column::DescendantId.eq(org_id))
        .one(db)
        .await?
        .is_some())
}

/// `org_column IN (root and every organization below it)`, as one SQL expression over the
/// closure table.
pub fn in_subtree(org_column: impl ColumnTrait, root: i64) -> sea_orm::sea_query::SimpleExpr {
    org_column.in_subquery(
        Query::select()
            .column(closure::Column::DescendantId)
            .from(closure::Entity)
            .and_where(closure::Column::AncestorId.eq(root))
            .to_owned(),
    )
}

/// Whether `viewer` administers organization `org_id` (directly or from above).
pub async fn administers<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org_id: i64,
) -> AppResult<bool> {
    if !within_confinement(db, org_id).await? {
        return Ok(false);
    }
    if viewer.is_system_admin {
        return Ok(true);
    }
    let found = membership::Entity::find()
        .select_only()
        .column(membership::Column::Id)
        .filter(membership::Column::AccountId.eq(viewer.id))
        .filter(membership::Column::Role.eq(MemberRole::Admin))
        .filter(
            membership::Column::OrganizationId.in_subquery(
                Query::select()
                    .column(closure::Column::AncestorId)
                    .from(closure::Entity)
                    .and_where(closure::Column::DescendantId.eq(org_id))
                    .to_owned(),
            ),
        )
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// `FORBIDDEN` unless `viewer` administers `org_id`.
pub async fn require_admin<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org_id: i64,
) -> AppResult<()> {
    if administers(db, viewer, org_id).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden(msg!(
            "you do not administer this organization",
            "你不是该组织的管理员"
        )))
    }
}

/// Whether `viewer` is staff of `org_id`: any role in it, a social worker assigned to it while
/// the assignment runs, or an administrator above it.
pub async fn is_staff<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org_id: i64,
) -> AppResult<bool> {
    if !within_confinement(db, org_id).await? {
        return Ok(false);
    }
    let member = membership::Entity::find()
        .select_only()
        .column(membership::Column::Id)
        .filter(membership::Column::AccountId.eq(viewer.id))
        .filter(membership::Column::OrganizationId.eq(org_id))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    if member.is_some() {
        return Ok(true);
    }
    // A social worker assigned to the station, while the assignment runs.
    let assigned = entity::staff_assignment::Entity::find()
        .select_only()
        .column(entity::staff_assignment::Column::Id)
        .filter(entity::staff_assignment::Column::AccountId.eq(viewer.id))
        .filter(entity::staff_assignment::Column::StationId.eq(org_id))
        .filter(crate::staffing::service::running_on(
            crate::staffing::service::today(),
        ))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    if assigned.is_some() {
        return Ok(true);
    }
    administers(db, viewer, org_id).await
}

/// Whether `account_id` is the caller's own account. Never for an API client: it acts with the
/// authority of whoever registered it, not as that person, so nothing private to the person
/// (identity, time bank, sign-ups, records) opens to it.
pub fn is_self(viewer: &account::Model, account_id: i64) -> bool {
    viewer.id == account_id && crate::clients::confined_to().is_none()
}

/// Which of `targets` `viewer` may see the full phone number of (see [`may_see_phone`]), in
/// one query, for lists.
pub async fn phones_visible<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    targets: &[i64],
) -> AppResult<std::collections::HashSet<i64>> {
    // Third-party systems see phone numbers masked, always.
    if crate::clients::confined_to().is_some() {
        return Ok(Default::default());
    }
    if viewer.is_system_admin {
        return Ok(targets.iter().copied().collect());
    }
    let mut visible: std::collections::HashSet<i64> = membership::Entity::find()
        .select_only()
        .column(membership::Column::AccountId)
        .filter(membership::Column::AccountId.is_in(targets.iter().copied()))
        .filter(membership::Column::OrganizationId.in_subquery(administered_by(viewer)))
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    if targets.contains(&viewer.id) {
        visible.insert(viewer.id);
    }
    Ok(visible)
}

/// Organizations `viewer` administers, with everything under them (a subquery).
fn administered_by(viewer: &account::Model) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(closure::Column::DescendantId)
        .from(closure::Entity)
        .and_where(
            closure::Column::AncestorId.in_subquery(
                Query::select()
                    .column(membership::Column::OrganizationId)
                    .from(membership::Entity)
                    .and_where(membership::Column::AccountId.eq(viewer.id))
                    .and_where(membership::Column::Role.eq(MemberRole::Admin))
                    .to_owned(),
            ),
        )
        .to_owned()
}

/// Whether `viewer` may see `target`'s full phone number: it is their own, or `viewer`
/// administers an organization `target` belongs to.
pub async fn may_see_phone<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    target_account_id: i64,
) -> AppResult<bool> {
    if crate::clients::confined_to().is_some() {
        return Ok(false); // third-party systems see phone numbers masked, always
    }
    if viewer.id == target_account_id || viewer.is_system_admin {
        return Ok(true);
    }
    // Whether `target` is a member of an organization `viewer` administers (or one below).
    let administered = administered_by(viewer);
    let found = membership::Entity::find()
        .select_only()
        .column(membership::Column::Id)
        .filter(membership::Column::AccountId.eq(target_account_id))
        .filter(membership::Column::OrganizationId.in_subquery(administered))
        .limit(1)
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Whether `viewer` manages organization `org_id`'s work (campaigns, events, shifts): an
/// ORGANIZER or ADMIN of it, or an administrator above it.
pub async fn manages<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org_id: i64,
) -> AppResult<bool> {
    if !within_confinement(db, org_id).await? {
        return Ok(false);
    }
    let direct = membership::Entity::find()
        .select_only()
        .column(membership::Column::Id)
        .filter(membership::Column::AccountId.eq(viewer.id))
        .filter(membership::Column::OrganizationId.eq(org_id))
        .filter(membership::Column::Role.is_in([MemberRole::Organizer, MemberRole::Admin]))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    if direct.is_some() {
        return Ok(true);
    }
    administers(db, viewer, org_id).await
}

/// `FORBIDDEN` unless `viewer` manages `org_id`.
pub async fn require_manager<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org_id: i64,
) -> AppResult<()> {
    if manages(db, viewer, org_id).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden(msg!(
            "you do not organize for this organization",
            "你不是该组织的组织者"
        )))
    }
}

/// A condition on `org_column` that holds for the organizations `viewer` manages (see
/// [`manages`]), as one SQL expression for list queries. `None` for a system administrator,
/// who manages everything.
pub fn managed_orgs(viewer: &account::Model, org_column: impl ColumnTrait) -> Option<Condition> {
    // An API client sees only its organization's subtree, whoever registered it.
    let confined = crate::clients::confined_to().map(|root| in_subtree(org_column, root));
    if viewer.is_system_admin {
        return confined.map(|c| Condition::all().add(c));
    }
    let direct = Query::select()
        .column(membership::Column::OrganizationId)
        .from(membership::Entity)
        .and_where(membership::Column::AccountId.eq(viewer.id))
        .and_where(membership::Column::Role.is_in([MemberRole::Organizer, MemberRole::Admin]))
        .to_owned();
    let below_admin = Query::select()
        .column(closure::Column::DescendantId)
        .from(closure::Entity)
        .and_where(
            closure::Column::AncestorId.in_subquery(
                Query::select()
                    .column(membership::Column::OrganizationId)
                    .from(membership::Entity)
                    .and_where(membership::Column::AccountId.eq(viewer.id))
                    .and_where(membership::Column::Role.eq(MemberRole::Admin))
                    .to_owned(),
            ),
        )
        .to_owned();
    let managed = Condition::any()
        .add(org_column.in_subquery(direct))
        .add(org_column.in_subquery(below_admin));
    Some(match confined {
        Some(c) => Condition::all().add(managed).add(c),
        None => managed,
    })
}

/// The organizations among `org_ids` that `viewer` is on the staff of ([`is_staff`]: a
/// member, or an administrator above), in one statement — a list whose rows each need the
/// check costs what one row does.
pub async fn staff_of_many<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org_ids: &[i64],
) -> AppResult<std::collections::HashSet<i64>> {
    member_or_administered(db, viewer, org_ids, &[]).await
}

/// The organizations among `org_ids` whose work `viewer` manages ([`manages`]), in one
/// statement.
pub async fn managed_of_many<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org_ids: &[i64],
) -> AppResult<std::collections::HashSet<i64>> {
    let roles = [MemberRole::Organizer, MemberRole::Admin];
    member_or_administered(db, viewer, org_ids, &roles).await
}

/// The organizations among `org_ids` that `viewer` administers ([`administers`]), in one
/// statement.
pub async fn administered_of_many<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org_ids: &[i64],
) -> AppResult<std::collections::HashSet<i64>> {
    orgs_where(db, org_ids, viewer.is_system_admin, |c| {
        c.add(organization::Column::Id.in_subquery(administered_by(viewer)))
    })
    .await
}

/// The organizations among `org_ids` where `viewer` is a member (in one of `roles`; any role
/// when empty) or that `viewer` administers from above.
async fn member_or_administered<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    org_ids: &[i64],
    roles: &[MemberRole],
) -> AppResult<std::collections::HashSet<i64>> {
    let mut own = Query::select()
        .column(membership::Column::OrganizationId)
        .from(membership::Entity)
        .and_where(membership::Column::AccountId.eq(viewer.id))
        .to_owned();
    if !roles.is_empty() {
        own.and_where(membership::Column::Role.is_in(roles.iter().copied()));
    }
    // Staff in any role also counts running assignments (see `is_staff`).
    let assigned = roles.is_empty().then(|| {
        crate::staffing::service::stations_served(viewer.id, crate::staffing::service::today())
    });
    orgs_where(db, org_ids, viewer.is_system_admin, |c| {
        let c = c
            .add(organization::Column::Id.in_subquery(own))
            .add(organization::Column::Id.in_subquery(administered_by(viewer)));
        match assigned {
            Some(stations) => c.add(organization::Column::Id.in_subquery(stations)),
            None => c,
        }
    })
    .await
}

/// `org_ids` narrowed to the request's confinement and to `granted` (any of its conditions;
/// everything for a system administrator).
async fn orgs_where<C: ConnectionTrait>(
    db: &C,
    org_ids: &[i64],
    everything: bool,
    granted: impl FnOnce(Condition) -> Condition,
) -> AppResult<std::collections::HashSet<i64>> {
    if org_ids.is_empty() {
        return Ok(Default::default());
    }
    let mut select = organization::Entity::find()
        .select_only()
        .column(organization::Column::Id)
        .filter(organization::Column::Id.is_in(org_ids.iter().copied()));
    if let Some(root) = crate::clients::confined_to() {
        select = select.filter(in_subtree(organization::Column::Id, root));
    }
    if !everything {
        select = select.filter(granted(Condition::any()));
    }
    Ok(select
        .into_tuple::<i64>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// One of the caller's permission checks, batched ([`crate::batch`]): the keys for which it
/// holds come back (as `()`); a missing key means no.
pub struct Check {
    /// The caller.
    pub viewer: account::Model,
    /// Which check.
    pub kind: CheckKind,
}

/// The checks [`Check`] batches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// [`is_staff`] of an organization.
    Staff,
    /// [`manages`] an organization.
    Manages,
    /// [`administers`] an organization.
    Administers,
    /// [`may_see_phone`] of an account.
    Phone,
}

/// Loaders are told apart by type: one per kind of check.
macro_rules! batched_check {
    ($name:ident, $kind:ident, $doc:literal) => {
        #[doc = $doc]
        pub struct $name(pub account::Model);

        impl crate::batch::Loader for $name {
            type Key = i64;
            type Value = ();
            async fn load(
                self,
                db: sea_orm::DatabaseConnection,
                keys: Vec<i64>,
            ) -> AppResult<std::collections::HashMap<i64, ()>> {
                Check {
                    viewer: self.0,
                    kind: CheckKind::$kind,
                }
                .run(&db, &keys)
                .await
            }
        }
    };
}

batched_check!(StaffOf, Staff, "[`is_staff`], batched.");
batched_check!(ManagesOf, Manages, "[`manages`], batched.");
batched_check!(AdministersOf, Administers, "[`administers`], batched.");
batched_check!(PhoneOf, Phone, "[`may_see_phone`], batched.");

impl Check {
    async fn run(
        self,
        db: &sea_orm::DatabaseConnection,
        keys: &[i64],
    ) -> AppResult<std::collections::HashMap<i64, ()>> {
        let v = &self.viewer;
        let granted = match self.kind {
            CheckKind::Staff => staff_of_many(db, v, keys).await?,
            CheckKind::Manages => managed_of_many(db, v, keys).await?,
            CheckKind::Administers => administered_of_many(db, v, keys).await?,
            CheckKind::Phone => phones_visible(db, v, keys).await?,
        };
        Ok(granted.into_iter().map(|k| (k, ())).collect())
    }
}

/// Run one of the caller's checks on `key`, batched with the request's other checks of the
/// same kind.
pub async fn check(
    db: &sea_orm::DatabaseConnection,
    viewer: &account::Model,
    kind: CheckKind,
    key: i64,
) -> AppResult<bool> {
    let v = || viewer.clone();
    let found = match kind {
        CheckKind::Staff => crate::batch::load(db, key, || StaffOf(v())).await?,
        CheckKind::Manages => crate::batch::load(db, key, || ManagesOf(v())).await?,
        CheckKind::Administers => crate::batch::load(db, key, || AdministersOf(v())).await?,
        CheckKind::Phone => crate::batch::load(db, key, || PhoneOf(v())).await?,
    };
    Ok(found.is_some())
}
