//! Who may do what. Authority flows down the hierarchy: an ADMIN of an organization administers
//! it and everything under it; a system administrator administers everything. Each check is one
//! indexed query through the closure table, whatever the depth.

use entity::{account, membership, organization_closure as closure};
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
        .filter(membership::Column::Role.eq(MemberRole::Admin.as_db()))
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
        Err(AppError::Forbidden(
            "you do not administer this organization".to_owned(),
        ))
    }
}

/// Whether `viewer` is staff of `org_id`: any role in it, or an administrator above it.
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
                    .and_where(membership::Column::Role.eq(MemberRole::Admin.as_db()))
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
        .filter(
            membership::Column::Role
                .is_in([MemberRole::Organizer.as_db(), MemberRole::Admin.as_db()]),
        )
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
        Err(AppError::Forbidden(
            "you do not organize for this organization".to_owned(),
        ))
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
        .and_where(
            membership::Column::Role
                .is_in([MemberRole::Organizer.as_db(), MemberRole::Admin.as_db()]),
        )
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
                    .and_where(membership::Column::Role.eq(MemberRole::Admin.as_db()))
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
