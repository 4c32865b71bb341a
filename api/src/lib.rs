//! Tongxing (同行) API: the GraphQL backend for volunteer shifts, charity events and campaigns.
//!
//! Module map:
//! - [`config`]: the typed configuration (flags and `TONGXING_*` environment variables).
//! - [`telemetry`]: logging setup.
//! - [`db`]: connecting to SQLite or PostgreSQL, migrations, write transactions.
//! - [`error`]: the one error type and its `extensions.code` values.
//! - [`ids`], [`pagination`]: global IDs, cursors and connections (one page per parent in one
//!   statement for nested connections).
//! - [`batch`]: the read path — relation resolvers file keys with the request's batcher, and
//!   each relation level costs one statement whatever the query's shape; [`joined`]: the hot
//!   list shapes read their to-one relations from the same row.
//! - [`auth`]: password hashing, JWT access tokens, refresh tokens, login throttling, the viewer.
//! - [`authz`]: who administers what in the organization hierarchy.
//! - [`accounts`], [`organizations`], [`campaigns`], [`events`], [`shifts`], [`signups`],
//!   [`profiles`]: one module per domain area, each with its service functions (`service`,
//!   testable without GraphQL) and its GraphQL types and resolvers (`graphql`).
//! - [`idempotency`]: reusable idempotency keys for mutations; [`geo`]: points and distances;
//!   [`validate`]: shared input checks.
//! - [`seed`]: the demo city of `tongxing seed-demo`, built through the service functions.
//! - [`schema`]: root types, `Node`, schema building and SDL export.
//! - [`http`]: the router and the server loop.

pub mod accounts;
pub mod auth;
pub mod authz;
pub mod backup;
pub mod batch;
pub mod campaigns;
pub mod certificates;
pub mod checkins;
pub mod clients;
pub mod clock;
pub mod config;
mod context;
pub mod db;
pub mod direct;
pub mod error;
pub mod events;
pub mod funds;
pub mod geo;
pub mod help;
pub mod housekeeping;
pub mod idempotency;
pub mod identity;
pub mod ids;
pub mod joined;
pub mod kiosk;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod organizations;
pub mod pagination;
pub mod persisted;
pub mod privacy;
pub mod profiles;
pub mod schema;
pub mod seed;
pub mod shifts;
pub mod signups;
mod sqlite_malloc;
pub mod stats;
pub mod telemetry;
pub mod timebank;
pub mod validate;
pub mod web;
pub mod wishes;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

pub use config::Config;
pub use schema::{build_schema, sdl};
pub use web::app;

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
    /// Encryption of ID numbers.
    pub identity_vault: Arc<identity::vault::IdentityVault>,
    /// Live updates: publishing, fan-out between replicas, shutdown of subscriptions.
    pub live: Arc<live::LiveHub>,
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
}

impl AppState {
    /// Build the state over an open (and migrated) database.
    pub fn new(db: DatabaseConnection, config: Config) -> anyhow::Result<Self> {
        config.validate()?;
        let secret = auth::jwt::server_secret(&config)?;
        let jwt = auth::jwt::JwtKeys::from_secret(&secret, &config)?;
        let checkin_codes =
            checkins::code::CheckInCodes::new(&secret, i64::from(config.checkin_code_secs));
        let persisted = match &config.trusted_documents {
            Some(path) => persisted::PersistedQueries::trusted_from_file(path)?,
            None => persisted::PersistedQueries::automatic(),
        };
        let live = live::LiveHub::new(&db);
        let request_limiter =
            limits::RequestLimiter::new(config.requests_per_account, config.requests_per_address);
        let identity_vault =
            identity::vault::IdentityVault::new(&auth::jwt::identity_key(&config)?)?;
        let login_throttle = auth::rate_limit::LoginThrottle::new(
            config.login_attempts_per_phone,
            config.login_attempts_per_address,
            config.registrations_per_address,
        );
        Ok(Self {
            db,
            config: Arc::new(config),
            jwt: Arc::new(jwt),
            checkin_codes: Arc::new(checkin_codes),
            identity_vault: Arc::new(identity_vault),
            request_limiter: Arc::new(request_limiter),
            persisted: Arc::new(persisted),
            live: Arc::new(live),
            login_throttle: Arc::new(login_throttle),
            draining: Arc::default(),
            metrics: Arc::default(),
        })
    }
}
