//! Access tokens: HS256 JWTs with `iss`, `aud`, `sub`, `exp`, `iat`, validated strictly.

use std::{
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::STANDARD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::{config::Config, error::AppError, i18n::Msg};

/// Why a token was refused: one message for every way a token fails, so a caller learns
/// nothing about which.
pub fn bad_token() -> Msg {
    msg!(
        "invalid or expired access token",
        "登录凭证无效或已过期，请重新登录"
    )
}

/// The only algorithm issued and accepted; a token whose header names another (`none`
/// included) is rejected before its signature is looked at.
pub const ALGORITHM: Algorithm = Algorithm::HS256;

/// Minimum signing-key length in bytes (the HS256 output size).
pub const MIN_KEY_BYTES: usize = 32;

/// Claims of an access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Subject: the account's database key, as a string.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// The session (refresh-token family) the token was issued in; absent in tokens issued
    /// before sessions were named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// Who an access token speaks for, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The account.
    pub account_id: i64,
    /// The session it was issued in (see [`Claims::sid`]).
    pub session: Option<String>,
    /// Expiry, seconds since the epoch.
    pub expires_at: u64,
}

/// Claims of a third-party client's access token (client-credentials grant). Its audience is
/// the API's with `/clients` appended, so it can never pass for a person's token, nor the
/// reverse.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientClaims {
    /// Issuer.
    pub iss: String,
    /// Audience: `<jwt audience>/clients`.
    pub aud: String,
    /// Subject: `client:<database key of the client>`.
    pub sub: String,
    /// The client's organization (database key).
    pub org: i64,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
}

/// Lifetime of a client's access token.
pub const CLIENT_TOKEN_TTL_SECS: u64 = 300;

/// Signing and verification keys with the validation rules.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    client_validation: Validation,
    issuer: String,
    audience: String,
    ttl: Duration,
}

impl JwtKeys {
    /// Build from raw key bytes.
    pub fn new(key: &[u8], issuer: &str, audience: &str, ttl: Duration) -> anyhow::Result<Self> {
        anyhow::ensure!(
            key.len() >= MIN_KEY_BYTES,
            "the JWT signing key must be at least {MIN_KEY_BYTES} bytes"
        );
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        validation.validate_nbf = true;
        let mut client_validation = validation.clone();
        client_validation.set_audience(&[format!("{audience}/clients")]);
        Ok(Self {
            encoding: EncodingKey::from_secret(key)?,
            decoding: DecodingKey::from_secret(key)?,
            validation,
            client_validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            ttl,
        })
    }

    /// Build from config: see [`server_secret`].
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        Self::from_secret(&server_secret(config)?, config)
    }

    /// Build from the server secret and the token settings of `config`.
    pub fn from_secret(key: &[u8], config: &Config) -> anyhow::Result<Self> {
        Self::new(
            key,
            &config.jwt_issuer,
            &config.jwt_audience,
            config.access_token_ttl(),
        )
    }

    /// Issue an access token for an account; returns the token and its expiry (epoch seconds).
    pub fn issue(&self, account_id: i64) -> Result<(String, u64), AppError> {
        self.issue_in(account_id, None)
    }

    /// Issue an access token for `account_id` in session `sid`.
    pub fn issue_in(&self, account_id: i64, sid: Option<&str>) -> Result<(String, u64), AppError> {
        let iat = now_secs();
        let exp = iat + self.ttl.as_secs();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: account_id.to_string(),
            sid: sid.map(str::to_owned),
            exp,
            iat,
        };
        let token = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(e.into()))?;
        Ok((token, exp))
    }

    /// Issue a client's access token ([`CLIENT_TOKEN_TTL_SECS`]); returns it and its lifetime.
    pub fn issue_client(
        &self,
        client_key: i64,
        organization_id: i64,
        scope: &str,
    ) -> Result<(String, u64), AppError> {
        let iat = now_secs();
        let claims = ClientClaims {
            iss: self.issuer.clone(),
            aud: format!("{}/clients", self.audience),
            sub: format!("client:{client_key}"),
            org: organization_id,
            scope: scope.to_owned(),
            exp: iat + CLIENT_TOKEN_TTL_SECS,
            iat,
        };
        let token = jsonwebtoken::encode(&Header::new(ALGORITHM), &claims, &self.encoding)
            .map_err(|e| AppError::Internal(e.into()))?;
        Ok((token, CLIENT_TOKEN_TTL_SECS))
    }

    /// Verify a client's access token.
    pub fn verify_client(&self, token: &str) -> Result<ClientClaims, AppError> {
        let data =
            jsonwebtoken::decode::<ClientClaims>(token, &self.decoding, &self.client_validation)
                .map_err(|_| AppError::Unauthenticated(bad_token()))?;
        if !data.claims.sub.starts_with("client:") {
            return Err(AppError::Unauthenticated(bad_token()));
        }
        Ok(data.claims)
    }

    /// Verify an access token and return the account key it was issued to.
    pub fn verify(&self, token: &str) -> Result<i64, AppError> {
        self.verify_session(token).map(|v| v.account_id)
    }

    /// Verify an access token: its account, session and expiry.
    pub fn verify_session(&self, token: &str) -> Result<Verified, AppError> {
        let bad = || AppError::Unauthenticated(bad_token());
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| bad())?;
        Ok(Verified {
            account_id: data.claims.sub.parse().map_err(|_| bad())?,
            session: data.claims.sid,
            expires_at: data.claims.exp,
        })
    }
}

/// The server secret: the configured `TONGXING_JWT_SECRET`, or the key kept in the data dir
/// (generated on first start). Access tokens are signed with it; other keys (check-in codes) are
/// derived from it, so replicas sharing it agree on all of them.
pub fn server_secret(config: &Config) -> anyhow::Result<Vec<u8>> {
    match &config.jwt_secret {
        Some(secret) => Ok(secret.expose().as_bytes().to_vec()),
        None => load_or_create_key_file(&config.data_dir.join("jwt.key")),
    }
}

/// The master key of ID-number encryption: the configured `TONGXING_IDENTITY_KEY` (base64 of
/// at least 32 bytes), or the key kept in the data dir (generated on first start). Separate from
/// the JWT secret so rotating one never makes the other's data unreadable. Losing it loses the
/// encrypted ID numbers: back it up with the database.
pub fn identity_key(config: &Config) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    match &config.identity_key {
        Some(key) => STANDARD
            .decode(key.expose().trim())
            .context("TONGXING_IDENTITY_KEY is not base64"),
        None => load_or_create_key_file(&config.data_dir.join("identity.key")),
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Read the base64 key in `path`, or create it (32 random bytes, mode 0600) if absent. The key
/// is written to a private temporary file first and then linked into place, so a process
/// starting at the same moment sees either no key file or a complete one.
fn load_or_create_key_file(path: &Path) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    let read = |p: &Path| -> anyhow::Result<Vec<u8>> {
        let text = std::fs::read_to_string(p)?;
        STANDARD
            .decode(text.trim())
            .with_context(|| format!("{} is not base64", p.display()))
    };
    if path.exists() {
        return read(path);
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut key = vec![0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let tmp = dir.join(format!(".key.{}", uuid::Uuid::new_v4().simple()));
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options
            .open(&tmp)
            .with_context(|| format!("creating {}", tmp.display()))?;
        file.write_all(STANDARD.encode(&key).as_bytes())?;
        file.sync_all()?;
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new key");
            Ok(key)
        }
        // Another process won the race: use its key.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(path),
        Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(key: &[u8], aud: &str) -> JwtKeys {
        JwtKeys::new(key, "tongxing", aud, Duration::from_secs(900)).unwrap()
    }

    #[test]
    fn issued_token_verifies() {
        let k = keys(&[7; 32], "tongxing-api");
        let (token, _) = k.issue(42).unwrap();
        assert_eq!(k.verify(&token).unwrap(), 42);
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(JwtKeys::new(&[1; 16], "i", "a", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn wrong_key_and_wrong_audience_are_rejected() {
        let (token, _) = keys(&[7; 32], "tongxing-api").issue(1).unwrap();
        assert!(keys(&[8; 32], "tongxing-api").verify(&token).is_err());
        assert!(keys(&[7; 32], "other-api").verify(&token).is_err());
    }

    #[test]
    fn alg_none_is_rejected() {
        let k = keys(&[7; 32], "tongxing-api");
        let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            r#"{{"iss":"tongxing","aud":"tongxing-api","sub":"1","exp":{},"iat":{}}}"#,
            now_secs() + 600,
            now_secs()
        ));
        assert!(k.verify(&format!("{header}.{body}.")).is_err());
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("jwt.key");
        let first = load_or_create_key_file(&path).unwrap();
        let second = load_or_create_key_file(&path).unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(first, second);
    }
}
