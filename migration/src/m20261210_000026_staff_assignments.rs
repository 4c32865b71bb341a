//! Station staffing (issue 20, part 1): social workers assigned to a station or room, either
//! resident there (驻站社工) or dispatched by an operator organization (外派社工), for a period
//! of days. Authority in the station follows an assignment while it runs.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StaffAssignment {
    Table,
    Id,
    AccountId,
    StationId,
    Kind,
    OperatorId,
    StartsOn,
    EndsOn,
    Qualification,
    CertificateNumber,
    CreatedBy,
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
                    .table(StaffAssignment::Table)
                    .col(big_pk_auto(StaffAssignment::Id))
                    .col(big_integer(StaffAssignment::AccountId))
                    .col(big_integer(StaffAssignment::StationId))
                    .col(string_len(StaffAssignment::Kind, 16))
                    .col(big_integer_null(StaffAssignment::OperatorId))
                    .col(date(StaffAssignment::StartsOn))
                    .col(date_null(StaffAssignment::EndsOn))
                    .col(string_len_null(StaffAssignment::Qualification, 32))
                    .col(string_len_null(StaffAssignment::CertificateNumber, 32))
                    .col(big_integer(StaffAssignment::CreatedBy))
                    .col(timestamp_with_time_zone(StaffAssignment::CreatedAt))
                    .col(timestamp_with_time_zone(StaffAssignment::UpdatedAt))
                    .check(
                        Expr::col(StaffAssignment::EndsOn)
                            .is_null()
                            .or(Expr::col(StaffAssignment::EndsOn)
                                .gte(Expr::col(StaffAssignment::StartsOn))),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffAssignment::Table, StaffAssignment::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffAssignment::Table, StaffAssignment::StationId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(StaffAssignment::Table, StaffAssignment::OperatorId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_staff_assignment_station",
                [StaffAssignment::StationId, StaffAssignment::StartsOn],
            ),
            (
                "idx_staff_assignment_account",
                [StaffAssignment::AccountId, StaffAssignment::StartsOn],
            ),
            (
                "idx_staff_assignment_operator",
                [StaffAssignment::OperatorId, StaffAssignment::StartsOn],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(StaffAssignment::Table);
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StaffAssignment::Table).to_owned())
            .await
    }
}
