//! The server's shared state: the pool, the configuration, keys, limiters, the live hub and
//! the metrics — one per process, cheap to clone, built once from a migrated database.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{Config, auth, checkins, identity, limits, live, metrics, persisted};

/// Shared state of a running server: one per process, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Configuration.
    pub config: Arc<Config>,
    /// Access-token keys.
    pub jwt: Arc<auth::jwt::JwtKeys>,
    /// Check-in code issuer and checker.
    pub checkin_codes: Arc<checkins::code::CheckInCodes>,
    /// Calendar-feed tokens (derived from the server secret).
    pub calendar: Arc<crate::calendar::token::FeedTokens>,
    /// Encryption of ID numbers.
    pub identity_vault: Arc<identity::vault::IdentityVault>,
    /// Seals the register of people served (issue 21), under keys of its own.
    pub care_vault: Arc<identity::vault::IdentityVault>,
    /// Live updates: publishing, fan-out between replicas, shutdown of subscriptions.
    pub live: Arc<live::LiveHub>,
    /// Shifts watched live (`shiftUpdated`): one read per change, however many watch.
    pub shift_feeds: Arc<live::feeds::Feeds<crate::shifts::service::ShiftSnapshot>>,
    /// Persisted (and trusted) documents.
    pub persisted: Arc<persisted::PersistedQueries>,
    /// Operations per minute per account and per address.
    pub request_limiter: Arc<limits::RequestLimiter>,
    /// Login throttle.
    pub login_throttle: Arc<auth::rate_limit::LoginThrottle>,
    /// Set once shutdown begins: `/readyz` then answers 503.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// What `/metrics` reports.
    pub metrics: Arc<metrics::Metrics>,
    /// Where one-time codes and texted notifications are sent.
    pub sms: Arc<crate::sms::Sender>,
    /// Notification channels beyond the app (SMS templates, the mini-program sender).
    pub channels: Arc<crate::notifications::outbox::Channels>,
    /// The payment provider online donations go through (`None`: not set up).
    pub payments: Option<Arc<crate::payments::WechatPay>>,
}

impl AppState {
    /// Build the state over an open (and migrated) database.
    pub fn new(db: DatabaseConnection, config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let secret = auth::jwt::server_secret(&config)?;
        let jwt = auth::jwt::JwtKeys::from_secret(&secret, &config)?;
        let checkin_codes =
            checkins::code::CheckInCodes::new(&secret, i64::from(config.checkin_code_secs));
        let calendar = crate::calendar::token::FeedTokens::new(&secret);
        let persisted = match &config.trusted_documents {
            Some(path) => persisted::PersistedQueries::trusted_from_file(path)?,
            None => persisted::PersistedQueries::automatic(),
        };
        let live = live::LiveHub::new(&db);
        let request_limiter =
            limits::RequestLimiter::new(config.requests_per_account, config.requests_per_address);
        let identity_key = auth::jwt::identity_key(&config)?;
        let identity_vault = identity::vault::IdentityVault::new(&identity_key)?;
        let care_vault = identity::vault::IdentityVault::for_purpose(&identity_key, "care")?;
        let login_throttle = auth::rate_limit::LoginThrottle::new(
            config.login_attempts_per_phone,
            config.login_attempts_per_address,
            config.login_attempts_per_phone_per_hour,
            config.registrations_per_address,
        );
        crate::sms::install_tls_provider();
        let sms = crate::sms::Sender::from_config(&config)?;
        let payments = crate::payments::from_config(&config)?;
        let channels = crate::notifications::outbox::Channels::from_config(&config)?;
        Ok(Self {
            db,
            channels: Arc::new(channels),
            payments,
            sms: Arc::new(sms),
            config: Arc::new(config),
            jwt: Arc::new(jwt),
            checkin_codes: Arc::new(checkin_codes),
            calendar: Arc::new(calendar),
            identity_vault: Arc::new(identity_vault),
            care_vault: Arc::new(care_vault),
            request_limiter: Arc::new(request_limiter),
            persisted: Arc::new(persisted),
            live: Arc::new(live),
            login_throttle: Arc::new(login_throttle),
            shift_feeds: Arc::default(),
            draining: Arc::default(),
            metrics: Arc::default(),
        })
    }
}
