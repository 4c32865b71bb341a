//! GraphQL surface of squads: `squad(id:)`, `Organization.squads`, `me.squads`, the membership
//! mutations and `signUpSquad`.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{
    squad,
    squad_member::{self as member, SquadMemberStatus, SquadRole},
};

use super::service;
use crate::{
    context::ContextExt,
    error::AppError,
    ids::{self, NodeType},
};

/// A volunteer squad (志愿分队): a standing team of an organization.
pub struct Squad(pub squad::Model);

/// A volunteer squad (志愿分队): a standing team of an organization, with leaders (队长) and
/// members (队员) who join and stay.
#[Object]
impl Squad {
    /// Global ID.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Squad, self.0.id)
    }

    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What it does.
    async fn description(&self) -> &str {
        &self.0.description
    }

    /// Tags (党员, 居民, 青年…).
    async fn tags(&self) -> Vec<&str> {
        self.0.tags.split(',').filter(|t| !t.is_empty()).collect()
    }

    /// The organization it belongs to.
    async fn organization(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::direct::Fast<crate::organizations::graphql::Organization>> {
        crate::organizations::graphql::required(ctx, self.0.organization_id).await
    }

    /// The caller's place in the squad (`null`: none).
    async fn my_membership(&self, ctx: &Context<'_>) -> Result<Option<SquadMember>> {
        let viewer = ctx.require_account().await?;
        Ok(service::membership(&ctx.state().db, self.0.id, viewer.id)
            .await?
            .map(SquadMember))
    }

    /// Its people in `status` (active when left out), leaders first. Active ones: its leaders,
    /// its active members and the organization's staff; the others: its leaders only.
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which; ACTIVE when left out (APPLIED: waiting for approval).")]
        status: Option<SquadMemberStatus>,
    ) -> Result<Vec<SquadMember>> {
        let viewer = ctx.require_account().await?;
        let db = &ctx.state().db;
        // Who applied, was invited or is gone: the leaders' business only.
        let wants_others = status.is_some_and(|s| s != SquadMemberStatus::Active);
        let may = if wants_others {
            service::leads(db, viewer, &self.0).await?
        } else {
            service::may_see_members(db, viewer, &self.0).await?
        };
        if !may {
            return Err(AppError::Forbidden(msg!(
                "only the squad and its organization's staff see its members",
                "只有分队成员和所属组织的工作人员可以查看队员"
            ))
            .into());
        }
        Ok(service::members(db, self.0.id, status)
            .await?
            .into_iter()
            .map(SquadMember)
            .collect())
    }

    /// What it did: active members, minutes they served since joining, shifts they covered.
    async fn figures(&self, ctx: &Context<'_>) -> Result<SquadFigures> {
        let f = service::figures(&ctx.state().db, self.0.id).await?;
        Ok(SquadFigures {
            members: f.members,
            minutes_served: f.minutes_served,
            shifts_covered: f.shifts_covered,
        })
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// What a squad did.
#[derive(SimpleObject)]
pub struct SquadFigures {
    /// Active members, leaders included.
    pub members: i64,
    /// Approved minutes of service by active members since they joined.
    pub minutes_served: i64,
    /// Distinct shifts at least one active member signed up for since joining.
    pub shifts_covered: i64,
}

/// A person's place in a squad.
pub struct SquadMember(pub member::Model);

/// A person's place in a squad.
#[Object]
impl SquadMember {
    /// The person.
    async fn person(&self, ctx: &Context<'_>) -> Result<crate::accounts::graphql::Account> {
        crate::accounts::graphql::required(ctx, self.0.account_id).await
    }

    /// Leader (队长) or member (队员).
    async fn role(&self) -> SquadRole {
        self.0.role
    }

    /// Applied, invited, active, left or removed.
    async fn status(&self) -> SquadMemberStatus {
        self.0.status
    }

    /// When they last became active.
    async fn joined_at(&self) -> Option<DateTime<Utc>> {
        self.0.joined_at
    }
}

/// What came of signing one member up.
pub struct SquadSignupOutcome(pub service::GroupOutcome);

/// What came of signing one member up for a shift.
#[Object]
impl SquadSignupOutcome {
    /// The member.
    async fn member(&self, ctx: &Context<'_>) -> Result<crate::accounts::graphql::Account> {
        crate::accounts::graphql::required(ctx, self.0.account_id).await
    }

    /// The sign-up (confirmed or waitlisted), when one was made.
    async fn signup(&self) -> Option<crate::signups::graphql::Signup> {
        self.0
            .signup
            .clone()
            .map(crate::signups::graphql::Signup::from)
    }

    /// Why none was, as an error code (`SHIFT_FULL`, `ALREADY_SIGNED_UP`, `CONFLICT`,
    /// `FORBIDDEN` for a missing skill…).
    async fn error_code(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
}

/// A course a person completed (培训记录).
pub struct TrainingRecord(pub entity::training_record::Model);

/// A course a person completed (培训记录).
#[Object]
impl TrainingRecord {
    /// The course.
    async fn course(&self) -> &str {
        &self.0.course
    }

    /// When it was completed (city date).
    async fn completed_on(&self) -> crate::scalars::Date {
        crate::scalars::Date(self.0.completed_on)
    }

    /// How long, in minutes.
    async fn minutes(&self) -> i32 {
        self.0.minutes
    }

    /// The organization that gave it.
    async fn issuer(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::direct::Fast<crate::organizations::graphql::Organization>> {
        crate::organizations::graphql::required(ctx, self.0.issuer_id).await
    }
}

/// A completed course to record.
#[derive(InputObject)]
pub struct RecordTrainingInput {
    /// Who completed it.
    pub account_id: ID,
    /// The course, 1 to 60 characters (the name shifts require it by).
    pub course: String,
    /// When (not in the future).
    pub completed_on: crate::scalars::Date,
    /// How long, in minutes (1 to 10,000).
    pub minutes: i32,
    /// The organization that gave it (the caller organizes for it).
    pub issuer_id: ID,
}

/// A person's training records (the caller checked it is the person).
pub async fn trainings_of(ctx: &Context<'_>, account: i64) -> Result<Vec<TrainingRecord>> {
    Ok(super::training::of_account(&ctx.state().db, account)
        .await?
        .into_iter()
        .map(TrainingRecord)
        .collect())
}

/// A new squad.
#[derive(InputObject)]
pub struct CreateSquadInput {
    /// The organization it belongs to.
    pub organization_id: ID,
    /// Its name, 1 to 40 characters, unique in the organization.
    pub name: String,
    /// What it does (at most 500 characters).
    #[graphql(default)]
    pub description: String,
    /// Tags (党员, 居民, 青年…), at most 10.
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Its first leaders.
    #[graphql(default)]
    pub leader_ids: Vec<ID>,
}

fn squad_key(id: &ID) -> Result<i64, AppError> {
    ids::decode(NodeType::Squad, id, "squadId")
}

fn account_key(id: &ID) -> Result<i64, AppError> {
    ids::decode(NodeType::Account, id, "accountId")
}

/// A leader's move on someone's membership (approve, invite, remove): the caller, the decoded
/// squad and account, and the service function that makes it.
async fn on_member(
    ctx: &Context<'_>,
    squad_id: &ID,
    account_id: &ID,
    op: impl AsyncFnOnce(
        &sea_orm::DatabaseConnection,
        &entity::account::Model,
        i64,
        i64,
    ) -> crate::error::AppResult<member::Model>,
) -> Result<SquadMember> {
    let viewer = ctx.require_account().await?;
    let (squad, account) = (squad_key(squad_id)?, account_key(account_id)?);
    Ok(SquadMember(
        op(&ctx.state().db, viewer, squad, account).await?,
    ))
}

/// `squad(id:)`, `organization.squads` and `me.squads`.
pub async fn by_id(ctx: &Context<'_>, id: &ID) -> Result<Option<Squad>> {
    ctx.require_account().await?;
    let key = ids::decode(NodeType::Squad, id, "id")?;
    Ok(service::get(&ctx.state().db, key).await?.map(Squad))
}

/// The squads of an organization.
pub async fn of_organization(ctx: &Context<'_>, org: i64) -> Result<Vec<Squad>> {
    ctx.require_account().await?;
    Ok(service::of_organization(&ctx.state().db, org)
        .await?
        .into_iter()
        .map(Squad)
        .collect())
}

/// The squads a person belongs to (the caller checked it is the person).
pub async fn of_account(ctx: &Context<'_>, account: i64) -> Result<Vec<Squad>> {
    Ok(service::of_account(&ctx.state().db, account)
        .await?
        .into_iter()
        .map(|(_, s)| Squad(s))
        .collect())
}

/// Squad queries.
#[derive(Default)]
pub struct SquadQuery;

#[Object]
impl SquadQuery {
    /// A volunteer squad.
    async fn squad(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the squad.")] id: ID,
    ) -> Result<Option<Squad>> {
        by_id(ctx, &id).await
    }
}

/// Squad mutations.
#[derive(Default)]
pub struct SquadMutation;

#[Object]
impl SquadMutation {
    /// Create a volunteer squad (志愿分队). The organization's organizers and administrators.
    async fn create_squad(&self, ctx: &Context<'_>, input: CreateSquadInput) -> Result<Squad> {
        let viewer = ctx.require_account().await?;
        let n = service::NewSquad {
            organization: ids::decode(
                NodeType::Organization,
                &input.organization_id,
                "input.organizationId",
            )?,
            name: input.name,
            description: input.description,
            tags: input.tags,
            leaders: input
                .leader_ids
                .iter()
                .map(|id| ids::decode(NodeType::Account, id, "input.leaderIds"))
                .collect::<Result<_, _>>()?,
        };
        Ok(Squad(service::create(&ctx.state().db, viewer, n).await?))
    }

    /// Ask to join a squad (a leader approves; invited already: joins at once).
    async fn apply_to_squad(&self, ctx: &Context<'_>, squad_id: ID) -> Result<SquadMember> {
        let viewer = ctx.require_account().await?;
        Ok(SquadMember(
            service::apply(&ctx.state().db, viewer, squad_key(&squad_id)?).await?,
        ))
    }

    /// Approve an application. The squad's leaders (and the organization's organizers).
    async fn approve_squad_member(
        &self,
        ctx: &Context<'_>,
        squad_id: ID,
        account_id: ID,
    ) -> Result<SquadMember> {
        on_member(ctx, &squad_id, &account_id, service::approve).await
    }

    /// Invite a person to the squad (they accept). The squad's leaders.
    async fn invite_to_squad(
        &self,
        ctx: &Context<'_>,
        squad_id: ID,
        account_id: ID,
    ) -> Result<SquadMember> {
        on_member(ctx, &squad_id, &account_id, service::invite).await
    }

    /// Accept an invitation to a squad.
    async fn accept_squad_invitation(
        &self,
        ctx: &Context<'_>,
        squad_id: ID,
    ) -> Result<SquadMember> {
        let viewer = ctx.require_account().await?;
        Ok(SquadMember(
            service::accept(&ctx.state().db, viewer, squad_key(&squad_id)?).await?,
        ))
    }

    /// Leave a squad (or withdraw an application, or decline an invitation).
    async fn leave_squad(&self, ctx: &Context<'_>, squad_id: ID) -> Result<SquadMember> {
        let viewer = ctx.require_account().await?;
        Ok(SquadMember(
            service::leave(&ctx.state().db, viewer, squad_key(&squad_id)?).await?,
        ))
    }

    /// Remove someone from a squad (or refuse an application). The squad's leaders; a leader
    /// only by the organization's organizers.
    async fn remove_squad_member(
        &self,
        ctx: &Context<'_>,
        squad_id: ID,
        account_id: ID,
    ) -> Result<SquadMember> {
        on_member(ctx, &squad_id, &account_id, service::remove).await
    }

    /// Make an active member a leader, or a leader a member. The organization's organizers.
    async fn set_squad_role(
        &self,
        ctx: &Context<'_>,
        squad_id: ID,
        account_id: ID,
        role: SquadRole,
    ) -> Result<SquadMember> {
        let viewer = ctx.require_account().await?;
        Ok(SquadMember(
            service::set_role(
                &ctx.state().db,
                viewer,
                squad_key(&squad_id)?,
                account_key(&account_id)?,
                role,
            )
            .await?,
        ))
    }

    /// Record a course a person completed (培训记录). The issuing organization's organizers
    /// and administrators, for someone else.
    async fn record_training(
        &self,
        ctx: &Context<'_>,
        input: RecordTrainingInput,
    ) -> Result<TrainingRecord> {
        let viewer = ctx.require_account().await?;
        let t = super::training::NewTraining {
            account: ids::decode(NodeType::Account, &input.account_id, "input.accountId")?,
            course: input.course,
            completed_on: input.completed_on.0,
            minutes: input.minutes,
            issuer: ids::decode(NodeType::Organization, &input.issuer_id, "input.issuerId")?,
        };
        Ok(TrainingRecord(
            super::training::record(&ctx.state().db, viewer, t).await?,
        ))
    }

    /// Set the courses a shift requires of whoever signs up (replacing the list; empty: none).
    /// The shift's organizers.
    async fn set_shift_training(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the shift.")] shift_id: ID,
        #[graphql(desc = "Course names, at most 10.")] courses: Vec<String>,
    ) -> Result<Vec<String>> {
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::Shift, &shift_id, "shiftId")?;
        let db = &ctx.state().db;
        crate::shifts::service::get_managed(db, viewer, key).await?;
        Ok(super::training::set_required(db, key, &courses).await?)
    }

    /// A leader signs members of the squad up for a shift in one call (at most 50): each
    /// seat is taken as a single sign-up takes it, so nothing overbooks; a member who cannot
    /// be signed up gets an error code without undoing the others; each member signed up is
    /// told. Idempotent per `idempotencyKey`.
    async fn sign_up_squad(
        &self,
        ctx: &Context<'_>,
        squad_id: ID,
        #[graphql(desc = "Global ID of the shift.")] shift_id: ID,
        #[graphql(desc = "The members to sign up (active members of the squad).")] member_ids: Vec<
            ID,
        >,
        #[graphql(desc = "The same key on a retry returns the first answer.")]
        idempotency_key: String,
    ) -> Result<Vec<SquadSignupOutcome>> {
        let viewer = ctx.require_account().await?;
        let shift = ids::decode(NodeType::Shift, &shift_id, "shiftId")?;
        let members = member_ids
            .iter()
            .map(|id| ids::decode(NodeType::Account, id, "memberIds"))
            .collect::<Result<Vec<_>, _>>()?;
        let squad = squad_key(&squad_id)?;
        let db = &ctx.state().db;
        let outcomes = crate::db::retry_transient(|| {
            Box::pin(service::sign_up_members(
                db,
                viewer,
                squad,
                shift,
                &members,
                &idempotency_key,
            ))
        })
        .await?;
        for o in &outcomes {
            if let Some(s) = &o.signup {
                ctx.state()
                    .metrics
                    .signup(&sea_orm::ActiveEnum::to_value(&s.status));
            }
        }
        Ok(outcomes.into_iter().map(SquadSignupOutcome).collect())
    }
}
