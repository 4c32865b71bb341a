//! Check-in evidence the server can stand behind: each check event says how it was proven
//! (a code seen while current, a code that arrived late, a location, staff) and how far from
//! the venue it was; events say whether they accept location evidence; wrong PIN guesses are
//! counted so they can be limited.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CheckEvent {
    Table,
    Evidence,
    DistanceMeters,
}

#[derive(DeriveIden)]
enum CharityEvent {
    Table,
    AcceptLocationEvidence,
}

#[derive(DeriveIden)]
enum PinGuess {
    Table,
    Id,
    AccountId,
    ShiftId,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(CheckEvent::Table)
                    .add_column(string_len(CheckEvent::Evidence, 16).default("STAFF"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CheckEvent::Table)
                    .add_column(double_null(CheckEvent::DistanceMeters))
                    .to_owned(),
            )
            .await?;
        // Events recorded before: a code or a location was checked when it was received, as
        // far as the server knew then.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE check_event SET evidence = CASE method \
                 WHEN 'QR' THEN 'CODE' WHEN 'GEO' THEN 'LOCATION' ELSE 'STAFF' END",
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CharityEvent::Table)
                    .add_column(boolean(CharityEvent::AcceptLocationEvidence).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PinGuess::Table)
                    .col(big_pk_auto(PinGuess::Id))
                    .col(big_integer(PinGuess::AccountId))
                    .col(big_integer(PinGuess::ShiftId))
                    .col(timestamp_with_time_zone(PinGuess::At))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_pin_guess_account", PinGuess::AccountId),
            ("idx_pin_guess_shift", PinGuess::ShiftId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(PinGuess::Table)
                        .col(col)
                        .col(PinGuess::At)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PinGuess::Table).to_owned())
            .await?;
        for (table, col) in [
            (
                CheckEvent::Table.into_iden(),
                CheckEvent::Evidence.into_iden(),
            ),
            (
                CheckEvent::Table.into_iden(),
                CheckEvent::DistanceMeters.into_iden(),
            ),
            (
                CharityEvent::Table.into_iden(),
                CharityEvent::AcceptLocationEvidence.into_iden(),
            ),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
