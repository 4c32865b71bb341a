//! Calendar feeds: the generation of each account's secret feed URL. The URL itself is derived
//! (an HMAC of the account and its generation), so nothing secret is stored; rotating the URL
//! increments the generation and every older URL stops working. An account without a row is at
//! generation 0.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CalendarFeed {
    Table,
    AccountId,
    Generation,
    RotatedAt,
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
                    .table(CalendarFeed::Table)
                    .col(big_integer(CalendarFeed::AccountId).primary_key())
                    .col(
                        integer(CalendarFeed::Generation)
                            .check(Expr::col(CalendarFeed::Generation).gte(1)),
                    )
                    .col(timestamp_with_time_zone(CalendarFeed::RotatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CalendarFeed::Table, CalendarFeed::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CalendarFeed::Table).to_owned())
            .await
    }
}
