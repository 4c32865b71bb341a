//! The one error type of the API. Every failure a client can see maps to a fixed
//! `extensions.code`; internal failures are logged with their cause and answered generically.

use std::borrow::Cow;

use async_graphql::{ErrorExtensionValues, ServerError};
use sea_orm::{DbErr, SqlErr};

use crate::i18n::{Lang, Msg};

/// The message of a failure that is not the client's (its cause is logged, never sent).
fn internal_message() -> Msg {
    msg!("internal error", "服务器内部错误，请稍后重试")
}

/// Result of a service call.
pub type AppResult<T> = Result<T, AppError>;

/// Everything that can go wrong in a request, as the client should learn it. Messages exist in
/// Chinese and English ([`Msg`], [`Noun`]); [`AppError::message`] gives one, `Display` the
/// English one (for logs).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid credentials were presented.
    Unauthenticated(Msg),
    /// The caller is known but may not do this.
    Forbidden(Msg),
    /// The object does not exist, or the caller may not know it exists.
    NotFound(Noun),
    /// An input value is invalid; `field` names it as the client sent it.
    BadUserInput {
        /// Input field path, e.g. `input.phone`.
        field: String,
        /// What is wrong with it.
        message: Msg,
    },
    /// The request conflicts with the current state (e.g. a duplicate).
    Conflict(Msg),
    /// The shift has no room and keeps no waitlist.
    ShiftFull,
    /// The volunteer already holds an active sign-up for this shift.
    AlreadySignedUp,
    /// A charity fund's balance does not cover the disbursement.
    InsufficientFunds,
    /// The idempotency key was used before with different arguments.
    IdempotencyConflict,
    /// The volunteer lacks skills the shift requires (`FORBIDDEN`, with the list).
    MissingSkills(Vec<String>),
    /// The action needs a real-name identity the person has not given (`setMyIdentity`).
    IdentityRequired(Msg),
    /// Too many attempts; the client should wait `retry_after_secs`.
    RateLimited {
        /// Seconds until another attempt can succeed.
        retry_after_secs: u64,
        /// Which limit refused (`account`, `address`, `login`, `registration`, `identity`),
        /// for the metrics.
        limit: &'static str,
    },
    /// The HTTP request itself is malformed (wrong media type, a body that is not a GraphQL
    /// request, a batch too large, a mutation sent with GET, a missing WebSocket subprotocol).
    BadRequest(Msg),
    /// The request ran longer than the configured limit and was stopped (its transaction
    /// rolled back); the same request may be sent again.
    Timeout,
    /// The database cannot be reached, or stayed busy through every retry: nothing was
    /// changed, and the same request may be sent again shortly (`SERVICE_UNAVAILABLE`).
    ServiceUnavailable(#[source] DbErr),
    /// A provider the request needs (the SMS gateway) failed or did not answer; nothing was
    /// changed and the request may be sent again shortly (`SERVICE_UNAVAILABLE`). The cause
    /// was logged where it happened.
    ProviderUnavailable(Msg),
    /// A failure that is not the client's: its cause is logged, never returned.
    Internal(#[source] anyhow::Error),
}

/// What a `NOT_FOUND` names: each has its own message in both languages, so the Chinese reads
/// as a sentence ("找不到该班次"), not a word put into a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Noun {
    Account,
    /// An account looked up by phone number (an invitation, a transfer).
    AccountByPhone,
    ApiClient,
    /// A calendar feed (a rotated, forged or deleted account's address).
    CalendarFeed,
    Campaign,
    Certificate,
    CharityFund,
    Donation,
    Event,
    HelpRequest,
    Invitation,
    KioskCredential,
    MicroWish,
    Organization,
    ServiceRecord,
    Session,
    Shift,
    Signup,
    /// A volunteer squad.
    Squad,
    /// A social worker's assignment to a station.
    StaffAssignment,
    /// A service project.
    ServiceProject,
    /// A service project's deliverable.
    Deliverable,
    /// An entry of a station's service list.
    StationService,
    /// An entry of a community's needs list.
    CommunityNeed,
    /// An entry of a community's resources list.
    CommunityResource,
    /// A person on the register of people served (or one of their consents).
    CareRecipient,
    /// A running care plan.
    CarePlan,
    /// A topic residents deliberate.
    Topic,
}

impl Noun {
    /// The message of a `NOT_FOUND` about it.
    pub fn not_found(self) -> Msg {
        match self {
            Noun::Account => msg!("account not found", "找不到该账号"),
            Noun::AccountByPhone => msg!(
                "account with this phone number not found",
                "该手机号尚未注册"
            ),
            Noun::ApiClient => msg!("API client not found", "找不到该 API 客户端"),
            Noun::CalendarFeed => msg!("calendar not found", "找不到该日历"),
            Noun::Campaign => msg!("campaign not found", "找不到该主题活动"),
            Noun::Certificate => msg!("certificate not found", "找不到该服务证明"),
            Noun::CharityFund => msg!("charity fund not found", "找不到该慈善基金"),
            Noun::Donation => msg!("donation not found", "找不到该捐赠记录"),
            Noun::Event => msg!("event not found", "找不到该公益活动"),
            Noun::HelpRequest => msg!("help request not found", "找不到该求助"),
            Noun::Invitation => msg!("invitation not found", "找不到该邀请"),
            Noun::KioskCredential => msg!("kiosk credential not found", "找不到该签到屏密钥"),
            Noun::MicroWish => msg!("micro-wish not found", "找不到该微心愿"),
            Noun::Organization => msg!("organization not found", "找不到该组织"),
            Noun::ServiceRecord => msg!("service record not found", "找不到该服务记录"),
            Noun::Session => msg!("session not found", "找不到该登录会话"),
            Noun::Shift => msg!("shift not found", "找不到该班次"),
            Noun::Signup => msg!("signup not found", "找不到该报名记录"),
            Noun::StaffAssignment => msg!("staff assignment not found", "找不到该社工派驻记录"),
            Noun::Squad => msg!("squad not found", "找不到该志愿分队"),
            Noun::ServiceProject => msg!("service project not found", "找不到该服务项目"),
            Noun::Deliverable => msg!("deliverable not found", "找不到该项目产出"),
            Noun::StationService => msg!("service not found", "找不到该服务项目清单条目"),
            Noun::CommunityNeed => msg!("need not found", "找不到该需求"),
            Noun::CommunityResource => msg!("resource not found", "找不到该资源"),
            Noun::CareRecipient => msg!("record not found", "找不到该服务对象档案"),
            Noun::CarePlan => msg!("no care plan is running", "没有执行中的关爱计划"),
            Noun::Topic => msg!("topic not found", "找不到该议题"),
        }
    }
}

impl std::fmt::Display for AppError {
    /// The English message, for logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Lang::En))
    }
}

/// One language's text of a message.
fn text(m: Msg, lang: Lang) -> Cow<'static, str> {
    m.into_text(lang)
}

impl AppError {
    /// An invalid input field.
    pub fn bad_input(field: impl Into<String>, message: Msg) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message,
        }
    }

    /// The message a client may see, in `lang`. An internal failure's is generic: its cause
    /// is logged instead ([`AppError::log`]).
    pub fn message(&self, lang: Lang) -> Cow<'_, str> {
        match self {
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::BadUserInput { message: m, .. }
            | Self::Conflict(m)
            | Self::IdentityRequired(m)
            | Self::BadRequest(m)
            | Self::ProviderUnavailable(m) => Cow::Borrowed(m.get(lang)),
            Self::NotFound(noun) => text(noun.not_found(), lang),
            Self::ShiftFull => text(msg!("the shift is full", "该班次已满"), lang),
            Self::AlreadySignedUp => text(
                msg!("you are already signed up for this shift", "你已报名该班次"),
                lang,
            ),
            Self::InsufficientFunds => text(
                msg!(
                    "the fund's balance does not cover this amount",
                    "基金余额不足，无法支出该金额"
                ),
                lang,
            ),
            Self::IdempotencyConflict => text(
                msg!(
                    "this idempotency key was used for a different request",
                    "该幂等键已用于另一个请求"
                ),
                lang,
            ),
            Self::MissingSkills(skills) => {
                let (en, zh) = (skills.join(", "), skills.join("、"));
                text(
                    msg!(
                        "missing required skills: {en}",
                        "缺少该班次要求的技能：{zh}"
                    ),
                    lang,
                )
            }
            Self::RateLimited {
                retry_after_secs, ..
            } => text(
                msg!(
                    "too many attempts, retry in {retry_after_secs} s",
                    "操作过于频繁，请 {retry_after_secs} 秒后再试"
                ),
                lang,
            ),
            Self::Timeout => text(
                msg!(
                    "the request took too long and was stopped; try again",
                    "请求处理超时，已中止，请重试"
                ),
                lang,
            ),
            Self::ServiceUnavailable(_) => text(
                msg!(
                    "the service is briefly unavailable; retry shortly",
                    "服务暂时不可用，请稍后重试"
                ),
                lang,
            ),
            Self::Internal(_) => text(internal_message(), lang),
        }
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::ShiftFull => "SHIFT_FULL",
            Self::AlreadySignedUp => "ALREADY_SIGNED_UP",
            Self::IdempotencyConflict => "IDEMPOTENCY_CONFLICT",
            Self::InsufficientFunds => "INSUFFICIENT_FUNDS",
            Self::MissingSkills(_) => "FORBIDDEN",
            Self::IdentityRequired(_) => "IDENTITY_REQUIRED",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::Timeout => "TIMEOUT",
            Self::ServiceUnavailable(_) | Self::ProviderUnavailable(_) => "SERVICE_UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// Log what the client is not told: an internal failure's cause as its chain of messages
    /// (`{:#}`), never `Debug` — a database error's debug form carries the row that failed
    /// (`detail`), which can hold personal data. `context` says what was being done.
    pub fn log(&self, context: &str) {
        match self {
            Self::Internal(cause) => {
                tracing::error!(error = %format_args!("{cause:#}"), context, "internal error");
            }
            Self::ServiceUnavailable(cause) => {
                tracing::warn!(error = %cause, context, "database unavailable");
            }
            _ => {}
        }
    }

    /// Map a unique-constraint violation to `conflict`; any other database error is internal.
    /// The one place where constraint names become user-facing errors.
    pub fn from_db_unique(err: DbErr, conflict: impl FnOnce() -> AppError) -> Self {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => conflict(),
            _ => Self::from(err),
        }
    }
}

impl From<DbErr> for AppError {
    fn from(err: DbErr) -> Self {
        if db_unavailable(&err) || db_transient(&err) {
            Self::ServiceUnavailable(err)
        } else {
            Self::Internal(anyhow::Error::new(err))
        }
    }
}

/// The sqlx error inside a sea-orm error, if there is one.
fn sqlx_error(err: &DbErr) -> Option<&sea_orm::sqlx::Error> {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => Some(e),
        _ => None,
    }
}

/// The database's own error code (PostgreSQL SQLSTATE, SQLite extended result code).
fn db_code(err: &DbErr) -> Option<String> {
    match sqlx_error(err)? {
        sea_orm::sqlx::Error::Database(e) => e.code().map(|c| c.into_owned()),
        _ => None,
    }
}

/// Whether `err` means the database cannot be reached right now: no connection could be had,
/// the connection broke, or the server is shutting down or not yet accepting. Retrying later
/// is right; nothing was committed by the failed statement.
pub fn db_unavailable(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as S;
    if matches!(err, DbErr::ConnectionAcquire(_)) {
        return true;
    }
    match sqlx_error(err) {
        Some(S::Io(_) | S::PoolTimedOut | S::PoolClosed | S::WorkerCrashed | S::Tls(_)) => true,
        Some(S::Database(_)) => db_code(err).is_some_and(|c| {
            // 08: connection exception; 57P01–03: admin shutdown, crash shutdown, cannot
            // connect now; 53300: too many connections.
            c.starts_with("08") || ["57P01", "57P02", "57P03", "53300"].contains(&c.as_str())
        }),
        _ => false,
    }
}

/// Whether `err` is a transient conflict a transaction may simply be run again for: a
/// PostgreSQL serialization failure (40001) or deadlock (40P01), or SQLite busy/locked
/// (5, 6, 517, 261).
pub fn db_transient(err: &DbErr) -> bool {
    db_code(err).is_some_and(|c| ["40001", "40P01", "5", "6", "261", "517"].contains(&c.as_str()))
}

impl From<anyhow::Error> for AppError {
    fn from(err: anyhow::Error) -> Self {
        Self::Internal(err)
    }
}

fn set_code(ext: &mut Option<ErrorExtensionValues>, code: &str) {
    ext.get_or_insert_with(Default::default).set("code", code);
}

/// Give every error of a response its `extensions.code`, log internal causes and strip their
/// details, and write every message we wrote in `lang`. Errors raised by resolvers carry an
/// [`AppError`] as their source (async-graphql keeps it when `?` converts); errors refused
/// before execution carry a [`Msg`] ([`crate::i18n::coded_error`]); errors async-graphql raises
/// itself while coercing arguments (they have no source) are the client's input and become
/// `BAD_USER_INPUT`, their message left as async-graphql wrote it (English, for the client's
/// developers); anything else is `INTERNAL`. Running it again (the schema's hooks finalize, then
/// the HTTP handler) changes nothing and logs nothing twice.
pub fn finalize_errors(errors: &mut [ServerError], lang: Lang) {
    for err in errors {
        let source = err.source.clone();
        let app = source.as_deref().and_then(|s| s.downcast_ref::<AppError>());
        if let Some(app) = app {
            err.message = app.message(lang).into_owned();
        } else if let Some(m) = source.as_deref().and_then(|s| s.downcast_ref::<Msg>()) {
            err.message = m.get(lang).to_owned();
        }
        if err
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some())
        {
            continue;
        }
        if let Some(app) = app {
            let mut ext = err.extensions.take();
            set_code(&mut ext, app.code());
            match app {
                AppError::BadUserInput { field, .. } => {
                    if let Some(e) = ext.as_mut() {
                        e.set("field", field.as_str());
                    }
                }
                AppError::RateLimited {
                    retry_after_secs,
                    limit,
                } => {
                    if let Some(e) = ext.as_mut() {
                        e.set("retryAfter", *retry_after_secs);
                        if *limit == crate::auth::rate_limit::PHONE_WIDE {
                            // A login with a code sent to the number is not held back.
                            e.set("smsCodeAccepted", true);
                        }
                    }
                }
                AppError::MissingSkills(skills) => {
                    if let Some(e) = ext.as_mut() {
                        e.set("missingSkills", skills.clone());
                    }
                }
                AppError::Internal(cause) => {
                    // The chain of messages, not `Debug`: a database error's debug form carries
                    // the row that failed (`detail`), which can hold personal data.
                    tracing::error!(error = %format_args!("{cause:#}"), path = ?err.path, "internal error");
                }
                AppError::ServiceUnavailable(cause) => {
                    tracing::warn!(error = %cause, path = ?err.path, "database unavailable");
                }
                _ => {}
            }
            err.extensions = ext;
        } else if let Some(db) = err.source::<DbErr>() {
            if db_unavailable(db) || db_transient(db) {
                tracing::warn!(error = %db, path = ?err.path, "database unavailable");
                err.message = AppError::ServiceUnavailable(DbErr::Custom(String::new()))
                    .message(lang)
                    .into_owned();
                set_code(&mut err.extensions, "SERVICE_UNAVAILABLE");
                continue;
            }
            tracing::error!(error = %db, path = ?err.path, "unmapped database error");
            err.message = internal_message().into_text(lang).into_owned();
            set_code(&mut err.extensions, "INTERNAL");
        } else if err.source.is_some() {
            // Some other error type reached a resolver's `?`: not the client's fault.
            tracing::error!(message = %err.message, path = ?err.path, "unmapped resolver error");
            err.message = internal_message().into_text(lang).into_owned();
            set_code(&mut err.extensions, "INTERNAL");
        } else {
            // Raised by async-graphql itself while coercing the client's arguments.
            set_code(&mut err.extensions, "BAD_USER_INPUT");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(e: AppError) -> ServerError {
        let gql: async_graphql::Error = e.into();
        gql.into_server_error(async_graphql::Pos::default())
    }

    #[test]
    fn app_errors_get_their_code_and_field() {
        let mut errors = vec![server_error(AppError::bad_input(
            "input.phone",
            msg!("bad", "不对"),
        ))];
        finalize_errors(&mut errors, Lang::Zh);
        let ext = errors[0].extensions.as_ref().unwrap();
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("input.phone"))
        );
        assert_eq!(errors[0].message, "不对");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        for (lang, generic) in [
            (Lang::En, "internal error"),
            (Lang::Zh, "服务器内部错误，请稍后重试"),
        ] {
            let mut errors = vec![server_error(AppError::Internal(anyhow::anyhow!(
                "SELECT secret FROM x failed"
            )))];
            finalize_errors(&mut errors, lang);
            assert_eq!(errors[0].message, generic);
            assert_eq!(
                errors[0].extensions.as_ref().unwrap().get("code"),
                Some(&async_graphql::Value::from("INTERNAL"))
            );
        }
    }

    #[test]
    fn finalizing_again_in_the_same_language_changes_nothing() {
        let mut errors = vec![server_error(AppError::ShiftFull)];
        finalize_errors(&mut errors, Lang::Zh);
        let once = errors[0].clone();
        finalize_errors(&mut errors, Lang::Zh);
        assert_eq!(errors[0], once);
        assert_eq!(errors[0].message, "该班次已满");
    }

    #[test]
    fn messages_refused_before_execution_are_written_in_the_language() {
        let mut errors = vec![crate::i18n::coded_error(
            msg!("too deep", "嵌套过深"),
            "BAD_USER_INPUT",
        )];
        assert_eq!(errors[0].message, "too deep");
        finalize_errors(&mut errors, Lang::Zh);
        assert_eq!(errors[0].message, "嵌套过深");
        finalize_errors(&mut errors, Lang::En);
        assert_eq!(errors[0].message, "too deep");
        assert_eq!(
            errors[0].extensions.as_ref().unwrap().get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
    }

    /// Every kind of error has a Chinese message and an English one. The match has no `_`
    /// arm: a new variant does not compile until it is listed here, with a sample below.
    #[test]
    fn every_error_has_a_chinese_and_an_english_message() {
        const VARIANTS: usize = 17;
        let variant = |e: &AppError| match e {
            AppError::Unauthenticated(_) => 0,
            AppError::Forbidden(_) => 1,
            AppError::NotFound(_) => 2,
            AppError::BadUserInput { .. } => 3,
            AppError::Conflict(_) => 4,
            AppError::ShiftFull => 5,
            AppError::AlreadySignedUp => 6,
            AppError::InsufficientFunds => 7,
            AppError::IdempotencyConflict => 8,
            AppError::MissingSkills(_) => 9,
            AppError::IdentityRequired(_) => 10,
            AppError::RateLimited { .. } => 11,
            AppError::BadRequest(_) => 12,
            AppError::Timeout => 13,
            AppError::ServiceUnavailable(_) => 14,
            AppError::ProviderUnavailable(_) => 15,
            AppError::Internal(_) => 16,
        };
        let noun = |n: Noun| match n {
            Noun::Account
            | Noun::AccountByPhone
            | Noun::ApiClient
            | Noun::CalendarFeed
            | Noun::Campaign
            | Noun::Certificate
            | Noun::CharityFund
            | Noun::Donation
            | Noun::Event
            | Noun::HelpRequest
            | Noun::Invitation
            | Noun::KioskCredential
            | Noun::MicroWish
            | Noun::Organization
            | Noun::ServiceRecord
            | Noun::Session
            | Noun::Shift
            | Noun::Signup
            | Noun::Squad
            | Noun::StaffAssignment
            | Noun::ServiceProject
            | Noun::Deliverable
            | Noun::StationService
            | Noun::CommunityNeed
            | Noun::CommunityResource
            | Noun::CareRecipient
            | Noun::CarePlan
            | Noun::Topic => AppError::NotFound(n),
        };
        let mut samples = vec![
            AppError::Unauthenticated(msg!("sign in", "请先登录")),
            AppError::Forbidden(msg!("not yours", "无权操作")),
            AppError::bad_input(
                "input.phone",
                msg!("not a phone number", "手机号格式不正确"),
            ),
            AppError::Conflict(msg!("taken", "已被占用")),
            AppError::ShiftFull,
            AppError::AlreadySignedUp,
            AppError::InsufficientFunds,
            AppError::IdempotencyConflict,
            AppError::MissingSkills(vec!["first aid".into(), "driving".into()]),
            AppError::IdentityRequired(msg!("identity first", "请先完成实名认证")),
            AppError::RateLimited {
                retry_after_secs: 30,
                limit: "login",
            },
            AppError::BadRequest(msg!("not JSON", "请求不是 JSON")),
            AppError::Timeout,
            AppError::ServiceUnavailable(DbErr::Custom("down".into())),
            AppError::ProviderUnavailable(msg!("SMS down", "短信服务暂不可用")),
            AppError::Internal(anyhow::anyhow!("boom")),
        ];
        samples.extend(
            [
                Noun::Account,
                Noun::AccountByPhone,
                Noun::ApiClient,
                Noun::CalendarFeed,
                Noun::Campaign,
                Noun::Certificate,
                Noun::CharityFund,
                Noun::Donation,
                Noun::Event,
                Noun::HelpRequest,
                Noun::Invitation,
                Noun::KioskCredential,
                Noun::MicroWish,
                Noun::Organization,
                Noun::ServiceRecord,
                Noun::Session,
                Noun::Shift,
                Noun::Signup,
            ]
            .map(noun),
        );
        let mut seen = [false; VARIANTS];
        for e in &samples {
            seen[variant(e)] = true;
            let (zh, en) = (e.message(Lang::Zh), e.message(Lang::En));
            assert!(crate::i18n::has_cjk(&zh), "{}: {zh:?}", e.code());
            assert!(!crate::i18n::has_cjk(&en), "{}: {en:?}", e.code());
            assert_ne!(zh, en);
            assert_eq!(e.to_string(), en, "Display is English");
        }
        assert!(
            seen.iter().all(|s| *s),
            "a variant without a sample: {seen:?}"
        );
    }

    #[test]
    fn not_found_messages_are_sentences_of_their_own() {
        assert_eq!(
            AppError::NotFound(Noun::Shift).message(Lang::Zh),
            "找不到该班次"
        );
        assert_eq!(
            AppError::NotFound(Noun::Shift).message(Lang::En),
            "shift not found"
        );
        assert_eq!(
            AppError::MissingSkills(vec!["急救".into(), "驾驶".into()]).message(Lang::Zh),
            "缺少该班次要求的技能：急救、驾驶"
        );
    }
}
