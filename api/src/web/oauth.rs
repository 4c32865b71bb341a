//! `POST /oauth/token`: the OAuth 2.0 client-credentials grant (RFC 6749 §4.4). Credentials
//! come as HTTP Basic or as `client_id`/`client_secret` form fields; the answer is a bearer
//! token valid for five minutes, carrying the granted scopes and the client's organization.

use axum::{
    Form, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;

use crate::{AppState, clients::service};

/// The token route.
pub fn router<S>(state: AppState) -> Router<S> {
    Router::new()
        .route("/oauth/token", post(token))
        .with_state(state)
}

/// Form fields of a token request.
#[derive(Debug, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut resp = (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        serde_json::json!({ "error": error, "error_description": description }).to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"tongxing\""),
        );
    }
    resp
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(req): Form<TokenRequest>,
) -> Response {
    if req.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only grant_type=client_credentials is supported",
        );
    }
    let credentials = basic_credentials(&headers)
        .or_else(|| Some((req.client_id.clone()?, req.client_secret.clone()?)));
    let Some((client_id, secret)) = credentials else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "send the client credentials (HTTP Basic or client_id and client_secret)",
        );
    };
    let client = match service::authenticate(&state.db, &client_id, &secret).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            tracing::warn!(outcome = "invalid_client", "client authentication failed");
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown client, wrong secret, or revoked",
            );
        }
        Err(e) => {
            e.log("client authentication");
            return oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            );
        }
    };
    let allowed = service::parse_scopes(&client.scopes).unwrap_or_default();
    let granted = match req.scope.as_deref() {
        None | Some("") => allowed,
        Some(asked) => match service::parse_scopes(asked) {
            Some(asked) if asked.iter().all(|s| allowed.contains(s)) => asked,
            _ => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    "a requested scope is unknown or not granted to this client",
                );
            }
        },
    };
    let scope = service::scope_string(&granted);
    match state
        .jwt
        .issue_client(client.id, client.organization_id, &scope)
    {
        Ok((access_token, expires_in)) => {
            tracing::info!(client = client.id, "client token issued");
            (
                StatusCode::OK,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                serde_json::json!({
                    "access_token": access_token,
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                    "scope": scope,
                })
                .to_string(),
            )
                .into_response()
        }
        Err(e) => {
            e.log("issuing a client token");
            oauth_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "internal error",
            )
        }
    }
}
