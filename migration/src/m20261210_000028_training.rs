//! Training (issue 20 part 2): courses a volunteer completed (course, date, minutes, issuer),
//! and the courses a shift requires of whoever signs up.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TrainingRecord {
    Table,
    Id,
    AccountId,
    Course,
    CompletedOn,
    Minutes,
    IssuerId,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ShiftTraining {
    Table,
    ShiftId,
    Course,
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

#[derive(DeriveIden)]
enum Shift {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TrainingRecord::Table)
                    .col(big_pk_auto(TrainingRecord::Id))
                    .col(big_integer(TrainingRecord::AccountId))
                    .col(string_len(TrainingRecord::Course, 60))
                    .col(date(TrainingRecord::CompletedOn))
                    .col(
                        integer(TrainingRecord::Minutes)
                            .check(Expr::col(TrainingRecord::Minutes).between(1, 10_000)),
                    )
                    .col(big_integer(TrainingRecord::IssuerId))
                    .col(big_integer(TrainingRecord::RecordedBy))
                    .col(timestamp_with_time_zone(TrainingRecord::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TrainingRecord::Table, TrainingRecord::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TrainingRecord::Table, TrainingRecord::IssuerId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_training_record")
                    .table(TrainingRecord::Table)
                    .col(TrainingRecord::AccountId)
                    .col(TrainingRecord::Course)
                    .col(TrainingRecord::CompletedOn)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ShiftTraining::Table)
                    .col(big_integer(ShiftTraining::ShiftId))
                    .col(string_len(ShiftTraining::Course, 60))
                    .primary_key(
                        Index::create()
                            .col(ShiftTraining::ShiftId)
                            .col(ShiftTraining::Course),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ShiftTraining::Table, ShiftTraining::ShiftId)
                            .to(Shift::Table, Shift::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ShiftTraining::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(TrainingRecord::Table).to_owned())
            .await
    }
}
