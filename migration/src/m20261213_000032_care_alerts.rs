//! Care alerts (issue 21 part 2): a visit that marked something as a concern or urgent is an
//! alert to the station's staff until one of them handles it (or a volunteer takes its help
//! request); the day the visit was due is kept beside the day it was made, for on-time rates.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CareVisit {
    Table,
    OrganizationId,
    Alert,
    DueOn,
    AlertHandledAt,
    AlertHandledBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for col in [
            boolean(CareVisit::Alert).default(false).to_owned(),
            date_null(CareVisit::DueOn),
            timestamp_with_time_zone_null(CareVisit::AlertHandledAt),
            big_integer_null(CareVisit::AlertHandledBy),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CareVisit::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE care_visit SET alert = (health <> 'OK' OR safety <> 'OK' OR living <> 'OK' OR mood <> 'OK' OR help_request_id IS NOT NULL)",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_care_visit_alert")
                    .table(CareVisit::Table)
                    .col(CareVisit::OrganizationId)
                    .col(CareVisit::Alert)
                    .col(CareVisit::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The kinds and category this step brought leave with it: an older server reads none.
        manager
            .get_connection()
            .execute_unprepared(
                "DELETE FROM notification WHERE kind IN ('CARE_ALERT', 'CARE_VISIT_OVERDUE', 'CARE_TASKS_OVERDUE')",
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM notification_preference WHERE category = 'CARE'")
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_care_visit_alert")
                    .table(CareVisit::Table)
                    .to_owned(),
            )
            .await?;
        for col in [
            CareVisit::AlertHandledBy,
            CareVisit::AlertHandledAt,
            CareVisit::DueOn,
            CareVisit::Alert,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CareVisit::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
