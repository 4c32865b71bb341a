//! `POST /payments/wechatpay/notify`: WeChat Pay's payment notification. The only way an
//! online donation becomes `CONFIRMED`.
//!
//! WeChat Pay retries a notification until it gets a 2xx, so the answer says what a retry
//! would do: `204` when the payment is counted (or was already, by this transaction); a 4xx
//! `{"code":"FAIL",…}` when the notification is refused and a retry would be refused too
//! (forged, stale, not ours, an amount that differs, an order we do not have); a 5xx when we
//! could not decide now and a retry may succeed. Nothing changes unless the answer is `204`.

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};

use crate::{
    AppState,
    error::AppError,
    funds::service::{Confirmation, confirm_payment},
};

/// The largest notification we read; WeChat Pay's are about 1 KB.
const MAX_NOTIFICATION_BYTES: usize = 16 * 1024;

/// The payment routes.
pub fn router<S>(state: AppState) -> Router<S> {
    Router::new()
        .route("/payments/wechatpay/notify", post(notify))
        .with_state(state)
}

fn fail(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "code": "FAIL", "message": message })),
    )
        .into_response()
}

async fn notify(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(pay) = state.payments.as_deref() else {
        return fail(StatusCode::NOT_FOUND, "payments are not set up here");
    };
    if body.len() > MAX_NOTIFICATION_BYTES {
        return fail(StatusCode::PAYLOAD_TOO_LARGE, "notification too large");
    }
    let metrics = &state.metrics;
    let paid = match pay.read_notification(&headers, &body, chrono::Utc::now()) {
        Ok(paid) => paid,
        Err(why) => {
            tracing::warn!(reason = %why, "payment notification refused");
            metrics.payment_notification("refused");
            return fail(StatusCode::UNAUTHORIZED, &why.to_string());
        }
    };
    match confirm_payment(&state.db, &paid).await {
        Ok(Confirmation::Confirmed(_)) => {
            metrics.payment_notification("confirmed");
            StatusCode::NO_CONTENT.into_response()
        }
        Ok(Confirmation::AlreadyConfirmed) => {
            metrics.payment_notification("replayed");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(AppError::NotFound(_)) => {
            tracing::warn!(out_trade_no = %paid.out_trade_no, "payment for an unknown order");
            metrics.payment_notification("unknown_order");
            fail(StatusCode::NOT_FOUND, "no such order")
        }
        Err(AppError::Conflict(message)) => {
            metrics.payment_notification("conflict");
            fail(StatusCode::CONFLICT, message.en())
        }
        Err(e) => {
            e.log("confirming a payment (WeChat Pay will retry)");
            metrics.payment_notification("failed");
            fail(StatusCode::SERVICE_UNAVAILABLE, "try again later")
        }
    }
}
