//! Database migrations of Tongxing, run by `tongxing migrate` and at server start.
//!
//! Every migration must run on SQLite and PostgreSQL: portable column types, constraints
//! expressed as `CHECK`/`UNIQUE`/foreign keys. The one exception is number 12, which changes a
//! column SQLite cannot alter in place and so takes each backend's documented way.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_foundation;
mod m20261129_000002_volunteering;
mod m20261129_000003_checkins;
mod m20261129_000004_record_audit;
mod m20261129_000005_auto_approve;
mod m20261129_000006_timebank;
mod m20261129_000007_identity_certificates;
mod m20261129_000008_live_events;
mod m20261129_000009_api_clients;
mod m20261129_000010_charity_funds;
mod m20261129_000011_micro_wishes;
mod m20261129_000012_help_requests;
mod m20261129_000013_audit_log;
mod m20261205_000014_read_path_indexes;
mod m20261206_000015_check_evidence;
mod m20261206_000016_kiosk_credentials;
mod m20261206_000017_phone_codes;
mod m20261206_000018_invitations;
mod m20261207_000019_paid_donations;
mod m20261207_000020_sessions;
mod m20261208_000021_sync_indexes;
mod m20261208_000022_text_search;
mod m20261208_000023_calendar_feeds;
mod m20261208_000024_notifications;
mod m20261209_000025_notification_delivery;
mod m20261210_000026_staff_assignments;
mod m20261210_000027_squads;
mod m20261210_000028_training;
mod m20261211_000029_service_projects;
mod m20261212_000030_care_register;
mod m20261212_000031_care_plans;
mod m20261213_000032_care_alerts;
mod m20261213_000033_deliberation;
mod postgres;
mod sqlite_rebuild;

/// The migrator applied by the server, the CLI and every test database.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_foundation::Migration),
            Box::new(m20261129_000002_volunteering::Migration),
            Box::new(m20261129_000003_checkins::Migration),
            Box::new(m20261129_000004_record_audit::Migration),
            Box::new(m20261129_000005_auto_approve::Migration),
            Box::new(m20261129_000006_timebank::Migration),
            Box::new(m20261129_000007_identity_certificates::Migration),
            Box::new(m20261129_000008_live_events::Migration),
            Box::new(m20261129_000009_api_clients::Migration),
            Box::new(m20261129_000010_charity_funds::Migration),
            Box::new(m20261129_000011_micro_wishes::Migration),
            Box::new(m20261129_000012_help_requests::Migration),
            Box::new(m20261129_000013_audit_log::Migration),
            Box::new(m20261205_000014_read_path_indexes::Migration),
            Box::new(m20261206_000015_check_evidence::Migration),
            Box::new(m20261206_000016_kiosk_credentials::Migration),
            Box::new(m20261206_000017_phone_codes::Migration),
            Box::new(m20261206_000018_invitations::Migration),
            Box::new(m20261207_000019_paid_donations::Migration),
            Box::new(m20261207_000020_sessions::Migration),
            Box::new(m20261208_000021_sync_indexes::Migration),
            Box::new(m20261208_000022_text_search::Migration),
            Box::new(m20261208_000023_calendar_feeds::Migration),
            Box::new(m20261208_000024_notifications::Migration),
            Box::new(m20261209_000025_notification_delivery::Migration),
            Box::new(m20261210_000026_staff_assignments::Migration),
            Box::new(m20261210_000027_squads::Migration),
            Box::new(m20261210_000028_training::Migration),
            Box::new(m20261211_000029_service_projects::Migration),
            Box::new(m20261212_000030_care_register::Migration),
            Box::new(m20261212_000031_care_plans::Migration),
            Box::new(m20261213_000032_care_alerts::Migration),
            Box::new(m20261213_000033_deliberation::Migration),
        ]
    }
}
