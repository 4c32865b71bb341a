//! Kiosk credentials without GraphQL: staff of an event's organization issue a key for a venue
//! tablet; the key shows and rotates the check-in codes of that event's shifts and reads those
//! shifts, nothing else (see [`check_document`]). It lapses with the event (two hours after its
//! end, when check-out closes, or when it is cancelled) and staff can revoke it at once.

use chrono::{DateTime, Utc};
use entity::{account, charity_event as event, kiosk_credential as credential};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set, sea_query::Expr,
};

use crate::{
    authz,
    error::{AppError, AppResult, Noun},
    events::domain::EventStatus,
};

/// What every kiosk key starts with, so a request can tell it from other tokens unread.
pub const KEY_PREFIX: &str = "txk_";

/// The rights a valid kiosk key carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KioskGrant {
    /// The credential.
    pub credential_id: i64,
    /// The one event whose shifts it serves.
    pub event_id: i64,
}

/// When a credential of `e` stops working: when check-out at the event closes.
pub fn expires_at(e: &event::Model) -> DateTime<Utc> {
    e.ends_at + crate::checkins::service::CHECK_OUT_GRACE
}

/// A new credential and its key (shown this once).
pub struct Issued {
    /// The stored credential.
    pub credential: credential::Model,
    /// The key for the tablet.
    pub key: String,
    /// When it lapses.
    pub expires_at: DateTime<Utc>,
}

async fn staff_event<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    event_id: i64,
) -> AppResult<event::Model> {
    let e = crate::events::service::get_visible(db, Some(viewer), event_id)
        .await?
        .ok_or(AppError::NotFound(Noun::Event))?;
    if !authz::is_staff(db, viewer, e.organization_id).await? {
        return Err(AppError::Forbidden(msg!(
            "only the organization's staff manage kiosk credentials",
            "仅该组织的工作人员可管理签到屏密钥"
        )));
    }
    Ok(e)
}

/// Issue a kiosk credential for `event_id` (staff of its organization).
#[tracing::instrument(skip_all, fields(viewer = viewer.id, event_id))]
pub async fn issue(
    db: &DatabaseConnection,
    viewer: &account::Model,
    event_id: i64,
    label: String,
) -> AppResult<Issued> {
    let e = staff_event(db, viewer, event_id).await?;
    let now = Utc::now();
    if e.status == EventStatus::Cancelled || expires_at(&e) <= now {
        return Err(AppError::bad_input(
            "eventId",
            msg!("the event is over or cancelled", "该活动已结束或已取消"),
        ));
    }
    let key = format!("{KEY_PREFIX}{}", crate::auth::refresh::generate());
    let credential = credential::ActiveModel {
        event_id: Set(e.id),
        label: Set(label),
        key_digest: Set(crate::auth::refresh::digest(&key)),
        created_by: Set(viewer.id),
        created_at: Set(now),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    tracing::info!(credential = credential.id, "kiosk credential issued");
    Ok(Issued {
        credential,
        key,
        expires_at: expires_at(&e),
    })
}

/// Revoke a credential (staff of its event's organization); revoking twice is harmless.
/// Returns it with when it would have lapsed.
#[tracing::instrument(skip_all, fields(viewer = viewer.id, credential_id = id))]
pub async fn revoke(
    db: &DatabaseConnection,
    viewer: &account::Model,
    id: i64,
) -> AppResult<(credential::Model, DateTime<Utc>)> {
    let c = credential::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::KioskCredential))?;
    let e = staff_event(db, viewer, c.event_id).await?;
    credential::Entity::update_many()
        .col_expr(credential::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(credential::Column::Id.eq(id))
        .filter(credential::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    tracing::info!("kiosk credential revoked");
    let c = credential::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound(Noun::KioskCredential))?;
    Ok((c, expires_at(&e)))
}

/// An event's credentials, newest first, and when they lapse (staff of its organization).
pub async fn list(
    db: &DatabaseConnection,
    viewer: &account::Model,
    event_id: i64,
) -> AppResult<(Vec<credential::Model>, DateTime<Utc>)> {
    let e = staff_event(db, viewer, event_id).await?;
    let rows = credential::Entity::find()
        .filter(credential::Column::EventId.eq(event_id))
        .order_by_desc(credential::Column::Id)
        .all(db)
        .await?;
    Ok((rows, expires_at(&e)))
}

/// The grant of a presented key: `UNAUTHENTICATED` unless it is known, not revoked, and its
/// event is neither cancelled nor over.
pub async fn authenticate<C: ConnectionTrait>(db: &C, key: &str) -> AppResult<KioskGrant> {
    let refused = AppError::Unauthenticated(msg!(
        "the kiosk key is unknown, revoked or expired",
        "签到屏密钥无效、已撤销或已过期"
    ));
    let Some(c) = credential::Entity::find()
        .filter(credential::Column::KeyDigest.eq(crate::auth::refresh::digest(key)))
        .one(db)
        .await?
    else {
        return Err(refused);
    };
    let e = event::Entity::find_by_id(c.event_id).one(db).await?;
    match e {
        Some(e)
            if c.revoked_at.is_none()
                && e.status != EventStatus::Cancelled
                && Utc::now() < expires_at(&e) =>
        {
            Ok(KioskGrant {
                credential_id: c.id,
                event_id: e.id,
            })
        }
        _ => Err(refused),
    }
}

/// The root fields a kiosk key may ask for: the check-in code of a shift, and the shift (its
/// times and counts for the screen). Anything else is `FORBIDDEN` before any resolver runs.
const KIOSK_FIELDS: [(&str, &str); 2] =
    [("QueryRoot", "shift"), ("MutationRoot", "issueCheckInCode")];

/// Refuse a document a kiosk key may not run.
pub fn check_document(
    doc: &async_graphql::parser::types::ExecutableDocument,
) -> async_graphql::ServerResult<()> {
    crate::clients::check_root_fields(
        doc,
        msg!("a kiosk key", "签到屏密钥"),
        |parent, field| {
            KIOSK_FIELDS
                .contains(&(parent, field))
                .then_some(())
                .ok_or_else(|| {
                    msg!(
                        "a kiosk key only shows check-in codes; `{field}` is not open to it",
                        "签到屏密钥只能显示签到码，不能使用 `{field}`"
                    )
                })
        },
    )
}
