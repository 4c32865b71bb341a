//! Residents' deliberation (议事, issue 21 part 3): topics raised for a community, one support
//! per person (a unique key, with a counter kept in the same transaction), the history of each
//! status change, the meetings that discussed a topic, and what paid for it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Topic {
    Table,
    Id,
    OrganizationId,
    Title,
    Description,
    Category,
    PhotoUrls,
    RaisedBy,
    Status,
    Supporters,
    ProjectId,
    WishId,
    DisbursementId,
    HiddenAt,
    HiddenBy,
    HiddenReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TopicSupport {
    Table,
    TopicId,
    AccountId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TopicChange {
    Table,
    Id,
    TopicId,
    FromStatus,
    ToStatus,
    ChangedBy,
    Note,
    CreatedAt,
}

#[derive(DeriveIden)]
enum TopicMeeting {
    Table,
    Id,
    TopicId,
    EventId,
    Attendees,
    Minutes,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Organization {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CharityEvent {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Topic::Table)
                    .col(big_pk_auto(Topic::Id))
                    .col(big_integer(Topic::OrganizationId))
                    .col(string_len(Topic::Title, 200))
                    .col(text(Topic::Description))
                    .col(string_len(Topic::Category, 24))
                    .col(text(Topic::PhotoUrls))
                    .col(big_integer(Topic::RaisedBy))
                    .col(string_len(Topic::Status, 16))
                    .col(integer(Topic::Supporters).default(0))
                    .col(big_integer_null(Topic::ProjectId))
                    .col(big_integer_null(Topic::WishId))
                    .col(big_integer_null(Topic::DisbursementId))
                    .col(timestamp_with_time_zone_null(Topic::HiddenAt))
                    .col(big_integer_null(Topic::HiddenBy))
                    .col(string_len_null(Topic::HiddenReason, 24))
                    .col(timestamp_with_time_zone(Topic::CreatedAt))
                    .col(timestamp_with_time_zone(Topic::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Topic::Table, Topic::OrganizationId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Topic::Table, Topic::RaisedBy)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topic_organization")
                    .table(Topic::Table)
                    .col(Topic::OrganizationId)
                    .col(Topic::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topic_raised_by")
                    .table(Topic::Table)
                    .col(Topic::RaisedBy)
                    .col(Topic::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TopicSupport::Table)
                    .col(big_integer(TopicSupport::TopicId))
                    .col(big_integer(TopicSupport::AccountId))
                    .col(timestamp_with_time_zone(TopicSupport::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(TopicSupport::TopicId)
                            .col(TopicSupport::AccountId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicSupport::Table, TopicSupport::TopicId)
                            .to(Topic::Table, Topic::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicSupport::Table, TopicSupport::AccountId)
                            .to(Account::Table, Account::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TopicChange::Table)
                    .col(big_pk_auto(TopicChange::Id))
                    .col(big_integer(TopicChange::TopicId))
                    .col(string_len_null(TopicChange::FromStatus, 16))
                    .col(string_len(TopicChange::ToStatus, 16))
                    .col(big_integer(TopicChange::ChangedBy))
                    .col(text(TopicChange::Note))
                    .col(timestamp_with_time_zone(TopicChange::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicChange::Table, TopicChange::TopicId)
                            .to(Topic::Table, Topic::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_topic_change_topic")
                    .table(TopicChange::Table)
                    .col(TopicChange::TopicId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TopicMeeting::Table)
                    .col(big_pk_auto(TopicMeeting::Id))
                    .col(big_integer(TopicMeeting::TopicId))
                    .col(big_integer(TopicMeeting::EventId))
                    .col(integer(TopicMeeting::Attendees))
                    .col(text(TopicMeeting::Minutes))
                    .col(big_integer(TopicMeeting::RecordedBy))
                    .col(timestamp_with_time_zone(TopicMeeting::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicMeeting::Table, TopicMeeting::TopicId)
                            .to(Topic::Table, Topic::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TopicMeeting::Table, TopicMeeting::EventId)
                            .to(CharityEvent::Table, CharityEvent::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_topic_meeting")
                    .table(TopicMeeting::Table)
                    .col(TopicMeeting::TopicId)
                    .col(TopicMeeting::EventId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in ["topic_meeting", "topic_change", "topic_support", "topic"] {
            manager
                .drop_table(Table::drop().table(Alias::new(t)).to_owned())
                .await?;
        }
        Ok(())
    }
}
