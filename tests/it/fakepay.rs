//! A local stand-in for WeChat Pay (API v3), written from WeChat Pay's documentation rather
//! than from our client: it opens APP orders only for requests the merchant key signed, signs
//! its answers with the platform key, and when a test "pays" an order it sends the server the
//! notification WeChat Pay would — a transaction encrypted with the APIv3 key, signed over
//! `timestamp\nnonce\nbody\n`. Tests also build forged, replayed and altered notifications
//! with it.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use aes_gcm::{
    Aes256Gcm, KeyInit, Nonce,
    aead::{Aead, Payload},
};
use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Value, json};

pub const MCHID: &str = "1900000109";
pub const APPID: &str = "wxd678efh567hg6787";
pub const MERCHANT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
pub const PLATFORM_KEY_ID: &str = "PUB_KEY_ID_0112345678202412050000000000";
pub const API_V3_KEY: &str = "0123456789abcdefghijABCDEFGHIJ01";

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wechatpay");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).expect("fixture key")
}

/// An order the fake opened.
#[derive(Clone, Debug)]
pub struct Order {
    pub out_trade_no: String,
    pub total: i64,
    pub notify_url: String,
    pub prepay_id: String,
    pub time_expire: String,
}

/// A notification as it goes over the wire.
#[derive(Clone, Debug)]
pub struct Notification {
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Notification {
    /// Replace a header's value.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        for h in &mut self.headers {
            if h.0 == name {
                h.1 = value.into();
                return self;
            }
        }
        panic!("no header {name}");
    }
}

struct Inner {
    platform_key: EncodingKey,
    merchant_pub: DecodingKey,
    orders: Mutex<HashMap<String, Order>>,
    paid: Mutex<HashMap<String, String>>,
    next: AtomicU64,
    down: AtomicBool,
    client: reqwest::Client,
}

/// The fake provider, serving on `addr`.
#[derive(Clone)]
pub struct FakeWechatPay {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
}

/// RSA-SHA256 by `key`, standard base64 as WeChat Pay writes signatures.
pub fn sign(key: &EncodingKey, message: &str) -> String {
    let url_safe = jsonwebtoken::crypto::sign(message.as_bytes(), key, Algorithm::RS256).unwrap();
    STANDARD.encode(URL_SAFE_NO_PAD.decode(url_safe).unwrap())
}

fn verify(key: &DecodingKey, message: &str, signature: &str) -> bool {
    let Ok(raw) = STANDARD.decode(signature) else {
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

fn random(n: usize) -> String {
    uuid::Uuid::new_v4().simple().to_string()[..n].to_owned()
}

/// A key that is not the platform's: what a forger signs with.
pub fn forger_key() -> EncodingKey {
    EncodingKey::from_rsa_pem(&fixture("merchant_key.pem")).unwrap()
}

impl FakeWechatPay {
    /// Start serving on a free port.
    pub async fn start() -> Self {
        api::sms::install_tls_provider();
        let inner = Arc::new(Inner {
            platform_key: EncodingKey::from_rsa_pem(&fixture("platform_key.pem")).unwrap(),
            merchant_pub: DecodingKey::from_rsa_pem(&fixture("merchant_pub.pem")).unwrap(),
            orders: Mutex::default(),
            paid: Mutex::default(),
            next: AtomicU64::new(1),
            down: AtomicBool::new(false),
            client: reqwest::Client::new(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new()
            .route("/v3/pay/transactions/app", post(open_order))
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { addr, inner }
    }

    /// Point `config` at this provider (the notify URL is left for the server to fill in).
    pub fn configure(&self, config: &mut api::Config) {
        config.wechatpay_mchid = Some(MCHID.into());
        config.wechatpay_appid = Some(APPID.into());
        config.wechatpay_endpoint = format!("http://{}", self.addr);
        config.wechatpay_merchant_key_file = Some(format!("{FIXTURES}/merchant_key.pem").into());
        config.wechatpay_merchant_serial = Some(MERCHANT_SERIAL.into());
        config.wechatpay_platform_key_file = Some(format!("{FIXTURES}/platform_pub.pem").into());
        config.wechatpay_platform_key_id = Some(PLATFORM_KEY_ID.into());
        config.wechatpay_api_v3_key = Some(api::config::Secret::new(API_V3_KEY));
    }

    /// Answer every order with a 503 (or serve again).
    pub fn set_down(&self, down: bool) {
        self.inner.down.store(down, Ordering::SeqCst);
    }

    /// The order with this prepay ID.
    pub fn order(&self, prepay_id: &str) -> Order {
        self.inner
            .orders
            .lock()
            .unwrap()
            .values()
            .find(|o| o.prepay_id == prepay_id)
            .cloned()
            .unwrap_or_else(|| panic!("no order with prepay ID {prepay_id}"))
    }

    /// How many orders were opened.
    pub fn order_count(&self) -> usize {
        self.inner.orders.lock().unwrap().len()
    }

    /// The notification of a successful payment of `total` fen for `order`, as transaction
    /// `transaction_id`, signed by `key` at `timestamp`, encrypted with `api_v3_key`.
    pub fn notification_with(
        &self,
        order: &Order,
        transaction_id: &str,
        total: i64,
        key: &EncodingKey,
        timestamp: i64,
        api_v3_key: &str,
    ) -> Notification {
        let transaction = json!({
            "appid": APPID, "mchid": MCHID,
            "out_trade_no": order.out_trade_no, "transaction_id": transaction_id,
            "trade_type": "APP", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
            "bank_type": "OTHERS", "attach": "",
            "success_time": chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()).to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            "payer": { "openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
            "amount": { "total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY" },
        });
        let nonce = random(12);
        let cipher = Aes256Gcm::new_from_slice(api_v3_key.as_bytes()).unwrap();
        let sealed = cipher
            .encrypt(
                &Nonce::from(<[u8; 12]>::try_from(nonce.as_bytes()).unwrap()),
                Payload {
                    msg: transaction.to_string().as_bytes(),
                    aad: b"transaction",
                },
            )
            .unwrap();
        let body = json!({
            "id": format!("EV-{}", random(16)),
            "create_time": "2026-12-06T10:00:00+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": STANDARD.encode(sealed),
                "associated_data": "transaction",
                "nonce": nonce,
            },
        })
        .to_string();
        let ts = timestamp.to_string();
        let header_nonce = random(32);
        let signature = sign(key, &format!("{ts}\n{header_nonce}\n{body}\n"));
        Notification {
            headers: vec![
                ("Wechatpay-Timestamp", ts),
                ("Wechatpay-Nonce", header_nonce),
                ("Wechatpay-Signature", signature),
                ("Wechatpay-Serial", PLATFORM_KEY_ID.to_owned()),
                ("Content-Type", "application/json".to_owned()),
            ],
            body,
        }
    }

    /// The genuine notification of paying `order` in full, as `transaction_id`.
    pub fn notification(&self, order: &Order, transaction_id: &str) -> Notification {
        self.notification_with(
            order,
            transaction_id,
            order.total,
            &self.inner.platform_key,
            chrono::Utc::now().timestamp(),
            API_V3_KEY,
        )
    }

    /// Send `n` to the order's notify URL; the HTTP status and body of the answer.
    pub async fn deliver(&self, order: &Order, n: &Notification) -> (u16, String) {
        let mut req = self.inner.client.post(&order.notify_url);
        for (k, v) in &n.headers {
            req = req.header(*k, v);
        }
        let res = req.body(n.body.clone()).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// Pay the order with this prepay ID in full and notify the server, as WeChat Pay would;
    /// the status of the server's answer.
    pub async fn pay(&self, prepay_id: &str) -> u16 {
        let order = self.order(prepay_id);
        let transaction_id = format!(
            "42000{:023}",
            self.inner.next.fetch_add(1, Ordering::SeqCst)
        );
        self.inner
            .paid
            .lock()
            .unwrap()
            .insert(order.out_trade_no.clone(), transaction_id.clone());
        let n = self.notification(&order, &transaction_id);
        self.deliver(&order, &n).await.0
    }
}

/// A response signed with the platform key, as WeChat Pay signs its answers.
fn signed(inner: &Inner, status: StatusCode, body: Value) -> Response {
    let body = body.to_string();
    let ts = chrono::Utc::now().timestamp().to_string();
    let nonce = random(32);
    let signature = sign(&inner.platform_key, &format!("{ts}\n{nonce}\n{body}\n"));
    (
        status,
        [
            ("Wechatpay-Timestamp", ts),
            ("Wechatpay-Nonce", nonce),
            ("Wechatpay-Signature", signature),
            ("Wechatpay-Serial", PLATFORM_KEY_ID.to_owned()),
            ("Content-Type", "application/json".to_owned()),
        ],
        body,
    )
        .into_response()
}

/// `POST /v3/pay/transactions/app`.
async fn open_order(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    if inner.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let fail =
        |status, code: &str| signed(&inner, status, json!({ "code": code, "message": code }));
    let Some(auth) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("WECHATPAY2-SHA256-RSA2048 "))
    else {
        return fail(StatusCode::UNAUTHORIZED, "SIGN_ERROR");
    };
    let fields: HashMap<&str, &str> = auth
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim_matches('"')))
        .collect();
    let body = String::from_utf8(body.to_vec()).unwrap();
    let message = format!(
        "POST\n/v3/pay/transactions/app\n{}\n{}\n{body}\n",
        fields.get("timestamp").unwrap_or(&""),
        fields.get("nonce_str").unwrap_or(&"")
    );
    if fields.get("mchid") != Some(&MCHID)
        || fields.get("serial_no") != Some(&MERCHANT_SERIAL)
        || !verify(
            &inner.merchant_pub,
            &message,
            fields.get("signature").unwrap_or(&""),
        )
    {
        return fail(StatusCode::UNAUTHORIZED, "SIGN_ERROR");
    }
    let req: Value = serde_json::from_str(&body).unwrap();
    if req["appid"] != APPID || req["mchid"] != MCHID || req["amount"]["currency"] != "CNY" {
        return fail(StatusCode::BAD_REQUEST, "PARAM_ERROR");
    }
    let out_trade_no = req["out_trade_no"].as_str().unwrap().to_owned();
    if inner.paid.lock().unwrap().contains_key(&out_trade_no) {
        return fail(StatusCode::BAD_REQUEST, "ORDERPAID");
    }
    let mut orders = inner.orders.lock().unwrap();
    let order = orders.entry(out_trade_no.clone()).or_insert_with(|| Order {
        out_trade_no,
        total: req["amount"]["total"].as_i64().unwrap(),
        notify_url: req["notify_url"].as_str().unwrap().to_owned(),
        prepay_id: format!("wx{}", random(30)),
        time_expire: req["time_expire"].as_str().unwrap().to_owned(),
    });
    let prepay_id = order.prepay_id.clone();
    drop(orders);
    signed(&inner, StatusCode::OK, json!({ "prepay_id": prepay_id }))
}
