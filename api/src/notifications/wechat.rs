//! WeChat mini-program subscribe messages (订阅消息).
//!
//! - **Access token**: `POST /cgi-bin/stable_token` (the stable token: every replica gets the
//!   same token until it expires, so replicas do not invalidate each other's), cached until
//!   five minutes before it expires, and fetched again when WeChat says it is invalid or
//!   expired (40001, 42001, 40014).
//! - **Sending**: `POST /cgi-bin/message/subscribe/send?access_token=…` with `touser` (the
//!   person's `openid`), `template_id`, `page`, `data`, `miniprogram_state` and `lang`.
//! - **Consents**: each `wx.requestSubscribeMessage` the person accepts allows one message with
//!   that template; the app reports them (`recordWechatConsents`) and each send spends one.
//! - **Linking**: the mini-program's `wx.login` code is exchanged at `/sns/jscode2session` for
//!   the person's `openid`.

use std::time::{Duration, Instant};

use chrono::Utc;
use entity::{wechat_consent, wechat_link};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use serde_json::{Value, json};

use super::templates::Templates;
use crate::{
    config::{Config, Secret},
    error::{AppError, AppResult},
    sms::SendError,
};

/// Consents kept per template at most (WeChat itself keeps no more than this is useful).
pub const MAX_CONSENTS: i32 = 50;

/// The mini-program's message sender.
pub struct Wechat {
    client: reqwest::Client,
    endpoint: String,
    appid: String,
    secret: Secret,
    /// Template of each kind.
    pub templates: Templates,
    page: String,
    state: String,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

/// WeChat's answer when the access token is invalid or expired.
const STALE_TOKEN: [i64; 3] = [40001, 42001, 40014];

impl Wechat {
    /// From `TONGXING_WECHAT_*`: `None` unless the AppID is set; then the secret and at least
    /// one template are required.
    pub fn from_config(config: &Config) -> anyhow::Result<Option<Self>> {
        let Some(appid) = config.wechat_appid.clone().filter(|a| !a.is_empty()) else {
            return Ok(None);
        };
        let secret = config
            .wechat_secret
            .clone()
            .filter(|s| !s.expose().is_empty())
            .ok_or_else(|| anyhow::anyhow!("TONGXING_WECHAT_APPID needs TONGXING_WECHAT_SECRET"))?;
        let templates = Templates::parse(
            config.wechat_templates.as_deref(),
            "TONGXING_WECHAT_TEMPLATES",
        )?;
        anyhow::ensure!(
            !templates.is_empty(),
            "TONGXING_WECHAT_APPID needs TONGXING_WECHAT_TEMPLATES"
        );
        crate::sms::install_tls_provider();
        Ok(Some(Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?,
            endpoint: config.wechat_endpoint.trim_end_matches('/').to_owned(),
            appid,
            secret,
            templates,
            page: config.wechat_page.clone(),
            state: config.wechat_miniprogram_state.clone(),
            token: tokio::sync::Mutex::new(None),
        }))
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value, SendError> {
        let resp = req
            .send()
            .await
            // Without the URL: it carries the access token or the app secret.
            .map_err(|e| SendError::Transient(format!("wechat: {:#}", e.without_url())))?;
        let status = resp.status();
        resp.json()
            .await
            .map_err(|e| SendError::Transient(format!("wechat: {status}: {:#}", e.without_url())))
    }

    /// The access token: cached, or fetched (and cached) when missing, near expiry, or the
    /// cached one is `stale` (WeChat refused it; another send may have refreshed it already).
    async fn access_token(&self, stale: Option<&str>) -> Result<String, SendError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && stale != Some(token.as_str())
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let body = self
            .call(
                self.client
                    .post(format!("{}/cgi-bin/stable_token", self.endpoint))
                    .json(&json!({
                        "grant_type": "client_credential",
                        "appid": self.appid,
                        "secret": self.secret.expose(),
                        "force_refresh": false,
                    })),
            )
            .await?;
        let Some(token) = body["access_token"].as_str() else {
            return Err(SendError::Transient(format!(
                "wechat token: {} {}",
                body["errcode"],
                body["errmsg"].as_str().unwrap_or("")
            )));
        };
        let ttl = body["expires_in"]
            .as_u64()
            .unwrap_or(7200)
            .saturating_sub(300);
        *cached = Some((token.to_owned(), Instant::now() + Duration::from_secs(ttl)));
        Ok(token.to_owned())
    }

    /// Send the template `template` with `data` to `openid`.
    pub async fn send(&self, openid: &str, template: &str, data: &Value) -> Result<(), SendError> {
        let message = json!({
            "touser": openid,
            "template_id": template,
            "page": self.page,
            "data": data,
            "miniprogram_state": self.state,
            "lang": "zh_CN",
        });
        let mut stale: Option<String> = None;
        loop {
            let token = self.access_token(stale.as_deref()).await?;
            let body = self
                .call(
                    self.client
                        .post(format!("{}/cgi-bin/message/subscribe/send", self.endpoint))
                        .query(&[("access_token", token.as_str())])
                        .json(&message),
                )
                .await?;
            let code = body["errcode"].as_i64().unwrap_or(-1);
            if code == 0 {
                return Ok(());
            }
            if STALE_TOKEN.contains(&code) && stale.is_none() {
                stale = Some(token);
                continue;
            }
            let reason = format!(
                "wechat: {code} {}",
                body["errmsg"]
                    .as_str()
                    .unwrap_or("")
                    .split(" rid:")
                    .next()
                    .unwrap_or("")
            );
            return Err(match code {
                // Refused by the user (no consent), bad openid, bad template or data.
                43101 | 40003 | 40037 | 47003 | 41030 => SendError::Permanent(reason),
                _ => SendError::Transient(reason),
            });
        }
    }

    /// The `openid` of the person whose `wx.login` gave `code`.
    pub async fn openid(&self, code: &str) -> AppResult<String> {
        let body = self
            .call(
                self.client
                    .get(format!("{}/sns/jscode2session", self.endpoint))
                    .query(&[
                        ("appid", self.appid.as_str()),
                        ("secret", self.secret.expose()),
                        ("js_code", code),
                        ("grant_type", "authorization_code"),
                    ]),
            )
            .await
            .map_err(|e| {
                tracing::warn!(why = e.reason(), "wechat login not checked");
                AppError::ProviderUnavailable(msg!(
                    "WeChat could not be reached; try again shortly",
                    "暂时无法连接微信，请稍后重试"
                ))
            })?;
        match body["openid"].as_str() {
            Some(openid) if !openid.is_empty() && openid.len() <= 128 => Ok(openid.to_owned()),
            _ => {
                let code = body["errcode"].as_i64().unwrap_or(-1);
                if code == 40029 || code == 40163 {
                    Err(AppError::bad_input(
                        "code",
                        msg!(
                            "the WeChat login code is invalid or used; call wx.login again",
                            "微信登录凭证无效或已使用，请重新调用 wx.login"
                        ),
                    ))
                } else {
                    tracing::warn!(errcode = code, "wechat login refused");
                    Err(AppError::ProviderUnavailable(msg!(
                        "WeChat could not check the login; try again shortly",
                        "微信暂时无法验证登录，请稍后重试"
                    )))
                }
            }
        }
    }
}

/// Link `account` to the mini-program user `openid` (moving it from any other account: one
/// WeChat user receives one account's messages).
pub async fn link(db: &sea_orm::DatabaseConnection, account: i64, openid: &str) -> AppResult<()> {
    let txn = crate::db::begin_write(db).await?;
    wechat_link::Entity::delete_many()
        .filter(wechat_link::Column::Openid.eq(openid))
        .filter(wechat_link::Column::AccountId.ne(account))
        .exec(&txn)
        .await?;
    wechat_link::Entity::insert(wechat_link::ActiveModel {
        account_id: Set(account),
        openid: Set(openid.to_owned()),
        linked_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(wechat_link::Column::AccountId)
            .update_columns([wechat_link::Column::Openid, wechat_link::Column::LinkedAt])
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Record that `account` accepted one message of each of `templates` (each must be one of
/// `ours`). Returns the consents left per template, in the order given.
pub async fn consent<C: ConnectionTrait>(
    db: &C,
    account: i64,
    templates: &[String],
    ours: &Templates,
) -> AppResult<Vec<i32>> {
    if templates.iter().any(|t| !ours.knows(t)) {
        return Err(AppError::bad_input(
            "templateIds",
            msg!(
                "not a template of this mini-program",
                "不是本小程序的订阅消息模板"
            ),
        ));
    }
    let mut left = Vec::with_capacity(templates.len());
    for template in templates {
        wechat_consent::Entity::insert(wechat_consent::ActiveModel {
            account_id: Set(account),
            template_id: Set(template.clone()),
            remaining: Set(1),
            updated_at: Set(Utc::now()),
        })
        .on_conflict(
            OnConflict::columns([
                wechat_consent::Column::AccountId,
                wechat_consent::Column::TemplateId,
            ])
            .value(
                wechat_consent::Column::Remaining,
                Expr::cust(format!(
                    "CASE WHEN wechat_consent.remaining < {MAX_CONSENTS} \
                     THEN wechat_consent.remaining + 1 ELSE {MAX_CONSENTS} END"
                )),
            )
            .update_column(wechat_consent::Column::UpdatedAt)
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        let row = wechat_consent::Entity::find_by_id((account, template.clone()))
            .one(db)
            .await?;
        left.push(row.map_or(0, |r| r.remaining));
    }
    Ok(left)
}

/// Spend `n` of `account`'s consents for `template`; `false` (and nothing spent) when fewer
/// are left.
pub async fn spend<C: ConnectionTrait>(
    db: &C,
    account: i64,
    template: &str,
    n: i32,
) -> AppResult<bool> {
    let changed = wechat_consent::Entity::update_many()
        .col_expr(
            wechat_consent::Column::Remaining,
            Expr::col(wechat_consent::Column::Remaining).sub(n),
        )
        .col_expr(wechat_consent::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(wechat_consent::Column::AccountId.eq(account))
        .filter(wechat_consent::Column::TemplateId.eq(template))
        .filter(wechat_consent::Column::Remaining.gte(n))
        .exec(db)
        .await?
        .rows_affected;
    Ok(changed == 1)
}

/// Give back a consent spent on a message that was not sent.
pub async fn refund<C: ConnectionTrait>(db: &C, account: i64, template: &str) -> AppResult<()> {
    wechat_consent::Entity::update_many()
        .col_expr(
            wechat_consent::Column::Remaining,
            Expr::col(wechat_consent::Column::Remaining).add(1),
        )
        .filter(wechat_consent::Column::AccountId.eq(account))
        .filter(wechat_consent::Column::TemplateId.eq(template))
        .filter(wechat_consent::Column::Remaining.lt(MAX_CONSENTS))
        .exec(db)
        .await?;
    Ok(())
}

/// The person refused the template (WeChat said so): no consent is left.
pub async fn forget<C: ConnectionTrait>(db: &C, account: i64, template: &str) -> AppResult<()> {
    wechat_consent::Entity::update_many()
        .col_expr(wechat_consent::Column::Remaining, Expr::value(0))
        .filter(wechat_consent::Column::AccountId.eq(account))
        .filter(wechat_consent::Column::TemplateId.eq(template))
        .exec(db)
        .await?;
    Ok(())
}
