//! Notification delivery (issue 19): the outbox that carries notifications beyond the app.
//!
//! - `notification` gains `subject_id` (what it is about, besides a shift or sign-up), `urgent`
//!   (urgent help offers pass quiet hours) and `planned_at` (when its channels were decided;
//!   `NULL` rows are the outbox's queue, found by a partial index). Rows written before this
//!   migration count as planned: nobody is texted about old news.
//! - `notification_delivery`: one row per (notification, channel), unique, with its status,
//!   attempts, when it is next due (also the lease of a worker sending it), the last error and
//!   when it was sent. Due rows are found by an index on `(status, next_at)`.
//! - `notification_preference`: per person, category and channel, on or off (no row: on).
//! - `notification_setting`: per person, quiet hours and a global unsubscribe (no row: quiet
//!   22:00–08:00 China time, subscribed).
//! - `wechat_link` (a person's mini-program `openid`) and `wechat_consent` (one-time
//!   subscription consents left, per template).
//! - `organization_reminder`: how long before its shifts an organization reminds volunteers.
//! - `scheduler_mark`: how far each scheduled job (reminders, digests) has got, so a restart or
//!   a second replica neither skips nor repeats a moment; `shift.ends_at` gets an index for the
//!   missing check-out nudge.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Notification {
    Table,
    Id,
    SubjectId,
    Urgent,
    PlannedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NotificationDelivery {
    Table,
    Id,
    NotificationId,
    Channel,
    Status,
    Attempts,
    NextAt,
    LastError,
    SentAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationPreference {
    Table,
    AccountId,
    Category,
    Channel,
    Enabled,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum NotificationSetting {
    Table,
    AccountId,
    QuietFromMinute,
    QuietUntilMinute,
    Unsubscribed,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WechatLink {
    Table,
    AccountId,
    Openid,
    LinkedAt,
}

#[derive(DeriveIden)]
enum WechatConsent {
    Table,
    AccountId,
    TemplateId,
    Remaining,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrganizationReminder {
    Table,
    OrganizationId,
    OffsetsMinutes,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SchedulerMark {
    Table,
    Name,
    Until,
}

#[derive(DeriveIden)]
enum Shift {
    Table,
    EndsAt,
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

fn account_fk<T: IntoIden + 'static>(table: T, column: T) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Account::Table, Account::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for col in [
            big_integer_null(Notification::SubjectId),
            boolean(Notification::Urgent).default(false).to_owned(),
            timestamp_with_time_zone_null(Notification::PlannedAt),
        ] {
            let mut col = col;
            manager
                .alter_table(
                    Table::alter()
                        .table(Notification::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .exec_stmt(
                Query::update()
                    .table(Notification::Table)
                    .value(Notification::PlannedAt, Expr::col(Notification::CreatedAt))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_notification_unplanned ON notification (id) WHERE planned_at IS NULL",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(NotificationDelivery::Table)
                    .col(big_pk_auto(NotificationDelivery::Id))
                    .col(big_integer(NotificationDelivery::NotificationId))
                    .col(string_len(NotificationDelivery::Channel, 16))
                    .col(string_len(NotificationDelivery::Status, 16))
                    .col(
                        integer(NotificationDelivery::Attempts)
                            .default(0)
                            .check(Expr::col(NotificationDelivery::Attempts).gte(0)),
                    )
                    .col(timestamp_with_time_zone(NotificationDelivery::NextAt))
                    .col(string_len_null(NotificationDelivery::LastError, 500))
                    .col(timestamp_with_time_zone_null(NotificationDelivery::SentAt))
                    .col(timestamp_with_time_zone(NotificationDelivery::CreatedAt))
                    .col(timestamp_with_time_zone(NotificationDelivery::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                NotificationDelivery::Table,
                                NotificationDelivery::NotificationId,
                            )
                            .to(Notification::Table, Notification::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_notification_delivery_channel")
                    .table(NotificationDelivery::Table)
                    .col(NotificationDelivery::NotificationId)
                    .col(NotificationDelivery::Channel)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Plain, not partial: the status is a bound parameter, and PostgreSQL (with generic
        // plans) never matches a parameter against a partial index's predicate.
        for (name, second) in [
            (
                "idx_notification_delivery_due",
                NotificationDelivery::NextAt,
            ),
            ("idx_notification_delivery_status", NotificationDelivery::Id),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(NotificationDelivery::Table)
                        .col(NotificationDelivery::Status)
                        .col(second)
                        .to_owned(),
                )
                .await?;
        }
        // Shifts that just ended (the missing check-out nudge).
        manager
            .create_index(
                Index::create()
                    .name("idx_shift_ends_at")
                    .table(Shift::Table)
                    .col(Shift::EndsAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(NotificationPreference::Table)
                    .col(big_integer(NotificationPreference::AccountId))
                    .col(string_len(NotificationPreference::Category, 32))
                    .col(string_len(NotificationPreference::Channel, 16))
                    .col(boolean(NotificationPreference::Enabled))
                    .col(timestamp_with_time_zone(NotificationPreference::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(NotificationPreference::AccountId)
                            .col(NotificationPreference::Category)
                            .col(NotificationPreference::Channel),
                    )
                    .foreign_key(&mut account_fk(
                        NotificationPreference::Table,
                        NotificationPreference::AccountId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(NotificationSetting::Table)
                    .col(big_integer(NotificationSetting::AccountId).primary_key())
                    .col(small_integer_null(NotificationSetting::QuietFromMinute))
                    .col(small_integer_null(NotificationSetting::QuietUntilMinute))
                    .col(boolean(NotificationSetting::Unsubscribed).default(false))
                    .col(timestamp_with_time_zone(NotificationSetting::UpdatedAt))
                    .foreign_key(&mut account_fk(
                        NotificationSetting::Table,
                        NotificationSetting::AccountId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WechatLink::Table)
                    .col(big_integer(WechatLink::AccountId).primary_key())
                    .col(string_len(WechatLink::Openid, 128).unique_key())
                    .col(timestamp_with_time_zone(WechatLink::LinkedAt))
                    .foreign_key(&mut account_fk(WechatLink::Table, WechatLink::AccountId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WechatConsent::Table)
                    .col(big_integer(WechatConsent::AccountId))
                    .col(string_len(WechatConsent::TemplateId, 128))
                    .col(
                        integer(WechatConsent::Remaining)
                            .check(Expr::col(WechatConsent::Remaining).gte(0)),
                    )
                    .col(timestamp_with_time_zone(WechatConsent::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(WechatConsent::AccountId)
                            .col(WechatConsent::TemplateId),
                    )
                    .foreign_key(&mut account_fk(
                        WechatConsent::Table,
                        WechatConsent::AccountId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrganizationReminder::Table)
                    .col(big_integer(OrganizationReminder::OrganizationId).primary_key())
                    .col(string_len(OrganizationReminder::OffsetsMinutes, 200))
                    .col(timestamp_with_time_zone(OrganizationReminder::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                OrganizationReminder::Table,
                                OrganizationReminder::OrganizationId,
                            )
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SchedulerMark::Table)
                    .col(string_len(SchedulerMark::Name, 64).primary_key())
                    .col(timestamp_with_time_zone(SchedulerMark::Until))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SchedulerMark::Table.into_iden(),
            OrganizationReminder::Table.into_iden(),
            WechatConsent::Table.into_iden(),
            WechatLink::Table.into_iden(),
            NotificationSetting::Table.into_iden(),
            NotificationPreference::Table.into_iden(),
            NotificationDelivery::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_notification_unplanned")
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_shift_ends_at")
                    .table(Shift::Table)
                    .to_owned(),
            )
            .await?;
        for col in [
            Notification::PlannedAt.into_iden(),
            Notification::Urgent.into_iden(),
            Notification::SubjectId.into_iden(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Notification::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
