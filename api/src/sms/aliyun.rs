//! Alibaba Cloud SMS (`SendSms`, API version 2017-05-25): a form POST signed with HMAC-SHA1
//! over the percent-encoded, sorted parameters (signature version 1.0). The sign name (签名)
//! and template (模板) come from the configuration; the template has one parameter, `code`.

use base64::{Engine, engine::general_purpose::STANDARD};
use chrono::Utc;
use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::Sha1;

use crate::{
    config::{Config, Secret},
    error::{AppError, AppResult},
};

/// RFC 3986 unreserved characters stay; everything else is encoded (space as `%20`).
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode(s: &str) -> String {
    utf8_percent_encode(s, ENCODE).to_string()
}

/// The signature of `params` (without `Signature`) for an HTTP `method` with `secret`.
pub fn sign(method: &str, params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{method}&{}&{}", encode("/"), encode(&canonical));
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC takes any key");
    mac.update(to_sign.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The Alibaba Cloud SMS sender.
pub struct Aliyun {
    client: reqwest::Client,
    endpoint: String,
    access_key_id: String,
    access_key_secret: Secret,
    sign_name: String,
    template_code: String,
}

impl Aliyun {
    /// From `TONGXING_SMS_ALIYUN_*`; every setting is required.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let need = |v: &Option<String>, name: &str| {
            v.clone()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| anyhow::anyhow!("TONGXING_SMS_SENDER=aliyun needs {name}"))
        };
        super::install_tls_provider();
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()?,
            endpoint: config.sms_endpoint.clone(),
            access_key_id: need(&config.sms_access_key_id, "TONGXING_SMS_ACCESS_KEY_ID")?,
            access_key_secret: config
                .sms_access_key_secret
                .clone()
                .filter(|s| !s.expose().is_empty())
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "TONGXING_SMS_SENDER=aliyun needs TONGXING_SMS_ACCESS_KEY_SECRET"
                    )
                })?,
            sign_name: need(&config.sms_sign_name, "TONGXING_SMS_SIGN_NAME")?,
            template_code: need(&config.sms_template_code, "TONGXING_SMS_TEMPLATE_CODE")?,
        })
    }

    /// Send `code` to `phone` (11 digits) with the configured template.
    pub async fn send_code(&self, phone: &str, code: &str) -> AppResult<()> {
        let template = self.template_code.clone();
        self.send(phone, &template, &serde_json::json!({ "code": code }), None)
            .await
            .map_err(|e| {
                tracing::error!(provider = "aliyun", why = %e.reason(), "SMS not sent");
                AppError::ProviderUnavailable(msg!(
                    "the text message could not be sent; try again shortly",
                    "短信发送失败，请稍后重试"
                ))
            })
    }

    /// Send the template `template` with `params` (a JSON object) to `phone` (11 digits);
    /// `out_id` is echoed in the provider's receipts. What went wrong says whether trying
    /// again can help; it never holds the number or the parameters.
    pub async fn send(
        &self,
        phone: &str,
        template: &str,
        params: &serde_json::Value,
        out_id: Option<&str>,
    ) -> Result<(), super::SendError> {
        use super::SendError;
        // Mainland numbers (the only ones accounts hold) go as the 11 digits.
        let number = phone.trim_start_matches("+86").to_owned();
        let mut params: Vec<(String, String)> = [
            ("AccessKeyId", self.access_key_id.clone()),
            ("Action", "SendSms".to_owned()),
            ("Format", "JSON".to_owned()),
            ("PhoneNumbers", number),
            ("RegionId", "cn-hangzhou".to_owned()),
            ("SignName", self.sign_name.clone()),
            ("SignatureMethod", "HMAC-SHA1".to_owned()),
            ("SignatureNonce", uuid::Uuid::new_v4().to_string()),
            ("SignatureVersion", "1.0".to_owned()),
            ("TemplateCode", template.to_owned()),
            ("TemplateParam", params.to_string()),
            (
                "Timestamp",
                Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
            ("Version", "2017-05-25".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(out_id.map(|o| ("OutId".to_owned(), o.to_owned())))
        .collect();
        let signature = sign("POST", &params, self.access_key_secret.expose());
        params.push(("Signature".to_owned(), signature));
        let resp = self
            .client
            .post(&self.endpoint)
            .form(&params)
            .send()
            .await
            .map_err(|e| SendError::Transient(format!("aliyun: {:#}", e.without_url())))?;
        let status = resp.status();
        let body: serde_json::Value = resp.json().await.map_err(|e| {
            SendError::Transient(format!("aliyun: {status}: {:#}", e.without_url()))
        })?;
        let code = body["Code"].as_str().unwrap_or("?");
        if code == "OK" {
            return Ok(());
        }
        // The provider's code and message, never the number or what was sent.
        let reason = format!(
            "aliyun: {status}: {code} {}",
            body["Message"].as_str().unwrap_or("")
        );
        Err(if PERMANENT.contains(&code) {
            SendError::Permanent(reason)
        } else {
            SendError::Transient(reason)
        })
    }
}

/// Refusals that the same message would get again: a bad number, template or signature.
const PERMANENT: [&str; 7] = [
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.TEMPLATE_PARAMS_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.SMS_CONTENT_ILLEGAL",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Alibaba Cloud's signature documentation (RPC, version 1.0).
    #[test]
    fn signs_the_documented_example() {
        let params: Vec<(String, String)> = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            sign("GET", &params, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn encodes_as_rfc_3986() {
        assert_eq!(encode("a b*~"), "a%20b%2A~");
        assert_eq!(encode("{\"code\":\"1\"}"), "%7B%22code%22%3A%221%22%7D");
    }
}
