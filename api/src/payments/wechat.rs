//! WeChat Pay API v3: APP orders, and the signed, encrypted payment notification.
//!
//! - **Our requests** carry `Authorization: WECHATPAY2-SHA256-RSA2048 …`, an RSA-SHA256
//!   (PKCS#1 v1.5) signature by the merchant key over `METHOD\nPATH\ntimestamp\nnonce\nbody\n`.
//! - **Everything WeChat Pay sends us** (answers and notifications) carries `Wechatpay-Timestamp`,
//!   `-Nonce`, `-Signature` and `-Serial`: the signature by the WeChat Pay public key over
//!   `timestamp\nnonce\nbody\n`. We check the key ID, that the timestamp is within five minutes
//!   of now, and the signature, before reading a byte of the body.
//! - **A notification's resource** is AES-256-GCM encrypted with the APIv3 key (nonce and
//!   associated data alongside); it decrypts only if it is untouched.
//!
//! RSA comes from `jsonwebtoken` (RS256 is this exact scheme), so the binary holds one RSA
//! implementation, the one our tokens already trust; AES-GCM from RustCrypto's `aes-gcm`, as
//! the identity vault uses.

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};

use super::Paid;
use crate::{
    config::Config,
    error::{AppError, AppResult},
};

/// How far a signed message's timestamp may be from our clock.
const MAX_SKEW_SECS: i64 = 300;

/// What the mobile app hands to the WeChat SDK (`PayReq`) to pay an order.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, async_graphql::SimpleObject)]
#[graphql(name = "WechatAppPayment")]
pub struct AppPayment {
    /// The app ID.
    pub app_id: String,
    /// The merchant ID (`partnerId`).
    pub partner_id: String,
    /// The order's prepay ID.
    pub prepay_id: String,
    /// Always `Sign=WXPay`.
    pub package: String,
    /// A random string.
    pub nonce_str: String,
    /// Seconds since the epoch, as a string.
    pub timestamp: String,
    /// RSA-SHA256 by the merchant key over `appId\ntimestamp\nnonceStr\nprepayId\n`, base64.
    pub sign: String,
}

/// An order to open.
pub struct Order<'a> {
    /// Our order number.
    pub out_trade_no: &'a str,
    /// What the donor sees in WeChat (at most 127 bytes).
    pub description: &'a str,
    /// Fen.
    pub total_fen: i64,
    /// After this, WeChat Pay takes no payment for the order.
    pub expires_at: DateTime<Utc>,
}

/// Why a notification was refused. Nothing changes for any of them.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    /// Missing or malformed `Wechatpay-*` headers.
    #[error("missing or malformed Wechatpay-* headers")]
    Headers,
    /// Signed by a key we do not know.
    #[error("signed by an unknown key")]
    UnknownKey,
    /// Timestamp more than five minutes away from now (a replay or a broken clock).
    #[error("timestamp too far from now")]
    Stale,
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// Signed, but not a payment notification we understand.
    #[error("{0}")]
    Unreadable(&'static str),
    /// Signed, but its resource does not decrypt with our APIv3 key.
    #[error("resource does not decrypt")]
    Undecryptable,
    /// A payment for another merchant or app, or not a successful CNY payment.
    #[error("{0}")]
    NotOurs(&'static str),
}

/// The WeChat Pay merchant account this server takes donations with.
pub struct WechatPay {
    client: reqwest::Client,
    endpoint: String,
    mchid: String,
    appid: String,
    merchant_serial: String,
    merchant_key: EncodingKey,
    platform_key_id: String,
    platform_key: DecodingKey,
    cipher: Aes256Gcm,
    notify_url: String,
}

impl std::fmt::Debug for WechatPay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPay")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .finish_non_exhaustive()
    }
}

/// RSA-SHA256 (PKCS#1 v1.5) of `message`, standard base64 as WeChat Pay writes it.
pub fn rsa_sign(key: &EncodingKey, message: &str) -> AppResult<String> {
    let url_safe = jsonwebtoken::crypto::sign(message.as_bytes(), key, Algorithm::RS256)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("signing for WeChat Pay: {e}")))?;
    let raw = URL_SAFE_NO_PAD
        .decode(url_safe)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("signing for WeChat Pay: {e}")))?;
    Ok(STANDARD.encode(raw))
}

/// Whether `signature` (standard base64) is an RSA-SHA256 signature of `message` by `key`.
pub fn rsa_verify(key: &DecodingKey, message: &str, signature: &str) -> bool {
    let Ok(raw) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    jsonwebtoken::crypto::verify(
        &URL_SAFE_NO_PAD.encode(raw),
        message.as_bytes(),
        key,
        Algorithm::RS256,
    )
    .unwrap_or(false)
}

/// A random 32-character nonce.
fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The `Wechatpay-*` headers of a signed message.
struct Signed<'a> {
    timestamp: &'a str,
    nonce: &'a str,
    signature: &'a str,
    serial: &'a str,
}

impl<'a> Signed<'a> {
    fn from_headers(headers: &'a axum::http::HeaderMap) -> Result<Self, Refused> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .filter(|v| !v.is_empty())
                .ok_or(Refused::Headers)
        };
        Ok(Self {
            timestamp: get("wechatpay-timestamp")?,
            nonce: get("wechatpay-nonce")?,
            signature: get("wechatpay-signature")?,
            serial: get("wechatpay-serial")?,
        })
    }
}

/// The notification's envelope.
#[derive(Deserialize)]
struct Notification {
    event_type: String,
    resource: Resource,
}

#[derive(Deserialize)]
struct Resource {
    algorithm: String,
    ciphertext: String,
    #[serde(default)]
    associated_data: String,
    nonce: String,
}

/// The decrypted transaction (the fields we read).
#[derive(Deserialize)]
struct Transaction {
    appid: String,
    mchid: String,
    out_trade_no: String,
    transaction_id: String,
    trade_state: String,
    success_time: Option<DateTime<chrono::FixedOffset>>,
    amount: Amount,
}

#[derive(Deserialize)]
struct Amount {
    total: i64,
    currency: String,
}

impl WechatPay {
    /// From `TONGXING_WECHATPAY_*`; every setting without a default is required.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        use anyhow::Context;
        let need = |v: &Option<String>, name: &str| {
            v.clone().filter(|s| !s.is_empty()).ok_or_else(|| {
                anyhow::anyhow!("TONGXING_WECHATPAY_MCHID is set, so {name} is needed too")
            })
        };
        let read = |v: &Option<std::path::PathBuf>, name: &str| -> anyhow::Result<Vec<u8>> {
            let path = v.as_ref().ok_or_else(|| {
                anyhow::anyhow!("TONGXING_WECHATPAY_MCHID is set, so {name} is needed too")
            })?;
            std::fs::read(path).with_context(|| format!("{name}: reading {}", path.display()))
        };
        let api_v3_key = config.wechatpay_api_v3_key.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "TONGXING_WECHATPAY_MCHID is set, so TONGXING_WECHATPAY_API_V3_KEY is needed too"
            )
        })?;
        let cipher = Aes256Gcm::new_from_slice(api_v3_key.expose().as_bytes()).map_err(|_| {
            anyhow::anyhow!("TONGXING_WECHATPAY_API_V3_KEY must be exactly 32 characters")
        })?;
        let notify_url = need(
            &config.wechatpay_notify_url,
            "TONGXING_WECHATPAY_NOTIFY_URL",
        )?;
        if config.environment == crate::config::Environment::Production {
            anyhow::ensure!(
                notify_url.starts_with("https://"),
                "TONGXING_WECHATPAY_NOTIFY_URL must be an https:// address in production"
            );
        }
        super::super::sms::install_tls_provider();
        let this = Self {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()?,
            endpoint: config.wechatpay_endpoint.trim_end_matches('/').to_owned(),
            mchid: need(&config.wechatpay_mchid, "TONGXING_WECHATPAY_MCHID")?,
            appid: need(&config.wechatpay_appid, "TONGXING_WECHATPAY_APPID")?,
            merchant_serial: need(
                &config.wechatpay_merchant_serial,
                "TONGXING_WECHATPAY_MERCHANT_SERIAL",
            )?,
            merchant_key: EncodingKey::from_rsa_pem(&read(
                &config.wechatpay_merchant_key_file,
                "TONGXING_WECHATPAY_MERCHANT_KEY_FILE",
            )?)
            .context("TONGXING_WECHATPAY_MERCHANT_KEY_FILE must hold an RSA private key (PEM)")?,
            platform_key_id: need(
                &config.wechatpay_platform_key_id,
                "TONGXING_WECHATPAY_PLATFORM_KEY_ID",
            )?,
            platform_key: DecodingKey::from_rsa_pem(&read(
                &config.wechatpay_platform_key_file,
                "TONGXING_WECHATPAY_PLATFORM_KEY_FILE",
            )?)
            .context("TONGXING_WECHATPAY_PLATFORM_KEY_FILE must hold an RSA public key (PEM)")?,
            cipher,
            notify_url,
        };
        // A key that parses may still not sign (a public key in the private key's place).
        rsa_sign(&this.merchant_key, "tongxing").map_err(|_| {
            anyhow::anyhow!("TONGXING_WECHATPAY_MERCHANT_KEY_FILE must hold an RSA private key")
        })?;
        Ok(this)
    }

    /// Check the `Wechatpay-*` signature of `body`, as of `now`.
    fn check_signed(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), Refused> {
        let signed = Signed::from_headers(headers)?;
        if signed.serial != self.platform_key_id {
            return Err(Refused::UnknownKey);
        }
        let at: i64 = signed.timestamp.parse().map_err(|_| Refused::Headers)?;
        if (now.timestamp() - at).abs() > MAX_SKEW_SECS {
            return Err(Refused::Stale);
        }
        let body = std::str::from_utf8(body).map_err(|_| Refused::BadSignature)?;
        let message = format!("{}\n{}\n{body}\n", signed.timestamp, signed.nonce);
        if rsa_verify(&self.platform_key, &message, signed.signature) {
            Ok(())
        } else {
            Err(Refused::BadSignature)
        }
    }

    /// Read a payment notification: signature first, then the encrypted resource, then that it
    /// is a successful CNY payment to this merchant and app.
    pub fn read_notification(
        &self,
        headers: &axum::http::HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Paid, Refused> {
        self.check_signed(headers, body, now)?;
        let n: Notification =
            serde_json::from_slice(body).map_err(|_| Refused::Unreadable("not a notification"))?;
        if n.event_type != "TRANSACTION.SUCCESS" {
            return Err(Refused::Unreadable(
                "not a TRANSACTION.SUCCESS notification",
            ));
        }
        if n.resource.algorithm != "AEAD_AES_256_GCM" {
            return Err(Refused::Unreadable(
                "resource algorithm is not AEAD_AES_256_GCM",
            ));
        }
        let nonce: [u8; 12] = n
            .resource
            .nonce
            .as_bytes()
            .try_into()
            .map_err(|_| Refused::Undecryptable)?;
        let ciphertext = STANDARD
            .decode(&n.resource.ciphertext)
            .map_err(|_| Refused::Undecryptable)?;
        let plain = self
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: n.resource.associated_data.as_bytes(),
                },
            )
            .map_err(|_| Refused::Undecryptable)?;
        let t: Transaction = serde_json::from_slice(&plain)
            .map_err(|_| Refused::Unreadable("the resource is not a transaction"))?;
        if t.mchid != self.mchid || t.appid != self.appid {
            return Err(Refused::NotOurs("a payment to another merchant or app"));
        }
        if t.trade_state != "SUCCESS" {
            return Err(Refused::NotOurs("the payment did not succeed"));
        }
        if t.amount.currency != "CNY" {
            return Err(Refused::NotOurs("the payment is not in CNY"));
        }
        if t.transaction_id.is_empty() || t.transaction_id.len() > 32 {
            return Err(Refused::Unreadable(
                "a transaction ID of 1–32 characters is needed",
            ));
        }
        Ok(Paid {
            out_trade_no: t.out_trade_no,
            transaction_id: t.transaction_id,
            total_fen: t.amount.total,
            paid_at: t.success_time.map_or(now, |t| t.with_timezone(&Utc)),
        })
    }

    /// Open an APP order (`POST /v3/pay/transactions/app`) and sign the parameters the app
    /// pays it with. Opening the same order again is safe: WeChat Pay answers with the same
    /// prepay ID, or refuses one already paid.
    pub async fn open_app_order(&self, order: &Order<'_>) -> AppResult<AppPayment> {
        const PATH: &str = "/v3/pay/transactions/app";
        let expires = order
            .expires_at
            .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let body = serde_json::json!({
            "appid": self.appid,
            "mchid": self.mchid,
            "description": order.description,
            "out_trade_no": order.out_trade_no,
            "time_expire": expires,
            "notify_url": self.notify_url,
            "amount": { "total": order.total_fen, "currency": "CNY" },
        })
        .to_string();
        let timestamp = Utc::now().timestamp().to_string();
        let nonce_str = nonce();
        let signature = rsa_sign(
            &self.merchant_key,
            &format!("POST\n{PATH}\n{timestamp}\n{nonce_str}\n{body}\n"),
        )?;
        let authorization = format!(
            "WECHATPAY2-SHA256-RSA2048 mchid=\"{}\",nonce_str=\"{nonce_str}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
            self.mchid, self.merchant_serial
        );
        let unavailable = |what: &str| {
            tracing::warn!(what, "WeChat Pay order failed");
            AppError::ProviderUnavailable(msg!(
                "the payment service is unavailable; try again shortly",
                "支付服务暂不可用，请稍后重试"
            ))
        };
        let response = self
            .client
            .post(format!("{}{PATH}", self.endpoint))
            .header("Authorization", authorization)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| unavailable(&e.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unavailable(&e.to_string()))?;
        if let Err(why) = self.check_signed(&headers, &bytes, Utc::now()) {
            return Err(unavailable(&format!("unsigned answer ({why})")));
        }
        #[derive(Deserialize)]
        struct Prepay {
            prepay_id: String,
        }
        #[derive(Deserialize)]
        struct Failure {
            code: String,
        }
        if !status.is_success() {
            let code = serde_json::from_slice::<Failure>(&bytes)
                .map(|f| f.code)
                .unwrap_or_default();
            if code == "ORDERPAID" {
                return Err(AppError::Conflict(msg!(
                    "this donation is already paid; its confirmation is on its way",
                    "该笔捐赠已支付，到账确认稍后送达"
                )));
            }
            return Err(unavailable(&format!("HTTP {status} {code}")));
        }
        let prepay: Prepay =
            serde_json::from_slice(&bytes).map_err(|e| unavailable(&e.to_string()))?;
        let timestamp = Utc::now().timestamp().to_string();
        let nonce_str = nonce();
        let sign = rsa_sign(
            &self.merchant_key,
            &format!(
                "{}\n{timestamp}\n{nonce_str}\n{}\n",
                self.appid, prepay.prepay_id
            ),
        )?;
        Ok(AppPayment {
            app_id: self.appid.clone(),
            partner_id: self.mchid.clone(),
            prepay_id: prepay.prepay_id,
            package: "Sign=WXPay".into(),
            nonce_str,
            timestamp,
            sign,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MERCHANT_KEY: &[u8] =
        include_bytes!("../../../tests/fixtures/wechatpay/merchant_key.pem");
    const MERCHANT_PUB: &[u8] =
        include_bytes!("../../../tests/fixtures/wechatpay/merchant_pub.pem");
    const PLATFORM_PUB: &[u8] =
        include_bytes!("../../../tests/fixtures/wechatpay/platform_pub.pem");

    fn configured() -> Config {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/wechatpay");
        let mut c = Config::for_data_dir("/tmp/tx");
        c.wechatpay_mchid = Some("1900000109".into());
        c.wechatpay_appid = Some("wxd678efh567hg6787".into());
        c.wechatpay_merchant_key_file = Some(format!("{dir}/merchant_key.pem").into());
        c.wechatpay_merchant_serial = Some("5157F09E".into());
        c.wechatpay_platform_key_file = Some(format!("{dir}/platform_pub.pem").into());
        c.wechatpay_platform_key_id = Some("PUB_KEY_ID_01".into());
        c.wechatpay_api_v3_key = Some(crate::config::Secret::new(
            "0123456789abcdefghijABCDEFGHIJ01",
        ));
        c.wechatpay_notify_url = Some("https://api.example.org/payments/wechatpay/notify".into());
        c
    }

    #[test]
    fn every_setting_is_needed_and_keys_must_be_what_they_claim() {
        assert!(WechatPay::from_config(&configured()).is_ok());
        let breaks: [fn(&mut Config); 7] = [
            |c| c.wechatpay_appid = None,
            |c| c.wechatpay_merchant_serial = Some(String::new()),
            |c| c.wechatpay_platform_key_id = None,
            |c| c.wechatpay_notify_url = None,
            |c| c.wechatpay_api_v3_key = Some(crate::config::Secret::new("short")),
            // A public key where the private one belongs, and a missing file.
            |c| c.wechatpay_merchant_key_file = c.wechatpay_platform_key_file.clone(),
            |c| c.wechatpay_platform_key_file = Some("/nonexistent/pub_key.pem".into()),
        ];
        for (i, b) in breaks.into_iter().enumerate() {
            let mut c = configured();
            b(&mut c);
            assert!(WechatPay::from_config(&c).is_err(), "case {i}");
        }
        // Production takes notifications over HTTPS only.
        let mut c = configured();
        c.environment = crate::config::Environment::Production;
        c.wechatpay_notify_url = Some("http://api.example.org/notify".into());
        assert!(WechatPay::from_config(&c).is_err());
    }

    #[test]
    fn signatures_verify_only_with_the_signers_key_and_message() {
        let key = EncodingKey::from_rsa_pem(MERCHANT_KEY).unwrap();
        let signature = rsa_sign(&key, "1700000000\nnonce\n{}\n").unwrap();
        let right = DecodingKey::from_rsa_pem(MERCHANT_PUB).unwrap();
        let other = DecodingKey::from_rsa_pem(PLATFORM_PUB).unwrap();
        assert!(rsa_verify(&right, "1700000000\nnonce\n{}\n", &signature));
        assert!(!rsa_verify(&right, "1700000000\nnonce\n{ }\n", &signature));
        assert!(!rsa_verify(&other, "1700000000\nnonce\n{}\n", &signature));
        assert!(!rsa_verify(
            &right,
            "1700000000\nnonce\n{}\n",
            "not base64!"
        ));
        assert!(!rsa_verify(&right, "1700000000\nnonce\n{}\n", ""));
    }
}
