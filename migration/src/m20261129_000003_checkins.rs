//! Check-ins and check-outs, and the service records they produce (issue 4).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Shift {
    Table,
    CheckInOpensMinutes,
}

#[derive(DeriveIden)]
enum CheckEvent {
    Table,
    Id,
    SignupId,
    ShiftId,
    AccountId,
    Kind,
    Method,
    ClientEventId,
    OccurredAt,
    ReceivedAt,
    Latitude,
    Longitude,
    AccuracyMeters,
    RecordedBy,
}

#[derive(DeriveIden)]
enum ServiceRecord {
    Table,
    Id,
    SignupId,
    AccountId,
    ShiftId,
    Minutes,
    Status,
    Verified,
    Flagged,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Shift::Table)
                    .add_column(integer(Shift::CheckInOpensMinutes).default(30))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CheckEvent::Table)
                    .col(big_pk_auto(CheckEvent::Id))
                    .col(big_integer(CheckEvent::SignupId))
                    .col(big_integer(CheckEvent::ShiftId))
                    .col(big_integer(CheckEvent::AccountId))
                    .col(
                        string_len(CheckEvent::Kind, 10)
                            .check(Expr::col(CheckEvent::Kind).is_in(["CHECK_IN", "CHECK_OUT"])),
                    )
                    .col(
                        string_len(CheckEvent::Method, 8)
                            .check(Expr::col(CheckEvent::Method).is_in(["QR", "GEO", "MANUAL"])),
                    )
                    .col(string_len(CheckEvent::ClientEventId, 64))
                    .col(timestamp_with_time_zone(CheckEvent::OccurredAt))
                    .col(timestamp_with_time_zone(CheckEvent::ReceivedAt))
                    .col(double_null(CheckEvent::Latitude))
                    .col(double_null(CheckEvent::Longitude))
                    .col(double_null(CheckEvent::AccuracyMeters))
                    .col(big_integer(CheckEvent::RecordedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CheckEvent::Table, CheckEvent::SignupId)
                            .to(Alias::new("signup"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // One check-in and one check-out per sign-up; every client event counted once.
        for (name, cols) in [
            (
                "uq_check_event_signup_kind",
                vec![CheckEvent::SignupId, CheckEvent::Kind],
            ),
            (
                "uq_check_event_client",
                vec![CheckEvent::AccountId, CheckEvent::ClientEventId],
            ),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(CheckEvent::Table).unique();
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx.to_owned()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_check_event_shift")
                    .table(CheckEvent::Table)
                    .col(CheckEvent::ShiftId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ServiceRecord::Table)
                    .col(big_pk_auto(ServiceRecord::Id))
                    .col(big_integer_uniq(ServiceRecord::SignupId))
                    .col(big_integer(ServiceRecord::AccountId))
                    .col(big_integer(ServiceRecord::ShiftId))
                    .col(
                        integer(ServiceRecord::Minutes)
                            .check(Expr::col(ServiceRecord::Minutes).gte(0)),
                    )
                    .col(string_len(ServiceRecord::Status, 10).check(
                        Expr::col(ServiceRecord::Status).is_in(["PENDING", "APPROVED", "REJECTED"]),
                    ))
                    .col(boolean(ServiceRecord::Verified))
                    .col(boolean(ServiceRecord::Flagged))
                    .col(timestamp_with_time_zone(ServiceRecord::CreatedAt))
                    .col(timestamp_with_time_zone(ServiceRecord::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServiceRecord::Table, ServiceRecord::SignupId)
                            .to(Alias::new("signup"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_service_record_account")
                    .table(ServiceRecord::Table)
                    .col(ServiceRecord::AccountId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServiceRecord::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CheckEvent::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Shift::Table)
                    .drop_column(Shift::CheckInOpensMinutes)
                    .to_owned(),
            )
            .await
    }
}
