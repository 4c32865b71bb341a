//! Integration tests of Tongxing: one binary (fast to link), a module per area.
//! Every test gets its own freshly migrated database; set `TEST_DATABASE_URL` to a PostgreSQL
//! server (e.g. `postgres://postgres@127.0.0.1:5432/postgres`) to run them all on PostgreSQL.

mod fakenotify;
mod fakepay;
mod harness;

mod access_e2e;
mod accounts_service;
mod auth_e2e;
mod backup;
mod calendar_e2e;
mod care_e2e;
mod certificates_e2e;
mod checkins_e2e;
mod cli;
mod clients_e2e;
mod evidence_e2e;
mod exports_e2e;
mod faults;
mod funds_e2e;
mod graphiql_browser;
mod help_e2e;
mod http_e2e;
mod i18n_e2e;
mod idempotency_service;
mod kiosk_browser;
mod kiosk_e2e;
mod launch;
mod limits_e2e;
mod lists_e2e;
mod live_e2e;
mod live_limits_e2e;
mod metrics_e2e;
mod migration_upgrade;
mod notifications_e2e;
mod notify_delivery_e2e;
mod organizations_e2e;
mod organizations_service;
mod payments_e2e;
mod persisted_e2e;
mod privacy_e2e;
mod projects_e2e;
mod query_cost;
mod query_shapes;
mod schema_file;
mod seed_demo;
mod server_process;
mod sessions_e2e;
mod signup_rush;
mod sms_e2e;
mod squads_e2e;
mod staffing_e2e;
mod stats_e2e;
mod timebank;
mod volunteering_e2e;
mod wishes_e2e;
