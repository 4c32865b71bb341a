//! Live-update fan-out between replicas on PostgreSQL: each change is a row (ids only) with a
//! sequence number, announced by `NOTIFY`; a replica that lost its listening connection reads
//! the rows after the last sequence it saw, so no change is missed. Rows are kept briefly.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LiveEvent {
    Table,
    Seq,
    Kind,
    ShiftId,
    EventId,
    SignupId,
    AccountId,
    RefId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LiveEvent::Table)
                    .col(big_pk_auto(LiveEvent::Seq))
                    .col(string_len(LiveEvent::Kind, 16))
                    .col(big_integer_null(LiveEvent::ShiftId))
                    .col(big_integer_null(LiveEvent::EventId))
                    .col(big_integer_null(LiveEvent::SignupId))
                    .col(big_integer_null(LiveEvent::AccountId))
                    .col(big_integer_null(LiveEvent::RefId))
                    .col(timestamp_with_time_zone(LiveEvent::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LiveEvent::Table).to_owned())
            .await
    }
}
