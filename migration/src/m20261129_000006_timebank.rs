//! The time bank: a double-entry ledger of time coins (hundredths of a coin, integers).
//! Balances can never go below zero (CHECK), except for organizations' issuing accounts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TimebankAccount {
    Table,
    Id,
    OwnerAccountId,
    OwnerOrganizationId,
    Balance,
    AllowNegative,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TimebankTransfer {
    Table,
    Id,
    FromAccountId,
    ToAccountId,
    Amount,
    Kind,
    Memo,
    ServiceRecordId,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TimebankEntry {
    Table,
    Id,
    TransferId,
    AccountId,
    Amount,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TimebankAccount::Table)
                    .col(big_pk_auto(TimebankAccount::Id))
                    .col(big_integer_null(TimebankAccount::OwnerAccountId).unique_key())
                    .col(big_integer_null(TimebankAccount::OwnerOrganizationId).unique_key())
                    .col(big_integer(TimebankAccount::Balance).default(0))
                    .col(boolean(TimebankAccount::AllowNegative).default(false))
                    .col(timestamp_with_time_zone(TimebankAccount::CreatedAt))
                    .check(
                        Expr::col(TimebankAccount::AllowNegative)
                            .eq(true)
                            .or(Expr::col(TimebankAccount::Balance).gte(0)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TimebankTransfer::Table)
                    .col(big_pk_auto(TimebankTransfer::Id))
                    .col(big_integer(TimebankTransfer::FromAccountId))
                    .col(big_integer(TimebankTransfer::ToAccountId))
                    .col(
                        big_integer(TimebankTransfer::Amount)
                            .check(Expr::col(TimebankTransfer::Amount).gt(0)),
                    )
                    .col(string_len(TimebankTransfer::Kind, 12).check(
                        Expr::col(TimebankTransfer::Kind).is_in([
                            "SERVICE",
                            "GIFT",
                            "REDEEM",
                            "CORRECTION",
                        ]),
                    ))
                    .col(string_len(TimebankTransfer::Memo, 200))
                    .col(big_integer_null(TimebankTransfer::ServiceRecordId))
                    .col(big_integer(TimebankTransfer::CreatedBy))
                    .col(timestamp_with_time_zone(TimebankTransfer::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TimebankTransfer::Table, TimebankTransfer::FromAccountId)
                            .to(TimebankAccount::Table, TimebankAccount::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TimebankTransfer::Table, TimebankTransfer::ToAccountId)
                            .to(TimebankAccount::Table, TimebankAccount::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TimebankEntry::Table)
                    .col(big_pk_auto(TimebankEntry::Id))
                    .col(big_integer(TimebankEntry::TransferId))
                    .col(big_integer(TimebankEntry::AccountId))
                    .col(big_integer(TimebankEntry::Amount))
                    .col(timestamp_with_time_zone(TimebankEntry::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TimebankEntry::Table, TimebankEntry::TransferId)
                            .to(TimebankTransfer::Table, TimebankTransfer::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TimebankEntry::Table, TimebankEntry::AccountId)
                            .to(TimebankAccount::Table, TimebankAccount::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A paged read of one account's entries walks this index, never the whole ledger.
        manager
            .create_index(
                Index::create()
                    .name("idx_timebank_entry_account")
                    .table(TimebankEntry::Table)
                    .col(TimebankEntry::AccountId)
                    .col(TimebankEntry::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            TimebankEntry::Table.into_iden(),
            TimebankTransfer::Table.into_iden(),
            TimebankAccount::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
