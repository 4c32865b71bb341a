//! The calendar routes: `GET /calendar/{token}.ics` (a person's feed, for calendar apps to
//! subscribe to; the token is the credential) and `GET /calendar/shifts/{id}.ics` (one shift
//! the public may see). Both answer `text/calendar` with a weak `ETag` (the bytes change only
//! when the data does) and `304` to a matching `If-None-Match`.
//!
//! Each request spends one operation of the client address's request budget, never an
//! account's: a leaked old URL hammered from elsewhere must not throttle its owner's app. A
//! forged or garbled token costs one HMAC and no database read; it, a rotated one and a
//! deleted account's all get the same `404`.

use std::net::SocketAddr;

use axum::{
    Extension, Router,
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::service;
use crate::{
    AppState,
    error::{AppError, Noun},
    ids::{self, NodeType},
    web::caller,
};

/// How long a client may keep a feed before asking again (it revalidates cheaply with its
/// `ETag`).
const FEED_CACHE: &str = "private, max-age=300";
/// The same for one public shift's file.
const SHIFT_CACHE: &str = "public, max-age=300";

/// The calendar routes.
pub fn router<S>(state: AppState) -> Router<S> {
    Router::new()
        .route("/calendar/{file}", get(feed))
        .route("/calendar/shifts/{file}", get(shift))
        .with_state(state)
}

/// Spend one operation of the address's budget (`RATE_LIMITED` past it).
fn spend(
    state: &AppState,
    headers: &HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<(), AppError> {
    let addr = caller::client_addr(state, headers, connect);
    state.request_limiter.check(None, addr, 1).inspect_err(|e| {
        if let AppError::RateLimited { limit, .. } = e {
            state.metrics.rate_limited(limit);
        }
    })
}

async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<Response, AppError> {
    spend(&state, &headers, connect)?;
    let claim = file
        .strip_suffix(".ics")
        .and_then(|token| state.calendar.verify(token))
        .ok_or(AppError::NotFound(Noun::CalendarFeed))?;
    let body = Box::pin(service::feed(&state.db, &state.config, claim, Utc::now())).await?;
    Ok(calendar_response(body, &headers, FEED_CACHE, None))
}

async fn shift(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<Response, AppError> {
    spend(&state, &headers, connect)?;
    let key = match file.strip_suffix(".ics").and_then(ids::decode_any) {
        Some((NodeType::Shift, key)) => key,
        _ => return Err(AppError::NotFound(Noun::Shift)),
    };
    let row = service::public_shift(&state.db, key)
        .await?
        .ok_or(AppError::NotFound(Noun::Shift))?;
    let body = service::render_shift(&row, &state.config.public_base_url());
    let name = format!("attachment; filename=\"tongxing-shift-{key}.ics\"");
    Ok(calendar_response(body, &headers, SHIFT_CACHE, Some(name)))
}

/// `200` with the calendar, or `304` when the client holds these bytes already.
fn calendar_response(
    body: String,
    headers: &HeaderMap,
    cache: &'static str,
    disposition: Option<String>,
) -> Response {
    let digest = Sha256::digest(body.as_bytes());
    let tag: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    // Weak: the compression layer may send these bytes gzipped or not.
    let etag = format!("W/\"{tag}\"");
    let mut response = if matches_etag(headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = (StatusCode::OK, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/calendar; charset=utf-8"),
        );
        if let Some(d) = disposition.and_then(|d| HeaderValue::from_str(&d).ok()) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, d);
        }
        r
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // The feed's address is its credential: pages linked from a calendar never learn it.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// Whether `If-None-Match` names the entity tag `tag` (weak comparison, RFC 9110 §13.1.2).
fn matches_etag(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|t| t == "*" || t.trim_start_matches("W/").trim_matches('"') == tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists_and_star() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(matches_etag(&with("W/\"abc\""), "abc"));
        assert!(matches_etag(&with("\"abc\""), "abc"));
        assert!(matches_etag(&with("\"x\", W/\"abc\""), "abc"));
        assert!(matches_etag(&with("*"), "abc"));
        assert!(!matches_etag(&with("W/\"abd\""), "abc"));
        assert!(!matches_etag(&HeaderMap::new(), "abc"));
    }
}
