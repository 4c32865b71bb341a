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
    },
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
            Self::Internal(_) => "INTERNAL",
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
        Self::Internal(anyhow::Error::new(err))
    }
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
                AppError::RateLimited { retry_after_secs } => {
                    if let Some(e) = ext.as_mut() {
                        e.set("retryAfter", *retry_after_secs);
                    }
                }
                AppError::MissingSkills(skills) => {
                    if let Some(e) = ext.as_mut() {
                        e.set("missingSkills", skills.clone());
                    }
                }
                AppError::Internal(cause) => {
                    tracing::error!(error = ?cause, path = ?err.path, "internal error");
                    err.message = "internal error".to_owned();
                }
                _ => {}
            }
            err.extensions = ext;
        } else if let Some(db) = err.source::<DbErr>() {
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
