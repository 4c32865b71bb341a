//! Who is calling: resolved once per request from the `Authorization` header.

use std::net::IpAddr;

use entity::account;
use sea_orm::{DatabaseConnection, EntityTrait};
use tokio::sync::OnceCell;

use crate::{
    error::{AppError, AppResult},
    i18n::Msg,
};

/// The caller of one request. A bad token does not fail the request up front (a phone with an
/// expired token must still be able to call `refreshToken` or read public data); it fails every
/// field that needs an account, with `UNAUTHENTICATED`.
#[derive(Debug, Default)]
pub struct Viewer {
    account_id: Option<i64>,
    token_error: Option<Msg>,
    /// Client address, for throttling.
    pub client_addr: Option<IpAddr>,
    account: OnceCell<Option<account::Model>>,
    /// Set when a third-party client (not a person) calls.
    grant: Option<crate::clients::ClientGrant>,
    /// Set when a venue's tablet calls with a kiosk key (checked on first use).
    kiosk_key: Option<String>,
    kiosk: OnceCell<crate::kiosk::service::KioskGrant>,
    /// The session the access token was issued in.
    session: Option<String>,
    /// The caller's `User-Agent`, for naming a session started by this request.
    pub device: Option<String>,
}

impl Viewer {
    /// A caller without credentials.
    pub fn anonymous(client_addr: Option<IpAddr>) -> Self {
        Self {
            client_addr,
            ..Self::default()
        }
    }

    /// A caller whose access token was valid.
    pub fn account(account_id: i64, client_addr: Option<IpAddr>) -> Self {
        Self {
            account_id: Some(account_id),
            client_addr,
            ..Self::default()
        }
    }

    /// A caller whose access token was valid, with the session it names.
    pub fn signed_in(verified: crate::auth::jwt::Verified, client_addr: Option<IpAddr>) -> Self {
        Self {
            account_id: Some(verified.account_id),
            session: verified.session,
            client_addr,
            ..Self::default()
        }
    }

    /// The session the caller's access token was issued in, if it names one.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// A third-party client with a valid client token.
    pub fn client(grant: crate::clients::ClientGrant, client_addr: Option<IpAddr>) -> Self {
        Self {
            grant: Some(grant),
            client_addr,
            ..Self::default()
        }
    }

    /// A venue's tablet with a kiosk key (not yet checked: see [`Viewer::require_kiosk`]).
    pub fn kiosk(key: &str, client_addr: Option<IpAddr>) -> Self {
        Self {
            kiosk_key: Some(key.to_owned()),
            client_addr,
            ..Self::default()
        }
    }

    /// Whether a kiosk key came with the request. Such a request may run only what a kiosk
    /// may (`crate::kiosk::service::check_document`); for everything else it has no account.
    pub fn is_kiosk(&self) -> bool {
        self.kiosk_key.is_some()
    }

    /// The grant of the kiosk key, checked once per request; `UNAUTHENTICATED` if it is unknown,
    /// revoked or expired, or if no kiosk key was sent.
    pub async fn require_kiosk(
        &self,
        db: &DatabaseConnection,
    ) -> AppResult<crate::kiosk::service::KioskGrant> {
        let Some(key) = &self.kiosk_key else {
            return Err(AppError::Unauthenticated(msg!(
                "a kiosk key is required",
                "需要签到屏密钥"
            )));
        };
        self.kiosk
            .get_or_try_init(|| crate::kiosk::service::authenticate(db, key))
            .await
            .copied()
    }

    /// What a calling client was granted, if a client is calling.
    pub fn grant(&self) -> Option<&crate::clients::ClientGrant> {
        self.grant.as_ref()
    }

    /// A caller who presented credentials that did not verify.
    pub fn invalid(reason: Msg, client_addr: Option<IpAddr>) -> Self {
        Self {
            token_error: Some(reason),
            client_addr,
            ..Self::default()
        }
    }

    /// Whether the caller presented credentials at all (valid or not).
    pub fn presented_credentials(&self) -> bool {
        self.account_id.is_some() || self.token_error.is_some() || self.grant.is_some()
    }

    /// The account key, if a valid token was presented (the account may since have gone).
    pub fn account_id(&self) -> Option<i64> {
        self.account_id
    }

    /// The calling account, loaded once per request; `UNAUTHENTICATED` without valid credentials.
    pub async fn require(&self, db: &DatabaseConnection) -> AppResult<&account::Model> {
        if let Some(grant) = &self.grant {
            // A client acts as the staff member who registered it (narrowed elsewhere to its
            // organization and scopes), while it is not revoked.
            let loaded = self
                .account
                .get_or_try_init(|| async {
                    let Some(c) = crate::clients::service::active(db, grant.client_key).await?
                    else {
                        return Ok(None);
                    };
                    Ok::<_, AppError>(account::Entity::find_by_id(c.created_by).one(db).await?)
                })
                .await?;
            return loaded.as_ref().ok_or(AppError::Unauthenticated(msg!(
                "the API client was revoked",
                "该 API 客户端已被撤销"
            )));
        }
        let Some(id) = self.account_id else {
            return Err(AppError::Unauthenticated(
                self.token_error
                    .clone()
                    .unwrap_or_else(|| msg!("authentication required", "请先登录")),
            ));
        };
        let loaded = self
            .account
            .get_or_try_init(|| async { account::Entity::find_by_id(id).one(db).await })
            .await?;
        match loaded.as_ref() {
            // A deleted account's tokens stop working at once, not when they expire.
            Some(a) if a.password_hash == crate::privacy::DELETED_HASH => Err(
                AppError::Unauthenticated(msg!("the account was deleted", "该账号已注销")),
            ),
            Some(a) => Ok(a),
            None => Err(AppError::Unauthenticated(msg!(
                "the account no longer exists",
                "该账号已不存在"
            ))),
        }
    }
}
