//! Local stand-ins for the notification providers, each checking what it receives the way the
//! real one does: Alibaba Cloud SMS (signed form posts) and the WeChat mini-program API
//! (stable access tokens, subscribe messages, login codes).

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicUsize, Ordering},
};

use axum::{
    Form, Json, Router,
    extract::Query,
    routing::{get, post},
};
use serde_json::{Value, json};

/// A request's form parameters.
pub type Params = Vec<(String, String)>;

/// The fake Alibaba Cloud SMS endpoint.
#[derive(Clone)]
pub struct FakeSms {
    pub url: String,
    /// Accepted requests' parameters (without `Signature`).
    pub accepted: Arc<Mutex<Vec<Params>>>,
    /// The next this many requests fail as the provider being busy.
    pub fail_next: Arc<AtomicUsize>,
    /// Requests that arrived (accepted or not).
    pub calls: Arc<AtomicUsize>,
}

pub const SMS_SECRET: &str = "sms-secret";

/// Every fake SMS provider started in this process, by endpoint (so the harness can read the
/// codes a server sent through one).
static PROVIDERS: Mutex<Vec<FakeSms>> = Mutex::new(Vec::new());

/// The last one-time code the fake provider at `endpoint` accepted for `phone`.
pub fn code_sent_to(endpoint: &str, phone: &str) -> Option<String> {
    let fake = PROVIDERS
        .lock()
        .unwrap()
        .iter()
        .find(|p| p.url == endpoint)?
        .clone();
    let accepted = fake.accepted.lock().unwrap();
    accepted.iter().rev().find_map(|r| {
        let get = |k: &str| r.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let params: Value = serde_json::from_str(&get("TemplateParam")?).ok()?;
        (get("PhoneNumbers")? == phone && get("TemplateCode")? == "SMS_CODE")
            .then(|| params["code"].as_str().map(str::to_owned))
            .flatten()
    })
}

impl FakeSms {
    pub async fn start() -> Self {
        let accepted = Arc::new(Mutex::new(Vec::new()));
        let fail_next = Arc::new(AtomicUsize::new(0));
        let calls = Arc::new(AtomicUsize::new(0));
        let (kept, failing, counted) = (accepted.clone(), fail_next.clone(), calls.clone());
        let app = Router::new().route(
            "/",
            post(move |Form(form): Form<Vec<(String, String)>>| {
                let (kept, failing, counted) = (kept.clone(), failing.clone(), counted.clone());
                async move {
                    counted.fetch_add(1, Ordering::SeqCst);
                    let given = form
                        .iter()
                        .find(|(k, _)| k == "Signature")
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default();
                    let rest: Vec<(String, String)> =
                        form.into_iter().filter(|(k, _)| k != "Signature").collect();
                    if api::sms::aliyun::sign("POST", &rest, SMS_SECRET) != given {
                        return Json(json!({ "Code": "SignatureDoesNotMatch", "Message": "bad" }));
                    }
                    if failing
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                    {
                        return Json(
                            json!({ "Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "busy" }),
                        );
                    }
                    kept.lock().unwrap().push(rest);
                    Json(json!({ "Code": "OK", "Message": "OK", "BizId": "1" }))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let fake = Self {
            url: format!("http://{addr}/"),
            accepted,
            fail_next,
            calls,
        };
        PROVIDERS.lock().unwrap().push(fake.clone());
        fake
    }

    /// The accepted requests that were notifications (not one-time codes).
    pub fn notices(&self) -> Vec<Params> {
        self.accepted
            .lock()
            .unwrap()
            .iter()
            .filter(|r| {
                r.iter()
                    .any(|(k, v)| k == "TemplateCode" && v != "SMS_CODE")
            })
            .cloned()
            .collect()
    }

    /// Point `c` at this provider, with notice templates for promotions and cancellations.
    pub fn configure(&self, c: &mut api::Config) {
        c.sms_sender = Some("aliyun".into());
        c.sms_endpoint = self.url.clone();
        c.sms_access_key_id = Some("LTAI-test".into());
        c.sms_access_key_secret = Some(api::config::Secret::new(SMS_SECRET));
        c.sms_sign_name = Some("同行志愿".into());
        c.sms_template_code = Some("SMS_CODE".into());
        c.sms_notice_templates = Some(
            "PROMOTED=SMS_PROMOTED,SHIFT_CANCELLED=SMS_CANCELLED,SIGNUP_CANCELLED=SMS_CANCELLED,HELP_OFFERED=SMS_HELP"
                .into(),
        );
    }

    /// The value of `key` in each accepted notification.
    pub fn field(&self, key: &str) -> Vec<String> {
        self.notices()
            .iter()
            .filter_map(|r| r.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()))
            .collect()
    }
}

pub const WECHAT_APPID: &str = "wx-test-app";
pub const WECHAT_SECRET: &str = "wechat-secret";

/// The fake WeChat API.
#[derive(Clone)]
pub struct FakeWechat {
    pub url: String,
    /// Subscribe messages accepted (their JSON bodies).
    pub sent: Arc<Mutex<Vec<Value>>>,
    /// Access tokens handed out.
    pub tokens: Arc<AtomicUsize>,
    /// The token currently valid (`T<n>`); earlier ones get 40001.
    current: Arc<Mutex<String>>,
    /// Users who gave no consent: 43101.
    refused: Arc<Mutex<Vec<String>>>,
}

impl FakeWechat {
    pub async fn start() -> Self {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let tokens = Arc::new(AtomicUsize::new(0));
        let current = Arc::new(Mutex::new(String::new()));
        let (t1, c1) = (tokens.clone(), current.clone());
        let refused = Arc::new(Mutex::new(Vec::<String>::new()));
        let (s2, c2, r2) = (sent.clone(), current.clone(), refused.clone());
        let app = Router::new()
            .route(
                "/cgi-bin/stable_token",
                post(move |Json(body): Json<Value>| {
                    let (tokens, current) = (t1.clone(), c1.clone());
                    async move {
                        if body["appid"] != WECHAT_APPID
                            || body["secret"] != WECHAT_SECRET
                            || body["grant_type"] != "client_credential"
                        {
                            return Json(json!({ "errcode": 40013, "errmsg": "invalid appid" }));
                        }
                        let n = tokens.fetch_add(1, Ordering::SeqCst) + 1;
                        let token = format!("T{n}");
                        *current.lock().unwrap() = token.clone();
                        Json(json!({ "access_token": token, "expires_in": 7200 }))
                    }
                }),
            )
            .route(
                "/cgi-bin/message/subscribe/send",
                post(
                    move |Query(q): Query<std::collections::HashMap<String, String>>,
                          Json(body): Json<Value>| {
                        let (sent, current, refused) = (s2.clone(), c2.clone(), r2.clone());
                        async move {
                            if body["touser"]
                                .as_str()
                                .is_some_and(|u| refused.lock().unwrap().iter().any(|r| r == u))
                            {
                                return Json(json!({ "errcode": 43101, "errmsg": "user refuse to accept the msg rid: 1" }));
                            }
                            if q.get("access_token") != Some(&*current.lock().unwrap()) {
                                return Json(
                                    json!({ "errcode": 40001, "errmsg": "invalid credential" }),
                                );
                            }
                            if body["touser"].as_str().is_none_or(str::is_empty)
                                || body["template_id"].as_str().is_none_or(str::is_empty)
                                || !body["data"].is_object()
                            {
                                return Json(
                                    json!({ "errcode": 47003, "errmsg": "argument invalid" }),
                                );
                            }
                            sent.lock().unwrap().push(body);
                            Json(json!({ "errcode": 0, "errmsg": "ok", "msgid": 1 }))
                        }
                    },
                ),
            )
            .route(
                "/sns/jscode2session",
                get(
                    |Query(q): Query<std::collections::HashMap<String, String>>| async move {
                        let ok = q.get("appid").map(String::as_str) == Some(WECHAT_APPID)
                            && q.get("secret").map(String::as_str) == Some(WECHAT_SECRET)
                            && q.get("grant_type").map(String::as_str)
                                == Some("authorization_code");
                        match q.get("js_code").map(String::as_str) {
                            Some(code) if ok && code.starts_with("code-") => Json(json!({
                                "openid": format!("openid-{}", &code[5..]),
                                "session_key": "k"
                            })),
                            _ => Json(json!({ "errcode": 40029, "errmsg": "invalid code" })),
                        }
                    },
                ),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url: format!("http://{addr}"),
            sent,
            tokens,
            current,
            refused,
        }
    }

    /// Answer 43101 (the user gave no consent) for `openid` from now on.
    pub fn refuse_openid(&self, openid: &str) {
        self.refused.lock().unwrap().push(openid.to_owned());
    }

    /// Make the current access token invalid (as another fetch elsewhere would).
    pub fn expire_token(&self) {
        *self.current.lock().unwrap() = "expired".into();
    }

    pub fn configure(&self, c: &mut api::Config) {
        c.wechat_appid = Some(WECHAT_APPID.into());
        c.wechat_secret = Some(api::config::Secret::new(WECHAT_SECRET));
        c.wechat_endpoint = self.url.clone();
        c.wechat_templates = Some("PROMOTED=tmpl-promoted,SHIFT_REMINDER=tmpl-reminder".into());
    }
}
