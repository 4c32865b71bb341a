//! Volunteer squads (志愿分队, issue 20 part 2): standing teams of an organization, with
//! leaders and members who apply or are invited, join and stay, and leave or are removed.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Squad {
    Table,
    Id,
    OrganizationId,
    Name,
    Description,
    Tags,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SquadMember {
    Table,
    Id,
    SquadId,
    AccountId,
    Role,
    Status,
    JoinedAt,
    CreatedAt,
    UpdatedAt,
}

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

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Squad::Table)
                    .col(big_pk_auto(Squad::Id))
                    .col(big_integer(Squad::OrganizationId))
                    .col(string_len(Squad::Name, 40))
                    .col(string_len(Squad::Description, 500))
                    .col(string_len(Squad::Tags, 200))
                    .col(big_integer(Squad::CreatedBy))
                    .col(timestamp_with_time_zone(Squad::CreatedAt))
                    .col(timestamp_with_time_zone(Squad::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Squad::Table, Squad::OrganizationId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_squad_organization_name")
                    .table(Squad::Table)
                    .col(Squad::OrganizationId)
                    .col(Squad::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SquadMember::Table)
                    .col(big_pk_auto(SquadMember::Id))
                    .col(big_integer(SquadMember::SquadId))
                    .col(big_integer(SquadMember::AccountId))
                    .col(string_len(SquadMember::Role, 16))
                    .col(string_len(SquadMember::Status, 16))
                    .col(timestamp_with_time_zone_null(SquadMember::JoinedAt))
                    .col(timestamp_with_time_zone(SquadMember::CreatedAt))
                    .col(timestamp_with_time_zone(SquadMember::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SquadMember::Table, SquadMember::SquadId)
                            .to(Squad::Table, Squad::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SquadMember::Table, SquadMember::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_squad_member")
                    .table(SquadMember::Table)
                    .col(SquadMember::SquadId)
                    .col(SquadMember::AccountId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_squad_member_account")
                    .table(SquadMember::Table)
                    .col(SquadMember::AccountId)
                    .col(SquadMember::Status)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SquadMember::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Squad::Table).to_owned())
            .await
    }
}
