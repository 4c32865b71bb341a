//! Invitations: an organization's administrator offers a role to a phone number, and the
//! number's owner accepts it signed in. A role is never granted to whoever holds a number.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Invitation {
    Table,
    Id,
    OrganizationId,
    Phone,
    Role,
    InvitedBy,
    CreatedAt,
    AcceptedAt,
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
                    .table(Invitation::Table)
                    .col(big_pk_auto(Invitation::Id))
                    .col(big_integer(Invitation::OrganizationId))
                    .col(string_len(Invitation::Phone, 20))
                    .col(string_len(Invitation::Role, 20))
                    .col(big_integer(Invitation::InvitedBy))
                    .col(timestamp_with_time_zone(Invitation::CreatedAt))
                    .col(timestamp_with_time_zone_null(Invitation::AcceptedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitation::Table, Invitation::OrganizationId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invitation_org_phone")
                    .table(Invitation::Table)
                    .col(Invitation::OrganizationId)
                    .col(Invitation::Phone)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invitation_phone")
                    .table(Invitation::Table)
                    .col(Invitation::Phone)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Invitation::Table).to_owned())
            .await
    }
}
