//! Community charity funds (社区慈善基金), donations to a fund or a campaign, and disbursements.
//!
//! Money is integer fen. A fund keeps its running totals on its row so a disbursement can be a
//! single conditional `UPDATE … WHERE balance_fen >= amount`; the `CHECK`s make a negative
//! balance, or a balance that is not donations minus disbursements, impossible to store.

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
enum Campaign {
    Table,
    Id,
    RaisedFen,
}

#[derive(DeriveIden)]
enum CharityFund {
    Table,
    Id,
    OrganizationId,
    Name,
    Purpose,
    BalanceFen,
    DonatedFen,
    DisbursedFen,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Donation {
    Table,
    Id,
    ReceiptNumber,
    FundId,
    CampaignId,
    AccountId,
    AmountFen,
    DonorName,
    Anonymous,
    Message,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Disbursement {
    Table,
    Id,
    FundId,
    AmountFen,
    Purpose,
    ProjectRef,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CharityFund::Table)
                    .col(big_pk_auto(CharityFund::Id))
                    .col(big_integer(CharityFund::OrganizationId))
                    .col(string_len(CharityFund::Name, 100))
                    .col(text(CharityFund::Purpose))
                    .col(
                        big_integer(CharityFund::BalanceFen)
                            .default(0)
                            .check(Expr::col(CharityFund::BalanceFen).gte(0)),
                    )
                    .col(big_integer(CharityFund::DonatedFen).default(0))
                    .col(big_integer(CharityFund::DisbursedFen).default(0))
                    .col(big_integer(CharityFund::CreatedBy))
                    .col(timestamp_with_time_zone(CharityFund::CreatedAt))
                    .check(
                        Expr::col(CharityFund::BalanceFen).eq(Expr::col(CharityFund::DonatedFen)
                            .sub(Expr::col(CharityFund::DisbursedFen))),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CharityFund::Table, CharityFund::OrganizationId)
                            .to(Organization::Table, Organization::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CharityFund::Table, CharityFund::CreatedBy)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_charity_fund_organization")
                    .table(CharityFund::Table)
                    .col(CharityFund::OrganizationId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Campaign::Table)
                    .add_column(big_integer(Campaign::RaisedFen).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Donation::Table)
                    .col(big_pk_auto(Donation::Id))
                    .col(string_len(Donation::ReceiptNumber, 32).unique_key())
                    .col(big_integer_null(Donation::FundId))
                    .col(big_integer_null(Donation::CampaignId))
                    .col(big_integer(Donation::AccountId))
                    .col(
                        big_integer(Donation::AmountFen)
                            .check(Expr::col(Donation::AmountFen).gt(0)),
                    )
                    .col(string_len(Donation::DonorName, 50))
                    .col(boolean(Donation::Anonymous))
                    .col(string_len(Donation::Message, 500))
                    .col(timestamp_with_time_zone(Donation::CreatedAt))
                    // Exactly one of fund and campaign.
                    .check(
                        Expr::col(Donation::FundId)
                            .is_null()
                            .ne(Expr::col(Donation::CampaignId).is_null()),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Donation::Table, Donation::FundId)
                            .to(CharityFund::Table, CharityFund::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Donation::Table, Donation::CampaignId)
                            .to(Campaign::Table, Campaign::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Donation::Table, Donation::AccountId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_donation_fund", Donation::FundId),
            ("idx_donation_campaign", Donation::CampaignId),
            ("idx_donation_account", Donation::AccountId),
            ("idx_donation_created", Donation::CreatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Donation::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Disbursement::Table)
                    .col(big_pk_auto(Disbursement::Id))
                    .col(big_integer(Disbursement::FundId))
                    .col(
                        big_integer(Disbursement::AmountFen)
                            .check(Expr::col(Disbursement::AmountFen).gt(0)),
                    )
                    .col(string_len(Disbursement::Purpose, 500))
                    .col(string_len(Disbursement::ProjectRef, 100))
                    .col(big_integer(Disbursement::CreatedBy))
                    .col(timestamp_with_time_zone(Disbursement::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Disbursement::Table, Disbursement::FundId)
                            .to(CharityFund::Table, CharityFund::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Disbursement::Table, Disbursement::CreatedBy)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_disbursement_fund", Disbursement::FundId),
            ("idx_disbursement_created", Disbursement::CreatedAt),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Disbursement::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Disbursement::Table.into_iden(),
            Donation::Table.into_iden(),
            CharityFund::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Campaign::Table)
                    .drop_column(Campaign::RaisedFen)
                    .to_owned(),
            )
            .await
    }
}
