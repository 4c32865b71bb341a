//! One-time SMS codes: six digits, five minutes, five tries, one at a time per number. Sending
//! is throttled per number (one a minute, five an hour) and per client address
//! (`TONGXING_SMS_CODES_PER_ADDRESS` an hour), counted in the database so every replica agrees. A code proves the number for one
//! purpose and is spent when it proves it.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use entity::phone_code::{self, CodePurpose};
use rand::Rng;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, Set, sea_query::Expr,
};

use super::domain::Phone;
use crate::{
    AppState,
    error::{AppError, AppResult},
};

/// How long a code works.
pub const LIFETIME: Duration = Duration::minutes(5);
/// Tries a sent code takes (the right one among them).
pub const MAX_ATTEMPTS: i32 = 5;
/// Least time between two codes to one number.
pub const RESEND_AFTER: Duration = Duration::seconds(60);
/// Codes one number may be sent in an hour.
pub const PER_PHONE_PER_HOUR: u64 = 5;

/// A sent code, as the client may know it.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    /// When the code stops working.
    pub expires_at: DateTime<Utc>,
    /// When another code may be asked for.
    pub resend_after: DateTime<Utc>,
}

fn digest(phone: &str, purpose: CodePurpose, code: &str) -> String {
    crate::auth::refresh::digest(&format!(
        "{phone}:{}:{code}",
        sea_orm::ActiveEnum::to_value(&purpose)
    ))
}

fn address_key(addr: Option<IpAddr>) -> Option<String> {
    addr.map(|a| a.to_string())
}

fn limited(limit: &'static str, until: DateTime<Utc>, now: DateTime<Utc>) -> AppError {
    AppError::RateLimited {
        limit,
        retry_after_secs: u64::try_from((until - now).num_seconds())
            .unwrap_or(0)
            .max(1),
    }
}

/// Send a code for `purpose` to `phone`, within the limits. `deliver` is false when the answer
/// must not depend on whether the number has an account, but nothing should be sent (a
/// password reset for a number nobody registered): the limits still count.
pub async fn send(
    state: &AppState,
    phone: &Phone,
    purpose: CodePurpose,
    addr: Option<IpAddr>,
    deliver: bool,
) -> AppResult<Sent> {
    let db = &state.db;
    let now = Utc::now();
    let hour_ago = now - Duration::hours(1);
    let recent = phone_code::Entity::find()
        .filter(phone_code::Column::Phone.eq(phone.as_str()))
        .filter(phone_code::Column::CreatedAt.gt(hour_ago))
        .order_by_desc(phone_code::Column::CreatedAt)
        .all(db)
        .await?;
    if let Some(last) = recent.first()
        && last.created_at + RESEND_AFTER > now
    {
        return Err(limited("smsPhone", last.created_at + RESEND_AFTER, now));
    }
    if recent.len() as u64 >= PER_PHONE_PER_HOUR {
        let oldest = recent.last().map_or(now, |c| c.created_at);
        return Err(limited("smsPhone", oldest + Duration::hours(1), now));
    }
    if let Some(a) = address_key(addr) {
        let from_here = phone_code::Entity::find()
            .filter(phone_code::Column::RequestedFrom.eq(a.as_str()))
            .filter(phone_code::Column::CreatedAt.gt(hour_ago))
            .count(db)
            .await?;
        if from_here >= u64::from(state.config.sms_codes_per_address) {
            return Err(limited("smsAddress", now + Duration::minutes(10), now));
        }
    }
    let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
    // Older unspent codes for the same purpose stop working: only the newest counts.
    phone_code::Entity::update_many()
        .col_expr(phone_code::Column::ConsumedAt, Expr::value(now))
        .filter(phone_code::Column::Phone.eq(phone.as_str()))
        .filter(phone_code::Column::Purpose.eq(purpose))
        .filter(phone_code::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    let row = phone_code::ActiveModel {
        phone: Set(phone.as_str().to_owned()),
        purpose: Set(purpose),
        code_digest: Set(digest(phone.as_str(), purpose, &code)),
        attempts: Set(0),
        requested_from: Set(address_key(addr)),
        created_at: Set(now),
        expires_at: Set(now + LIFETIME),
        // Not delivered: nothing can prove it.
        consumed_at: Set((!deliver).then_some(now)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if deliver {
        if let Err(e) = state.sms.send_code(phone.as_str(), &code).await {
            // Not sent: it neither works nor counts against the number.
            phone_code::Entity::delete_by_id(row.id).exec(db).await?;
            return Err(e);
        }
        tracing::info!(purpose = ?purpose, "verification code sent");
    }
    Ok(Sent {
        expires_at: row.expires_at,
        resend_after: now + RESEND_AFTER,
    })
}

/// Spend the code `code` for `purpose` on `phone`: `BAD_USER_INPUT` on `field` when it is
/// wrong, expired, spent or tried too often. Every try is counted *before* the code is
/// compared, with one conditional update, so parallel guesses cannot exceed [`MAX_ATTEMPTS`].
/// It takes the connection, not a transaction: a caller's rollback must not give a wrong try
/// back.
pub async fn prove(
    db: &DatabaseConnection,
    phone: &Phone,
    purpose: CodePurpose,
    code: &str,
    field: &str,
) -> AppResult<()> {
    let now = Utc::now();
    let wrong = || {
        AppError::bad_input(
            field,
            msg!(
                "the code is wrong or expired; ask for a new one",
                "验证码错误或已过期，请重新获取"
            ),
        )
    };
    let Some(current) = phone_code::Entity::find()
        .filter(phone_code::Column::Phone.eq(phone.as_str()))
        .filter(phone_code::Column::Purpose.eq(purpose))
        .filter(phone_code::Column::ConsumedAt.is_null())
        .filter(phone_code::Column::ExpiresAt.gt(now))
        .order_by_desc(phone_code::Column::Id)
        .one(db)
        .await?
    else {
        return Err(wrong());
    };
    let tried = phone_code::Entity::update_many()
        .col_expr(
            phone_code::Column::Attempts,
            sea_orm::sea_query::ExprTrait::add(Expr::col(phone_code::Column::Attempts), 1),
        )
        .filter(phone_code::Column::Id.eq(current.id))
        .filter(phone_code::Column::ConsumedAt.is_null())
        .filter(phone_code::Column::Attempts.lt(MAX_ATTEMPTS))
        .exec(db)
        .await?;
    if tried.rows_affected == 0 {
        return Err(wrong());
    }
    let right = code.len() == 6 && digest(phone.as_str(), purpose, code) == current.code_digest;
    if !right {
        return Err(wrong());
    }
    // Conditional: of two requests with the same code, one spends it.
    let spent = phone_code::Entity::update_many()
        .col_expr(phone_code::Column::ConsumedAt, Expr::value(now))
        .filter(phone_code::Column::Id.eq(current.id))
        .filter(phone_code::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    if spent.rows_affected == 0 {
        return Err(wrong());
    }
    Ok(())
}

/// Forget codes older than a day (housekeeping).
pub async fn forget_old<C: ConnectionTrait>(db: &C, now: DateTime<Utc>) -> AppResult<u64> {
    Ok(phone_code::Entity::delete_many()
        .filter(phone_code::Column::CreatedAt.lt(now - Duration::days(1)))
        .exec(db)
        .await?
        .rows_affected)
}
