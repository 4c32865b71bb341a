//! `GET /certificates/{number}.pdf`: the certificate as a PDF, for its volunteer and the issuing
//! organization's staff (`Authorization: Bearer` access token). Anyone else learns only what
//! `verifyServiceCertificate` tells, with the name masked.

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

use super::caller;
use crate::{
    AppState,
    certificates::{pdf, service},
    error::{AppError, Noun},
};

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
) -> Result<Response, AppError> {
    render(&state, &file, &headers).await
}

async fn render(state: &AppState, file: &str, headers: &HeaderMap) -> Result<Response, AppError> {
    let number = file
        .strip_suffix(".pdf")
        .ok_or(AppError::NotFound(Noun::Certificate))?;
    let viewer = caller::require_person(
        state,
        headers,
        msg!(
            "sign in: the PDF names the volunteer (send the access token)",
            "请先登录：证明文件含志愿者个人信息"
        ),
    )
    .await?;
    let cert = service::find(&state.db, number)
        .await?
        .ok_or(AppError::NotFound(Noun::Certificate))?;
    // Others get the same answer as for a number that does not exist.
    if !service::may_see_in_full(&state.db, &viewer, &cert).await? {
        return Err(AppError::NotFound(Noun::Certificate));
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
