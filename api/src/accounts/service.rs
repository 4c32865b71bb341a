//! Account and session logic, independent of GraphQL.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use entity::{account, phone_code::CodePurpose, refresh_token};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};

use super::domain::{DisplayName, Password, Phone};
use crate::{
    AppState,
    auth::{password, rate_limit::Proof, refresh},
    db,
    error::{AppError, AppResult, Noun},
};

/// A logged-in session: the account and its tokens.
pub struct Session {
    /// The account.
    pub account: account::Model,
    /// Access token (JWT).
    pub access_token: String,
    /// When the access token expires.
    pub access_token_expires_at: DateTime<Utc>,
    /// Opaque refresh token; only its hash is stored.
    pub refresh_token: String,
    /// When the refresh token expires.
    pub refresh_token_expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("account", &self.account)
            .field("tokens", &"[redacted]")
            .finish()
    }
}

/// Why a login failed, whichever of the two was wrong.
pub fn bad_credentials() -> crate::i18n::Msg {
    msg!("invalid phone number or password", "手机号或密码错误")
}

/// A number that already has an account.
fn phone_taken() -> AppError {
    AppError::Conflict(msg!(
        "this phone number is already registered",
        "该手机号已注册"
    ))
}

/// Create an account and log it in. Registrations are throttled per client address.
#[tracing::instrument(skip_all)]
pub async fn register(
    state: &AppState,
    phone: Phone,
    sms_code: &str,
    password: Password,
    display_name: DisplayName,
    client_addr: Option<IpAddr>,
    device: Option<&str>,
) -> AppResult<Session> {
    state.login_throttle.check_registration(client_addr)?;
    let taken = account::Entity::find()
        .filter(account::Column::Phone.eq(phone.as_str()))
        .one(&state.db)
        .await?
        .is_some();
    if taken {
        return Err(phone_taken());
    }
    // The number is the person's: proven by the code sent to it (and spent by this).
    super::codes::prove(
        &state.db,
        &phone,
        CodePurpose::Register,
        sms_code,
        "input.smsCode",
    )
    .await?;
    let account = insert_account(state, &phone, &password, display_name, false).await?;
    tracing::info!(account_id = account.id, "account registered");
    start_session(state, &state.db, account, None, device).await
}

/// Register a number taken as proven, and log in: for operator tools (`seed-demo`, loads)
/// that make accounts themselves, never for a request.
pub async fn register_proven(
    state: &AppState,
    phone: Phone,
    password: Password,
    display_name: DisplayName,
) -> AppResult<Session> {
    let account = insert_account(state, &phone, &password, display_name, false).await?;
    tracing::info!(account_id = account.id, "account registered");
    start_session(state, &state.db, account, None, None).await
}

/// Check a phone and password and start a session. Failed attempts are throttled per phone and
/// per client address; a throttled attempt is refused before any hashing work is done.
#[tracing::instrument(skip_all)]
pub async fn login(
    state: &AppState,
    phone: Phone,
    password: Password,
    sms_code: Option<&str>,
    client_addr: Option<IpAddr>,
    device: Option<&str>,
) -> AppResult<Session> {
    let _turn = state.login_throttle.turn(phone.as_str()).await;
    let proof = if sms_code.is_some() {
        Proof::Holder
    } else {
        Proof::Password
    };
    state
        .login_throttle
        .check(phone.as_str(), client_addr, proof)?;
    if let Some(code) = sms_code {
        // Counted on the code's own budget (five tries), before the password is compared.
        super::codes::prove(&state.db, &phone, CodePurpose::Login, code, "input.smsCode").await?;
    }
    let account = account::Entity::find()
        .filter(account::Column::Phone.eq(phone.as_str()))
        .one(&state.db)
        .await?;
    let stored = account.as_ref().map(|a| a.password_hash.clone());
    let ok = password::verify(stored, password.expose().to_owned()).await?;
    match account {
        Some(account) if ok => {
            tracing::info!(account_id = account.id, "login");
            start_session(state, &state.db, account, None, device).await
        }
        _ => {
            state
                .login_throttle
                .record_failure(phone.as_str(), client_addr);
            tracing::info!(outcome = "bad_credentials", "login failed");
            Err(AppError::Unauthenticated(bad_credentials()))
        }
    }
}

/// Issue an access token and a new refresh token (in `family`, or a new family started from
/// `device`). The access token names the session, so a live connection made with it ends when
/// the session does.
async fn start_session<C: ConnectionTrait>(
    state: &AppState,
    conn: &C,
    account: account::Model,
    family_id: Option<String>,
    device: Option<&str>,
) -> AppResult<Session> {
    let family_id = family_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let (access_token, exp) = state.jwt.issue_in(account.id, Some(&family_id))?;
    let refresh_plain = refresh::generate();
    let now = Utc::now();
    let refresh_expires = now
        + chrono::Duration::from_std(state.config.refresh_token_ttl())
            .map_err(|e| AppError::Internal(e.into()))?;
    refresh_token::ActiveModel {
        account_id: Set(account.id),
        family_id: Set(family_id),
        device: Set(device.map(|d| d.chars().take(200).collect())),
        token_hash: Set(refresh::digest(&refresh_plain)),
        created_at: Set(now),
        expires_at: Set(refresh_expires),
        rotated_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(Session {
        account,
        access_token,
        access_token_expires_at: DateTime::from_timestamp(exp as i64, 0).unwrap_or(now),
        refresh_token: refresh_plain,
        refresh_token_expires_at: refresh_expires,
    })
}

/// Exchange a refresh token for a new session. The token is used up by a single conditional
/// `UPDATE`, so two concurrent exchanges cannot both succeed; presenting a token that was
/// already exchanged revokes its whole family (the token was stolen, or the client is broken).
#[tracing::instrument(skip_all)]
pub async fn refresh(state: &AppState, token: &str) -> AppResult<Session> {
    let hash = refresh::digest(token);
    let now = Utc::now();
    let txn = db::begin_write(&state.db).await?;
    let rotated = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(hash.as_str()))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .filter(refresh_token::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await?;
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash.as_str()))
        .one(&txn)
        .await?;
    let Some(row) = row else {
        return Err(AppError::Unauthenticated(msg!(
            "invalid refresh token",
            "刷新凭证无效，请重新登录"
        )));
    };
    if rotated.rows_affected == 0 {
        if row.rotated_at.is_some() && row.revoked_at.is_none() {
            revoke_family(&txn, &row.family_id, now).await?;
            txn.commit().await?;
            crate::live::record(crate::live::Change::AccessChanged {
                account_id: row.account_id,
            });
            tracing::warn!(
                account_id = row.account_id,
                "refresh token reuse detected; family revoked"
            );
            return Err(AppError::Unauthenticated(msg!(
                "refresh token was already used; the session is revoked, log in again",
                "刷新凭证已被使用，该登录已失效，请重新登录"
            )));
        }
        return Err(AppError::Unauthenticated(msg!(
            "refresh token expired or revoked",
            "登录已过期或已退出，请重新登录"
        )));
    }
    let account = account::Entity::find_by_id(row.account_id)
        .one(&txn)
        .await?
        .ok_or(AppError::Unauthenticated(msg!(
            "the account no longer exists",
            "该账号已不存在"
        )))?;
    let device = row.device.clone();
    let session =
        start_session(state, &txn, account, Some(row.family_id), device.as_deref()).await?;
    txn.commit().await?;
    Ok(session)
}

async fn revoke_family<C: ConnectionTrait>(
    conn: &C,
    family_id: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Whether an account holds `phone`.
pub async fn phone_registered<C: ConnectionTrait>(db: &C, phone: &Phone) -> AppResult<bool> {
    use sea_orm::PaginatorTrait;
    Ok(account::Entity::find()
        .filter(account::Column::Phone.eq(phone.as_str()))
        .count(db)
        .await?
        > 0)
}

/// Set a new password for the account of `phone`, proven by a code sent to it
/// (`requestPasswordReset`); every session of the account ends.
#[tracing::instrument(skip_all)]
pub async fn reset_password(
    state: &AppState,
    phone: Phone,
    sms_code: &str,
    password: Password,
) -> AppResult<()> {
    let wrong = || {
        AppError::bad_input(
            "input.smsCode",
            msg!(
                "the code is wrong or expired; ask for a new one",
                "验证码错误或已过期，请重新获取"
            ),
        )
    };
    let Some(acc) = account::Entity::find()
        .filter(account::Column::Phone.eq(phone.as_str()))
        .one(&state.db)
        .await?
        .filter(|a| a.password_hash != crate::privacy::DELETED_HASH)
    else {
        // Said as for a wrong code: the answer does not tell who is registered.
        return Err(wrong());
    };
    let hash = password::hash(password.expose().to_owned()).await?;
    let now = Utc::now();
    // Proven on its own connection: a wrong try stays counted whatever happens next.
    super::codes::prove(
        &state.db,
        &phone,
        CodePurpose::ResetPassword,
        sms_code,
        "input.smsCode",
    )
    .await?;
    let txn = crate::db::begin_write(&state.db).await?;
    account::Entity::update_many()
        .col_expr(account::Column::PasswordHash, Expr::value(hash))
        .col_expr(account::Column::UpdatedAt, Expr::value(now))
        .filter(account::Column::Id.eq(acc.id))
        .exec(&txn)
        .await?;
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::AccountId.eq(acc.id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    crate::live::record(crate::live::Change::AccessChanged { account_id: acc.id });
    tracing::info!(account_id = acc.id, "password reset");
    Ok(())
}

/// Move the caller's account to `new_phone`, proven by the code `requestPhoneCode(purpose:
/// CHANGE_PHONE)` sent to it, with the caller's password as a second proof that it is them.
/// A number another account holds is a `CONFLICT`.
#[tracing::instrument(skip_all, fields(viewer = viewer.id))]
pub async fn change_phone(
    state: &AppState,
    viewer: &account::Model,
    new_phone: Phone,
    sms_code: &str,
    password: Password,
) -> AppResult<account::Model> {
    let ok = password::verify(
        Some(viewer.password_hash.clone()),
        password.expose().to_owned(),
    )
    .await?;
    if !ok {
        return Err(AppError::bad_input(
            "input.password",
            msg!("the password is wrong", "密码错误"),
        ));
    }
    let taken = phone_taken;
    if phone_registered(&state.db, &new_phone).await? {
        return Err(taken());
    }
    // Proven on its own connection: a wrong try stays counted whatever happens next.
    super::codes::prove(
        &state.db,
        &new_phone,
        CodePurpose::ChangePhone,
        sms_code,
        "input.smsCode",
    )
    .await?;
    let txn = crate::db::begin_write(&state.db).await?;
    account::Entity::update_many()
        .col_expr(account::Column::Phone, Expr::value(new_phone.as_str()))
        .col_expr(account::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(account::Column::Id.eq(viewer.id))
        .exec(&txn)
        .await
        .map_err(|e| AppError::from_db_unique(e, taken))?;
    txn.commit().await?;
    tracing::info!("phone number changed");
    account::Entity::find_by_id(viewer.id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound(Noun::Account))
}

/// End the session a refresh token belongs to (its whole family). Unknown tokens are ignored,
/// so logout is idempotent and tells nothing about which tokens exist.
#[tracing::instrument(skip_all)]
pub async fn logout(state: &AppState, token: &str) -> AppResult<()> {
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(refresh::digest(token)))
        .one(&state.db)
        .await?;
    if let Some(row) = row {
        revoke_family(&state.db, &row.family_id, Utc::now()).await?;
        crate::live::record(crate::live::Change::AccessChanged {
            account_id: row.account_id,
        });
    }
    Ok(())
}

/// A session of an account: one login on one device, kept alive by refreshing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionInfo {
    /// The session's ID (its refresh-token family).
    pub id: String,
    /// The device it was started from (`User-Agent`), if known.
    pub device: Option<String>,
    /// When it last logged in or refreshed.
    pub last_seen_at: DateTime<Utc>,
    /// When it ends unless refreshed.
    pub expires_at: DateTime<Utc>,
}

/// The open sessions of `account_id`, most recently seen first: one per refresh-token family
/// whose current token is neither used, revoked nor expired.
pub async fn sessions<C: ConnectionTrait>(db: &C, account_id: i64) -> AppResult<Vec<SessionInfo>> {
    use sea_orm::QueryOrder;
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::AccountId.eq(account_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .filter(refresh_token::Column::RotatedAt.is_null())
        .filter(refresh_token::Column::ExpiresAt.gt(Utc::now()))
        .order_by_desc(refresh_token::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|t| SessionInfo {
            id: t.family_id,
            device: t.device,
            last_seen_at: t.created_at,
            expires_at: t.expires_at,
        })
        .collect())
}

/// Whether session `sid` of `account_id` is still open.
pub async fn session_open<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    sid: &str,
) -> AppResult<bool> {
    use sea_orm::PaginatorTrait;
    Ok(refresh_token::Entity::find()
        .filter(refresh_token::Column::AccountId.eq(account_id))
        .filter(refresh_token::Column::FamilyId.eq(sid))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .filter(refresh_token::Column::ExpiresAt.gt(Utc::now()))
        .count(db)
        .await?
        > 0)
}

/// End sessions of `account_id`: the one named `only`, or every one but `except`. Its live
/// connections close (on every replica). Returns how many sessions ended.
async fn end_sessions<C: ConnectionTrait>(
    db: &C,
    account_id: i64,
    only: Option<&str>,
    except: Option<&str>,
) -> AppResult<u64> {
    let ending = sessions(db, account_id)
        .await?
        .into_iter()
        .filter(|s| only.is_none_or(|o| s.id == o) && except.is_none_or(|e| s.id != e))
        .count();
    let mut update = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::AccountId.eq(account_id))
        .filter(refresh_token::Column::RevokedAt.is_null());
    if let Some(sid) = only {
        update = update.filter(refresh_token::Column::FamilyId.eq(sid));
    }
    if let Some(sid) = except {
        update = update.filter(refresh_token::Column::FamilyId.ne(sid));
    }
    update.exec(db).await?;
    crate::live::record(crate::live::Change::AccessChanged { account_id });
    Ok(ending as u64)
}

/// End one of the caller's own sessions (`NOT_FOUND` for one that is not theirs or is over).
#[tracing::instrument(skip_all, fields(viewer = viewer.id))]
pub async fn revoke_session(
    db: &sea_orm::DatabaseConnection,
    viewer: &account::Model,
    session_id: &str,
) -> AppResult<()> {
    if !session_open(db, viewer.id, session_id).await? {
        return Err(AppError::NotFound(Noun::Session));
    }
    end_sessions(db, viewer.id, Some(session_id), None).await?;
    tracing::info!("session revoked");
    Ok(())
}

/// End every session of the caller, this one included. Returns how many ended.
#[tracing::instrument(skip_all, fields(viewer = viewer.id))]
pub async fn logout_everywhere(
    db: &sea_orm::DatabaseConnection,
    viewer: &account::Model,
) -> AppResult<u64> {
    let n = end_sessions(db, viewer.id, None, None).await?;
    tracing::info!(sessions = n, "logged out everywhere");
    Ok(n)
}

/// Change the caller's password, proven by the current one (throttled like login). Every other
/// session ends, with its live connections; `current_session` (the caller's) stays.
#[tracing::instrument(skip_all, fields(viewer = viewer.id))]
pub async fn change_password(
    state: &AppState,
    viewer: &account::Model,
    current_session: Option<&str>,
    current: Password,
    new: Password,
    client_addr: Option<IpAddr>,
) -> AppResult<()> {
    let _turn = state.login_throttle.turn(&viewer.phone).await;
    // Signed in, the caller holds the account already: failures on the number from elsewhere
    // do not hold them back (those from here do).
    state
        .login_throttle
        .check(&viewer.phone, client_addr, Proof::Holder)?;
    let ok = password::verify(
        Some(viewer.password_hash.clone()),
        current.expose().to_owned(),
    )
    .await?;
    if !ok {
        state
            .login_throttle
            .record_failure(&viewer.phone, client_addr);
        return Err(AppError::bad_input(
            "input.currentPassword",
            msg!("the current password is wrong", "当前密码错误"),
        ));
    }
    let hash = password::hash(new.expose().to_owned()).await?;
    let txn = db::begin_write(&state.db).await?;
    account::Entity::update_many()
        .col_expr(account::Column::PasswordHash, Expr::value(hash))
        .col_expr(account::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(account::Column::Id.eq(viewer.id))
        .exec(&txn)
        .await?;
    end_sessions(&txn, viewer.id, None, current_session).await?;
    txn.commit().await?;
    tracing::info!("password changed");
    Ok(())
}

/// Outcome of [`create_admin`].
#[derive(Debug, PartialEq, Eq)]
pub enum CreateAdminOutcome {
    /// A new system administrator account was made.
    Created(i64),
    /// The phone was already registered (and the password given is its password); the account
    /// is now (still) a system administrator. Its name is left as it was.
    AlreadyExisted(i64),
}

/// Bootstrap a system administrator; idempotent for the same phone and password.
pub async fn create_admin(
    state: &AppState,
    phone: Phone,
    password: Password,
    display_name: DisplayName,
) -> AppResult<CreateAdminOutcome> {
    let existing = account::Entity::find()
        .filter(account::Column::Phone.eq(phone.as_str()))
        .one(&state.db)
        .await?;
    if let Some(acc) = existing {
        // Whoever registered this phone first must not become administrator by someone else's
        // command: promoting an existing account needs its password.
        let ok = password::verify(
            Some(acc.password_hash.clone()),
            password.expose().to_owned(),
        )
        .await?;
        if !ok {
            return Err(AppError::Forbidden(msg!(
                "this phone is already registered with another password; give that password to promote the account",
                "该手机号已用其他密码注册；请提供该密码以将其设为管理员"
            )));
        }
        account::Entity::update_many()
            .col_expr(account::Column::IsSystemAdmin, Expr::value(true))
            .col_expr(account::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(account::Column::Id.eq(acc.id))
            .exec(&state.db)
            .await?;
        return Ok(CreateAdminOutcome::AlreadyExisted(acc.id));
    }
    let acc = insert_account(state, &phone, &password, display_name, true).await?;
    Ok(CreateAdminOutcome::Created(acc.id))
}

/// Hash the password and insert the account; a taken phone is `CONFLICT`.
async fn insert_account(
    state: &AppState,
    phone: &Phone,
    password: &Password,
    display_name: DisplayName,
    is_system_admin: bool,
) -> AppResult<account::Model> {
    let hash = password::hash(password.expose().to_owned()).await?;
    let now = Utc::now();
    account::ActiveModel {
        phone: Set(phone.as_str().to_owned()),
        password_hash: Set(hash),
        display_name: Set(display_name.into_inner()),
        is_system_admin: Set(is_system_admin),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await
    .map_err(|e| AppError::from_db_unique(e, phone_taken))
}

/// Load accounts by key, in one query.
pub async fn get_many<C: ConnectionTrait>(
    db: &C,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, account::Model>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    Ok(account::Entity::find()
        .filter(account::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect())
}

/// The account with key `id` if `viewer` may see it: the same rule as for its whole phone
/// number ([`crate::authz::may_see_phone`]), so nobody walks the ID space for names. The
/// account read rule.
pub async fn get_visible<C: ConnectionTrait>(
    db: &C,
    viewer: &account::Model,
    id: i64,
) -> AppResult<Option<account::Model>> {
    if crate::authz::may_see_phone(db, viewer, id).await? {
        get(db, id).await
    } else {
        Ok(None)
    }
}

/// Load an account by key.
pub async fn get<C: ConnectionTrait>(db: &C, id: i64) -> AppResult<Option<account::Model>> {
    Ok(account::Entity::find_by_id(id).one(db).await?)
}
