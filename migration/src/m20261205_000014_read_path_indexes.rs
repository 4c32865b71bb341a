//! Indexes for the read path's list orders: upcoming events are read in (start, id) order,
//! page after page, so the first page must not sort every event (10,000 in a city).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CharityEvent {
    Table,
    StartsAt,
    Id,
}

const EVENT_START: &str = "idx_event_start_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(EVENT_START)
                    .table(CharityEvent::Table)
                    .col(CharityEvent::StartsAt)
                    .col(CharityEvent::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(EVENT_START)
                    .table(CharityEvent::Table)
                    .to_owned(),
            )
            .await
    }
}
