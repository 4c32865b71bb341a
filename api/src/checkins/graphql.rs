//! GraphQL surface of check-in codes.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::charity_event as event;
use sea_orm::EntityTrait;

use crate::{
    authz,
    context::ContextExt,
    error::AppError,
    ids::{self, NodeType},
    shifts::service as shifts,
};

/// The current check-in code of a shift, for its kiosk.
#[derive(SimpleObject)]
pub struct CheckInCode {
    /// Text to show as a QR code; volunteers scan it to check in with method `QR`.
    qr_payload: String,
    /// Six digits to type instead, for phones without a camera.
    pin: String,
    /// When the kiosk should fetch the next code (codes rotate every 30 s).
    refresh_at: DateTime<Utc>,
    /// When this code stops being accepted (at most 60 s after it was issued).
    expires_at: DateTime<Utc>,
}

/// Check-in mutations.
#[derive(Default)]
pub struct CheckInMutation;

#[Object]
impl CheckInMutation {
    /// The shift's current rotating check-in code. The organization's staff only.
    async fn issue_check_in_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shift.")] shift_id: ID,
    ) -> Result<CheckInCode> {
        let state = ctx.state();
        let viewer = ctx.require_account().await?;
        let key = ids::decode(NodeType::Shift, &shift_id, "shiftId")?;
        let s = shifts::get_visible(&state.db, Some(viewer), key)
            .await?
            .ok_or(AppError::NotFound("shift"))?;
        let e = event::Entity::find_by_id(s.event_id)
            .one(&state.db)
            .await
            .map_err(AppError::from)?
            .ok_or(AppError::NotFound("shift"))?;
        if !authz::is_staff(&state.db, viewer, e.organization_id).await? {
            return Err(AppError::Forbidden(
                "only the organization's staff issue check-in codes".to_owned(),
            )
            .into());
        }
        if s.status != "OPEN" {
            return Err(AppError::bad_input("shiftId", "the shift is cancelled").into());
        }
        let code = state.checkin_codes.issue(s.id, Utc::now());
        Ok(CheckInCode {
            qr_payload: code.qr_payload,
            pin: code.pin,
            refresh_at: code.refresh_at,
            expires_at: code.expires_at,
        })
    }
}
