//! Text messages to phones: one-time codes that prove a person holds a number. Senders are
//! chosen by `TONGXING_SMS_SENDER`: `aliyun` (Alibaba Cloud SMS, [`aliyun`]) in production, or
//! `file:PATH` for development and tests, which appends each message as one JSON line
//! `{"phone": …, "text": …}` to PATH. Production refuses to start with the file sender.

pub mod aliyun;

use std::{io::Write, path::PathBuf};

use crate::error::{AppError, AppResult};

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
                let line = serde_json::json!({ "phone": phone, "text": text }).to_string();
                let path = path.lock().unwrap_or_else(|e| e.into_inner());
                let mut file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&*path)
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("SMS outbox: {e}")))?;
                writeln!(file, "{line}")
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("SMS outbox: {e}")))?;
                Ok(())
            }
            // Boxed: an HTTP request's future is large, and resolvers' stacks are not.
            Self::Aliyun(a) => Box::pin(a.send_code(phone, code)).await,
        }
    }
}
