//! Squads, their members and squad sign-ups, independent of GraphQL.

use chrono::Utc;
use entity::{
    account, organization, service_record, signup,
    squad::{self},
    squad_member::{self as member, SquadMemberStatus as Status, SquadRole},
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait, Func, Query},
};
use serde::{Deserialize, Serialize};

use crate::{
    authz,
    db::begin_write,
    error::{AppError, AppResult, Noun},
    idempotency::{self, Claim, IdempotentRequest},
};

/// Where a person stands who is on the squad's roll: a member, or on the way in.
const ON_THE_ROLL: [Option<Status>; 3] = [
    Some(Status::Active),
    Some(Status::Applied),
    Some(Status::Invited),
];

/// Where a person stands who is outside the squad: never in it, or gone.
const OUTSIDE: [Option<Status>; 3] = [None, Some(Status::Left), Some(Status::Removed)];

/// Members one squad sign-up takes at most.
pub const MAX_GROUP_SIGNUP: usize = 50;

/// A new squad.
#[derive(Clone, Debug)]
pub struct NewSquad {
    /// The organization it belongs to.
    pub organization: i64,
    /// Its name (1 to 40 characters), unique in the organization.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Tags (党员, 居民, 青年…): at most 10, each 1 to 10 characters.
    pub tags: Vec<String>,
    /// Its first leaders (accounts).
    pub leaders: Vec<i64>,
}

fn check(n: &NewSquad) -> AppResult<()> {
    let name = n.name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err(AppError::bad_input(
            "input.name",
            msg!("1 to 40 characters", "名称须为 1 至 40 个字"),
        ));
    }
    if n.description.chars().count() > 500 {
        return Err(AppError::bad_input(
            "input.description",
            msg!("at most 500 characters", "简介最多 500 字"),
        ));
    }
    if n.tags.len() > 10
        || n.tags.iter().any(|t| {
            let t = t.trim();
            t.is_empty() || t.chars().count() > 10 || t.contains(',')
        })
    {
        return Err(AppError::bad_input(
            "input.tags",
            msg!(
                "at most 10 tags, each 1 to 10 characters without commas",
                "最多 10 个标签，每个 1 至 10 个字，不含逗号"
            ),
        ));
    }
    if n.leaders.len() > 10 {
        return Err(AppError::bad_input(
            "input.leaderIds",
            msg!("at most 10 leaders", "最多 10 名队长"),
        ));
    }
    Ok(())
}

/// Create a squad. The organization's organizers and administrators.
pub async fn create(
    db: &DatabaseConnection,
    viewer: &account::Model,
    n: NewSquad,
) -> AppResult<squad::Model> {
    check(&n)?;
    organization::Entity::find_by_id(n.organization)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Organization))?;
    authz::require_manager(db, viewer, n.organization).await?;
    let known = account::Entity::find()
        .filter(account::Column::Id.is_in(n.leaders.iter().copied()))
        .count(db)
        .await?;
    let mut leaders = n.leaders.clone();
    leaders.sort_unstable();
    leaders.dedup();
    if known != leaders.len() as u64 {
        return Err(AppError::bad_input(
            "input.leaderIds",
            msg!("names an account that does not exist", "其中有不存在的账号"),
        ));
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let created = squad::ActiveModel {
        organization_id: Set(n.organization),
        name: Set(n.name.trim().to_owned()),
        description: Set(n.description),
        tags: Set(n
            .tags
            .iter()
            .map(|t| t.trim())
            .collect::<Vec<_>>()
            .join(",")),
        created_by: Set(viewer.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        AppError::from_db_unique(e, || {
            AppError::Conflict(msg!(
                "the organization has a squad of that name",
                "本组织已有同名志愿分队"
            ))
        })
    })?;
    for l in leaders {
        member::ActiveModel {
            squad_id: Set(created.id),
            account_id: Set(l),
            role: Set(SquadRole::Leader),
            status: Set(Status::Active),
            joined_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(created)
}

/// A squad.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<squad::Model>> {
    Ok(squad::Entity::find_by_id(id).one(db).await?)
}

async fn required<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<squad::Model> {
    get(db, id).await?.ok_or(AppError::NotFound(Noun::Squad))
}

/// `account`'s row in `squad`, if any.
pub async fn membership<C: ConnectionTrait>(
    db: &C,
    squad: i64,
    account: i64,
) -> AppResult<Option<member::Model>> {
    Ok(member::Entity::find()
        .filter(member::Column::SquadId.eq(squad))
        .filter(member::Column::AccountId.eq(account))
        .one(db)
        .await?)
}

/// Whether `viewer` leads `s`: an active leader, or an organizer or administrator of its
/// organization.
pub async fn leads<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    s: &squad::Model,
) -> AppResult<bool> {
    let row = membership(db, s.id, viewer.id).await?;
    if row.is_some_and(|m| m.role == SquadRole::Leader && m.status == Status::Active) {
        return Ok(true);
    }
    authz::manages(db, viewer, s.organization_id).await
}

/// Whether `viewer` may see `s`'s members: its leaders, its active members, and the
/// organization's staff.
pub async fn may_see_members<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    s: &squad::Model,
) -> AppResult<bool> {
    let row = membership(db, s.id, viewer.id).await?;
    if row.is_some_and(|m| m.status == Status::Active) {
        return Ok(true);
    }
    authz::is_staff(db, viewer, s.organization_id).await
}

async fn require_leader<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    s: &squad::Model,
) -> AppResult<()> {
    if leads(db, viewer, s).await? {
        Ok(())
    } else {
        Err(AppError::Forbidden(msg!(
            "only the squad's leaders and its organization's organizers may do this",
            "只有分队队长或所属组织的组织者可以执行此操作"
        )))
    }
}

/// Move `account`'s row in `squad` to `to` when it is in one of `from` (`None` in `from`:
/// no row yet, one is made). Returns the row, or `CONFLICT` naming where it stands.
async fn transition(
    db: &DatabaseConnection,
    squad: i64,
    account: i64,
    from: &[Option<Status>],
    to: Status,
) -> AppResult<member::Model> {
    let now = Utc::now();
    let txn = begin_write(db).await?;
    let current = membership(&txn, squad, account).await?;
    let allowed = from.contains(&current.as_ref().map(|m| m.status));
    if !allowed {
        let (is, is_zh) = match current.map(|m| m.status) {
            None => ("not in the squad", "不在该分队"),
            Some(Status::Applied) => ("waiting for approval", "已申请，待审核"),
            Some(Status::Invited) => ("invited", "已受邀"),
            Some(Status::Active) => ("a member already", "已是队员"),
            Some(Status::Left) => ("gone (left)", "已退出"),
            Some(Status::Removed) => ("gone (removed)", "已被移出"),
        };
        return Err(AppError::Conflict(msg!(
            "the person is {is}",
            "该成员当前状态：{is_zh}"
        )));
    }
    let joined = (to == Status::Active).then_some(now);
    let row = match current {
        // Conditional on the state decided from: a concurrent move (a removal racing an
        // acceptance) makes this one a conflict, never a silent overwrite.
        Some(m) => {
            let mut update = member::Entity::update_many()
                .col_expr(member::Column::Status, Expr::value(to))
                .col_expr(member::Column::UpdatedAt, Expr::value(now))
                .filter(member::Column::Id.eq(m.id))
                .filter(member::Column::Status.eq(m.status));
            if to == Status::Active {
                update = update.col_expr(member::Column::JoinedAt, Expr::value(joined));
            } else {
                update = update.col_expr(member::Column::Role, Expr::value(SquadRole::Member));
            }
            if update.exec(&txn).await?.rows_affected == 0 {
                return Err(AppError::Conflict(msg!(
                    "the membership changed meanwhile; reload it",
                    "该成员状态已被他人修改，请刷新后重试"
                )));
            }
            member::Entity::find_by_id(m.id)
                .one(&txn)
                .await?
                .ok_or(AppError::NotFound(Noun::Squad))?
        }
        None => member::ActiveModel {
            squad_id: Set(squad),
            account_id: Set(account),
            role: Set(SquadRole::Member),
            status: Set(to),
            joined_at: Set(joined),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await
        .map_err(|e| {
            AppError::from_db_unique(e, || {
                AppError::Conflict(msg!(
                    "the membership changed meanwhile; reload it",
                    "该成员状态已被他人修改，请刷新后重试"
                ))
            })
        })?,
    };
    txn.commit().await?;
    Ok(row)
}

/// Ask to join (a leader approves). Invited already: joins at once.
pub async fn apply(
    db: &DatabaseConnection,
    viewer: &account::Model,
    squad: i64,
) -> AppResult<member::Model> {
    required(db, squad).await?;
    if membership(db, squad, viewer.id)
        .await?
        .is_some_and(|m| m.status == Status::Invited)
    {
        return accept(db, viewer, squad).await;
    }
    transition(
        db,
        squad,
        viewer.id,
        &[OUTSIDE.as_slice(), &[Some(Status::Applied)]].concat(),
        Status::Applied,
    )
    .await
}

/// A leader approves an application.
pub async fn approve(
    db: &DatabaseConnection,
    viewer: &account::Model,
    squad: i64,
    account: i64,
) -> AppResult<member::Model> {
    let s = required(db, squad).await?;
    require_leader(db, viewer, &s).await?;
    transition(db, squad, account, &[Some(Status::Applied)], Status::Active).await
}

/// A leader invites a person (who accepts). One who applied joins at once.
pub async fn invite(
    db: &DatabaseConnection,
    viewer: &account::Model,
    squad: i64,
    account: i64,
) -> AppResult<member::Model> {
    let s = required(db, squad).await?;
    require_leader(db, viewer, &s).await?;
    if account::Entity::find_by_id(account)
        .one(db)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound(Noun::Account));
    }
    if membership(db, squad, account)
        .await?
        .is_some_and(|m| m.status == Status::Applied)
    {
        return transition(db, squad, account, &[Some(Status::Applied)], Status::Active).await;
    }
    transition(
        db,
        squad,
        account,
        &[OUTSIDE.as_slice(), &[Some(Status::Invited)]].concat(),
        Status::Invited,
    )
    .await
}

/// Accept an invitation.
pub async fn accept(
    db: &DatabaseConnection,
    viewer: &account::Model,
    squad: i64,
) -> AppResult<member::Model> {
    required(db, squad).await?;
    transition(
        db,
        squad,
        viewer.id,
        &[Some(Status::Invited)],
        Status::Active,
    )
    .await
}

/// Leave (or withdraw an application, or decline an invitation).
pub async fn leave(
    db: &DatabaseConnection,
    viewer: &account::Model,
    squad: i64,
) -> AppResult<member::Model> {
    required(db, squad).await?;
    transition(db, squad, viewer.id, &ON_THE_ROLL, Status::Left).await
}

/// A leader removes a member (or refuses an application, or withdraws an invitation). Only
/// the organization's organizers remove a leader.
pub async fn remove(
    db: &DatabaseConnection,
    viewer: &account::Model,
    squad: i64,
    account: i64,
) -> AppResult<member::Model> {
    let s = required(db, squad).await?;
    require_leader(db, viewer, &s).await?;
    if membership(db, squad, account)
        .await?
        .is_some_and(|m| m.role == SquadRole::Leader && m.status == Status::Active)
        && !authz::manages(db, viewer, s.organization_id).await?
    {
        return Err(AppError::Forbidden(msg!(
            "only the organization's organizers remove a leader",
            "只有所属组织的组织者可以移出队长"
        )));
    }
    transition(db, squad, account, &ON_THE_ROLL, Status::Removed).await
}

/// The organization's organizers make an active member a leader, or a leader a member.
pub async fn set_role(
    db: &DatabaseConnection,
    viewer: &account::Model,
    squad: i64,
    account: i64,
    role: SquadRole,
) -> AppResult<member::Model> {
    let s = required(db, squad).await?;
    authz::require_manager(db, viewer, s.organization_id).await?;
    let m = membership(db, squad, account)
        .await?
        .filter(|m| m.status == Status::Active)
        .ok_or_else(|| {
            AppError::Conflict(msg!(
                "only an active member takes a role",
                "只有在队成员可以设定角色"
            ))
        })?;
    // Only while still active: a concurrent leave or removal wins.
    let changed = member::Entity::update_many()
        .col_expr(member::Column::Role, Expr::value(role))
        .col_expr(member::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(member::Column::Id.eq(m.id))
        .filter(member::Column::Status.eq(Status::Active))
        .exec(db)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(AppError::Conflict(msg!(
            "only an active member takes a role",
            "只有在队成员可以设定角色"
        )));
    }
    membership(db, squad, account)
        .await?
        .ok_or(AppError::NotFound(Noun::Squad))
}

/// The squad's rows (in `status`, or active ones), leaders first.
pub async fn members<C: ConnectionTrait>(
    db: &C,
    squad: i64,
    status: Option<Status>,
) -> AppResult<Vec<member::Model>> {
    Ok(member::Entity::find()
        .filter(member::Column::SquadId.eq(squad))
        .filter(member::Column::Status.eq(status.unwrap_or(Status::Active)))
        .order_by_asc(member::Column::Role)
        .order_by_asc(member::Column::Id)
        .all(db)
        .await?)
}

/// The squads of an organization, by name.
pub async fn of_organization<C: ConnectionTrait>(db: &C, org: i64) -> AppResult<Vec<squad::Model>> {
    Ok(squad::Entity::find()
        .filter(squad::Column::OrganizationId.eq(org))
        .order_by_asc(squad::Column::Name)
        .all(db)
        .await?)
}

/// The squads `account` belongs to (active), with its row in each.
pub async fn of_account<C: ConnectionTrait>(
    db: &C,
    account: i64,
) -> AppResult<Vec<(member::Model, squad::Model)>> {
    let rows = member::Entity::find()
        .filter(member::Column::AccountId.eq(account))
        .filter(member::Column::Status.eq(Status::Active))
        .order_by_asc(member::Column::Id)
        .all(db)
        .await?;
    let squads: std::collections::HashMap<i64, squad::Model> = squad::Entity::find()
        .filter(squad::Column::Id.is_in(rows.iter().map(|r| r.squad_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let s = squads.get(&r.squad_id)?.clone();
            Some((r, s))
        })
        .collect())
}

/// What a squad did: its active members, the approved minutes they served since joining, and
/// the shifts at least one of them covered (a confirmed or attended sign-up made since).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SquadFigures {
    /// Active members (leaders included).
    pub members: i64,
    /// Approved minutes served by active members since they joined.
    pub minutes_served: i64,
    /// Distinct shifts with an active member signed up (since joining).
    pub shifts_covered: i64,
}

/// [`SquadFigures`] of `squad`, in three statements.
pub async fn figures<C: ConnectionTrait>(db: &C, squad: i64) -> AppResult<SquadFigures> {
    let active = || {
        Query::select()
            .column(member::Column::AccountId)
            .from(member::Entity)
            .and_where(member::Column::SquadId.eq(squad))
            .and_where(member::Column::Status.eq(Status::Active))
            .to_owned()
    };
    let joined_before = |at: Expr, who: Expr| {
        Expr::exists(
            Query::select()
                .expr(Expr::val(1))
                .from(member::Entity)
                .and_where(member::Column::SquadId.eq(squad))
                .and_where(member::Column::Status.eq(Status::Active))
                .and_where(Expr::col((member::Entity, member::Column::AccountId)).eq(who))
                .and_where(Expr::col((member::Entity, member::Column::JoinedAt)).lte(at))
                .to_owned(),
        )
    };
    let members = member::Entity::find()
        .filter(member::Column::SquadId.eq(squad))
        .filter(member::Column::Status.eq(Status::Active))
        .count(db)
        .await?;
    let minutes: Option<Option<i64>> = service_record::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::coalesce([
                Expr::from(Func::sum(Expr::col(service_record::Column::Minutes))),
                Expr::val(0i64),
            ]))
            .cast_as(sea_orm::sea_query::Alias::new("BIGINT")),
            "m",
        )
        .filter(service_record::Column::AccountId.in_subquery(active()))
        .filter(service_record::Column::Status.eq(service_record::RecordStatus::Approved))
        .filter(joined_before(
            Expr::col((service_record::Entity, service_record::Column::ServedAt)),
            Expr::col((service_record::Entity, service_record::Column::AccountId)),
        ))
        .into_tuple()
        .one(db)
        .await?;
    let shifts: Option<i64> = signup::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::count_distinct(Expr::col(signup::Column::ShiftId))),
            "n",
        )
        .filter(signup::Column::AccountId.in_subquery(active()))
        .filter(signup::Column::Status.is_in([
            signup::SignupStatus::Confirmed,
            signup::SignupStatus::Attended,
        ]))
        .filter(joined_before(
            Expr::col((signup::Entity, signup::Column::CreatedAt)),
            Expr::col((signup::Entity, signup::Column::AccountId)),
        ))
        .into_tuple()
        .one(db)
        .await?;
    Ok(SquadFigures {
        members: i64::try_from(members).unwrap_or(i64::MAX),
        minutes_served: minutes.flatten().unwrap_or(0),
        shifts_covered: shifts.unwrap_or(0),
    })
}

/// What came of signing one member up.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GroupOutcome {
    /// The member.
    pub account_id: i64,
    /// The sign-up (confirmed or waitlisted), when one was made.
    pub signup: Option<signup::Model>,
    /// The error code when none was (`SHIFT_FULL`, `ALREADY_SIGNED_UP`, `CONFLICT`, …).
    pub error: Option<String>,
}

/// A leader signs members of the squad up for a shift, in one transaction: each member's seat
/// is taken exactly as a single sign-up takes it (the same conditional statement on the shift
/// row, so nothing overbooks whoever else rushes the shift), and a member who cannot be signed
/// up (full, clashing, lacking a skill) gets an error without undoing the others. Each member
/// signed up is told. Idempotent per `idempotency_key`.
pub async fn sign_up_members(
    db: &DatabaseConnection,
    viewer: &account::Model,
    squad: i64,
    shift_id: i64,
    members: &[i64],
    idempotency_key: &str,
) -> AppResult<Vec<GroupOutcome>> {
    let s = required(db, squad).await?;
    require_leader(db, viewer, &s).await?;
    let mut wanted = members.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() || wanted.len() > MAX_GROUP_SIGNUP {
        return Err(AppError::bad_input(
            "memberIds",
            msg!(
                "1 to {MAX_GROUP_SIGNUP} members at once",
                "一次可为 1 至 {MAX_GROUP_SIGNUP} 名队员报名"
            ),
        ));
    }
    let req = IdempotentRequest::new(
        viewer.id,
        idempotency_key,
        "signUpSquad",
        &(squad, shift_id, &wanted),
    )?;
    let txn = begin_write(db).await?;
    if let Claim::Replay(original) = idempotency::claim::<_, Vec<GroupOutcome>>(&txn, &req).await? {
        txn.commit().await?;
        return Ok(original);
    }
    // The members' accounts first, in id order (as every sign-up takes them), then who is an
    // active member now, in the same transaction.
    let alive = crate::signups::service::lock_volunteers(&txn, &wanted).await?;
    let active: std::collections::HashSet<i64> = member::Entity::find()
        .select_only()
        .column(member::Column::AccountId)
        .filter(member::Column::SquadId.eq(squad))
        .filter(member::Column::Status.eq(Status::Active))
        .filter(member::Column::AccountId.is_in(wanted.iter().copied()))
        .into_tuple::<i64>()
        .all(&txn)
        .await?
        .into_iter()
        .collect();
    if wanted
        .iter()
        .any(|m| !active.contains(m) || !alive.contains(m))
    {
        return Err(AppError::bad_input(
            "memberIds",
            msg!(
                "names someone who is not an active member of the squad",
                "其中有不是本分队在队成员的人"
            ),
        ));
    }
    let mut outcomes = Vec::with_capacity(wanted.len());
    for m in wanted {
        // A savepoint per member: one member's refusal does not undo the others.
        let sp = txn.begin().await?;
        match crate::signups::service::take_place(&sp, viewer, m, shift_id).await {
            Ok(row) => {
                sp.commit().await?;
                outcomes.push(GroupOutcome {
                    account_id: m,
                    signup: Some(row),
                    error: None,
                });
            }
            Err(
                e @ (AppError::NotFound(_)
                | AppError::Internal(_)
                | AppError::ServiceUnavailable(_)),
            ) => {
                return Err(e);
            }
            Err(e) => {
                sp.rollback().await?;
                outcomes.push(GroupOutcome {
                    account_id: m,
                    signup: None,
                    error: Some(e.code().to_owned()),
                });
            }
        }
    }
    idempotency::complete(&txn, &req, &outcomes).await?;
    txn.commit().await?;
    for o in &outcomes {
        if let Some(row) = &o.signup {
            crate::signups::service::record_signup(row);
        }
    }
    tracing::info!(squad, shift_id, members = outcomes.len(), "squad signed up");
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squad() -> NewSquad {
        NewSquad {
            organization: 1,
            name: "晋邻志愿分队".into(),
            description: String::new(),
            tags: vec!["党员".into(), "居民".into()],
            leaders: vec![],
        }
    }

    #[test]
    fn squads_are_checked_before_the_database() {
        assert!(check(&squad()).is_ok());
        let field = |n: NewSquad| match check(&n) {
            Err(AppError::BadUserInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(NewSquad {
                name: " ".into(),
                ..squad()
            }),
            "input.name"
        );
        assert_eq!(
            field(NewSquad {
                tags: vec!["a,b".into()],
                ..squad()
            }),
            "input.tags"
        );
        assert_eq!(
            field(NewSquad {
                tags: vec!["x".into(); 11],
                ..squad()
            }),
            "input.tags"
        );
    }
}
