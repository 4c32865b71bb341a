//! Tongxing (同行) API: the GraphQL backend for volunteer shifts, charity events and campaigns.
//!
//! Module map — one line for every module. A domain module holds `service.rs` (its rules,
//! testable without GraphQL), `graphql.rs` (its types and resolvers) and, where it has words of
//! its own, `domain.rs` (values and pure rules).
//!
//! **Running it**
//! - [`config`]: the typed configuration (flags and `TONGXING_*` environment variables).
//! - [`state`]: [`AppState`], the server's shared state.
//! - [`web`]: the HTTP edge — router and layers, GraphQL over HTTP and WebSocket, the caller,
//!   the one error-to-response mapping, CSV exports, certificate PDFs, `/oauth/token`, the
//!   server loop (the calendar routes live in [`calendar`]).
//! - [`schema`]: root types, the `Node` interface, schema building and SDL export.
//! - [`telemetry`]: logging and optional trace export; [`metrics`]: `/metrics`.
//! - [`housekeeping`]: periodic upkeep while the server runs.
//! - [`backup`]: online backups of the SQLite file.
//! - [`seed`]: the demo city of `tongxing seed-demo`, built through the services.
//!
//! **Shared words**
//! - [`error`]: the one error type and its `extensions.code` values; [`i18n`]: the request's
//!   language (`Accept-Language`, Chinese by default) and messages in Chinese and English.
//! - [`db`]: connecting to SQLite or PostgreSQL, migrations, write transactions, statement
//!   counting; `sqlite_malloc`: SQLite allocating through mimalloc.
//! - `context`: what resolvers get from the GraphQL context — state, caller, caller checks.
//! - [`auth`]: passwords, JWTs, refresh tokens, login throttling, the viewer; [`authz`]: who
//!   may do what in the organization hierarchy.
//! - [`ids`]: global IDs and cursors; [`pagination`]: keyset pages, connections and their
//!   `totalCount`, "changed since" pages; [`scalars`]: `Date`.
//! - [`access`]: who may read each field of the schema (public, a client's scope, people);
//!   [`search`]: text search on events and shifts through the databases' trigram indexes.
//! - [`clock`]: city time; [`geo`]: points, distances and the bounding box;
//!   [`validate`]: input checks shared by many inputs.
//! - [`idempotency`]: idempotency keys for mutations; [`limits`]: aliases per document and
//!   request budgets.
//! - [`lifecycle`]: statuses — how messages name them, and race-free moves of events and
//!   campaigns.
//! - [`persisted`]: persisted queries and the parsed-document cache.
//! - [`live`]: live updates (subscriptions, fan-out between replicas).
//! - [`sms`]: text messages (one-time codes) through a provider, or a file in development.
//! - [`privacy`]: personal-data export, deletion, audit of staff reads; [`stats`]: the
//!   figures an organization reports for a period, over everything below it.
//!
//! **The read path**
//! - [`batch`]: one statement per relation level, whatever the query's shape;
//!   [`joined`]: the hot lists read their to-one relations from the same row;
//!   [`direct`]: plain columns written straight into the response.
//!
//! **Domains**
//! - [`accounts`]: accounts and sessions; [`profiles`]: volunteer profiles;
//!   [`identity`]: real-name identity.
//! - [`organizations`]: the hierarchy and memberships; [`clients`]: third-party API clients.
//! - [`campaigns`], [`events`], [`shifts`], [`signups`]: what volunteers sign up for.
//! - [`checkins`]: check-in codes, evidence, PIN limits, check-ins and service records;
//!   [`kiosk`]: the venue's check-in page and the kiosk keys it holds; [`certificates`]:
//!   service certificates.
//! - [`timebank`]: the time-coin ledger; [`funds`]: charity funds, donations, disbursements;
//!   [`wishes`]: micro-wishes; [`help`]: help requests and dispatch.
//! - [`calendar`]: iCalendar feeds of a person's shifts, and one shift's file;
//!   [`notifications`]: what a person is told about changes that concern them.
//! - [`stats`]: figures up the hierarchy.

// The merged mutation root of every module nests deeply enough for the default limit.
#![recursion_limit = "256"]

// First: its `msg!` is used by every module below.
#[macro_use]
pub mod i18n;

pub mod access;
pub mod accounts;
pub mod auth;
pub mod authz;
pub mod backup;
pub mod batch;
pub mod calendar;
pub mod campaigns;
pub mod care;
pub mod certificates;
pub mod checkins;
pub mod clients;
pub mod clock;
pub mod config;
mod context;
pub mod db;
pub mod deliberation;
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
pub mod lifecycle;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod notifications;
pub mod organizations;
pub mod pagination;
pub mod payments;
pub mod persisted;
pub mod privacy;
pub mod profiles;
pub mod projects;
pub mod scalars;
pub mod schema;
pub mod search;
pub mod seed;
pub mod shifts;
pub mod signups;
pub mod sms;
mod sqlite_malloc;
pub mod squads;
pub mod staffing;
pub mod state;
pub mod stats;
pub mod telemetry;
pub mod timebank;
pub mod validate;
pub mod web;
pub mod wishes;

pub use config::Config;
pub use schema::{build_schema, sdl};
pub use state::AppState;
pub use web::app;
