//! The one error type of the API. Every failure a client can see maps to a fixed
//! `extensions.code`; internal failures are logged with their cause and answered generically.

use async_graphql::{ErrorExtensionValues, ServerError};
use sea_orm::{DbErr, SqlErr};

/// Result of a service call.
pub type AppResult<T> = Result<T, AppError>;

/// Everything that can go wrong in a request, as the client should learn it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid credentials were presented.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The object does not exist, or the caller may not know it exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// An input value is invalid; `field` names it as the client sent it.
    #[error("{message}")]
    BadUserInput {
        /// Input field path, e.g. `input.phone`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The request conflicts with the current state (e.g. a duplicate).
    #[error("{0}")]
    Conflict(String),
    /// The shift has no room and keeps no waitlist.
    #[error("the shift is full")]
    ShiftFull,
    /// The volunteer already holds an active sign-up for this shift.
    #[error("you are already signed up for this shift")]
    AlreadySignedUp,
    /// A charity fund's balance does not cover the disbursement.
    #[error("the fund's balance does not cover this amount")]
    InsufficientFunds,
    /// The idempotency key was used before with different arguments.
    #[error("this idempotency key was used for a different request")]
    IdempotencyConflict,
    /// The volunteer lacks skills the shift requires (`FORBIDDEN`, with the list).
    #[error("missing required skills: {}", .0.join(", "))]
    MissingSkills(Vec<String>),
    /// The action needs a real-name identity the person has not given (`setMyIdentity`).
    #[error("{0}")]
    IdentityRequired(&'static str),
    /// Too many attempts; the client should wait `retry_after_secs`.
    #[error("too many attempts, retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until another attempt can succeed.
        retry_after_secs: u64,
        /// Which limit refused (`account`, `address`, `login`, `registration`, `identity`),
        /// for the metrics.
        limit: &'static str,
    },
    /// The HTTP request itself is malformed (wrong media type, a body that is not a GraphQL
    /// request, a batch too large, a mutation sent with GET, a missing WebSocket subprotocol).
    #[error("{0}")]
    BadRequest(String),
    /// The request ran longer than the configured limit and was stopped (its transaction
    /// rolled back); the same request may be sent again.
    #[error("the request took too long and was stopped; try again")]
    Timeout,
    /// The database cannot be reached, or stayed busy through every retry: nothing was
    /// changed, and the same request may be sent again shortly (`SERVICE_UNAVAILABLE`).
    #[error("the service is briefly unavailable; retry shortly")]
    ServiceUnavailable(#[source] DbErr),
    /// A provider the request needs (the SMS gateway) failed or did not answer; nothing was
    /// changed and the request may be sent again shortly (`SERVICE_UNAVAILABLE`). The cause
    /// was logged where it happened.
    #[error("{0}")]
    ProviderUnavailable(&'static str),
    /// A failure that is not the client's: its cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// An invalid input field.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
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

    /// The message a client may see: the error's own, except for internal failures, whose
    /// cause is logged instead ([`AppError::log`]).
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
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
/// details. Errors raised by resolvers carry an [`AppError`] as their source (async-graphql keeps
/// it when `?` converts); errors async-graphql raises itself while coercing arguments (they have
/// no source) are the client's input and become `BAD_USER_INPUT`; anything else is `INTERNAL`.
pub fn finalize_errors(errors: &mut [ServerError]) {
    for err in errors {
        if err
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some())
        {
            continue;
        }
        let source = err.source.clone();
        if let Some(app) = source.as_deref().and_then(|s| s.downcast_ref::<AppError>()) {
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
                    err.message = "internal error".to_owned();
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
                err.message =
                    AppError::ServiceUnavailable(DbErr::Custom(String::new())).to_string();
                set_code(&mut err.extensions, "SERVICE_UNAVAILABLE");
                continue;
            }
            tracing::error!(error = %db, path = ?err.path, "unmapped database error");
            err.message = "internal error".to_owned();
            set_code(&mut err.extensions, "INTERNAL");
        } else if err.source.is_some() {
            // Some other error type reached a resolver's `?`: not the client's fault.
            tracing::error!(message = %err.message, path = ?err.path, "unmapped resolver error");
            err.message = "internal error".to_owned();
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
        let mut errors = vec![server_error(AppError::bad_input("input.phone", "bad"))];
        finalize_errors(&mut errors);
        let ext = errors[0].extensions.as_ref().unwrap();
        assert_eq!(
            ext.get("code"),
            Some(&async_graphql::Value::from("BAD_USER_INPUT"))
        );
        assert_eq!(
            ext.get("field"),
            Some(&async_graphql::Value::from("input.phone"))
        );
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let mut errors = vec![server_error(AppError::Internal(anyhow::anyhow!(
            "SELECT secret FROM x failed"
        )))];
        finalize_errors(&mut errors);
        assert_eq!(errors[0].message, "internal error");
        assert_eq!(
            errors[0].extensions.as_ref().unwrap().get("code"),
            Some(&async_graphql::Value::from("INTERNAL"))
        );
    }
}
