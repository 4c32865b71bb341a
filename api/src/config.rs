//! The one typed configuration of the server. Every field can be set by a command-line flag or
//! a `TONGXING_*` environment variable (`DATABASE_URL` for the database), and has a default that
//! makes `cargo run --release` work with no setup.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use clap::{Args, ValueEnum};
use entity::charity_event::EventCategory;
use sea_orm::ActiveEnum;

/// A secret value that never prints: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret string.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is used, never to log or format it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

/// Highest coin rate: 100 coins an hour, so a full day's record (1,440 minutes) stays within
/// one transfer's limit.
pub const MAX_COIN_CENTS_PER_HOUR: u32 = 10_000;

/// Time coins earned per approved hour of service, in hundredths of a coin, by event category:
/// `ELDERLY_CARE=150,EMERGENCY=200` (categories not named earn the default rate).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoinRates(Vec<(EventCategory, u32)>);

impl CoinRates {
    /// The rate for `category`, if one is configured.
    pub fn get(&self, category: EventCategory) -> Option<u32> {
        self.0.iter().find(|(c, _)| *c == category).map(|(_, r)| *r)
    }
}

impl std::str::FromStr for CoinRates {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut rates: Vec<(EventCategory, u32)> = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (category, rate) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not CATEGORY=HUNDREDTHS"))?;
            let name = category.trim().to_ascii_uppercase();
            let category = EventCategory::try_from_value(&name)
                .map_err(|_| format!("`{name}` is not an event category"))?;
            let rate: u32 = rate
                .trim()
                .parse()
                .map_err(|_| format!("`{rate}` is not a whole number of hundredths"))?;
            if rate > MAX_COIN_CENTS_PER_HOUR {
                return Err(format!("{rate} hundredths per hour is more than 100 coins"));
            }
            if rates.iter().any(|(c, _)| *c == category) {
                return Err(format!("`{name}` is given twice"));
            }
            rates.push((category, rate));
        }
        Ok(Self(rates))
    }
}

/// Where the server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// A developer's machine or a test: GraphiQL, introspection and field suggestions on.
    Development,
    /// Production: no GraphiQL page, no introspection, no "did you mean" suggestions.
    Production,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Server configuration.
#[derive(Clone, Debug, Args)]
pub struct Config {
    /// Address the HTTP server listens on. Port 0 picks a free port (it is logged).
    #[arg(
        long,
        env = "TONGXING_LISTEN",
        default_value = "127.0.0.1:8000",
        global = true
    )]
    pub listen: SocketAddr,

    /// The address clients reach this server at, e.g. `https://api.example.org` (with a path
    /// where a proxy serves it under one): the base of the absolute links the API hands out —
    /// calendar feeds (`me.calendarFeed`) and "add to my calendar" files (`Shift.calendarUrl`).
    /// Unset: `http://` and the address the server listens on (an unspecified address such as
    /// `0.0.0.0` reads as loopback), right only for a server used on its own machine. Set it
    /// behind a proxy or load balancer, and in production.
    #[arg(long, env = "TONGXING_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://USER@HOST:PORT/DB`.
    /// Defaults to the SQLite file `tongxing.db` in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Directory for local state: the SQLite database and the generated JWT signing key.
    #[arg(long, env = "TONGXING_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Maximum connections in the database pool. Default: 4 on SQLite (writes take turns
    /// anyway, and each connection keeps its own page cache and thread: 16 cost 40 MiB more
    /// for no more throughput, measured on the home feed), 16 on PostgreSQL.
    #[arg(long, env = "TONGXING_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,

    /// How long a request waits for a database connection before failing with
    /// `SERVICE_UNAVAILABLE` (milliseconds): short, so a lost database fails requests fast
    /// instead of piling them up.
    #[arg(
        long,
        env = "TONGXING_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 3_000,
        global = true
    )]
    pub db_acquire_timeout_ms: u64,

    /// HMAC-SHA256 key for access tokens (at least 32 bytes). When unset, a random key is
    /// generated once and kept in `<data dir>/jwt.key`. Replicas must share one key.
    #[arg(
        long,
        env = "TONGXING_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<Secret>,

    /// When set, `/metrics` answers only `Authorization: Bearer <this token>`. Unset, it is
    /// open: keep it off the public load balancer.
    #[arg(
        long,
        env = "TONGXING_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<Secret>,

    /// `iss` claim written into and required of access tokens.
    #[arg(
        long,
        env = "TONGXING_JWT_ISSUER",
        default_value = "tongxing",
        global = true
    )]
    pub jwt_issuer: String,

    /// `aud` claim written into and required of access tokens.
    #[arg(
        long,
        env = "TONGXING_JWT_AUDIENCE",
        default_value = "tongxing-api",
        global = true
    )]
    pub jwt_audience: String,

    /// Lifetime of an access token, in seconds.
    #[arg(
        long,
        env = "TONGXING_ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900,
        global = true
    )]
    pub access_token_ttl_secs: u64,

    /// Lifetime of a refresh token, in seconds (default 30 days).
    #[arg(long, env = "TONGXING_REFRESH_TOKEN_TTL_SECS", default_value_t = 30 * 24 * 3600, global = true)]
    pub refresh_token_ttl_secs: u64,

    /// Page size of a connection when the client gives no `first`.
    #[arg(
        long,
        env = "TONGXING_DEFAULT_PAGE_SIZE",
        default_value_t = 20,
        global = true
    )]
    pub default_page_size: u32,

    /// Largest `first` a client may ask for.
    #[arg(
        long,
        env = "TONGXING_MAX_PAGE_SIZE",
        default_value_t = 100,
        global = true
    )]
    pub max_page_size: u32,

    /// Failed logins allowed per phone number from one client address (IPv6: per /64) per
    /// minute (burst), before `RATE_LIMITED` there; the owner elsewhere is not affected.
    #[arg(
        long,
        env = "TONGXING_LOGIN_ATTEMPTS_PER_PHONE",
        default_value_t = 5,
        global = true
    )]
    pub login_attempts_per_phone: u32,

    /// Failed logins allowed per client address (IPv6: per /64) per minute (burst), before `RATE_LIMITED`.
    #[arg(
        long,
        env = "TONGXING_LOGIN_ATTEMPTS_PER_ADDRESS",
        default_value_t = 30,
        global = true
    )]
    pub login_attempts_per_address: u32,

    /// Failed logins allowed per phone number from all addresses together per hour (burst).
    /// Past it a password alone is refused (`RATE_LIMITED`, `extensions.smsCodeAccepted`) and
    /// the login needs a code from `requestPhoneCode(purpose: LOGIN)` as well.
    #[arg(
        long,
        env = "TONGXING_LOGIN_ATTEMPTS_PER_PHONE_PER_HOUR",
        default_value_t = 50,
        global = true
    )]
    pub login_attempts_per_phone_per_hour: u32,

    /// Registrations allowed per client address per minute, before `RATE_LIMITED`.
    #[arg(
        long,
        env = "TONGXING_REGISTRATIONS_PER_ADDRESS",
        default_value_t = 20,
        global = true
    )]
    pub registrations_per_address: u32,

    /// Deepest query nesting accepted.
    #[arg(
        long,
        env = "TONGXING_MAX_QUERY_DEPTH",
        default_value_t = 12,
        global = true
    )]
    pub max_query_depth: usize,

    /// Highest query complexity accepted: each field costs 1, and a list costs what one of its
    /// items costs times the page size asked for.
    #[arg(
        long,
        env = "TONGXING_MAX_QUERY_COMPLEXITY",
        default_value_t = 5000,
        global = true
    )]
    pub max_query_complexity: usize,

    /// Most aliased fields in one document (a cheap way to ask for the same work many times).
    #[arg(
        long,
        env = "TONGXING_MAX_ALIASES",
        default_value_t = 30,
        global = true
    )]
    pub max_aliases: usize,

    /// Most operations in one batched request (each one also counts against the rate limits).
    #[arg(
        long,
        env = "TONGXING_MAX_BATCH_SIZE",
        default_value_t = 10,
        global = true
    )]
    pub max_batch_size: usize,

    /// Largest request body, in bytes.
    #[arg(
        long,
        env = "TONGXING_MAX_BODY_BYTES",
        default_value_t = 256 * 1024,
        global = true
    )]
    pub max_body_bytes: usize,

    /// Seconds a GraphQL request may run before it is abandoned (`TIMEOUT`).
    #[arg(
        long,
        env = "TONGXING_REQUEST_TIMEOUT_SECS",
        default_value_t = 15,
        global = true
    )]
    pub request_timeout_secs: u64,

    /// GraphQL operations an account may run per minute (a batch counts each).
    #[arg(
        long,
        env = "TONGXING_REQUESTS_PER_ACCOUNT",
        default_value_t = 600,
        global = true
    )]
    pub requests_per_account: u32,

    /// GraphQL operations one client address may run per minute, signed in or not.
    #[arg(
        long,
        env = "TONGXING_REQUESTS_PER_ADDRESS",
        default_value_t = 3000,
        global = true
    )]
    pub requests_per_address: u32,

    /// A manifest of trusted documents (Apollo's persisted-query manifest, or a JSON object of
    /// sha256 → document): when set, only those operations run.
    #[arg(long, env = "TONGXING_TRUSTED_DOCUMENTS", global = true)]
    pub trusted_documents: Option<PathBuf>,

    /// `production` turns off GraphiQL, introspection and field suggestions.
    #[arg(long = "env", env = "TONGXING_ENV", value_enum, default_value_t = Environment::Development, global = true)]
    pub environment: Environment,

    /// Let a development server (GraphiQL, introspection, field suggestions, the file SMS
    /// sender) listen on a non-loopback address. Off: such a server refuses to start, so a
    /// newcomer's default never ends up on a public address by accident.
    #[arg(
        long,
        env = "TONGXING_ALLOW_PUBLIC_DEVELOPMENT",
        default_value_t = false,
        global = true
    )]
    pub allow_public_development: bool,

    /// Hours an idempotency key (and the result it replays) is kept; at least 24.
    #[arg(
        long,
        env = "TONGXING_IDEMPOTENCY_RETENTION_HOURS",
        default_value_t = 48,
        global = true
    )]
    pub idempotency_retention_hours: u32,

    /// Seconds each check-in code shows on the kiosk; a code is accepted for its window and the
    /// next (so up to twice this). 5–300.
    #[arg(
        long,
        env = "TONGXING_CHECKIN_CODE_SECS",
        default_value_t = 30,
        global = true
    )]
    pub checkin_code_secs: u32,

    /// Where one-time codes go: `aliyun` (Alibaba Cloud SMS, with the `TONGXING_SMS_*`
    /// settings below), or `file:PATH` (development and tests: one JSON line per message,
    /// refused in production). Unset: `file:<data dir>/sms-outbox.jsonl` in development.
    #[arg(long, env = "TONGXING_SMS_SENDER", global = true)]
    pub sms_sender: Option<String>,

    /// One-time codes one client address may ask for in an hour (numbers are limited to one a
    /// minute and five an hour each). Raise it behind a carrier NAT.
    #[arg(
        long,
        env = "TONGXING_SMS_CODES_PER_ADDRESS",
        default_value_t = 20,
        global = true
    )]
    pub sms_codes_per_address: u32,

    /// The SMS provider's endpoint.
    #[arg(
        long,
        env = "TONGXING_SMS_ENDPOINT",
        default_value = "https://dysmsapi.aliyuncs.com/",
        global = true
    )]
    pub sms_endpoint: String,

    /// The SMS provider's access key ID.
    #[arg(long, env = "TONGXING_SMS_ACCESS_KEY_ID", global = true)]
    pub sms_access_key_id: Option<String>,

    /// The SMS provider's access key secret (never printed).
    #[arg(
        long,
        env = "TONGXING_SMS_ACCESS_KEY_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub sms_access_key_secret: Option<Secret>,

    /// The approved signature (签名) messages go out under, e.g. `同行志愿`.
    #[arg(long, env = "TONGXING_SMS_SIGN_NAME", global = true)]
    pub sms_sign_name: Option<String>,

    /// The approved template (模板) of the code message; its one parameter is `code`.
    #[arg(long, env = "TONGXING_SMS_TEMPLATE_CODE", global = true)]
    pub sms_template_code: Option<String>,

    /// Approved SMS templates of notifications, `KIND=TEMPLATE_CODE,…` (e.g.
    /// `PROMOTED=SMS_1,SHIFT_CANCELLED=SMS_2`). Each template takes `title` and `time`. Only
    /// what matters is texted (promotions within 24 h of the shift, cancellations, help
    /// offers), and only kinds listed here; the `file:` sender texts them all.
    #[arg(long, env = "TONGXING_SMS_NOTICE_TEMPLATES", global = true)]
    pub sms_notice_templates: Option<String>,

    /// The WeChat mini-program's AppID. With `TONGXING_WECHAT_SECRET` and
    /// `TONGXING_WECHAT_TEMPLATES` it turns subscribe messages (and `linkWechat`) on.
    #[arg(long, env = "TONGXING_WECHAT_APPID", global = true)]
    pub wechat_appid: Option<String>,

    /// The mini-program's AppSecret (never printed).
    #[arg(
        long,
        env = "TONGXING_WECHAT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub wechat_secret: Option<Secret>,

    /// The WeChat API (`/cgi-bin/token`, `/cgi-bin/message/subscribe/send`,
    /// `/sns/jscode2session`).
    #[arg(
        long,
        env = "TONGXING_WECHAT_ENDPOINT",
        default_value = "https://api.weixin.qq.com",
        global = true
    )]
    pub wechat_endpoint: String,

    /// Subscribe-message templates, `KIND=TEMPLATE_ID,…`. Each template has the fields
    /// `thing1` (what: the event or subject), `time2` (when) and `thing3` (what happened).
    #[arg(long, env = "TONGXING_WECHAT_TEMPLATES", global = true)]
    pub wechat_templates: Option<String>,

    /// The mini-program page a subscribe message opens.
    #[arg(
        long,
        env = "TONGXING_WECHAT_PAGE",
        default_value = "pages/notifications/index",
        global = true
    )]
    pub wechat_page: String,

    /// Which build of the mini-program messages open: `formal`, `trial` or `developer`.
    #[arg(
        long,
        env = "TONGXING_WECHAT_MINIPROGRAM_STATE",
        default_value = "formal",
        global = true
    )]
    pub wechat_miniprogram_state: String,

    /// Whether this replica delivers notifications (SMS, mini-program messages) and schedules
    /// reminders. Any number of replicas may; they share the work through the database.
    #[arg(
        long,
        env = "TONGXING_NOTIFICATIONS_DELIVER",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub notifications_deliver: bool,

    /// Tries of one delivery before it is a dead letter (10: backing off to an hour, about
    /// three hours of a provider's outage).
    #[arg(
        long,
        env = "TONGXING_NOTIFICATION_ATTEMPTS",
        default_value_t = 10,
        global = true
    )]
    pub notification_attempts: u32,

    /// How long a worker may take to send one delivery before another may take it over.
    #[arg(
        long,
        env = "TONGXING_NOTIFICATION_LEASE_SECS",
        default_value_t = 60,
        global = true
    )]
    pub notification_lease_secs: u32,

    /// WeChat Pay merchant ID (商户号). Setting it turns online donations on, and then every
    /// `TONGXING_WECHATPAY_*` setting below without a default is required. Unset: online
    /// donations answer `SERVICE_UNAVAILABLE`; staff can still record cash and bank transfers.
    #[arg(long, env = "TONGXING_WECHATPAY_MCHID", global = true)]
    pub wechatpay_mchid: Option<String>,

    /// The app ID (APPID) of the mobile app payments are made from.
    #[arg(long, env = "TONGXING_WECHATPAY_APPID", global = true)]
    pub wechatpay_appid: Option<String>,

    /// WeChat Pay's API.
    #[arg(
        long,
        env = "TONGXING_WECHATPAY_ENDPOINT",
        default_value = "https://api.mch.weixin.qq.com",
        global = true
    )]
    pub wechatpay_endpoint: String,

    /// Path of the merchant's API private key (`apiclient_key.pem`, PKCS#8 PEM): signs our
    /// requests and the app's payment parameters.
    #[arg(long, env = "TONGXING_WECHATPAY_MERCHANT_KEY_FILE", global = true)]
    pub wechatpay_merchant_key_file: Option<PathBuf>,

    /// Serial number of the merchant's API certificate (商户API证书序列号).
    #[arg(long, env = "TONGXING_WECHATPAY_MERCHANT_SERIAL", global = true)]
    pub wechatpay_merchant_serial: Option<String>,

    /// Path of the WeChat Pay public key (微信支付公钥, `pub_key.pem`): every notification and
    /// answer from WeChat Pay must carry a valid signature by it.
    #[arg(long, env = "TONGXING_WECHATPAY_PLATFORM_KEY_FILE", global = true)]
    pub wechatpay_platform_key_file: Option<PathBuf>,

    /// The ID of that public key (`PUB_KEY_ID_…`), which signed messages name in
    /// `Wechatpay-Serial`.
    #[arg(long, env = "TONGXING_WECHATPAY_PLATFORM_KEY_ID", global = true)]
    pub wechatpay_platform_key_id: Option<String>,

    /// The APIv3 key (32 characters) notifications' resources are encrypted with (never printed).
    #[arg(
        long,
        env = "TONGXING_WECHATPAY_API_V3_KEY",
        global = true,
        hide_env_values = true
    )]
    pub wechatpay_api_v3_key: Option<Secret>,

    /// The public HTTPS address of this server's payment notification endpoint, e.g.
    /// `https://api.example.org/payments/wechatpay/notify`.
    #[arg(long, env = "TONGXING_WECHATPAY_NOTIFY_URL", global = true)]
    pub wechatpay_notify_url: Option<String>,

    /// WebSocket connections one client address may hold open at once (`429` past it). 1–10,000.
    #[arg(
        long,
        env = "TONGXING_WS_CONNECTIONS_PER_ADDRESS",
        default_value_t = 50,
        global = true
    )]
    pub ws_connections_per_address: u32,

    /// WebSocket connections one account may hold open at once (close 4429 past it). 1–1,000.
    #[arg(
        long,
        env = "TONGXING_WS_CONNECTIONS_PER_ACCOUNT",
        default_value_t = 10,
        global = true
    )]
    pub ws_connections_per_account: u32,

    /// Subscriptions one WebSocket connection may run at once (an `error` for the one past
    /// it). 1–1,000.
    #[arg(
        long,
        env = "TONGXING_WS_SUBSCRIPTIONS_PER_CONNECTION",
        default_value_t = 25,
        global = true
    )]
    pub ws_subscriptions_per_connection: u32,

    /// Messages per second a WebSocket client may send (bursts of twice that); past it the
    /// connection closes with 4429. 1–1,000.
    #[arg(
        long,
        env = "TONGXING_WS_MESSAGES_PER_SECOND",
        default_value_t = 20,
        global = true
    )]
    pub ws_messages_per_second: u32,

    /// Seconds a new WebSocket connection has to send `connection_init` (then closes with
    /// 4408). 1–300.
    #[arg(
        long,
        env = "TONGXING_WS_INIT_TIMEOUT_SECS",
        default_value_t = 10,
        global = true
    )]
    pub ws_init_timeout_secs: u32,

    /// Minutes a donor has to pay an online donation; after that it is `EXPIRED` (a payment
    /// confirmed later still counts). 5–1,440.
    #[arg(
        long,
        env = "TONGXING_PAYMENT_WINDOW_MINUTES",
        default_value_t = 120,
        global = true
    )]
    pub payment_window_minutes: u32,

    /// Wrong check-in PINs one account may type in 10 minutes; past it every PIN of the
    /// account (the right one too) is `RATE_LIMITED` until the oldest leaves the window. 1–100.
    #[arg(
        long,
        env = "TONGXING_PIN_GUESSES_PER_ACCOUNT",
        default_value_t = 5,
        global = true
    )]
    pub pin_guesses_per_account: u32,

    /// Wrong check-in PINs all accounts together may type at one shift in 10 minutes (against
    /// guessing through many accounts); past it the shift takes only QR codes for a while.
    /// 1–10,000.
    #[arg(
        long,
        env = "TONGXING_PIN_GUESSES_PER_SHIFT",
        default_value_t = 30,
        global = true
    )]
    pub pin_guesses_per_shift: u32,

    /// Minutes after a shift's end when a missing check-out is closed at the end and flagged.
    #[arg(
        long,
        env = "TONGXING_CHECKOUT_GRACE_MINUTES",
        default_value_t = 60,
        global = true
    )]
    pub checkout_grace_minutes: u32,

    /// Hours a micro-wish claim holds before the wish goes back to `OPEN` unless fulfilled.
    #[arg(
        long,
        env = "TONGXING_WISH_CLAIM_HOURS",
        default_value_t = 168,
        global = true
    )]
    pub wish_claim_hours: u32,

    /// Micro-wishes one account may hold claimed at once (`CONFLICT` for one more until it
    /// fulfils one or a claim lapses). 1–100.
    #[arg(
        long,
        env = "TONGXING_WISH_CLAIMS_PER_ACCOUNT",
        default_value_t = 3,
        global = true
    )]
    pub wish_claims_per_account: u32,

    /// Days a check-in's location is kept; upkeep then drops it (the check-in itself stays).
    #[arg(
        long,
        env = "TONGXING_LOCATION_RETENTION_DAYS",
        default_value_t = 90,
        global = true
    )]
    pub location_retention_days: u32,

    /// How far from a help request (meters) volunteers' home locations may be for
    /// `nearbyVolunteers` to propose them.
    #[arg(
        long,
        env = "TONGXING_DISPATCH_RADIUS_METERS",
        default_value_t = 5_000,
        global = true
    )]
    pub dispatch_radius_meters: u32,

    /// How far (meters) a help request may be from its organization, or from a located
    /// organization below it, for `nearbyVolunteers` to search around it (`FORBIDDEN` beyond,
    /// and for organizations with no location at all): staff look for volunteers in their own
    /// area, not across the city.
    #[arg(
        long,
        env = "TONGXING_DISPATCH_AREA_METERS",
        default_value_t = 10_000,
        global = true
    )]
    pub dispatch_area_meters: u32,

    /// `nearbyVolunteers` lookups one person may make in an hour (each reads volunteers'
    /// homes; past it `RATE_LIMITED`). Counted from the audit log, so every replica agrees.
    /// 1–1,000.
    #[arg(
        long,
        env = "TONGXING_NEARBY_LOOKUPS_PER_HOUR",
        default_value_t = 30,
        global = true
    )]
    pub nearby_lookups_per_hour: u32,

    /// Base64 master key (32+ bytes) encrypting ID numbers; default: `identity.key` in the
    /// data dir, generated on first start. Keep it with the database backups.
    #[arg(
        long,
        env = "TONGXING_IDENTITY_KEY",
        hide_env_values = true,
        global = true
    )]
    pub identity_key: Option<Secret>,

    /// Time coins per approved hour of service, in hundredths of a coin (100 = 1 coin).
    #[arg(
        long,
        env = "TONGXING_COIN_CENTS_PER_HOUR",
        default_value_t = 100,
        global = true
    )]
    pub coin_cents_per_hour: u32,

    /// Per-category rates overriding the default, e.g. `ELDERLY_CARE=150,EMERGENCY=200`.
    #[arg(long, env = "TONGXING_COIN_RATES", default_value = "", global = true)]
    pub coin_rates: CoinRates,

    /// Take the client address from the last `X-Forwarded-For` entry, the one the proxy
    /// appended (only behind a trusted proxy).
    #[arg(
        long,
        env = "TONGXING_TRUST_FORWARDED_FOR",
        default_value_t = false,
        global = true
    )]
    pub trust_forwarded_for: bool,

    /// Log format.
    #[arg(long, env = "TONGXING_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM.
    #[arg(
        long,
        env = "TONGXING_SHUTDOWN_GRACE_SECS",
        default_value_t = 20,
        global = true
    )]
    pub shutdown_grace_secs: u64,

    /// Seconds between SIGTERM and closing the listener: `/readyz` answers 503 at once so the
    /// load balancer stops sending new requests, while the server still serves what arrives.
    #[arg(
        long,
        env = "TONGXING_SHUTDOWN_DELAY_SECS",
        default_value_t = 5,
        global = true
    )]
    pub shutdown_delay_secs: u64,
}

impl Config {
    /// The database URL in effect: the configured one, or the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("tongxing.db").display()
            ),
        }
    }

    /// The base of absolute links to this server, without a trailing slash: the configured
    /// [`Config::public_url`], or `http://` and the listening address (loopback where it
    /// listens on every address).
    pub fn public_base_url(&self) -> String {
        match self
            .public_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let mut addr = self.listen;
                if addr.ip().is_unspecified() {
                    addr.set_ip(match addr.ip() {
                        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                    });
                }
                format!("http://{addr}")
            }
        }
    }

    /// The pool size: [`Config::db_max_connections`], or the database's default.
    pub fn pool_size(&self) -> u32 {
        self.db_max_connections.unwrap_or_else(|| {
            if self.database_url().starts_with("sqlite:") {
                4
            } else {
                16
            }
        })
    }

    /// Check values that parse but make no sense, at start-up rather than in a request.
    pub fn validate(&self) -> anyhow::Result<()> {
        use anyhow::ensure;
        ensure!(
            self.environment == Environment::Production
                || self.listen.ip().is_loopback()
                || self.allow_public_development,
            "a development server (GraphiQL, introspection, test SMS outbox) would listen on \
             {}, which is not a loopback address: set TONGXING_ENV=production, or \
             TONGXING_ALLOW_PUBLIC_DEVELOPMENT=true if exposing development mode is intended",
            self.listen
        );
        ensure!(
            (1..=10_000).contains(&self.ws_connections_per_address)
                && (1..=1_000).contains(&self.ws_connections_per_account)
                && (1..=1_000).contains(&self.ws_subscriptions_per_connection)
                && (1..=1_000).contains(&self.ws_messages_per_second)
                && (1..=300).contains(&self.ws_init_timeout_secs),
            "TONGXING_WS_* limits are out of range (see --help)"
        );
        ensure!(
            (1..=100).contains(&self.wish_claims_per_account),
            "TONGXING_WISH_CLAIMS_PER_ACCOUNT must be 1 to 100"
        );
        ensure!(
            (1..=1_000).contains(&self.nearby_lookups_per_hour),
            "TONGXING_NEARBY_LOOKUPS_PER_HOUR must be 1 to 1,000"
        );
        ensure!(
            (1..=50).contains(&self.notification_attempts),
            "TONGXING_NOTIFICATION_ATTEMPTS must be 1 to 50"
        );
        ensure!(
            (5..=3600).contains(&self.notification_lease_secs),
            "TONGXING_NOTIFICATION_LEASE_SECS must be 5 to 3,600"
        );
        crate::notifications::templates::Templates::parse(
            self.sms_notice_templates.as_deref(),
            "TONGXING_SMS_NOTICE_TEMPLATES",
        )?;
        crate::notifications::templates::Templates::parse(
            self.wechat_templates.as_deref(),
            "TONGXING_WECHAT_TEMPLATES",
        )?;
        ensure!(
            ["formal", "trial", "developer"].contains(&self.wechat_miniprogram_state.as_str()),
            "TONGXING_WECHAT_MINIPROGRAM_STATE must be formal, trial or developer"
        );
        ensure!(
            (5..=1440).contains(&self.payment_window_minutes),
            "TONGXING_PAYMENT_WINDOW_MINUTES must be 5 to 1,440"
        );
        ensure!(
            (60..=24 * 3600).contains(&self.access_token_ttl_secs),
            "access token lifetime must be 60 s to 1 day"
        );
        ensure!(
            (3600..=366 * 24 * 3600).contains(&self.refresh_token_ttl_secs),
            "refresh token lifetime must be 1 hour to 366 days"
        );
        ensure!(
            (1..=1000).contains(&self.max_page_size),
            "max page size must be 1 to 1000"
        );
        ensure!(
            (1..=self.max_page_size).contains(&self.default_page_size),
            "default page size must be 1 to the max page size"
        );
        ensure!(
            self.login_attempts_per_phone > 0
                && self.login_attempts_per_address > 0
                && self.login_attempts_per_phone_per_hour > 0
                && self.registrations_per_address > 0,
            "rate limits must be positive"
        );
        ensure!(
            self.max_query_depth > 0 && self.max_query_complexity > 0,
            "query limits must be positive"
        );
        // Empty counts as unset (an `.env` line with no value).
        if let Some(url) = self
            .public_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            let url = url.trim_end_matches('/');
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            ensure!(
                rest.is_some_and(|r| !r.is_empty()
                    && !r.contains(['?', '#'])
                    && !r.chars().any(|c| c.is_whitespace() || c.is_control())),
                "TONGXING_PUBLIC_URL must be an http(s) URL without query or fragment"
            );
        }
        ensure!(self.pool_size() > 0, "the pool needs a connection");
        ensure!(
            (100..=60_000).contains(&self.db_acquire_timeout_ms),
            "the database acquire timeout must be 100 to 60000 ms"
        );
        ensure!(
            self.wish_claim_hours > 0,
            "a micro-wish claim must hold for at least an hour"
        );
        ensure!(
            self.location_retention_days > 0,
            "check-in locations must be kept at least a day"
        );
        ensure!(
            (100..=200_000).contains(&self.dispatch_radius_meters),
            "the dispatch radius must be 100 to 200000 meters"
        );
        ensure!(
            (100..=200_000).contains(&self.dispatch_area_meters),
            "TONGXING_DISPATCH_AREA_METERS must be 100 to 200000"
        );
        ensure!(
            (1..=100).contains(&self.max_batch_size),
            "a batch must allow 1 to 100 operations"
        );
        ensure!(
            (1024..=16 * 1024 * 1024).contains(&self.max_body_bytes),
            "the body limit must be 1 KiB to 16 MiB"
        );
        ensure!(
            (1..=300).contains(&self.request_timeout_secs),
            "the request timeout must be 1 to 300 seconds"
        );
        ensure!(
            self.requests_per_account > 0 && self.requests_per_address > 0 && self.max_aliases > 0,
            "request limits must be positive"
        );
        ensure!(
            (24..=24 * 365).contains(&self.idempotency_retention_hours),
            "idempotency keys must be kept 24 hours to a year"
        );
        ensure!(
            (5..=300).contains(&self.checkin_code_secs),
            "check-in codes must rotate every 5 to 300 seconds"
        );
        ensure!(
            (1..=100).contains(&self.pin_guesses_per_account),
            "an account may be allowed 1 to 100 wrong check-in PINs per 10 minutes"
        );
        ensure!(
            (1..=10_000).contains(&self.pin_guesses_per_shift),
            "a shift may be allowed 1 to 10,000 wrong check-in PINs per 10 minutes"
        );
        ensure!(
            self.coin_cents_per_hour <= MAX_COIN_CENTS_PER_HOUR,
            "the coin rate must be at most 100 coins an hour"
        );
        Ok(())
    }

    /// Hundredths of a coin per approved hour of service in an event of `category`.
    pub fn coin_rate(&self, category: EventCategory) -> i64 {
        i64::from(
            self.coin_rates
                .get(category)
                .unwrap_or(self.coin_cents_per_hour),
        )
    }

    /// How far, and how often, `nearbyVolunteers` searches.
    pub fn dispatch_reach(&self) -> crate::help::dispatch::Reach {
        crate::help::dispatch::Reach {
            radius_m: f64::from(self.dispatch_radius_meters),
            area_m: f64::from(self.dispatch_area_meters),
            per_hour: self.nearby_lookups_per_hour,
        }
    }

    /// How long an access token lives.
    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl_secs)
    }

    /// Refresh-token lifetime.
    pub fn refresh_token_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_token_ttl_secs)
    }

    /// Defaults for tests and embedding: what the binary uses with no flags and no environment,
    /// with the data dir given.
    pub fn for_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrapper {
            #[command(flatten)]
            config: Config,
        }
        // Parsing an empty argument list cannot fail: every field has a default or is optional.
        let mut config = match Wrapper::try_parse_from(["tongxing"]) {
            Ok(w) => w.config,
            Err(e) => panic!("config defaults must parse: {e}"),
        };
        config.data_dir = data_dir.into();
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
    }

    #[test]
    fn defaults_are_valid_and_nonsense_is_refused() {
        let c = Config::for_data_dir("/tmp/tx");
        c.validate().unwrap();
        let mut bad = c.clone();
        bad.refresh_token_ttl_secs = u64::MAX;
        assert!(bad.validate().is_err());
        let mut bad = c.clone();
        bad.default_page_size = 500;
        assert!(bad.validate().is_err());
        let mut bad = c.clone();
        bad.access_token_ttl_secs = 0;
        assert!(bad.validate().is_err());
        // Development mode on a public address only when asked for explicitly.
        let mut public = c;
        public.listen = "0.0.0.0:8000".parse().unwrap();
        assert!(public.validate().is_err());
        public.allow_public_development = true;
        public.validate().unwrap();
        public.allow_public_development = false;
        public.environment = Environment::Production;
        public.validate().unwrap();
        public.environment = Environment::Development;
        public.listen = "[::1]:8000".parse().unwrap();
        public.validate().unwrap();
    }

    #[test]
    fn coin_rates_parse_per_category_and_refuse_nonsense() {
        let mut c = Config::for_data_dir("/tmp/tx");
        assert_eq!(c.coin_rate(EventCategory::ElderlyCare), 100);
        c.coin_rates = " elderly_care=150 , EMERGENCY=200".parse().unwrap();
        c.coin_cents_per_hour = 80;
        assert_eq!(c.coin_rate(EventCategory::ElderlyCare), 150);
        assert_eq!(c.coin_rate(EventCategory::Emergency), 200);
        assert_eq!(c.coin_rate(EventCategory::Health), 80);
        assert_eq!("".parse::<CoinRates>().unwrap(), CoinRates::default());
        for bad in [
            "GARDENING=100",
            "HEALTH",
            "HEALTH=-1",
            "HEALTH=1.5",
            "HEALTH=10001",
            "HEALTH=1,HEALTH=2",
        ] {
            assert!(bad.parse::<CoinRates>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn public_base_url_is_the_setting_or_the_listening_address() {
        let mut c = Config::for_data_dir("/tmp/tx");
        assert_eq!(c.public_base_url(), "http://127.0.0.1:8000");
        c.listen = "0.0.0.0:9000".parse().unwrap();
        assert_eq!(c.public_base_url(), "http://127.0.0.1:9000");
        c.listen = "[::]:9000".parse().unwrap();
        assert_eq!(c.public_base_url(), "http://[::1]:9000");
        c.environment = Environment::Production;
        c.public_url = Some(" ".into());
        c.validate().unwrap();
        assert_eq!(c.public_base_url(), "http://[::1]:9000");
        c.public_url = Some("https://api.example.org/".into());
        assert_eq!(c.public_base_url(), "https://api.example.org");
        c.validate().unwrap();
        for bad in [
            "api.example.org",
            "ftp://api.example.org",
            "https://",
            "https://api.example.org/?x=1",
            "https://api.example.org/#top",
            "https://api example.org",
        ] {
            c.public_url = Some(bad.into());
            assert!(c.validate().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn default_database_is_sqlite_in_data_dir() {
        let mut c = Config::for_data_dir("/tmp/tx");
        c.database_url = None;
        assert_eq!(c.database_url(), "sqlite:///tmp/tx/tongxing.db?mode=rwc");
    }
}
