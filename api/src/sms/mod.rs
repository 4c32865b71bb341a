//! Text messages to phones: one-time codes that prove a person holds a number, and
//! notifications that matter (issue 19, [`Sender::send_notice`]). Senders are
//! chosen by `TONGXING_SMS_SENDER`: `aliyun` (Alibaba Cloud SMS, [`aliyun`]) in production, or
//! `file:PATH` for development and tests, which appends each message as one JSON line
//! `{"phone": …, "text": …}` to PATH. Production refuses to start with the file sender.

pub mod aliyun;

use std::{io::Write, path::PathBuf};

use entity::notification::NotificationKind;
use sea_orm::ActiveEnum;

use crate::{
    error::{AppError, AppResult},
    notifications::templates::Templates,
};

/// Make rustls use *ring* (as sqlx does) for every HTTPS client in the process; reqwest needs
/// a provider before any client is built. Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Where messages go.
pub enum Sender {
    /// One JSON line per message, appended to a file (development and tests).
    File(std::sync::Mutex<PathBuf>),
    /// Alibaba Cloud SMS.
    Aliyun(aliyun::Aliyun),
}

impl Sender {
    /// The sender the configuration names.
    pub fn from_config(config: &crate::config::Config) -> anyhow::Result<Self> {
        use crate::config::Environment;
        let spec = config.sms_sender.clone().unwrap_or_else(|| {
            format!(
                "file:{}",
                config.data_dir.join("sms-outbox.jsonl").display()
            )
        });
        if let Some(path) = spec.strip_prefix("file:") {
            anyhow::ensure!(
                config.environment != Environment::Production,
                "TONGXING_SMS_SENDER: the file sender is for development; production sends \
                 through a provider (TONGXING_SMS_SENDER=aliyun)"
            );
            anyhow::ensure!(!path.is_empty(), "TONGXING_SMS_SENDER=file: needs a path");
            return Ok(Self::File(std::sync::Mutex::new(PathBuf::from(path))));
        }
        match spec.as_str() {
            "aliyun" => Ok(Self::Aliyun(aliyun::Aliyun::from_config(config)?)),
            other => {
                anyhow::bail!("TONGXING_SMS_SENDER must be `aliyun` or `file:PATH`, not `{other}`")
            }
        }
    }

    /// Send a one-time code to `phone` (a mainland number, 11 digits).
    pub async fn send_code(&self, phone: &str, code: &str) -> AppResult<()> {
        match self {
            Self::File(path) => {
                let text = format!("【同行】验证码 {code}，5 分钟内有效。请勿告诉他人。");
                append(path, &serde_json::json!({ "phone": phone, "text": text }))
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("SMS outbox: {e}")))
            }
            // Boxed: an HTTP request's future is large, and resolvers' stacks are not.
            Self::Aliyun(a) => Box::pin(a.send_code(phone, code)).await,
        }
    }

    /// Whether notifications of `kind` can be texted: the file sender texts every kind, a
    /// provider those with an approved template in `templates`.
    pub fn can_notify(&self, templates: &Templates, kind: NotificationKind) -> bool {
        match self {
            Self::File(_) => true,
            Self::Aliyun(_) => templates.of(kind).is_some(),
        }
    }

    /// Send a notification of `kind` to `phone`: `text` is the whole message (what the file
    /// sender writes), `params` the template's parameters (what a provider gets, with the
    /// template of `kind` from `templates`), `out_id` our reference for receipts.
    pub async fn send_notice(
        &self,
        phone: &str,
        templates: &Templates,
        kind: NotificationKind,
        text: &str,
        params: &serde_json::Value,
        out_id: &str,
    ) -> Result<(), SendError> {
        match self {
            Self::File(path) => append(
                path,
                &serde_json::json!({ "phone": phone, "text": text, "kind": kind.to_value(), "outId": out_id }),
            )
            .map_err(|e| SendError::Transient(format!("SMS outbox: {e}"))),
            Self::Aliyun(a) => {
                let template = templates.of(kind).ok_or_else(|| {
                    SendError::Permanent("no SMS template is configured for the kind".into())
                })?;
                Box::pin(a.send(phone, template, params, Some(out_id))).await
            }
        }
    }
}

/// Why a message was not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// Trying again later may work (network, provider busy or rate-limited).
    Transient(String),
    /// It never will (bad number, template, refused for good).
    Permanent(String),
}

impl SendError {
    /// What went wrong, for logs and dead letters (never personal data).
    pub fn reason(&self) -> &str {
        match self {
            Self::Transient(r) | Self::Permanent(r) => r,
        }
    }
}

/// Append `line` as one JSON line to the file sender's file.
fn append(path: &std::sync::Mutex<PathBuf>, line: &serde_json::Value) -> std::io::Result<()> {
    let path = path.lock().unwrap_or_else(|e| e.into_inner());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&*path)?;
    writeln!(file, "{line}")
}
