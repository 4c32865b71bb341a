//! Personal-data rights (PIPL): a person's export of everything held about them, deletion of
//! their account by pseudonymization, the retention limit on check-in locations, and the audit
//! log of staff access to personal data.
//!
//! Deletion keeps the ledgers and statistics whole: service records, time-coin entries and
//! donations stay, tied to the same account row, which keeps no phone, name, identity,
//! location or password any more.

use chrono::{DateTime, Duration, Utc};
use entity::{
    account, audit_log, check_event, donation, help_offer, help_request, help_request_step,
    idempotency_key, identity, membership, micro_wish, refresh_token, service_certificate,
    service_record, service_record_change, signup, timebank_account, timebank_entry,
    timebank_transfer, volunteer_profile,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, sea_query::Expr,
};
use serde_json::{Value, json};

use crate::{
    db::begin_write,
    error::{AppError, AppResult, Noun},
    pagination::{Page, PageArgs, fetch_page},
};

/// The name a deleted account shows.
pub const DELETED_NAME: &str = "已注销用户";

/// The password hash of a deleted account: no password matches it, and a request made with one
/// of its remaining access tokens is refused (`UNAUTHENTICATED`).
pub const DELETED_HASH: &str = "!deleted";

/// Note an access to personal data. Failing to write the audit row fails the access.
pub async fn audit<C: ConnectionTrait>(
    db: &C,
    actor: i64,
    action: &str,
    organization_id: Option<i64>,
    subject: Option<i64>,
    detail: impl Into<String>,
) -> AppResult<()> {
    let mut detail: String = detail.into();
    if detail.chars().count() > 500 {
        detail = detail.chars().take(500).collect();
    }
    audit_log::ActiveModel {
        actor_id: Set(actor),
        action: Set(action.to_owned()),
        organization_id: Set(organization_id),
        subject_account_id: Set(subject),
        detail: Set(detail),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// One access to note: action, organization, subject and detail ([`audit`]).
pub type AuditEntry = (&'static str, Option<i64>, Option<i64>, String);

/// [`audit`] for the reads of a whole list, batched ([`crate::batch`]): one multi-row
/// `INSERT` for every row of the wave. Failing to write fails the reads.
pub struct AuditReads {
    /// Who read.
    pub actor: i64,
}

impl crate::batch::Loader for AuditReads {
    type Key = AuditEntry;
    type Value = ();
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<AuditEntry>,
    ) -> AppResult<std::collections::HashMap<AuditEntry, ()>> {
        let now = Utc::now();
        let rows = keys
            .iter()
            .map(|(action, org, subject, detail)| audit_log::ActiveModel {
                actor_id: Set(self.actor),
                action: Set((*action).to_owned()),
                organization_id: Set(*org),
                subject_account_id: Set(*subject),
                detail: Set(detail.chars().take(500).collect()),
                at: Set(now),
                ..Default::default()
            });
        audit_log::Entity::insert_many(rows).exec(&db).await?;
        Ok(keys.into_iter().map(|k| (k, ())).collect())
    }
}

/// The audit log of an organization and everything below it, oldest first (its
/// administrators only).
pub async fn audit_log_of(
    db: &DatabaseConnection,
    viewer: &account::Model,
    organization_id: i64,
    page: PageArgs,
) -> AppResult<Page<audit_log::Model>> {
    crate::authz::require_admin(db, viewer, organization_id).await?;
    fetch_page(
        db,
        audit_log_within(organization_id),
        audit_log::Column::Id,
        page,
    )
    .await
}

/// Every entry [`audit_log_of`] pages through (its `totalCount`; the caller is checked there).
pub fn audit_log_within(organization_id: i64) -> sea_orm::Select<audit_log::Entity> {
    audit_log::Entity::find().filter(crate::authz::in_subtree(
        audit_log::Column::OrganizationId,
        organization_id,
    ))
}

/// Everything the service holds about `me`, as JSON.
pub async fn export(db: &DatabaseConnection, me: i64) -> AppResult<Value> {
    let acc = account::Entity::find_by_id(me)
        .select_only()
        .columns([
            account::Column::Id,
            account::Column::Phone,
            account::Column::DisplayName,
            account::Column::IsSystemAdmin,
            account::Column::CreatedAt,
            account::Column::UpdatedAt,
        ])
        .into_json()
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::Account))?;
    let profile = volunteer_profile::Entity::find_by_id(me)
        .into_json()
        .one(db)
        .await?;
    // The ID number itself is kept encrypted; the export shows what the person can check.
    let identity = identity::Entity::find_by_id(me)
        .select_only()
        .columns([
            identity::Column::LegalName,
            identity::Column::IdType,
            identity::Column::IdMasked,
            identity::Column::CreatedAt,
        ])
        .into_json()
        .one(db)
        .await?;
    let wallets: Vec<i64> = timebank_account::Entity::find()
        .select_only()
        .column(timebank_account::Column::Id)
        .filter(timebank_account::Column::OwnerAccountId.eq(me))
        .into_tuple()
        .all(db)
        .await?;
    let records: Vec<i64> = service_record::Entity::find()
        .select_only()
        .column(service_record::Column::Id)
        .filter(service_record::Column::AccountId.eq(me))
        .into_tuple()
        .all(db)
        .await?;
    Ok(json!({
        "exportedAt": Utc::now(),
        "account": acc,
        "volunteerProfile": profile,
        "identity": identity,
        "memberships": membership::Entity::find().filter(membership::Column::AccountId.eq(me)).into_json().all(db).await?,
        "signups": signup::Entity::find().filter(signup::Column::AccountId.eq(me)).order_by_asc(signup::Column::Id).into_json().all(db).await?,
        "checkEvents": check_event::Entity::find().filter(check_event::Column::AccountId.eq(me)).order_by_asc(check_event::Column::Id).into_json().all(db).await?,
        "serviceRecords": service_record::Entity::find().filter(service_record::Column::AccountId.eq(me)).order_by_asc(service_record::Column::Id).into_json().all(db).await?,
        // Who approved, corrected or rejected the person's records, when and why.
        "serviceRecordChanges": service_record_change::Entity::find().filter(service_record_change::Column::RecordId.is_in(records)).order_by_asc(service_record_change::Column::Id).into_json().all(db).await?,
        "timeBank": {
            "accounts": timebank_account::Entity::find().filter(timebank_account::Column::OwnerAccountId.eq(me)).into_json().all(db).await?,
            "entries": timebank_entry::Entity::find().filter(timebank_entry::Column::AccountId.is_in(wallets.clone())).order_by_asc(timebank_entry::Column::Id).into_json().all(db).await?,
            // The transfers behind the entries, with their memos.
            "transfers": timebank_transfer::Entity::find()
                .filter(sea_orm::ExprTrait::or(timebank_transfer::Column::FromAccountId.is_in(wallets.clone()), timebank_transfer::Column::ToAccountId.is_in(wallets)))
                .order_by_asc(timebank_transfer::Column::Id).into_json().all(db).await?,
        },
        "donations": donation::Entity::find().filter(donation::Column::AccountId.eq(me)).order_by_asc(donation::Column::Id).into_json().all(db).await?,
        "helpOffers": help_offer::Entity::find().filter(help_offer::Column::VolunteerId.eq(me)).into_json().all(db).await?,
        "helpRequestsTaken": help_request::Entity::find()
            .select_only()
            .columns([help_request::Column::Id, help_request::Column::Title, help_request::Column::Status, help_request::Column::AcceptedAt, help_request::Column::CompletedAt, help_request::Column::CompletionNote, help_request::Column::MinutesServed])
            .filter(help_request::Column::AssigneeId.eq(me)).into_json().all(db).await?,
        "microWishClaims": micro_wish::Entity::find()
            .select_only()
            .columns([micro_wish::Column::Id, micro_wish::Column::Title, micro_wish::Column::Status, micro_wish::Column::ClaimedAt, micro_wish::Column::FulfilledAt, micro_wish::Column::FulfilmentNote])
            .filter(micro_wish::Column::ClaimedBy.eq(me)).into_json().all(db).await?,
        // What the person did on help requests (steps by others may describe someone else).
        "helpRequestSteps": help_request_step::Entity::find().filter(help_request_step::Column::ActorId.eq(me)).order_by_asc(help_request_step::Column::Id).into_json().all(db).await?,
        // Who on staff read or exported data about the person.
        "accessLog": audit_log::Entity::find().filter(audit_log::Column::SubjectAccountId.eq(me)).order_by_asc(audit_log::Column::Id).into_json().all(db).await?,
        // What the person was told, where it went, and what they chose.
        "notifications": entity::notification::Entity::find().filter(entity::notification::Column::AccountId.eq(me)).order_by_asc(entity::notification::Column::Id).into_json().all(db).await?,
        "notificationDeliveries": entity::notification_delivery::Entity::find()
            .inner_join(entity::notification::Entity)
            .filter(entity::notification::Column::AccountId.eq(me))
            .order_by_asc(entity::notification_delivery::Column::Id).into_json().all(db).await?,
        "notificationPreferences": entity::notification_preference::Entity::find().filter(entity::notification_preference::Column::AccountId.eq(me)).into_json().all(db).await?,
        "notificationSettings": entity::notification_setting::Entity::find().filter(entity::notification_setting::Column::AccountId.eq(me)).into_json().all(db).await?,
        "wechatConsents": entity::wechat_consent::Entity::find().filter(entity::wechat_consent::Column::AccountId.eq(me)).into_json().all(db).await?,
        "wechatLinked": entity::wechat_link::Entity::find_by_id(me).one(db).await?.is_some(),
        // Where the person served as a social worker, their squads and their training.
        "staffAssignments": entity::staff_assignment::Entity::find().filter(entity::staff_assignment::Column::AccountId.eq(me)).order_by_asc(entity::staff_assignment::Column::Id).into_json().all(db).await?,
        "squadMemberships": entity::squad_member::Entity::find().filter(entity::squad_member::Column::AccountId.eq(me)).order_by_asc(entity::squad_member::Column::Id).into_json().all(db).await?,
        "trainings": entity::training_record::Entity::find().filter(entity::training_record::Column::AccountId.eq(me)).order_by_asc(entity::training_record::Column::Id).into_json().all(db).await?,
        // Where a community lists the person as one of its resources (资源清单).
        "communityResources": entity::community_resource::Entity::find().filter(entity::community_resource::Column::AccountId.eq(me)).order_by_asc(entity::community_resource::Column::Id).into_json().all(db).await?,
        // Topics the person raised for a community, and those they support (议事).
        "topicsRaised": entity::topic::Entity::find().filter(entity::topic::Column::RaisedBy.eq(me)).order_by_asc(entity::topic::Column::Id).into_json().all(db).await?,
        "topicSupports": entity::topic_support::Entity::find().filter(entity::topic_support::Column::AccountId.eq(me)).into_json().all(db).await?,
        "certificates": service_certificate::Entity::find().filter(service_certificate::Column::AccountId.eq(me)).into_json().all(db).await?,
        "sessions": refresh_token::Entity::find()
            .select_only()
            .columns([refresh_token::Column::FamilyId, refresh_token::Column::Device, refresh_token::Column::CreatedAt, refresh_token::Column::ExpiresAt, refresh_token::Column::RevokedAt])
            .filter(refresh_token::Column::AccountId.eq(me)).into_json().all(db).await?,
        // What the person did as staff: what they reported, opened, recorded and registered,
        // and every entry of the audit log they are the actor of.
        "helpRequestsReported": help_request::Entity::find()
            .select_only()
            .columns([help_request::Column::Id, help_request::Column::Title, help_request::Column::Status, help_request::Column::ReportedAt])
            .filter(help_request::Column::ReportedBy.eq(me)).order_by_asc(help_request::Column::Id).into_json().all(db).await?,
        "eventsCreated": entity::charity_event::Entity::find()
            .select_only()
            .columns([entity::charity_event::Column::Id, entity::charity_event::Column::Title, entity::charity_event::Column::Status, entity::charity_event::Column::CreatedAt])
            .filter(entity::charity_event::Column::CreatedBy.eq(me)).order_by_asc(entity::charity_event::Column::Id).into_json().all(db).await?,
        "campaignsCreated": entity::campaign::Entity::find()
            .select_only()
            .columns([entity::campaign::Column::Id, entity::campaign::Column::Title, entity::campaign::Column::Status, entity::campaign::Column::CreatedAt])
            .filter(entity::campaign::Column::CreatedBy.eq(me)).order_by_asc(entity::campaign::Column::Id).into_json().all(db).await?,
        "fundsOpened": entity::charity_fund::Entity::find()
            .select_only()
            .columns([entity::charity_fund::Column::Id, entity::charity_fund::Column::Name, entity::charity_fund::Column::CreatedAt])
            .filter(entity::charity_fund::Column::CreatedBy.eq(me)).order_by_asc(entity::charity_fund::Column::Id).into_json().all(db).await?,
        "disbursementsRecorded": entity::disbursement::Entity::find().filter(entity::disbursement::Column::CreatedBy.eq(me)).order_by_asc(entity::disbursement::Column::Id).into_json().all(db).await?,
        "offlineGiftsRecorded": donation::Entity::find()
            .select_only()
            .columns([donation::Column::Id, donation::Column::AmountFen, donation::Column::Channel, donation::Column::Reference, donation::Column::ConfirmedAt])
            .filter(donation::Column::RecordedBy.eq(me)).order_by_asc(donation::Column::Id).into_json().all(db).await?,
        "microWishesPosted": micro_wish::Entity::find()
            .select_only()
            .columns([micro_wish::Column::Id, micro_wish::Column::Title, micro_wish::Column::Status, micro_wish::Column::CreatedAt])
            .filter(micro_wish::Column::CreatedBy.eq(me)).order_by_asc(micro_wish::Column::Id).into_json().all(db).await?,
        // Without their secrets' digests.
        "apiClientsRegistered": entity::api_client::Entity::find()
            .filter(entity::api_client::Column::CreatedBy.eq(me)).order_by_asc(entity::api_client::Column::Id).into_json().all(db).await?,
        "auditEntriesAsActor": audit_log::Entity::find().filter(audit_log::Column::ActorId.eq(me)).order_by_asc(audit_log::Column::Id).into_json().all(db).await?,
    }))
}

/// Delete `me`'s account: check the password, then in one transaction erase phone, names,
/// identity, home, skills, check-in locations, donor names and sessions, and leave the account
/// row as a pseudonym that keeps the ledgers and records whole. Logging in fails afterwards.
///
/// A wrong password is `BAD_USER_INPUT` on `password` (the caller is still signed in) and
/// counts against the same budget as failed logins for that phone and address, so a stolen
/// token cannot be used to guess the password here.
pub async fn delete_account(
    state: &crate::AppState,
    me: &account::Model,
    password: String,
    client_addr: Option<std::net::IpAddr>,
) -> AppResult<()> {
    let db = &state.db;
    let _turn = state.login_throttle.turn(&me.phone).await;
    state.login_throttle.check(
        &me.phone,
        client_addr,
        crate::auth::rate_limit::Proof::Holder,
    )?;
    // As it is now, not as the request found it: a second deletion in one request (aliases,
    // a batch) or a password changed meanwhile must not pass on the old hash.
    let me = &account::Entity::find_by_id(me.id)
        .one(db)
        .await?
        .filter(|a| a.password_hash != DELETED_HASH)
        .ok_or(AppError::Unauthenticated(msg!(
            "this account has been deleted",
            "该账号已注销"
        )))?;
    if !crate::auth::password::verify(Some(me.password_hash.clone()), password).await? {
        state.login_throttle.record_failure(&me.phone, client_addr);
        return Err(AppError::bad_input(
            "password",
            msg!("the password is wrong", "密码错误"),
        ));
    }
    // First give back what others are waiting for: places on shifts still to come (the
    // waitlist moves up), as the person would by cancelling.
    let active: Vec<i64> = signup::Entity::find()
        .select_only()
        .column(signup::Column::Id)
        .filter(signup::Column::AccountId.eq(me.id))
        .filter(signup::Column::Status.is_in([
            entity::signup::SignupStatus::Confirmed,
            entity::signup::SignupStatus::Waitlisted,
        ]))
        .into_tuple()
        .all(db)
        .await?;
    for id in active {
        // A shift already under way cannot be cancelled by the volunteer: it stays, and will be
        // closed like any other.
        let _ = crate::signups::service::cancel(db, me, id, None).await;
    }
    let now = Utc::now();
    let txn = begin_write(db).await?;
    // Help requests taken and wishes claimed go back to be taken by someone else; open offers
    // close.
    help_request::Entity::update_many()
        .col_expr(
            help_request::Column::Status,
            Expr::value(entity::help_request::HelpStatus::Reported),
        )
        .col_expr(
            help_request::Column::AssigneeId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(
            help_request::Column::AcceptedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            help_request::Column::ResponseSeconds,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(help_request::Column::UpdatedAt, Expr::value(now))
        .filter(help_request::Column::AssigneeId.eq(me.id))
        .filter(help_request::Column::Status.eq(entity::help_request::HelpStatus::Accepted))
        .exec(&txn)
        .await?;
    help_request::Entity::update_many()
        .col_expr(
            help_request::Column::CompletionNote,
            Expr::value(Option::<String>::None),
        )
        .filter(help_request::Column::AssigneeId.eq(me.id))
        .exec(&txn)
        .await?;
    help_offer::Entity::update_many()
        .col_expr(
            help_offer::Column::Status,
            Expr::value(entity::help_offer::OfferStatus::Closed),
        )
        .col_expr(help_offer::Column::ClosedAt, Expr::value(now))
        .filter(help_offer::Column::VolunteerId.eq(me.id))
        .filter(help_offer::Column::Status.eq(entity::help_offer::OfferStatus::Open))
        .exec(&txn)
        .await?;
    // The codes sent to the number, and the invitations to it, name it.
    entity::phone_code::Entity::delete_many()
        .filter(entity::phone_code::Column::Phone.eq(me.phone.as_str()))
        .exec(&txn)
        .await?;
    entity::invitation::Entity::delete_many()
        .filter(entity::invitation::Column::Phone.eq(me.phone.as_str()))
        .exec(&txn)
        .await?;
    help_request_step::Entity::update_many()
        .col_expr(
            help_request_step::Column::Note,
            Expr::value(Option::<String>::None),
        )
        .filter(help_request_step::Column::ActorId.eq(me.id))
        .exec(&txn)
        .await?;
    crate::wishes::service::release_claims_of(&txn, me.id, now).await?;
    micro_wish::Entity::update_many()
        .col_expr(
            micro_wish::Column::FulfilmentNote,
            Expr::value(Option::<String>::None),
        )
        .filter(micro_wish::Column::ClaimedBy.eq(me.id))
        .exec(&txn)
        .await?;
    signup::Entity::update_many()
        .col_expr(
            signup::Column::CancelReason,
            Expr::value(Option::<String>::None),
        )
        .filter(signup::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    account::Entity::update_many()
        // Unique and no phone number: the account can never be found by phone again.
        .col_expr(
            account::Column::Phone,
            Expr::value(format!("deleted-{}", me.id)),
        )
        .col_expr(account::Column::DisplayName, Expr::value(DELETED_NAME))
        // Not a hash any password can match.
        .col_expr(account::Column::PasswordHash, Expr::value(DELETED_HASH))
        .col_expr(account::Column::IsSystemAdmin, Expr::value(false))
        .col_expr(account::Column::UpdatedAt, Expr::value(now))
        .filter(account::Column::Id.eq(me.id))
        .exec(&txn)
        .await?;
    volunteer_profile::Entity::update_many()
        .col_expr(volunteer_profile::Column::Skills, Expr::value("[]"))
        .col_expr(volunteer_profile::Column::Bio, Expr::value(""))
        .col_expr(
            volunteer_profile::Column::HomeLatitude,
            Expr::value(Option::<f64>::None),
        )
        .col_expr(
            volunteer_profile::Column::HomeLongitude,
            Expr::value(Option::<f64>::None),
        )
        .col_expr(
            volunteer_profile::Column::AvailableForDispatch,
            Expr::value(false),
        )
        .col_expr(volunteer_profile::Column::UpdatedAt, Expr::value(now))
        .filter(volunteer_profile::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    identity::Entity::delete_many()
        .filter(identity::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    // Nothing more is told: the notifications (and their queued deliveries), the WeChat user
    // and their consents go.
    entity::notification::Entity::delete_many()
        .filter(entity::notification::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    entity::wechat_link::Entity::delete_many()
        .filter(entity::wechat_link::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    entity::wechat_consent::Entity::delete_many()
        .filter(entity::wechat_consent::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    // Out of every squad; training records go; assignments keep their days (the station's
    // history) but lose the certificate number, and none runs on.
    entity::squad_member::Entity::update_many()
        .col_expr(
            entity::squad_member::Column::Status,
            Expr::value(entity::squad_member::SquadMemberStatus::Left),
        )
        .col_expr(entity::squad_member::Column::UpdatedAt, Expr::value(now))
        .filter(entity::squad_member::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    entity::training_record::Entity::delete_many()
        .filter(entity::training_record::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    // A community's resources list stops naming the person (with their contact).
    entity::community_resource::Entity::delete_many()
        .filter(entity::community_resource::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    {
        use entity::staff_assignment as sa;
        let today = crate::staffing::service::today();
        sa::Entity::delete_many()
            .filter(sa::Column::AccountId.eq(me.id))
            .filter(sa::Column::StartsOn.gte(today))
            .exec(&txn)
            .await?;
        sa::Entity::update_many()
            .col_expr(sa::Column::EndsOn, Expr::value(today.pred_opt()))
            .filter(sa::Column::AccountId.eq(me.id))
            .filter(
                sea_orm::Condition::any()
                    .add(sa::Column::EndsOn.is_null())
                    .add(sa::Column::EndsOn.gte(today)),
            )
            .exec(&txn)
            .await?;
        sa::Entity::update_many()
            .col_expr(sa::Column::CertificateNumber, Expr::value(None::<String>))
            .filter(sa::Column::AccountId.eq(me.id))
            .exec(&txn)
            .await?;
    }
    forget_locations(&txn, Some(me.id), None).await?;
    donation::Entity::update_many()
        .col_expr(donation::Column::DonorName, Expr::value(DELETED_NAME))
        .col_expr(donation::Column::Message, Expr::value(""))
        .filter(donation::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    // Issued certificates keep their figures; the name and ID on them go.
    service_certificate::Entity::update_many()
        .col_expr(
            service_certificate::Column::LegalName,
            Expr::value(DELETED_NAME),
        )
        .col_expr(service_certificate::Column::IdMasked, Expr::value(""))
        .filter(service_certificate::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    // Stored answers to retried requests hold names too (a donation's donor, …).
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    membership::Entity::delete_many()
        .filter(membership::Column::AccountId.eq(me.id))
        .exec(&txn)
        .await?;
    // API clients act with their registrar's authority: a deleted person's stop (their
    // organization can register new ones).
    crate::clients::service::revoke_registered_by(&txn, me.id, None).await?;
    // Transfer memos are the person's words; the amounts stay for the ledgers.
    let wallet = || {
        sea_orm::sea_query::Query::select()
            .column(entity::timebank_account::Column::Id)
            .from(entity::timebank_account::Entity)
            .and_where(entity::timebank_account::Column::OwnerAccountId.eq(me.id))
            .to_owned()
    };
    entity::timebank_transfer::Entity::update_many()
        .col_expr(entity::timebank_transfer::Column::Memo, Expr::value(""))
        .filter(
            sea_orm::Condition::any()
                .add(entity::timebank_transfer::Column::FromAccountId.in_subquery(wallet()))
                .add(entity::timebank_transfer::Column::ToAccountId.in_subquery(wallet())),
        )
        .exec(&txn)
        .await?;
    audit(
        &txn,
        me.id,
        "DELETE_ACCOUNT",
        None,
        Some(me.id),
        "by the person",
    )
    .await?;
    txn.commit().await?;
    // Their live connections close too (every replica hears of it).
    crate::live::record(crate::live::Change::AccountClosed { account_id: me.id });
    tracing::info!(account_id = me.id, "account deleted (pseudonymized)");
    Ok(())
}

/// Drop the locations of check events — one person's (`who`), or everyone's older than
/// `before`. Returns how many lost theirs.
pub async fn forget_locations<C: ConnectionTrait>(
    db: &C,
    who: Option<i64>,
    before: Option<DateTime<Utc>>,
) -> AppResult<u64> {
    let mut q = check_event::Entity::update_many()
        .col_expr(
            check_event::Column::Latitude,
            Expr::value(Option::<f64>::None),
        )
        .col_expr(
            check_event::Column::Longitude,
            Expr::value(Option::<f64>::None),
        )
        .col_expr(
            check_event::Column::AccuracyMeters,
            Expr::value(Option::<f64>::None),
        )
        .filter(check_event::Column::Latitude.is_not_null());
    if let Some(who) = who {
        q = q.filter(check_event::Column::AccountId.eq(who));
    }
    if let Some(before) = before {
        q = q.filter(check_event::Column::OccurredAt.lt(before));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// Upkeep: drop check-in locations older than the retention period.
pub async fn expire_locations<C: ConnectionTrait>(db: &C, retention_days: u32) -> AppResult<u64> {
    forget_locations(
        db,
        None,
        Some(Utc::now() - Duration::days(i64::from(retention_days))),
    )
    .await
}
