//! Kiosk credentials: a key a venue's tablet holds to show one event's check-in codes, instead
//! of a staff member's session. Only a digest of the key is stored.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum KioskCredential {
    Table,
    Id,
    EventId,
    Label,
    KeyDigest,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum CharityEvent {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KioskCredential::Table)
                    .col(big_pk_auto(KioskCredential::Id))
                    .col(big_integer(KioskCredential::EventId))
                    .col(string_len(KioskCredential::Label, 100))
                    .col(string_len_uniq(KioskCredential::KeyDigest, 64))
                    .col(big_integer(KioskCredential::CreatedBy))
                    .col(timestamp_with_time_zone(KioskCredential::CreatedAt))
                    .col(timestamp_with_time_zone_null(KioskCredential::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(KioskCredential::Table, KioskCredential::EventId)
                            .to(CharityEvent::Table, CharityEvent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_kiosk_credential_event")
                    .table(KioskCredential::Table)
                    .col(KioskCredential::EventId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KioskCredential::Table).to_owned())
            .await
    }
}
