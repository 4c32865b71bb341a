//! Third-party API clients of an organization and their secrets (stored as SHA-256 digests of
//! 256-bit random values; two may be active during a roll-over).

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
enum ApiClient {
    Table,
    Id,
    ClientId,
    OrganizationId,
    Name,
    Scopes,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ApiClientSecret {
    Table,
    Id,
    ApiClientId,
    SecretHash,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiClient::Table)
                    .col(big_pk_auto(ApiClient::Id))
                    .col(string_len(ApiClient::ClientId, 64).unique_key())
                    .col(big_integer(ApiClient::OrganizationId))
                    .col(string_len(ApiClient::Name, 100))
                    .col(string_len(ApiClient::Scopes, 200))
                    .col(big_integer(ApiClient::CreatedBy))
                    .col(timestamp_with_time_zone(ApiClient::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiClient::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiClient::Table, ApiClient::OrganizationId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiClient::Table, ApiClient::CreatedBy)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiClientSecret::Table)
                    .col(big_pk_auto(ApiClientSecret::Id))
                    .col(big_integer(ApiClientSecret::ApiClientId))
                    .col(string_len(ApiClientSecret::SecretHash, 64).unique_key())
                    .col(timestamp_with_time_zone(ApiClientSecret::CreatedAt))
                    // Set when a newer secret replaced it: valid until then.
                    .col(timestamp_with_time_zone_null(ApiClientSecret::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiClientSecret::Table, ApiClientSecret::ApiClientId)
                            .to(ApiClient::Table, ApiClient::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ApiClientSecret::Table.into_iden(),
            ApiClient::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}
