//! GraphQL surface of accounts and sessions.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::account;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    domain::{DisplayName, Password, Phone, mask_phone},
    service::{self, Session},
};
use crate::{
    authz,
    checkins::{graphql::ServiceRecord, records},
    context::ContextExt,
    error::{AppError, AppResult, Noun},
    events::domain::EventCategory,
    ids::{self, NodeType},
    organizations::{graphql::Membership, service as org_service},
    pagination::{PageArgs, TimePageArgs, Total, connection},
    profiles::{graphql::VolunteerProfile, service as profiles},
    signups::{
        graphql::Signup,
        service::{self as signups, MySignupFilter, SignupStatus},
    },
};

/// A person who can log in. Every account may volunteer.
pub struct Account {
    model: account::Model,
    /// Whether the caller may see the full phone number, when already known (e.g. a list the
    /// caller administers); `None` means "check when asked".
    phone_visible: Option<bool>,
}

impl Account {
    /// Wrap a row; phone visibility is checked when the field is asked for.
    pub fn new(model: account::Model) -> Self {
        Self {
            model,
            phone_visible: None,
        }
    }

    /// Wrap a row whose phone visibility the caller already established.
    pub fn with_phone_visibility(model: account::Model, visible: bool) -> Self {
        Self {
            model,
            phone_visible: Some(visible),
        }
    }
}

/// A person who can log in. Every account may volunteer.
#[Object]
impl Account {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Account, self.model.id)
    }

    /// Name shown to others.
    async fn display_name(&self) -> &str {
        &self.model.display_name
    }

    /// Mobile number: whole for its owner and for administrators of an organization the person
    /// belongs to; masked (`138****1234`) for everyone else, and always for an API client.
    async fn phone(&self, ctx: &Context<'_>) -> Result<String> {
        let visible = match self.phone_visible {
            // Whatever the list that holds it decided, a third-party system never sees a
            // whole number.
            _ if crate::clients::confined_to().is_some() => false,
            Some(v) => v,
            None => match ctx.optional_account().await {
                Ok(Some(viewer)) => {
                    authz::check(
                        &ctx.state().db,
                        viewer,
                        authz::CheckKind::Phone,
                        self.model.id,
                    )
                    .await?
                }
                _ => false,
            },
        };
        Ok(if visible {
            self.model.phone.clone()
        } else {
            mask_phone(&self.model.phone)
        })
    }

    /// Whether this account administers the whole system. Visible to the account itself.
    async fn is_system_admin(&self, ctx: &Context<'_>) -> Result<bool> {
        let viewer = ctx.require_account().await?;
        if viewer.id != self.model.id && !viewer.is_system_admin {
            return Err(AppError::Forbidden(self_only()).into());
        }
        Ok(self.model.is_system_admin)
    }

    /// The organizations this account has a role in. Visible to the account itself and
    /// system administrators.
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let viewer = ctx.require_account().await?;
        if viewer.id != self.model.id && !viewer.is_system_admin {
            return Err(AppError::Forbidden(self_only()).into());
        }
        let rows = org_service::memberships_of(&ctx.state().db, self.model.id).await?;
        Ok(rows.into_iter().map(Membership::from).collect())
    }

    /// The volunteer profile. Visible to the account itself.
    async fn volunteer_profile(&self, ctx: &Context<'_>) -> Result<VolunteerProfile> {
        self.require_self(ctx).await?;
        Ok(VolunteerProfile(
            profiles::get_or_default(&ctx.state().db, self.model.id).await?,
        ))
    }

    /// The account's sign-ups, in the order they were made. Visible to the account itself.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn signups(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Which sign-ups.")] filter: Option<MySignupFilterInput>,
    ) -> Result<crate::pagination::Conn<Signup>> {
        let state = ctx.state();
        self.require_self(ctx).await?;
        let f = filter.unwrap_or_default();
        let filter = MySignupFilter {
            status: f.status,
            upcoming: f.upcoming,
        };
        if let Some(since) = f.updated_since {
            let page = TimePageArgs::new(first, after.as_deref(), &state.config)?;
            return Ok(crate::pagination::changed_since(
                &state.db,
                signups::of_account(self.model.id, filter),
                (
                    entity::signup::Column::UpdatedAt,
                    entity::signup::Column::Id,
                ),
                since,
                page,
                |s| (s.updated_at, s.id),
                Signup::from,
            )
            .await?);
        }
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = signups::list_for_account(&state.db, self.model.id, filter, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::of(&state.db, signups::of_account(self.model.id, filter)),
            |s| s.id,
            Signup::from,
        ))
    }

    /// The account's service records, oldest first. Visible to the account itself.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn service_records(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(
            desc = "Only records changed at or after this time (a review, a correction), oldest change first: what a phone asks to refresh its cache."
        )]
        updated_since: Option<DateTime<Utc>>,
    ) -> Result<crate::pagination::Conn<ServiceRecord>> {
        let state = ctx.state();
        self.require_self(ctx).await?;
        let mine = entity::service_record::Entity::find()
            .filter(entity::service_record::Column::AccountId.eq(self.model.id));
        if let Some(since) = updated_since {
            let page = TimePageArgs::new(first, after.as_deref(), &state.config)?;
            return Ok(crate::pagination::changed_since(
                &state.db,
                mine,
                (
                    entity::service_record::Column::UpdatedAt,
                    entity::service_record::Column::Id,
                ),
                since,
                page,
                |r| (r.updated_at, r.id),
                ServiceRecord,
            )
            .await?);
        }
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = crate::pagination::fetch_page(
            &state.db,
            mine.clone(),
            entity::service_record::Column::Id,
            page,
        )
        .await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::of(&state.db, mine),
            |r| r.id,
            ServiceRecord,
        ))
    }

    /// Help requests offered to the account, oldest first. Visible to the account itself.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn help_offers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only offers in this status.")] status: Option<
            crate::help::domain::OfferStatus,
        >,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<crate::help::graphql::HelpOffer>> {
        let state = ctx.state();
        self.require_self(ctx).await?;
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = crate::help::service::offers_of(&state.db, self.model.id, status, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::of(
                &state.db,
                crate::help::service::offered_to(self.model.id, status),
            ),
            |o| o.id,
            crate::help::graphql::HelpOffer,
        ))
    }

    /// The account's notifications, oldest first: sign-ups, promotions from the waitlist,
    /// cancellations, changed shifts, reminders, help offers, reviewed hours, certificates,
    /// lapsing wish claims, invitations. Visible to the account itself.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
        #[graphql(desc = "Only those not yet marked read (default false).")] unread_only: Option<
            bool,
        >,
    ) -> Result<crate::pagination::Conn<crate::notifications::graphql::Notification>> {
        self.require_self(ctx).await?;
        crate::notifications::graphql::of_account(
            ctx,
            self.model.id,
            first,
            after,
            unread_only.unwrap_or(false),
        )
        .await
    }

    /// Courses the account completed (培训记录), newest first. Visible to the account itself.
    async fn trainings(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::squads::graphql::TrainingRecord>> {
        self.require_self(ctx).await?;
        crate::squads::graphql::trainings_of(ctx, self.model.id).await
    }

    /// The squads (志愿分队) the account is an active member of. Visible to the account itself.
    async fn squads(&self, ctx: &Context<'_>) -> Result<Vec<crate::squads::graphql::Squad>> {
        self.require_self(ctx).await?;
        crate::squads::graphql::of_account(ctx, self.model.id).await
    }

    /// The account's notification settings: categories per channel, quiet hours,
    /// unsubscribe, WeChat consents. Visible to the account itself.
    async fn notification_settings(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::notifications::graphql::NotificationSettings> {
        self.require_self(ctx).await?;
        crate::notifications::graphql::settings_of(ctx, self.model.id).await
    }

    /// The account's time-bank balance and ledger. Visible to the account itself.
    async fn time_bank(&self, ctx: &Context<'_>) -> Result<crate::timebank::graphql::TimeBank> {
        self.require_self(ctx).await?;
        crate::timebank::graphql::time_bank_of(
            ctx,
            crate::timebank::service::Owner::Person(self.model.id),
        )
        .await
    }

    /// The account's open sessions (signed-in devices), most recently seen first. Visible to
    /// the account itself.
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<SessionView>> {
        self.require_self(ctx).await?;
        let current = ctx.viewer().session();
        Ok(service::sessions(&ctx.state().db, self.model.id)
            .await?
            .into_iter()
            .map(|info| SessionView {
                current: current == Some(info.id.as_str()),
                info,
            })
            .collect())
    }

    /// The account's real-name identity (ID number masked), if it gave one. Visible to the
    /// account itself.
    async fn identity(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::identity::graphql::Identity>> {
        self.require_self(ctx).await?;
        Ok(
            crate::identity::service::get(&ctx.state().db, self.model.id)
                .await?
                .map(crate::identity::graphql::Identity),
        )
    }

    /// Service certificates issued for the account, oldest first. Visible to the account
    /// itself.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn service_certificates(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<crate::certificates::graphql::ServiceCertificate>> {
        let state = ctx.state();
        self.require_self(ctx).await?;
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let mine = entity::service_certificate::Entity::find()
            .filter(entity::service_certificate::Column::AccountId.eq(self.model.id));
        let rows = crate::pagination::fetch_page(
            &state.db,
            mine.clone(),
            entity::service_certificate::Column::Id,
            page,
        )
        .await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::of(&state.db, mine),
            |c| c.id,
            |c| crate::certificates::graphql::ServiceCertificate::new(c, true),
        ))
    }

    /// Approved service in sum and by event category. Visible to the account itself.
    async fn service_summary(&self, ctx: &Context<'_>) -> Result<ServiceSummary> {
        self.require_self(ctx).await?;
        let s = records::summary(&ctx.state().db, self.model.id).await?;
        Ok(ServiceSummary {
            approved_minutes: s.approved_minutes,
            record_count: s.record_count,
            by_category: s
                .by_category
                .into_iter()
                .map(|(category, minutes)| CategoryMinutes { category, minutes })
                .collect(),
        })
    }

    /// The account's calendar feed: a secret address calendar apps subscribe to, listing the
    /// shifts the account signed up for. Visible to the account itself.
    async fn calendar_feed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<crate::calendar::graphql::CalendarFeed> {
        self.require_self(ctx).await?;
        crate::calendar::graphql::feed_of(ctx, self.model.id).await
    }

    /// When the account was registered.
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }
}

impl Account {
    async fn require_self(&self, ctx: &Context<'_>) -> Result<(), AppError> {
        let viewer = ctx.require_account().await?;
        if authz::is_self(viewer, self.model.id) {
            Ok(())
        } else {
            Err(AppError::Forbidden(self_only()))
        }
    }
}

/// Why another person's private fields are refused.
fn self_only() -> crate::i18n::Msg {
    msg!("visible to the account itself only", "仅本人可见")
}

/// Approved service in sum.
#[derive(SimpleObject)]
pub struct ServiceSummary {
    /// Approved minutes in all.
    approved_minutes: i64,
    /// Service records of any status.
    record_count: i64,
    /// Approved minutes by event category, largest first.
    by_category: Vec<CategoryMinutes>,
}

/// Approved minutes in one category.
#[derive(SimpleObject)]
pub struct CategoryMinutes {
    /// The category.
    category: EventCategory,
    /// Approved minutes.
    minutes: i64,
}

/// Filter of `me.signups`.
#[derive(InputObject, Default)]
pub struct MySignupFilterInput {
    /// Only this status.
    status: Option<SignupStatus>,
    /// `true`: only shifts that have not ended; `false`: only past ones.
    upcoming: Option<bool>,
    /// Only sign-ups changed at or after this time (cancelled ones included), oldest change
    /// first: what a phone asks to refresh its cache. Pass the largest `updatedAt` it has
    /// seen minus the server's request timeout (15 s unless configured: a change is stamped
    /// when its request starts and commits before it times out) and merge by `id`; leave
    /// `status` unset to see cancellations.
    updated_since: Option<DateTime<Utc>>,
}

/// A new session: tokens for the client to keep, and the account.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`.
    access_token: String,
    /// When the access token stops working; refresh before then.
    access_token_expires_at: DateTime<Utc>,
    /// Exchange for a new session with `refreshToken`; it works once.
    refresh_token: String,
    /// When the refresh token stops working.
    refresh_token_expires_at: DateTime<Utc>,
    /// Always `Bearer`.
    token_type: &'static str,
    /// The logged-in account.
    account: Account,
}

impl From<Session> for AuthPayload {
    fn from(s: Session) -> Self {
        Self {
            access_token: s.access_token,
            access_token_expires_at: s.access_token_expires_at,
            refresh_token: s.refresh_token,
            refresh_token_expires_at: s.refresh_token_expires_at,
            token_type: "Bearer",
            account: Account::with_phone_visibility(s.account, true),
        }
    }
}

/// Input of `register`.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Mainland mobile number, 11 digits starting with 1; `+86` allowed.
    phone: String,
    /// At least 8 characters.
    password: String,
    /// Name shown to others, 1–64 characters.
    display_name: String,
    /// The six-digit code sent to the phone (`requestPhoneCode(purpose: REGISTER)`).
    sms_code: String,
}

/// Input of `changePhone`.
#[derive(InputObject)]
pub struct ChangePhoneInput {
    /// The new number.
    new_phone: String,
    /// The six-digit code sent to it (`requestPhoneCode(purpose: CHANGE_PHONE)`).
    sms_code: String,
    /// The account's current password.
    password: String,
}

/// Input of `resetPassword`.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The account's phone number.
    phone: String,
    /// The six-digit code sent to it (`requestPasswordReset`).
    sms_code: String,
    /// The new password, at least 8 characters.
    new_password: String,
}

/// A one-time code on its way.
#[derive(SimpleObject)]
pub struct PhoneCodeSent {
    /// When the code stops working (5 minutes).
    expires_at: DateTime<Utc>,
    /// When another code may be asked for.
    resend_after: DateTime<Utc>,
}

impl From<super::codes::Sent> for PhoneCodeSent {
    fn from(s: super::codes::Sent) -> Self {
        Self {
            expires_at: s.expires_at,
            resend_after: s.resend_after,
        }
    }
}

/// Input of `login`.
#[derive(InputObject)]
pub struct LoginInput {
    /// The phone number registered with.
    phone: String,
    /// The password.
    password: String,
    /// A code from `requestPhoneCode(purpose: LOGIN)`. Needed only when failed attempts on
    /// the number from elsewhere have spent its hourly budget (`RATE_LIMITED` with
    /// `extensions.smsCodeAccepted`); a wrong code is `BAD_USER_INPUT` on `input.smsCode`.
    sms_code: Option<String>,
}

/// Account queries.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The calling account; `null` without credentials, `UNAUTHENTICATED` with bad ones.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<Account>> {
        let viewer = ctx.optional_account().await?;
        Ok(viewer.map(|a| Account::with_phone_visibility(a.clone(), true)))
    }
}

/// Account mutations.
#[derive(Default)]
pub struct AccountMutation;

/// One access to personal data.
#[derive(async_graphql::SimpleObject)]
pub struct AuditEntry {
    /// Who (account ID).
    actor_id: ID,
    /// What, e.g. `EXPORT_SERVICE_RECORDS`, `NEARBY_VOLUNTEERS`, `READ_HELP_DETAILS`.
    action: String,
    /// Whose data (account ID), when one person's.
    subject_account_id: Option<ID>,
    /// Which object or period.
    detail: String,
    /// When.
    at: chrono::DateTime<chrono::Utc>,
}

impl From<entity::audit_log::Model> for AuditEntry {
    fn from(m: entity::audit_log::Model) -> Self {
        Self {
            actor_id: ids::encode(NodeType::Account, m.actor_id),
            action: m.action,
            subject_account_id: m
                .subject_account_id
                .map(|a| ids::encode(NodeType::Account, a)),
            detail: m.detail,
            at: m.at,
        }
    }
}

/// Personal-data rights and the audit of staff access.
#[derive(Default)]
pub struct PrivacyQuery;

#[Object]
impl PrivacyQuery {
    /// Everything the service holds about you, as one JSON document (PIPL): account, volunteer
    /// profile, identity (masked), memberships, sign-ups, check-ins with their locations,
    /// service records and who changed them, time-coin ledger and transfers, donations, help
    /// offers, requests taken and your steps on them, micro-wish claims, certificates,
    /// sessions, and who on staff read or exported data about you.
    async fn export_my_data(
        &self,
        ctx: &Context<'_>,
    ) -> Result<async_graphql::Json<serde_json::Value>> {
        let viewer = ctx.require_account().await?;
        if crate::clients::confined_to().is_some() {
            return Err(AppError::Forbidden(msg!(
                "a person exports their own data",
                "只能由本人导出个人数据"
            ))
            .into());
        }
        let db = &ctx.state().db;
        let data = crate::privacy::export(db, viewer.id).await?;
        crate::privacy::audit(
            db,
            viewer.id,
            "EXPORT_MY_DATA",
            None,
            Some(viewer.id),
            "by the person",
        )
        .await?;
        Ok(async_graphql::Json(data))
    }

    /// Who read or exported personal data of this organization and those below it, and who
    /// recorded offline gifts (`donation.offline`), oldest first: its administrators only.
    #[graphql(complexity = "crate::pagination::page_cost(first, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organization.")] organization_id: ID,
        #[graphql(desc = "Page size (default 20, at most the configured maximum).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Cursor of the last edge of the previous page.")] after: Option<String>,
    ) -> Result<crate::pagination::Conn<AuditEntry>> {
        let viewer = ctx.require_account().await?;
        let state = ctx.state();
        let org = ids::decode(NodeType::Organization, &organization_id, "organizationId")?;
        let page = PageArgs::new(first, after.as_deref(), &state.config)?;
        let rows = crate::privacy::audit_log_of(&state.db, viewer, org, page).await?;
        Ok(connection(
            rows,
            page.after.is_some(),
            Total::of(&state.db, crate::privacy::audit_log_within(org)),
            |e| e.id,
            AuditEntry::from,
        ))
    }
}

#[Object]
impl AccountMutation {
    /// Delete your account (PIPL): your phone, names, identity, home, skills, check-in
    /// locations, donor names and sessions are erased; service records, time-coin entries and
    /// donations stay, tied to a pseudonymous account, so ledgers and statistics stay whole.
    /// Needs your password. You cannot log in afterwards.
    async fn delete_my_account(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your current password.")] password: String,
    ) -> Result<bool> {
        let viewer = ctx.require_account().await?;
        if crate::clients::confined_to().is_some() {
            return Err(AppError::Forbidden(msg!(
                "a person deletes their own account",
                "只能由本人注销账号"
            ))
            .into());
        }
        let addr = ctx.viewer().client_addr;
        crate::privacy::delete_account(ctx.state(), viewer, password, addr).await?;
        Ok(true)
    }

    /// Send a six-digit code by SMS to prove a phone number: for `REGISTER` (anyone),
    /// `CHANGE_PHONE` (signed in), or `LOGIN` (a number's own account, when its password
    /// logins are throttled). It works for 5 minutes and 5 tries; asking again replaces
    /// it. One a minute and five an hour per number, twenty an hour per address
    /// (`RATE_LIMITED`). The answer is the same whether or not the number is registered.
    async fn request_phone_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The phone number.")] phone: String,
        #[graphql(desc = "What the code will prove.")] purpose: entity::phone_code::CodePurpose,
    ) -> Result<PhoneCodeSent> {
        use entity::phone_code::CodePurpose;
        let phone = Phone::parse(&phone, "phone")?;
        let state = ctx.state();
        let registered = service::phone_registered(&state.db, &phone).await?;
        let deliver = match purpose {
            // A registered number needs no registration code.
            CodePurpose::Register => !registered,
            CodePurpose::ResetPassword | CodePurpose::Login => registered,
            CodePurpose::ChangePhone => {
                ctx.require_account().await?;
                !registered
            }
        };
        let addr = ctx.viewer().client_addr;
        // Boxed, like every call below that reaches the SMS provider or hashes a password: the
        // futures are large, and the mutation root's future holds the largest of its fields.
        Ok(
            Box::pin(super::codes::send(state, &phone, purpose, addr, deliver))
                .await?
                .into(),
        )
    }

    /// Send a code for `resetPassword` to the number's account (the answer is the same for
    /// numbers nobody registered). Limits as `requestPhoneCode`.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account's phone number.")] phone: String,
    ) -> Result<PhoneCodeSent> {
        let phone = Phone::parse(&phone, "phone")?;
        let state = ctx.state();
        let registered = service::phone_registered(&state.db, &phone).await?;
        let addr = ctx.viewer().client_addr;
        Ok(Box::pin(super::codes::send(
            state,
            &phone,
            entity::phone_code::CodePurpose::ResetPassword,
            addr,
            registered,
        ))
        .await?
        .into())
    }

    /// Move the caller's account to a new phone number, proven by the code
    /// `requestPhoneCode(purpose: CHANGE_PHONE)` sent to it, with the current password. A
    /// number another account holds is a `CONFLICT`; a wrong code is `BAD_USER_INPUT` on
    /// `input.smsCode`, a wrong password on `input.password`.
    async fn change_phone(&self, ctx: &Context<'_>, input: ChangePhoneInput) -> Result<Account> {
        let viewer = ctx.require_account().await?;
        let phone = Phone::parse(&input.new_phone, "input.newPhone")?;
        let password = Password::parse(&input.password, "input.password").map_err(|_| {
            AppError::bad_input("input.password", msg!("the password is wrong", "密码错误"))
        })?;
        let updated = Box::pin(service::change_phone(
            ctx.state(),
            viewer,
            phone,
            &input.sms_code,
            password,
        ))
        .await?;
        Ok(Account::with_phone_visibility(updated, true))
    }

    /// Set a new password with the code `requestPasswordReset` sent; every session of the
    /// account ends (sign in again). A wrong, expired or used code is `BAD_USER_INPUT` on
    /// `input.smsCode`.
    async fn reset_password(&self, ctx: &Context<'_>, input: ResetPasswordInput) -> Result<bool> {
        let phone = Phone::parse(&input.phone, "input.phone")?;
        let password = Password::parse(&input.new_password, "input.newPassword")?;
        Box::pin(service::reset_password(
            ctx.state(),
            phone,
            &input.sms_code,
            password,
        ))
        .await?;
        Ok(true)
    }

    /// Create an account and log in. The phone must be proven by the code
    /// `requestPhoneCode(purpose: REGISTER)` sent to it (`BAD_USER_INPUT` on `input.smsCode`).
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<AuthPayload> {
        let phone = Phone::parse(&input.phone, "input.phone")?;
        let password = Password::parse(&input.password, "input.password")?;
        let name = DisplayName::parse(&input.display_name, "input.displayName")?;
        let viewer = ctx.viewer();
        Ok(Box::pin(service::register(
            ctx.state(),
            phone,
            &input.sms_code,
            password,
            name,
            viewer.client_addr,
            viewer.device.as_deref(),
        ))
        .await?
        .into())
    }

    /// Log in with phone and password. Failed attempts are throttled (`RATE_LIMITED`): per
    /// number from one address, per address, and per number from everywhere — past the last,
    /// the login needs `smsCode` too, so guessing cannot lock the owner out.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<AuthPayload> {
        let phone = Phone::parse(&input.phone, "input.phone")?;
        // A wrong-length password cannot be right; skip the rule's message to leak nothing.
        let password = Password::parse(&input.password, "input.password")
            .map_err(|_| AppError::Unauthenticated(service::bad_credentials()))?;
        let viewer = ctx.viewer();
        Ok(Box::pin(service::login(
            ctx.state(),
            phone,
            password,
            input.sms_code.as_deref(),
            viewer.client_addr,
            viewer.device.as_deref(),
        ))
        .await?
        .into())
    }

    /// Exchange a refresh token for a new session. Each refresh token works once; using one
    /// twice ends the session everywhere.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token of the current session.")] refresh_token: String,
    ) -> Result<AuthPayload> {
        Ok(service::refresh(ctx.state(), &refresh_token).await?.into())
    }

    /// End the session a refresh token belongs to. Always `true`.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token of the session to end.")] refresh_token: String,
    ) -> Result<bool> {
        service::logout(ctx.state(), &refresh_token).await?;
        Ok(true)
    }

    /// Change your password, proven by the current one (wrong: `BAD_USER_INPUT` on
    /// `input.currentPassword`, throttled like login). Every other session ends at once, and
    /// its live connections close; this one stays.
    async fn change_password(&self, ctx: &Context<'_>, input: ChangePasswordInput) -> Result<bool> {
        let viewer = ctx.require_account().await?;
        let current =
            Password::parse(&input.current_password, "input.currentPassword").map_err(|_| {
                AppError::bad_input(
                    "input.currentPassword",
                    msg!("the current password is wrong", "当前密码错误"),
                )
            })?;
        let new = Password::parse(&input.new_password, "input.newPassword")?;
        let caller = ctx.viewer();
        Box::pin(service::change_password(
            ctx.state(),
            viewer,
            caller.session(),
            current,
            new,
            caller.client_addr,
        ))
        .await?;
        Ok(true)
    }

    /// End every session of your account, this one included, and close its live connections.
    /// Returns how many sessions ended.
    async fn logout_everywhere(&self, ctx: &Context<'_>) -> Result<i32> {
        let viewer = ctx.require_account().await?;
        let n = service::logout_everywhere(&ctx.state().db, viewer).await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// End one of your sessions (from `me { sessions }`), e.g. a lost phone's; its live
    /// connections close. `NOT_FOUND` for a session that is not yours or is already over.
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session's ID.")] id: String,
    ) -> Result<bool> {
        let viewer = ctx.require_account().await?;
        service::revoke_session(&ctx.state().db, viewer, &id).await?;
        Ok(true)
    }
}

/// Input of `changePassword`.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    /// The password now.
    current_password: String,
    /// The new password (8–128 characters).
    new_password: String,
}

/// One signed-in device of an account.
pub struct SessionView {
    info: service::SessionInfo,
    current: bool,
}

/// One signed-in device of an account: a login, kept alive by refreshing.
#[Object(name = "Session")]
impl SessionView {
    /// The session's ID (for `revokeSession`).
    async fn id(&self) -> &str {
        &self.info.id
    }

    /// The device it was started from (its `User-Agent`), if known.
    async fn device(&self) -> Option<&str> {
        self.info.device.as_deref()
    }

    /// When it last logged in or refreshed its tokens.
    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.info.last_seen_at
    }

    /// When it ends unless it refreshes.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.info.expires_at
    }

    /// Whether it is the session making this request.
    async fn current(&self) -> bool {
        self.current
    }
}

/// The account with key `id`, batched with the other accounts the request asks for at the
/// same time; its phone shows as [`Account::new`] decides.
pub async fn by_id(ctx: &Context<'_>, id: i64) -> AppResult<Option<Account>> {
    Ok(crate::batch::load(
        &ctx.state().db,
        id,
        crate::batch::ById::<entity::account::Entity>::new,
    )
    .await?
    .map(Account::new))
}

/// [`by_id`] for a key a row refers to: `NOT_FOUND` if it is gone.
pub async fn required(ctx: &Context<'_>, id: i64) -> Result<Account> {
    by_id(ctx, id)
        .await?
        .ok_or_else(|| AppError::NotFound(Noun::Account).into())
}
