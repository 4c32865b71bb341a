//! Help requests and dispatch (就近调动): a need reported by staff or the hotline, offered to
//! chosen volunteers, taken by the first who accepts, completed with a service record.
//!
//! A service record now comes from a shift sign-up *or* a help request, so `service_record`
//! loses its `NOT NULL` on `signup_id`/`shift_id` and gains `help_request_id`. It also carries
//! where (`organization_id`), what (`category`) and when (`served_at`) the service was, copied
//! from the shift's event for existing rows, so statistics, certificates and exports read one
//! table whatever the origin.
//!
//! SQLite cannot drop a `NOT NULL`, so there the table is rebuilt the way SQLite documents
//! (<https://sqlite.org/lang_altertable.html#otheralter>): on one connection with foreign keys
//! off, in one transaction — create the new table, copy, drop the old, rename, re-index, check
//! every foreign key — then foreign keys back on. PostgreSQL alters the table in place.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{ConnectionTrait, DatabaseBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Signup {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum VolunteerProfile {
    Table,
    AvailableForDispatch,
}

#[derive(DeriveIden)]
enum HelpRequest {
    Table,
    Id,
    OrganizationId,
    Title,
    Details,
    Category,
    Urgency,
    Latitude,
    Longitude,
    NeededSkills,
    NeededBy,
    Status,
    ReportedBy,
    ReportedViaClient,
    AssigneeId,
    ReportedAt,
    DispatchedAt,
    AcceptedAt,
    ResponseSeconds,
    CompletedAt,
    CompletionNote,
    MinutesServed,
    CancelReason,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum HelpOffer {
    Table,
    Id,
    HelpRequestId,
    VolunteerId,
    Status,
    OfferedBy,
    OfferedAt,
    ClosedAt,
}

#[derive(DeriveIden)]
enum HelpRequestStep {
    Table,
    Id,
    HelpRequestId,
    Step,
    ActorId,
    Note,
    At,
}

#[derive(DeriveIden)]
enum ServiceRecord {
    Table,
    Id,
    SignupId,
    HelpRequestId,
    AccountId,
    ShiftId,
    OrganizationId,
    Category,
    ServedAt,
    Minutes,
    Status,
    Verified,
    Flagged,
    CoinCentsPerHour,
    CreatedAt,
    UpdatedAt,
}

const STATUSES: [&str; 5] = [
    "REPORTED",
    "DISPATCHED",
    "ACCEPTED",
    "COMPLETED",
    "CANCELLED",
];
const OFFER_STATUSES: [&str; 4] = ["OPEN", "ACCEPTED", "DECLINED", "CLOSED"];
const URGENCIES: [&str; 4] = ["LOW", "NORMAL", "HIGH", "CRITICAL"];

fn help_tables() -> Vec<TableCreateStatement> {
    let request = Table::create()
        .table(HelpRequest::Table)
        .col(big_pk_auto(HelpRequest::Id))
        .col(big_integer(HelpRequest::OrganizationId))
        .col(string_len(HelpRequest::Title, 100))
        .col(text(HelpRequest::Details))
        .col(string_len(HelpRequest::Category, 24))
        .col(
            string_len(HelpRequest::Urgency, 10)
                .check(Expr::col(HelpRequest::Urgency).is_in(URGENCIES)),
        )
        .col(double(HelpRequest::Latitude))
        .col(double(HelpRequest::Longitude))
        .col(text(HelpRequest::NeededSkills))
        .col(timestamp_with_time_zone_null(HelpRequest::NeededBy))
        .col(
            string_len(HelpRequest::Status, 12)
                .check(Expr::col(HelpRequest::Status).is_in(STATUSES)),
        )
        .col(big_integer(HelpRequest::ReportedBy))
        .col(big_integer_null(HelpRequest::ReportedViaClient))
        .col(big_integer_null(HelpRequest::AssigneeId))
        .col(timestamp_with_time_zone(HelpRequest::ReportedAt))
        .col(timestamp_with_time_zone_null(HelpRequest::DispatchedAt))
        .col(timestamp_with_time_zone_null(HelpRequest::AcceptedAt))
        .col(big_integer_null(HelpRequest::ResponseSeconds))
        .col(timestamp_with_time_zone_null(HelpRequest::CompletedAt))
        .col(text_null(HelpRequest::CompletionNote))
        .col(integer_null(HelpRequest::MinutesServed))
        .col(text_null(HelpRequest::CancelReason))
        .col(timestamp_with_time_zone(HelpRequest::UpdatedAt))
        // Taken or done means someone took it.
        .check(
            Expr::col(HelpRequest::Status)
                .is_in(["ACCEPTED", "COMPLETED"])
                .not()
                .or(Expr::col(HelpRequest::AssigneeId).is_not_null()),
        )
        .foreign_key(
            ForeignKey::create()
                .from(HelpRequest::Table, HelpRequest::OrganizationId)
                .to(Organization::Table, Organization::Id),
        )
        .foreign_key(
            ForeignKey::create()
                .from(HelpRequest::Table, HelpRequest::ReportedBy)
                .to(Account::Table, Account::Id),
        )
        .foreign_key(
            ForeignKey::create()
                .from(HelpRequest::Table, HelpRequest::AssigneeId)
                .to(Account::Table, Account::Id),
        )
        .to_owned();
    let offer = Table::create()
        .table(HelpOffer::Table)
        .col(big_pk_auto(HelpOffer::Id))
        .col(big_integer(HelpOffer::HelpRequestId))
        .col(big_integer(HelpOffer::VolunteerId))
        .col(
            string_len(HelpOffer::Status, 10)
                .check(Expr::col(HelpOffer::Status).is_in(OFFER_STATUSES)),
        )
        .col(big_integer(HelpOffer::OfferedBy))
        .col(timestamp_with_time_zone(HelpOffer::OfferedAt))
        .col(timestamp_with_time_zone_null(HelpOffer::ClosedAt))
        .foreign_key(
            ForeignKey::create()
                .from(HelpOffer::Table, HelpOffer::HelpRequestId)
                .to(HelpRequest::Table, HelpRequest::Id),
        )
        .foreign_key(
            ForeignKey::create()
                .from(HelpOffer::Table, HelpOffer::VolunteerId)
                .to(Account::Table, Account::Id),
        )
        .to_owned();
    let step = Table::create()
        .table(HelpRequestStep::Table)
        .col(big_pk_auto(HelpRequestStep::Id))
        .col(big_integer(HelpRequestStep::HelpRequestId))
        .col(
            string_len(HelpRequestStep::Step, 12)
                .check(Expr::col(HelpRequestStep::Step).is_in(STATUSES)),
        )
        .col(big_integer_null(HelpRequestStep::ActorId))
        .col(text_null(HelpRequestStep::Note))
        .col(timestamp_with_time_zone(HelpRequestStep::At))
        .foreign_key(
            ForeignKey::create()
                .from(HelpRequestStep::Table, HelpRequestStep::HelpRequestId)
                .to(HelpRequest::Table, HelpRequest::Id),
        )
        .to_owned();
    vec![request, offer, step]
}

fn help_indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .name("idx_help_request_org_status")
            .table(HelpRequest::Table)
            .col(HelpRequest::OrganizationId)
            .col(HelpRequest::Status)
            .to_owned(),
        // "Helping with another request" is asked per candidate volunteer.
        Index::create()
            .name("idx_help_request_assignee")
            .table(HelpRequest::Table)
            .col(HelpRequest::AssigneeId)
            .col(HelpRequest::Status)
            .to_owned(),
        Index::create()
            .name("uq_help_offer_request_volunteer")
            .table(HelpOffer::Table)
            .col(HelpOffer::HelpRequestId)
            .col(HelpOffer::VolunteerId)
            .unique()
            .to_owned(),
        Index::create()
            .name("idx_help_offer_volunteer")
            .table(HelpOffer::Table)
            .col(HelpOffer::VolunteerId)
            .col(HelpOffer::Status)
            .to_owned(),
        Index::create()
            .name("idx_help_request_step_request")
            .table(HelpRequestStep::Table)
            .col(HelpRequestStep::HelpRequestId)
            .to_owned(),
    ]
}

/// Indexes of the rebuilt `service_record`.
fn record_indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .name("idx_service_record_account")
            .table(ServiceRecord::Table)
            .col(ServiceRecord::AccountId)
            .to_owned(),
        Index::create()
            .name("idx_service_record_org_served")
            .table(ServiceRecord::Table)
            .col(ServiceRecord::OrganizationId)
            .col(ServiceRecord::ServedAt)
            .to_owned(),
    ]
}

/// A record comes from exactly one sign-up (with its shift) or one help request.
fn origin_checks() -> [SimpleExpr; 2] {
    [
        Expr::col(ServiceRecord::SignupId)
            .is_null()
            .ne(Expr::col(ServiceRecord::HelpRequestId).is_null()),
        Expr::col(ServiceRecord::SignupId)
            .is_null()
            .eq(Expr::col(ServiceRecord::ShiftId).is_null()),
    ]
}

/// The SQLite definition of the new `service_record`, named `name`.
fn sqlite_record_table(name: &str) -> TableCreateStatement {
    let mut t = Table::create();
    t.table(Alias::new(name))
        .col(big_pk_auto(ServiceRecord::Id))
        .col(big_integer_null(ServiceRecord::SignupId).unique_key())
        .col(big_integer_null(ServiceRecord::HelpRequestId).unique_key())
        .col(big_integer(ServiceRecord::AccountId))
        .col(big_integer_null(ServiceRecord::ShiftId))
        .col(big_integer(ServiceRecord::OrganizationId))
        .col(string_len(ServiceRecord::Category, 24))
        .col(timestamp_with_time_zone(ServiceRecord::ServedAt))
        .col(integer(ServiceRecord::Minutes).check(Expr::col(ServiceRecord::Minutes).gte(0)))
        .col(
            string_len(ServiceRecord::Status, 10)
                .check(Expr::col(ServiceRecord::Status).is_in(["PENDING", "APPROVED", "REJECTED"])),
        )
        .col(boolean(ServiceRecord::Verified))
        .col(boolean(ServiceRecord::Flagged))
        .col(integer_null(ServiceRecord::CoinCentsPerHour))
        .col(timestamp_with_time_zone(ServiceRecord::CreatedAt))
        .col(timestamp_with_time_zone(ServiceRecord::UpdatedAt))
        .foreign_key(
            ForeignKey::create()
                .from(Alias::new(name), ServiceRecord::SignupId)
                .to(Signup::Table, Signup::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .foreign_key(
            ForeignKey::create()
                .from(Alias::new(name), ServiceRecord::HelpRequestId)
                .to(HelpRequest::Table, HelpRequest::Id)
                .on_delete(ForeignKeyAction::Restrict),
        )
        .foreign_key(
            ForeignKey::create()
                .from(Alias::new(name), ServiceRecord::OrganizationId)
                .to(Organization::Table, Organization::Id),
        );
    for c in origin_checks() {
        t.check(c);
    }
    t.to_owned()
}

const COPY_COLUMNS: &str = "id, signup_id, help_request_id, account_id, shift_id, organization_id, \
     category, served_at, minutes, status, verified, flagged, coin_cents_per_hour, created_at, \
     updated_at";

/// Rebuild `service_record` on SQLite (see the module documentation).
async fn rebuild_sqlite(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    crate::sqlite_rebuild::rebuild(
        manager,
        crate::sqlite_rebuild::Rebuild {
            table: "service_record",
            marker: "help_request_id",
            create_new: sqlite_record_table("service_record_new"),
            copy: format!(
                "INSERT INTO service_record_new ({COPY_COLUMNS}) \
                 SELECT r.id, r.signup_id, NULL, r.account_id, r.shift_id, e.organization_id, \
                 e.category, s.starts_at, r.minutes, r.status, r.verified, r.flagged, \
                 r.coin_cents_per_hour, r.created_at, r.updated_at \
                 FROM service_record r JOIN shift s ON s.id = r.shift_id \
                 JOIN charity_event e ON e.id = s.event_id"
            ),
            indexes: record_indexes(),
        },
    )
    .await
}

/// Alter `service_record` in place on PostgreSQL (inside the migration's transaction).
async fn alter_postgres(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    db.execute_unprepared(
        "ALTER TABLE service_record \
           ALTER COLUMN signup_id DROP NOT NULL, \
           ALTER COLUMN shift_id DROP NOT NULL, \
           ADD COLUMN help_request_id bigint NULL UNIQUE REFERENCES help_request (id) ON DELETE RESTRICT, \
           ADD COLUMN organization_id bigint NULL REFERENCES organization (id), \
           ADD COLUMN category varchar(24) NULL, \
           ADD COLUMN served_at timestamp with time zone NULL",
    )
    .await?;
    db.execute_unprepared(
        "UPDATE service_record r SET organization_id = e.organization_id, category = e.category, \
           served_at = s.starts_at \
         FROM shift s JOIN charity_event e ON e.id = s.event_id WHERE s.id = r.shift_id",
    )
    .await?;
    let orphans = db
        .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT COUNT(*) AS n FROM service_record WHERE organization_id IS NULL",
        ))
        .await?
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if orphans > 0 {
        return Err(DbErr::Migration(format!(
            "{orphans} service records have no shift and event to copy from"
        )));
    }
    db.execute_unprepared(
        "ALTER TABLE service_record \
           ALTER COLUMN organization_id SET NOT NULL, \
           ALTER COLUMN category SET NOT NULL, \
           ALTER COLUMN served_at SET NOT NULL",
    )
    .await?;
    crate::postgres::add_checks(
        db,
        "service_record",
        ["ck_service_record_origin", "ck_service_record_shift"]
            .into_iter()
            .zip(origin_checks()),
    )
    .await?;
    manager.create_index(record_indexes().swap_remove(1)).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut t in help_tables() {
            manager.create_table(t.if_not_exists().to_owned()).await?;
        }
        for mut i in help_indexes() {
            manager.create_index(i.if_not_exists().to_owned()).await?;
        }
        // Being proposed for help requests near home is the volunteer's choice (off until they
        // turn it on): the ranking reads their home location.
        if !manager
            .has_column("volunteer_profile", "available_for_dispatch")
            .await?
        {
            manager
                .alter_table(
                    Table::alter()
                        .table(VolunteerProfile::Table)
                        .add_column(boolean(VolunteerProfile::AvailableForDispatch).default(false))
                        .to_owned(),
                )
                .await?;
        }
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_sqlite(manager).await,
            _ => alter_postgres(manager).await,
        }
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "help requests cannot be migrated down: service records from help requests have no \
             shift to go back to; restore a backup taken before this migration"
                .to_owned(),
        ))
    }
}
