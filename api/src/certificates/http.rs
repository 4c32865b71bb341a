//! `GET /certificates/{number}.pdf`: the certificate as a PDF, for its volunteer and the issuing
//! organization's staff (`Authorization: Bearer` access token). Anyone else learns only what
//! `verifyServiceCertificate` tells, with the name masked.

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use super::{pdf, service};
use crate::{AppState, error::AppError, http::request_error};

/// The certificate routes.
pub fn router<S>(state: AppState) -> Router<S> {
    Router::new()
        .route("/certificates/{file}", get(certificate_pdf))
        .with_state(state)
}

async fn certificate_pdf(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    match render(&state, &file, &headers).await {
        Ok(resp) => resp,
        Err(AppError::Unauthenticated(m)) => {
            let mut resp = request_error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", m);
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            resp
        }
        Err(e @ AppError::NotFound(_)) => {
            request_error(StatusCode::NOT_FOUND, e.code(), &e.to_string())
        }
        Err(e @ AppError::ServiceUnavailable(_)) => {
            request_error(StatusCode::SERVICE_UNAVAILABLE, e.code(), &e.to_string())
        }
        Err(e) => {
            tracing::error!(error = ?e, "certificate PDF failed");
            request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            )
        }
    }
}

async fn render(state: &AppState, file: &str, headers: &HeaderMap) -> Result<Response, AppError> {
    let number = file
        .strip_suffix(".pdf")
        .ok_or(AppError::NotFound("certificate"))?;
    let account_id = crate::http::bearer_account(state, headers)
        .flatten()
        .ok_or(AppError::Unauthenticated(
            "sign in: the PDF names the volunteer (send the access token)",
        ))?;
    let viewer = crate::accounts::service::get(&state.db, account_id)
        .await?
        .ok_or(AppError::Unauthenticated("unknown account"))?;
    let cert = service::find(&state.db, number)
        .await?
        .ok_or(AppError::NotFound("certificate"))?;
    // Others get the same answer as for a number that does not exist.
    if !service::may_see_in_full(&state.db, &viewer, &cert).await? {
        return Err(AppError::NotFound("certificate"));
    }
    let lines = service::lines(&cert)?;
    let issuer = crate::organizations::service::get(&state.db, cert.organization_id)
        .await?
        .map(|o| o.name)
        .unwrap_or_default();
    let bytes = pdf::render(&cert, &lines, &issuer)?;
    let disposition = format!("inline; filename=\"{}.pdf\"", cert.number);
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            // Personal data: no shared cache keeps it.
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
