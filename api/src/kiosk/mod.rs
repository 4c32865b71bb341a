//! The check-in kiosk at `/kiosk/shifts/{id}`: a page for a tablet at the venue that shows the
//! shift's rotating check-in code as a QR image (and PIN) with the live count of people checked
//! in. It holds a kiosk credential staff issued for the event ([`service`]), never a staff
//! session, and speaks only the public GraphQL API (`issueCheckInCode`, `shift`). The assets
//! are compiled into the binary and served with a strict content security policy.

use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use crate::ids::{self, NodeType};

pub mod graphql;
pub mod service;

const HTML: &str = include_str!("kiosk.html");
const JS: &str = include_str!("kiosk.js");
const CSS: &str = include_str!("kiosk.css");

/// Scripts and styles from this server only, no inline script, no framing, API calls to this
/// origin only.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The kiosk routes.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/kiosk/shifts/{id}", get(page))
        .route(
            "/kiosk/kiosk.js",
            get(|| asset(JS, "text/javascript; charset=utf-8")),
        )
        .route(
            "/kiosk/kiosk.css",
            get(|| asset(CSS, "text/css; charset=utf-8")),
        )
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn page(Path(id): Path<String>) -> Response {
    // Only a shift's ID makes a kiosk; the page reads it from its own address.
    if !matches!(ids::decode_any(&id), Some((NodeType::Shift, _))) {
        // Bilingual, like the page itself.
        return (StatusCode::NOT_FOUND, "找不到该班次 · No such shift").into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CSP),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        HTML,
    )
        .into_response()
}
