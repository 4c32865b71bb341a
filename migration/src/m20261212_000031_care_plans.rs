//! Care plans and visits (四方关爱, issue 21 part 2): a plan per person served, the four
//! parties' tasks with their cadence and next due day, and the visits logged against them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CarePlan {
    Table,
    Id,
    RecipientId,
    OrganizationId,
    StartsOn,
    EndedAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CareTask {
    Table,
    Id,
    PlanId,
    RecipientId,
    OrganizationId,
    Party,
    Kind,
    Cadence,
    AssigneeId,
    NextDueOn,
    LastDoneOn,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CareVisit {
    Table,
    Id,
    TaskId,
    RecipientId,
    OrganizationId,
    VisitorId,
    VisitedOn,
    Health,
    Safety,
    Living,
    Mood,
    SealedNotes,
    HelpRequestId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CareRecipient {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CarePlan::Table)
                    .col(big_pk_auto(CarePlan::Id))
                    .col(big_integer(CarePlan::RecipientId))
                    .col(big_integer(CarePlan::OrganizationId))
                    .col(date(CarePlan::StartsOn))
                    .col(timestamp_with_time_zone_null(CarePlan::EndedAt))
                    .col(big_integer(CarePlan::CreatedBy))
                    .col(timestamp_with_time_zone(CarePlan::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CarePlan::Table, CarePlan::RecipientId)
                            .to(CareRecipient::Table, CareRecipient::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One running plan per person: a partial unique index (both databases have them).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_care_plan_running ON care_plan (recipient_id) WHERE ended_at IS NULL",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_care_plan_recipient")
                    .table(CarePlan::Table)
                    .col(CarePlan::RecipientId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CareTask::Table)
                    .col(big_pk_auto(CareTask::Id))
                    .col(big_integer(CareTask::PlanId))
                    .col(big_integer(CareTask::RecipientId))
                    .col(big_integer(CareTask::OrganizationId))
                    .col(string_len(CareTask::Party, 20))
                    .col(string_len(CareTask::Kind, 16))
                    .col(string_len(CareTask::Cadence, 16))
                    .col(big_integer(CareTask::AssigneeId))
                    .col(date(CareTask::NextDueOn))
                    .col(date_null(CareTask::LastDoneOn))
                    .col(timestamp_with_time_zone(CareTask::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CareTask::Table, CareTask::PlanId)
                            .to(CarePlan::Table, CarePlan::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CareTask::Table, CareTask::AssigneeId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_care_task_assignee",
                vec![CareTask::AssigneeId, CareTask::NextDueOn],
            ),
            (
                "idx_care_task_organization",
                vec![CareTask::OrganizationId, CareTask::NextDueOn],
            ),
            ("idx_care_task_plan", vec![CareTask::PlanId]),
        ] {
            let mut i = Index::create();
            i.name(name).table(CareTask::Table);
            for c in cols {
                i.col(c);
            }
            manager.create_index(i.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CareVisit::Table)
                    .col(big_pk_auto(CareVisit::Id))
                    .col(big_integer(CareVisit::TaskId))
                    .col(big_integer(CareVisit::RecipientId))
                    .col(big_integer(CareVisit::OrganizationId))
                    .col(big_integer(CareVisit::VisitorId))
                    .col(date(CareVisit::VisitedOn))
                    .col(string_len(CareVisit::Health, 16))
                    .col(string_len(CareVisit::Safety, 16))
                    .col(string_len(CareVisit::Living, 16))
                    .col(string_len(CareVisit::Mood, 16))
                    .col(blob_null(CareVisit::SealedNotes))
                    .col(big_integer_null(CareVisit::HelpRequestId))
                    .col(timestamp_with_time_zone(CareVisit::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CareVisit::Table, CareVisit::TaskId)
                            .to(CareTask::Table, CareTask::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_care_visit_organization")
                    .table(CareVisit::Table)
                    .col(CareVisit::OrganizationId)
                    .col(CareVisit::VisitedOn)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_care_visit_task")
                    .table(CareVisit::Table)
                    .col(CareVisit::TaskId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["care_visit", "care_task", "care_plan"] {
            manager
                .drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
