//! Notifications (issue 19, first step): what a person is told about a change that concerns
//! them, written in the same transaction as the change. `(account_id, dedupe)` is unique, so a
//! retried or repeated trigger writes one notification, never two. Delivery to channels beyond
//! the app comes in later steps.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
    AccountId,
    Kind,
    ShiftId,
    SignupId,
    Dedupe,
    CreatedAt,
    ReadAt,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notification::Table)
                    .col(big_pk_auto(Notification::Id))
                    .col(big_integer(Notification::AccountId))
                    .col(string_len(Notification::Kind, 32))
                    .col(big_integer_null(Notification::ShiftId))
                    .col(big_integer_null(Notification::SignupId))
                    .col(string_len(Notification::Dedupe, 96))
                    .col(timestamp_with_time_zone(Notification::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notification::ReadAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notification::Table, Notification::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_notification_account_dedupe")
                    .table(Notification::Table)
                    .col(Notification::AccountId)
                    .col(Notification::Dedupe)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_account_id")
                    .table(Notification::Table)
                    .col(Notification::AccountId)
                    .col(Notification::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Notification::Table).to_owned())
            .await
    }
}
