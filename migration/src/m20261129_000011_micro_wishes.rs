//! Micro-wishes (微心愿): a resident's small wish, posted by staff under an alias, claimed by
//! exactly one volunteer or donor at a time; a claim lapses unless fulfilled.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

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
enum MicroWish {
    Table,
    Id,
    OrganizationId,
    Title,
    Story,
    BudgetFen,
    BeneficiaryAlias,
    Latitude,
    Longitude,
    Status,
    ClaimedBy,
    ClaimedAt,
    ClaimExpiresAt,
    FulfilledAt,
    FulfilmentNote,
    ConfirmedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

const STATUSES: [&str; 5] = ["OPEN", "CLAIMED", "FULFILLED", "CONFIRMED", "CANCELLED"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MicroWish::Table)
                    .col(big_pk_auto(MicroWish::Id))
                    .col(big_integer(MicroWish::OrganizationId))
                    .col(string_len(MicroWish::Title, 100))
                    .col(text(MicroWish::Story))
                    .col(
                        big_integer(MicroWish::BudgetFen)
                            .check(Expr::col(MicroWish::BudgetFen).gt(0)),
                    )
                    .col(string_len(MicroWish::BeneficiaryAlias, 50))
                    .col(double_null(MicroWish::Latitude))
                    .col(double_null(MicroWish::Longitude))
                    .col(
                        string_len(MicroWish::Status, 12)
                            .check(Expr::col(MicroWish::Status).is_in(STATUSES)),
                    )
                    .col(big_integer_null(MicroWish::ClaimedBy))
                    .col(timestamp_with_time_zone_null(MicroWish::ClaimedAt))
                    .col(timestamp_with_time_zone_null(MicroWish::ClaimExpiresAt))
                    .col(timestamp_with_time_zone_null(MicroWish::FulfilledAt))
                    .col(string_len_null(MicroWish::FulfilmentNote, 500))
                    .col(timestamp_with_time_zone_null(MicroWish::ConfirmedAt))
                    .col(big_integer(MicroWish::CreatedBy))
                    .col(timestamp_with_time_zone(MicroWish::CreatedAt))
                    .col(timestamp_with_time_zone(MicroWish::UpdatedAt))
                    // A claimed (or fulfilled) wish always knows by whom.
                    .check(
                        Expr::col(MicroWish::Status)
                            .is_in(["OPEN", "CANCELLED"])
                            .or(Expr::col(MicroWish::ClaimedBy).is_not_null()),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MicroWish::Table, MicroWish::OrganizationId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MicroWish::Table, MicroWish::ClaimedBy)
                            .to(Account::Table, Account::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(MicroWish::Table, MicroWish::CreatedBy)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_micro_wish_org", vec![MicroWish::OrganizationId]),
            (
                "idx_micro_wish_status",
                vec![MicroWish::Status, MicroWish::ClaimExpiresAt],
            ),
            (
                "idx_micro_wish_location",
                vec![MicroWish::Latitude, MicroWish::Longitude],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(MicroWish::Table);
            for c in cols {
                index.col(c);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MicroWish::Table).to_owned())
            .await
    }
}
