//! Who is calling: the client's address (behind a trusted proxy, the one it appended to
//! `X-Forwarded-For`) and the bearer token of `Authorization`, read once into a [`Viewer`] — a
//! user's access token, an API client's token, a venue tablet's kiosk key, or neither.

use std::net::{IpAddr, SocketAddr};

use axum::{
    Extension,
    extract::ConnectInfo,
    http::{HeaderMap, header},
};

use crate::{AppState, auth::Viewer, error::AppError, i18n::Msg};

/// The client's address.
pub fn client_addr(
    state: &AppState,
    headers: &HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Option<IpAddr> {
    if state.config.trust_forwarded_for {
        // The rightmost entry is the one our proxy appended; entries left of it are whatever
        // the client chose to send.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    connect.map(|Extension(ConnectInfo(addr))| addr.ip())
}

/// The token of an `Authorization: Bearer …` header: `None` without the header, `Some(None)`
/// when the header is there but holds no bearer token. The one place the header is parsed.
pub fn bearer_token(headers: &HeaderMap) -> Option<Option<&str>> {
    let value = headers.get(header::AUTHORIZATION)?;
    Some(value.to_str().ok().and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map(str::trim)
    }))
}

/// Who the request's credentials name.
pub fn viewer(state: &AppState, headers: &HeaderMap, addr: Option<IpAddr>) -> Viewer {
    let mut viewer = caller(state, headers, addr);
    viewer.device = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(200).collect());
    viewer
}

fn caller(state: &AppState, headers: &HeaderMap, addr: Option<IpAddr>) -> Viewer {
    let Some(token) = bearer_token(headers) else {
        return Viewer::anonymous(addr);
    };
    if let Some(key) = token.filter(|t| t.starts_with(crate::kiosk::service::KEY_PREFIX)) {
        return Viewer::kiosk(key, addr);
    }
    if let Some(verified) = token.and_then(|t| state.jwt.verify_session(t).ok()) {
        return Viewer::signed_in(verified, addr);
    }
    match token.and_then(|t| client_grant(state, t)) {
        Some(grant) => Viewer::client(grant, addr),
        None => Viewer::invalid(crate::auth::jwt::bad_token(), addr),
    }
}

/// The signed-in person of a route that serves personal data (exports, certificate PDFs),
/// loaded: `UNAUTHENTICATED` with `why` unless a valid user access token is sent, and for an
/// account deleted since the token was issued — the same rule as every GraphQL field.
pub async fn require_person(
    state: &AppState,
    headers: &HeaderMap,
    why: Msg,
) -> Result<entity::account::Model, AppError> {
    let account_id = bearer_token(headers)
        .flatten()
        .and_then(|t| state.jwt.verify(t).ok())
        .ok_or(AppError::Unauthenticated(why))?;
    Viewer::account(account_id, None)
        .require(&state.db)
        .await
        .cloned()
}

/// The grant of a third-party client's bearer token.
fn client_grant(state: &AppState, token: &str) -> Option<crate::clients::ClientGrant> {
    let claims = state.jwt.verify_client(token).ok()?;
    Some(crate::clients::ClientGrant {
        client_key: claims.sub.strip_prefix("client:")?.parse().ok()?,
        organization_id: claims.org,
        scopes: crate::clients::service::parse_scopes(&claims.scope)?,
    })
}
