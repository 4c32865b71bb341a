//! The one mapping from [`AppError`] to an HTTP response, for every route outside GraphQL
//! execution (and for GraphQL requests refused before they run): the status follows from the
//! error's code, the body is a GraphQL error document with that code in `extensions.code` (and
//! `field` for bad input, `retryAfter` when throttled), `WWW-Authenticate: Bearer` goes with a
//! 401, `Retry-After` with a 429, and an internal cause is logged, never sent.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{error::AppError, i18n::Lang};

/// The HTTP status of an error: one per kind of failure, as its code says.
pub fn status(err: &AppError) -> StatusCode {
    match err {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) | AppError::MissingSkills(_) | AppError::IdentityRequired(_) => {
            StatusCode::FORBIDDEN
        }
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::BadUserInput { .. } | AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
        AppError::Conflict(_)
        | AppError::ShiftFull
        | AppError::AlreadySignedUp
        | AppError::IdempotencyConflict
        | AppError::InsufficientFunds => StatusCode::CONFLICT,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::ServiceUnavailable(_) | AppError::ProviderUnavailable(_) | AppError::Timeout => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log("http");
        let mut extensions = serde_json::json!({ "code": self.code() });
        match &self {
            AppError::BadUserInput { field, .. } => extensions["field"] = field.as_str().into(),
            AppError::RateLimited {
                retry_after_secs, ..
            } => extensions["retryAfter"] = (*retry_after_secs).into(),
            AppError::MissingSkills(skills) => {
                extensions["missingSkills"] = skills.clone().into();
            }
            _ => {}
        }
        let body = serde_json::json!({
            "errors": [{ "message": self.message(Lang::current()), "extensions": extensions }]
        });
        let mut resp = (
            status(&self),
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.to_string(),
        )
            .into_response();
        match &self {
            AppError::Unauthenticated(_) => {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            AppError::RateLimited {
                retry_after_secs, ..
            } => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Noun;

    async fn body(resp: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn statuses_follow_codes_and_causes_stay_inside() {
        let resp =
            AppError::Internal(anyhow::anyhow!("SELECT phone FROM account failed")).into_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let b = body(resp).await;
        assert_eq!(b["errors"][0]["message"], "服务器内部错误，请稍后重试");
        assert_eq!(b["errors"][0]["extensions"]["code"], "INTERNAL");

        let resp = AppError::Unauthenticated(msg!("sign in", "请先登录")).into_response();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(resp.headers()[header::WWW_AUTHENTICATE], "Bearer");

        let resp = AppError::bad_input("organizationId", msg!("unknown", "未知")).into_response();
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body(resp).await["errors"][0]["extensions"]["field"],
            "organizationId"
        );

        let resp = AppError::RateLimited {
            retry_after_secs: 7,
            limit: "account",
        }
        .into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "7");
        assert_eq!(body(resp).await["errors"][0]["extensions"]["retryAfter"], 7);

        assert_eq!(status(&AppError::Timeout), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            status(&AppError::BadRequest(msg!("x", "错"))),
            StatusCode::BAD_REQUEST
        );
        assert_eq!(
            status(&AppError::NotFound(Noun::Certificate)),
            StatusCode::NOT_FOUND
        );
        assert_eq!(status(&AppError::ShiftFull), StatusCode::CONFLICT);
    }

    #[tokio::test]
    async fn the_message_is_in_the_requests_language_and_the_code_is_not() {
        let resp = Lang::En
            .scope(async { AppError::ShiftFull.into_response() })
            .await;
        let b = body(resp).await;
        assert_eq!(b["errors"][0]["message"], "the shift is full");
        assert_eq!(b["errors"][0]["extensions"]["code"], "SHIFT_FULL");
        // Outside a request (and by default): Chinese.
        let b = body(AppError::ShiftFull.into_response()).await;
        assert_eq!(b["errors"][0]["message"], "该班次已满");
        assert_eq!(b["errors"][0]["extensions"]["code"], "SHIFT_FULL");
    }
}
