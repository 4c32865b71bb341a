//! Service projects and the lists behind 精准对接 (issue 20 part 3): projects with deliverables
//! and reviews; a station's service list, a community's needs and resources; events, help
//! requests, funds and disbursements tagged to a project.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum ServiceProject {
    Table,
    Id,
    OrganizationId,
    OperatorId,
    EvaluatorId,
    Title,
    Description,
    Field,
    Funding,
    BudgetFen,
    StartsOn,
    EndsOn,
    Beneficiaries,
    BeneficiaryTarget,
    NeedId,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectDeliverable {
    Table,
    Id,
    ProjectId,
    Title,
    DueOn,
    Status,
    Note,
    SettledBy,
    SettledAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProjectReview {
    Table,
    Id,
    ProjectId,
    EvaluatorId,
    ReviewerId,
    Stage,
    Grade,
    Comments,
    ReviewedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StationService {
    Table,
    Id,
    OrganizationId,
    Title,
    Field,
    Description,
    Schedule,
    Active,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommunityNeed {
    Table,
    Id,
    OrganizationId,
    Title,
    Description,
    Field,
    Skills,
    Latitude,
    Longitude,
    NeededFrom,
    NeededUntil,
    People,
    Status,
    HelpRequestId,
    EventId,
    ProjectId,
    RaisedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CommunityResource {
    Table,
    Id,
    OrganizationId,
    Kind,
    Name,
    Description,
    Fields,
    Skills,
    Latitude,
    Longitude,
    AvailableFrom,
    AvailableUntil,
    Capacity,
    Contact,
    AccountId,
    FundId,
    Active,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Organization {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Account {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum CharityFund {
    Table,
    Id,
}

/// Tables that gain a `project_id` (SQLite adds one column per statement, without a foreign key).
const TAGGED: [&str; 4] = [
    "charity_event",
    "help_request",
    "charity_fund",
    "disbursement",
];

fn org_fk<T: IntoIden + 'static>(table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Organization::Table, Organization::Id)
        .to_owned()
}

fn index<T: IntoIden + Copy + 'static>(name: &str, table: T, cols: &[T]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceProject::Table)
                    .col(big_pk_auto(ServiceProject::Id))
                    .col(big_integer(ServiceProject::OrganizationId))
                    .col(big_integer_null(ServiceProject::OperatorId))
                    .col(big_integer_null(ServiceProject::EvaluatorId))
                    .col(string_len(ServiceProject::Title, 100))
                    .col(string_len(ServiceProject::Description, 2000))
                    .col(string_len(ServiceProject::Field, 32))
                    .col(string_len(ServiceProject::Funding, 32))
                    .col(
                        big_integer(ServiceProject::BudgetFen)
                            .check(Expr::col(ServiceProject::BudgetFen).gte(0)),
                    )
                    .col(date(ServiceProject::StartsOn))
                    .col(date(ServiceProject::EndsOn))
                    .col(string_len(ServiceProject::Beneficiaries, 200))
                    .col(
                        integer(ServiceProject::BeneficiaryTarget)
                            .check(Expr::col(ServiceProject::BeneficiaryTarget).gte(0)),
                    )
                    .col(big_integer_null(ServiceProject::NeedId))
                    .col(big_integer(ServiceProject::CreatedBy))
                    .col(timestamp_with_time_zone(ServiceProject::CreatedAt))
                    .col(timestamp_with_time_zone(ServiceProject::UpdatedAt))
                    .check(
                        Expr::col(ServiceProject::EndsOn).gte(Expr::col(ServiceProject::StartsOn)),
                    )
                    .foreign_key(&mut org_fk(
                        ServiceProject::Table,
                        ServiceProject::OrganizationId,
                    ))
                    .foreign_key(&mut org_fk(
                        ServiceProject::Table,
                        ServiceProject::OperatorId,
                    ))
                    .foreign_key(&mut org_fk(
                        ServiceProject::Table,
                        ServiceProject::EvaluatorId,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            (
                "idx_service_project_organization",
                ServiceProject::OrganizationId,
            ),
            ("idx_service_project_operator", ServiceProject::OperatorId),
            ("idx_service_project_evaluator", ServiceProject::EvaluatorId),
        ] {
            manager
                .create_index(index(name, ServiceProject::Table, &[col]))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ProjectDeliverable::Table)
                    .col(big_pk_auto(ProjectDeliverable::Id))
                    .col(big_integer(ProjectDeliverable::ProjectId))
                    .col(string_len(ProjectDeliverable::Title, 100))
                    .col(date(ProjectDeliverable::DueOn))
                    .col(string_len(ProjectDeliverable::Status, 16))
                    .col(string_len_null(ProjectDeliverable::Note, 500))
                    .col(big_integer_null(ProjectDeliverable::SettledBy))
                    .col(timestamp_with_time_zone_null(ProjectDeliverable::SettledAt))
                    .col(timestamp_with_time_zone(ProjectDeliverable::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectDeliverable::Table, ProjectDeliverable::ProjectId)
                            .to(ServiceProject::Table, ServiceProject::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_project_deliverable_project",
                ProjectDeliverable::Table,
                &[ProjectDeliverable::ProjectId, ProjectDeliverable::DueOn],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProjectReview::Table)
                    .col(big_pk_auto(ProjectReview::Id))
                    .col(big_integer(ProjectReview::ProjectId))
                    .col(big_integer(ProjectReview::EvaluatorId))
                    .col(big_integer(ProjectReview::ReviewerId))
                    .col(string_len(ProjectReview::Stage, 16))
                    .col(string_len(ProjectReview::Grade, 16))
                    .col(string_len(ProjectReview::Comments, 2000))
                    .col(timestamp_with_time_zone(ProjectReview::ReviewedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProjectReview::Table, ProjectReview::ProjectId)
                            .to(ServiceProject::Table, ServiceProject::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut org_fk(
                        ProjectReview::Table,
                        ProjectReview::EvaluatorId,
                    ))
                    .to_owned(),
            )
            .await?;
        // One review per stage: two evaluators racing to write the final review cannot both.
        manager
            .create_index(
                index(
                    "uq_project_review_stage",
                    ProjectReview::Table,
                    &[ProjectReview::ProjectId, ProjectReview::Stage],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(StationService::Table)
                    .col(big_pk_auto(StationService::Id))
                    .col(big_integer(StationService::OrganizationId))
                    .col(string_len(StationService::Title, 60))
                    .col(string_len(StationService::Field, 32))
                    .col(string_len(StationService::Description, 1000))
                    .col(string_len(StationService::Schedule, 100))
                    .col(boolean(StationService::Active))
                    .col(big_integer(StationService::CreatedBy))
                    .col(timestamp_with_time_zone(StationService::CreatedAt))
                    .col(timestamp_with_time_zone(StationService::UpdatedAt))
                    .foreign_key(&mut org_fk(
                        StationService::Table,
                        StationService::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "uq_station_service_title",
                    StationService::Table,
                    &[StationService::OrganizationId, StationService::Title],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityNeed::Table)
                    .col(big_pk_auto(CommunityNeed::Id))
                    .col(big_integer(CommunityNeed::OrganizationId))
                    .col(string_len(CommunityNeed::Title, 100))
                    .col(string_len(CommunityNeed::Description, 2000))
                    .col(string_len(CommunityNeed::Field, 32))
                    .col(string_len(CommunityNeed::Skills, 1000))
                    .col(double_null(CommunityNeed::Latitude))
                    .col(double_null(CommunityNeed::Longitude))
                    .col(timestamp_with_time_zone_null(CommunityNeed::NeededFrom))
                    .col(timestamp_with_time_zone_null(CommunityNeed::NeededUntil))
                    .col(
                        integer(CommunityNeed::People)
                            .check(Expr::col(CommunityNeed::People).gte(0)),
                    )
                    .col(string_len(CommunityNeed::Status, 16))
                    .col(big_integer_null(CommunityNeed::HelpRequestId))
                    .col(big_integer_null(CommunityNeed::EventId))
                    .col(big_integer_null(CommunityNeed::ProjectId))
                    .col(big_integer(CommunityNeed::RaisedBy))
                    .col(timestamp_with_time_zone(CommunityNeed::CreatedAt))
                    .col(timestamp_with_time_zone(CommunityNeed::UpdatedAt))
                    .foreign_key(&mut org_fk(
                        CommunityNeed::Table,
                        CommunityNeed::OrganizationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_community_need_organization",
                CommunityNeed::Table,
                &[CommunityNeed::OrganizationId, CommunityNeed::Status],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityResource::Table)
                    .col(big_pk_auto(CommunityResource::Id))
                    .col(big_integer(CommunityResource::OrganizationId))
                    .col(string_len(CommunityResource::Kind, 16))
                    .col(string_len(CommunityResource::Name, 60))
                    .col(string_len(CommunityResource::Description, 1000))
                    .col(string_len(CommunityResource::Fields, 300))
                    .col(string_len(CommunityResource::Skills, 1000))
                    .col(double_null(CommunityResource::Latitude))
                    .col(double_null(CommunityResource::Longitude))
                    .col(timestamp_with_time_zone_null(
                        CommunityResource::AvailableFrom,
                    ))
                    .col(timestamp_with_time_zone_null(
                        CommunityResource::AvailableUntil,
                    ))
                    .col(integer_null(CommunityResource::Capacity))
                    .col(string_len_null(CommunityResource::Contact, 60))
                    .col(big_integer_null(CommunityResource::AccountId))
                    .col(big_integer_null(CommunityResource::FundId))
                    .col(boolean(CommunityResource::Active))
                    .col(big_integer(CommunityResource::CreatedBy))
                    .col(timestamp_with_time_zone(CommunityResource::CreatedAt))
                    .col(timestamp_with_time_zone(CommunityResource::UpdatedAt))
                    .foreign_key(&mut org_fk(
                        CommunityResource::Table,
                        CommunityResource::OrganizationId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityResource::Table, CommunityResource::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityResource::Table, CommunityResource::FundId)
                            .to(CharityFund::Table, CharityFund::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_community_resource_organization",
                CommunityResource::Table,
                &[CommunityResource::OrganizationId, CommunityResource::Active],
            ))
            .await?;
        manager
            .create_index(index(
                "idx_community_resource_account",
                CommunityResource::Table,
                &[CommunityResource::AccountId],
            ))
            .await?;

        for table in TAGGED {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(big_integer_null(Alias::new("project_id")))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_{table}_project"))
                        .table(Alias::new(table))
                        .col(Alias::new("project_id"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TAGGED {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("idx_{table}_project"))
                        .table(Alias::new(table))
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .drop_column(Alias::new("project_id"))
                        .to_owned(),
                )
                .await?;
        }
        for t in [
            "community_resource",
            "community_need",
            "station_service",
            "project_review",
            "project_deliverable",
            "service_project",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
