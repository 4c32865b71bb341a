//! Campaigns, charity events, shifts, sign-ups, volunteer profiles and idempotency keys.
//!
//! Rules that must hold under concurrency live here: `confirmed_count` can never pass
//! `capacity` (CHECK), one active sign-up per volunteer and shift (partial UNIQUE index), one
//! waitlist ticket per place (UNIQUE), one shift per series occurrence (UNIQUE).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

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
enum Campaign {
    Table,
    Id,
    OrganizationId,
    Title,
    Description,
    Status,
    StartsAt,
    EndsAt,
    VolunteerHoursGoal,
    FundraisingGoalFen,
    CoverImageUrl,
    PublishedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CharityEvent {
    Table,
    Id,
    OrganizationId,
    CampaignId,
    Title,
    Description,
    Category,
    Address,
    Latitude,
    Longitude,
    StartsAt,
    EndsAt,
    Status,
    CancelReason,
    PublishedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Shift {
    Table,
    Id,
    EventId,
    SeriesKey,
    Title,
    Description,
    StartsAt,
    EndsAt,
    Capacity,
    ConfirmedCount,
    WaitlistEnabled,
    WaitlistSeq,
    RequiredSkills,
    CheckInRadiusMeters,
    Status,
    CancelReason,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Signup {
    Table,
    Id,
    ShiftId,
    AccountId,
    Status,
    WaitlistTicket,
    CreatedAt,
    UpdatedAt,
    PromotedAt,
    CancelledAt,
    CancelReason,
    CancelledBy,
}

#[derive(DeriveIden)]
enum VolunteerProfile {
    Table,
    AccountId,
    VolunteerNumber,
    Skills,
    Bio,
    HomeLatitude,
    HomeLongitude,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKey {
    Table,
    AccountId,
    Key,
    Operation,
    RequestHash,
    Response,
    CreatedAt,
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(on_delete)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    cols: Vec<DynIden>,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for c in cols {
        stmt.col(c);
    }
    manager.create_index(stmt.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Campaign::Table)
                    .col(big_pk_auto(Campaign::Id))
                    .col(big_integer(Campaign::OrganizationId))
                    .col(string_len(Campaign::Title, 100))
                    .col(text(Campaign::Description))
                    .col(string_len(Campaign::Status, 12).check(
                        Expr::col(Campaign::Status).is_in([
                            "DRAFT",
                            "PUBLISHED",
                            "CLOSED",
                            "CANCELLED",
                        ]),
                    ))
                    .col(timestamp_with_time_zone(Campaign::StartsAt))
                    .col(timestamp_with_time_zone(Campaign::EndsAt))
                    .col(integer_null(Campaign::VolunteerHoursGoal))
                    .col(big_integer_null(Campaign::FundraisingGoalFen))
                    .col(string_len_null(Campaign::CoverImageUrl, 512))
                    .col(timestamp_with_time_zone_null(Campaign::PublishedAt))
                    .col(big_integer(Campaign::CreatedBy))
                    .col(timestamp_with_time_zone(Campaign::CreatedAt))
                    .col(timestamp_with_time_zone(Campaign::UpdatedAt))
                    .check(Expr::col(Campaign::EndsAt).gt(Expr::col(Campaign::StartsAt)))
                    .foreign_key(&mut fk(
                        (Campaign::Table, Campaign::OrganizationId),
                        (Organization::Table, Organization::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_campaign_org",
            Campaign::Table,
            vec![Campaign::OrganizationId.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_campaign_status",
            Campaign::Table,
            vec![Campaign::Status.into_iden(), Campaign::StartsAt.into_iden()],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CharityEvent::Table)
                    .col(big_pk_auto(CharityEvent::Id))
                    .col(big_integer(CharityEvent::OrganizationId))
                    .col(big_integer_null(CharityEvent::CampaignId))
                    .col(string_len(CharityEvent::Title, 100))
                    .col(text(CharityEvent::Description))
                    .col(string_len(CharityEvent::Category, 24))
                    .col(string_len(CharityEvent::Address, 256))
                    .col(double(CharityEvent::Latitude))
                    .col(double(CharityEvent::Longitude))
                    .col(timestamp_with_time_zone(CharityEvent::StartsAt))
                    .col(timestamp_with_time_zone(CharityEvent::EndsAt))
                    .col(string_len(CharityEvent::Status, 12).check(
                        Expr::col(CharityEvent::Status).is_in([
                            "DRAFT",
                            "PUBLISHED",
                            "CANCELLED",
                            "COMPLETED",
                        ]),
                    ))
                    .col(text_null(CharityEvent::CancelReason))
                    .col(timestamp_with_time_zone_null(CharityEvent::PublishedAt))
                    .col(big_integer(CharityEvent::CreatedBy))
                    .col(timestamp_with_time_zone(CharityEvent::CreatedAt))
                    .col(timestamp_with_time_zone(CharityEvent::UpdatedAt))
                    .check(Expr::col(CharityEvent::EndsAt).gt(Expr::col(CharityEvent::StartsAt)))
                    .foreign_key(&mut fk(
                        (CharityEvent::Table, CharityEvent::OrganizationId),
                        (Organization::Table, Organization::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        (CharityEvent::Table, CharityEvent::CampaignId),
                        (Campaign::Table, Campaign::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_event_org",
            CharityEvent::Table,
            vec![CharityEvent::OrganizationId.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_event_campaign",
            CharityEvent::Table,
            vec![CharityEvent::CampaignId.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_event_status_start",
            CharityEvent::Table,
            vec![
                CharityEvent::Status.into_iden(),
                CharityEvent::StartsAt.into_iden(),
            ],
        )
        .await?;
        index(
            manager,
            "idx_event_location",
            CharityEvent::Table,
            vec![
                CharityEvent::Latitude.into_iden(),
                CharityEvent::Longitude.into_iden(),
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Shift::Table)
                    .col(big_pk_auto(Shift::Id))
                    .col(big_integer(Shift::EventId))
                    .col(string_len_null(Shift::SeriesKey, 64))
                    .col(string_len(Shift::Title, 100))
                    .col(text(Shift::Description))
                    .col(timestamp_with_time_zone(Shift::StartsAt))
                    .col(timestamp_with_time_zone(Shift::EndsAt))
                    .col(integer(Shift::Capacity))
                    .col(integer(Shift::ConfirmedCount).default(0))
                    .col(boolean(Shift::WaitlistEnabled))
                    .col(big_integer(Shift::WaitlistSeq).default(0))
                    .col(text(Shift::RequiredSkills))
                    .col(integer(Shift::CheckInRadiusMeters))
                    .col(
                        string_len(Shift::Status, 12)
                            .check(Expr::col(Shift::Status).is_in(["OPEN", "CANCELLED"])),
                    )
                    .col(text_null(Shift::CancelReason))
                    .col(timestamp_with_time_zone(Shift::CreatedAt))
                    .col(timestamp_with_time_zone(Shift::UpdatedAt))
                    .check(Expr::col(Shift::Capacity).between(1, 10_000))
                    .check(Expr::col(Shift::ConfirmedCount).gte(0))
                    .check(Expr::col(Shift::ConfirmedCount).lte(Expr::col(Shift::Capacity)))
                    .check(Expr::col(Shift::EndsAt).gt(Expr::col(Shift::StartsAt)))
                    .foreign_key(&mut fk(
                        (Shift::Table, Shift::EventId),
                        (CharityEvent::Table, CharityEvent::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_shift_event",
            Shift::Table,
            vec![Shift::EventId.into_iden(), Shift::StartsAt.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_shift_start",
            Shift::Table,
            vec![Shift::StartsAt.into_iden()],
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_shift_series_occurrence")
                    .table(Shift::Table)
                    .col(Shift::SeriesKey)
                    .col(Shift::StartsAt)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Signup::Table)
                    .col(big_pk_auto(Signup::Id))
                    .col(big_integer(Signup::ShiftId))
                    .col(big_integer(Signup::AccountId))
                    .col(
                        string_len(Signup::Status, 12).check(Expr::col(Signup::Status).is_in([
                            "CONFIRMED",
                            "WAITLISTED",
                            "CANCELLED",
                            "ATTENDED",
                            "NO_SHOW",
                        ])),
                    )
                    .col(big_integer_null(Signup::WaitlistTicket))
                    .col(timestamp_with_time_zone(Signup::CreatedAt))
                    .col(timestamp_with_time_zone(Signup::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Signup::PromotedAt))
                    .col(timestamp_with_time_zone_null(Signup::CancelledAt))
                    .col(text_null(Signup::CancelReason))
                    .col(big_integer_null(Signup::CancelledBy))
                    // A waitlisted sign-up holds a ticket; no other does.
                    .check(
                        Expr::col(Signup::Status)
                            .ne("WAITLISTED")
                            .or(Expr::col(Signup::WaitlistTicket).is_not_null()),
                    )
                    .foreign_key(&mut fk(
                        (Signup::Table, Signup::ShiftId),
                        (Shift::Table, Shift::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        (Signup::Table, Signup::AccountId),
                        (Account::Table, Account::Id),
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        // One active sign-up per volunteer and shift: a partial unique index, which SQLite and
        // PostgreSQL both have (same SQL).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_signup_active ON signup (shift_id, account_id) \
                 WHERE status IN ('CONFIRMED', 'WAITLISTED')",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_signup_waitlist_ticket")
                    .table(Signup::Table)
                    .col(Signup::ShiftId)
                    .col(Signup::WaitlistTicket)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_signup_account",
            Signup::Table,
            vec![Signup::AccountId.into_iden(), Signup::Status.into_iden()],
        )
        .await?;
        index(
            manager,
            "idx_signup_shift_status",
            Signup::Table,
            vec![Signup::ShiftId.into_iden(), Signup::Status.into_iden()],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(VolunteerProfile::Table)
                    .col(big_integer(VolunteerProfile::AccountId).primary_key())
                    .col(string_len_uniq(VolunteerProfile::VolunteerNumber, 20))
                    .col(text(VolunteerProfile::Skills))
                    .col(text(VolunteerProfile::Bio))
                    .col(double_null(VolunteerProfile::HomeLatitude))
                    .col(double_null(VolunteerProfile::HomeLongitude))
                    .col(timestamp_with_time_zone(VolunteerProfile::CreatedAt))
                    .col(timestamp_with_time_zone(VolunteerProfile::UpdatedAt))
                    .foreign_key(&mut fk(
                        (VolunteerProfile::Table, VolunteerProfile::AccountId),
                        (Account::Table, Account::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKey::Table)
                    .col(big_integer(IdempotencyKey::AccountId))
                    .col(string_len(IdempotencyKey::Key, 128))
                    .col(string_len(IdempotencyKey::Operation, 64))
                    .col(string_len(IdempotencyKey::RequestHash, 64))
                    .col(text_null(IdempotencyKey::Response))
                    .col(timestamp_with_time_zone(IdempotencyKey::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKey::AccountId)
                            .col(IdempotencyKey::Key),
                    )
                    .foreign_key(&mut fk(
                        (IdempotencyKey::Table, IdempotencyKey::AccountId),
                        (Account::Table, Account::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_idempotency_created",
            IdempotencyKey::Table,
            vec![IdempotencyKey::CreatedAt.into_iden()],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            IdempotencyKey::Table.into_iden(),
            VolunteerProfile::Table.into_iden(),
            Signup::Table.into_iden(),
            Shift::Table.into_iden(),
            CharityEvent::Table.into_iden(),
            Campaign::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
