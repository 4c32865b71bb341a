//! Real-name identities (ID numbers encrypted, with a keyed digest for uniqueness) and service
//! certificates (a snapshot of what was certified, verifiable by number). Also indexes the
//! time-bank transfers by the service record they pay for (settlement reads them), and keeps on
//! each service record the coin rate it was approved at.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Identity {
    Table,
    AccountId,
    LegalName,
    IdType,
    IdCiphertext,
    IdMasked,
    IdDigest,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ServiceCertificate {
    Table,
    Id,
    Number,
    AccountId,
    OrganizationId,
    IssuedBy,
    PeriodFrom,
    PeriodTo,
    LegalName,
    VolunteerNumber,
    IdType,
    IdMasked,
    TotalMinutes,
    Items,
    IssuedAt,
}

#[derive(DeriveIden)]
enum ServiceRecord {
    Table,
    CoinCentsPerHour,
}

#[derive(DeriveIden)]
enum TimebankTransfer {
    Table,
    ServiceRecordId,
}

const ID_TYPES: [&str; 5] = [
    "MAINLAND_ID",
    "HONG_KONG_MACAO_PERMIT",
    "TAIWAN_PERMIT",
    "PASSPORT",
    "FOREIGN_PERMANENT_RESIDENT",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Identity::Table)
                    .col(big_integer(Identity::AccountId).primary_key())
                    .col(string_len(Identity::LegalName, 50))
                    .col(
                        string_len(Identity::IdType, 32)
                            .check(Expr::col(Identity::IdType).is_in(ID_TYPES)),
                    )
                    // Nonce and AES-256-GCM ciphertext; the number itself is never stored.
                    .col(blob(Identity::IdCiphertext))
                    .col(string_len(Identity::IdMasked, 32))
                    // Keyed digest of type and number: one identity per person, findable
                    // without decrypting anything.
                    .col(string_len(Identity::IdDigest, 64).unique_key())
                    .col(timestamp_with_time_zone(Identity::CreatedAt))
                    .col(timestamp_with_time_zone(Identity::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Identity::Table, Identity::AccountId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ServiceCertificate::Table)
                    .col(big_pk_auto(ServiceCertificate::Id))
                    .col(string_len(ServiceCertificate::Number, 32).unique_key())
                    .col(big_integer(ServiceCertificate::AccountId))
                    .col(big_integer(ServiceCertificate::OrganizationId))
                    .col(big_integer(ServiceCertificate::IssuedBy))
                    .col(date(ServiceCertificate::PeriodFrom))
                    .col(date(ServiceCertificate::PeriodTo))
                    .col(string_len(ServiceCertificate::LegalName, 50))
                    .col(string_len(ServiceCertificate::VolunteerNumber, 32))
                    .col(string_len(ServiceCertificate::IdType, 32))
                    .col(string_len(ServiceCertificate::IdMasked, 32))
                    .col(
                        big_integer(ServiceCertificate::TotalMinutes)
                            .check(Expr::col(ServiceCertificate::TotalMinutes).gt(0)),
                    )
                    // The certified lines by event, as JSON: what was certified stays as it was.
                    .col(text(ServiceCertificate::Items))
                    .col(timestamp_with_time_zone(ServiceCertificate::IssuedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ServiceCertificate::Table, ServiceCertificate::AccountId)
                            .to(Account::Table, Account::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ServiceCertificate::Table,
                                ServiceCertificate::OrganizationId,
                            )
                            .to(Organization::Table, Organization::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_service_certificate_account")
                    .table(ServiceCertificate::Table)
                    .col(ServiceCertificate::AccountId)
                    .col(ServiceCertificate::Id)
                    .to_owned(),
            )
            .await?;
        // The coin rate in force when a record was first approved: corrections settle at it.
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceRecord::Table)
                    .add_column(integer_null(ServiceRecord::CoinCentsPerHour))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_timebank_transfer_record")
                    .table(TimebankTransfer::Table)
                    .col(TimebankTransfer::ServiceRecordId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_timebank_transfer_record")
                    .table(TimebankTransfer::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ServiceRecord::Table)
                    .drop_column(ServiceRecord::CoinCentsPerHour)
                    .to_owned(),
            )
            .await?;
        for t in [
            ServiceCertificate::Table.into_iden(),
            Identity::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
