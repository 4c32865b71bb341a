//! The audit trail of service records: every approval, rejection and correction, never deleted.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ServiceRecordChange {
    Table,
    Id,
    RecordId,
    ActorId,
    Action,
    StatusBefore,
    StatusAfter,
    MinutesBefore,
    MinutesAfter,
    Reason,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceRecordChange::Table)
                    .col(big_pk_auto(ServiceRecordChange::Id))
                    .col(big_integer(ServiceRecordChange::RecordId))
                    .col(big_integer(ServiceRecordChange::ActorId))
                    .col(
                        string_len(ServiceRecordChange::Action, 10).check(
                            Expr::col(ServiceRecordChange::Action)
                                .is_in(["APPROVE", "REJECT", "CORRECT"]),
                        ),
                    )
                    .col(string_len(ServiceRecordChange::StatusBefore, 10))
                    .col(string_len(ServiceRecordChange::StatusAfter, 10))
                    .col(integer(ServiceRecordChange::MinutesBefore))
                    .col(integer(ServiceRecordChange::MinutesAfter))
                    .col(text_null(ServiceRecordChange::Reason))
                    .col(timestamp_with_time_zone(ServiceRecordChange::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServiceRecordChange::Table, ServiceRecordChange::RecordId)
                            .to(Alias::new("service_record"), Alias::new("id"))
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_service_record_change_record")
                    .table(ServiceRecordChange::Table)
                    .col(ServiceRecordChange::RecordId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServiceRecordChange::Table).to_owned())
            .await
    }
}
