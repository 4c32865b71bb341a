//! One-time codes sent by SMS to prove a phone number (registration, password reset, phone
//! change). Only a digest of each code is stored.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PhoneCode {
    Table,
    Id,
    Phone,
    Purpose,
    CodeDigest,
    Attempts,
    RequestedFrom,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PhoneCode::Table)
                    .col(big_pk_auto(PhoneCode::Id))
                    .col(string_len(PhoneCode::Phone, 20))
                    .col(string_len(PhoneCode::Purpose, 20))
                    .col(string_len(PhoneCode::CodeDigest, 64))
                    .col(integer(PhoneCode::Attempts).default(0))
                    .col(string_len_null(PhoneCode::RequestedFrom, 64))
                    .col(timestamp_with_time_zone(PhoneCode::CreatedAt))
                    .col(timestamp_with_time_zone(PhoneCode::ExpiresAt))
                    .col(timestamp_with_time_zone_null(PhoneCode::ConsumedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_phone_code_phone", PhoneCode::Phone),
            ("idx_phone_code_from", PhoneCode::RequestedFrom),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(PhoneCode::Table)
                        .col(col)
                        .col(PhoneCode::CreatedAt)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PhoneCode::Table).to_owned())
            .await
    }
}
