//! The register of people served (服务对象, issue 21 part 1): sensitive personal information,
//! sealed at rest, with the consents that allow keeping it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CareRecipient {
    Table,
    Id,
    OrganizationId,
    AgeGroup,
    Categories,
    Sealed,
    Status,
    ErasedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CareConsent {
    Table,
    Id,
    RecipientId,
    GivenBy,
    SealedName,
    Purposes,
    Means,
    GivenOn,
    RecordedBy,
    CreatedAt,
    WithdrawnAt,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CareRecipient::Table)
                    .col(big_pk_auto(CareRecipient::Id))
                    .col(big_integer(CareRecipient::OrganizationId))
                    .col(string_len(CareRecipient::AgeGroup, 16))
                    .col(string_len(CareRecipient::Categories, 300))
                    .col(blob_null(CareRecipient::Sealed))
                    .col(string_len(CareRecipient::Status, 16))
                    .col(timestamp_with_time_zone_null(CareRecipient::ErasedAt))
                    .col(big_integer(CareRecipient::CreatedBy))
                    .col(timestamp_with_time_zone(CareRecipient::CreatedAt))
                    .col(timestamp_with_time_zone(CareRecipient::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CareRecipient::Table, CareRecipient::OrganizationId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_care_recipient_organization")
                    .table(CareRecipient::Table)
                    .col(CareRecipient::OrganizationId)
                    .col(CareRecipient::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CareConsent::Table)
                    .col(big_pk_auto(CareConsent::Id))
                    .col(big_integer(CareConsent::RecipientId))
                    .col(string_len(CareConsent::GivenBy, 16))
                    .col(blob_null(CareConsent::SealedName))
                    .col(string_len(CareConsent::Purposes, 200))
                    .col(string_len(CareConsent::Means, 16))
                    .col(date(CareConsent::GivenOn))
                    .col(big_integer(CareConsent::RecordedBy))
                    .col(timestamp_with_time_zone(CareConsent::CreatedAt))
                    .col(timestamp_with_time_zone_null(CareConsent::WithdrawnAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CareConsent::Table, CareConsent::RecipientId)
                            .to(CareRecipient::Table, CareRecipient::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_care_consent_recipient")
                    .table(CareConsent::Table)
                    .col(CareConsent::RecipientId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CareConsent::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CareRecipient::Table).to_owned())
            .await
    }
}
