//! Accounts, refresh tokens, the organization hierarchy (with its closure table) and memberships.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    Phone,
    PasswordHash,
    DisplayName,
    IsSystemAdmin,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RefreshToken {
    Table,
    Id,
    AccountId,
    FamilyId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RotatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
    Name,
    Kind,
    ParentId,
    RegionCode,
    Address,
    Latitude,
    Longitude,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrganizationClosure {
    Table,
    AncestorId,
    DescendantId,
    Depth,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    Id,
    AccountId,
    OrganizationId,
    Role,
    CreatedAt,
}

const ORG_KINDS: [&str; 6] = [
    "CITY_CENTER",
    "DISTRICT_CENTER",
    "STATION",
    "ROOM",
    "SOCIAL_ORG",
    "CHARITY",
];
const ROLES: [&str; 3] = ["ADMIN", "ORGANIZER", "SOCIAL_WORKER"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Account::Table)
                    .col(big_pk_auto(Account::Id))
                    .col(string_len_uniq(Account::Phone, 20))
                    .col(string(Account::PasswordHash))
                    .col(string_len(Account::DisplayName, 64))
                    .col(boolean(Account::IsSystemAdmin).default(false))
                    .col(timestamp_with_time_zone(Account::CreatedAt))
                    .col(timestamp_with_time_zone(Account::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshToken::Table)
                    .col(big_pk_auto(RefreshToken::Id))
                    .col(big_integer(RefreshToken::AccountId))
                    .col(string_len(RefreshToken::FamilyId, 36))
                    .col(string_len_uniq(RefreshToken::TokenHash, 64))
                    .col(timestamp_with_time_zone(RefreshToken::CreatedAt))
                    .col(timestamp_with_time_zone(RefreshToken::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshToken::RotatedAt))
                    .col(timestamp_with_time_zone_null(RefreshToken::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshToken::Table, RefreshToken::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_token_family")
                    .table(RefreshToken::Table)
                    .col(RefreshToken::FamilyId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_token_account")
                    .table(RefreshToken::Table)
                    .col(RefreshToken::AccountId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Organization::Table)
                    .col(big_pk_auto(Organization::Id))
                    .col(string_len(Organization::Name, 128))
                    .col(
                        string_len(Organization::Kind, 20)
                            .check(Expr::col(Organization::Kind).is_in(ORG_KINDS)),
                    )
                    .col(big_integer_null(Organization::ParentId))
                    .col(string_len_null(Organization::RegionCode, 12))
                    .col(string_len_null(Organization::Address, 256))
                    .col(double_null(Organization::Latitude))
                    .col(double_null(Organization::Longitude))
                    .col(timestamp_with_time_zone(Organization::CreatedAt))
                    .col(timestamp_with_time_zone(Organization::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Organization::Table, Organization::ParentId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organization_parent")
                    .table(Organization::Table)
                    .col(Organization::ParentId)
                    .to_owned(),
            )
            .await?;

        // Closure table: one row per (ancestor, descendant) pair including (self, self) at depth 0,
        // so "every organization under X" and "is A above B" are single indexed lookups.
        manager
            .create_table(
                Table::create()
                    .table(OrganizationClosure::Table)
                    .col(big_integer(OrganizationClosure::AncestorId))
                    .col(big_integer(OrganizationClosure::DescendantId))
                    .col(integer(OrganizationClosure::Depth))
                    .primary_key(
                        Index::create()
                            .col(OrganizationClosure::AncestorId)
                            .col(OrganizationClosure::DescendantId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrganizationClosure::Table, OrganizationClosure::AncestorId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                OrganizationClosure::Table,
                                OrganizationClosure::DescendantId,
                            )
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organization_closure_descendant")
                    .table(OrganizationClosure::Table)
                    .col(OrganizationClosure::DescendantId)
                    .col(OrganizationClosure::Depth)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Membership::Table)
                    .col(big_pk_auto(Membership::Id))
                    .col(big_integer(Membership::AccountId))
                    .col(big_integer(Membership::OrganizationId))
                    .col(
                        string_len(Membership::Role, 20)
                            .check(Expr::col(Membership::Role).is_in(ROLES)),
                    )
                    .col(timestamp_with_time_zone(Membership::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Membership::Table, Membership::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Membership::Table, Membership::OrganizationId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_membership_account_org")
                    .table(Membership::Table)
                    .col(Membership::AccountId)
                    .col(Membership::OrganizationId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_membership_org")
                    .table(Membership::Table)
                    .col(Membership::OrganizationId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Membership::Table.into_iden(),
            OrganizationClosure::Table.into_iden(),
            Organization::Table.into_iden(),
            RefreshToken::Table.into_iden(),
            Account::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
