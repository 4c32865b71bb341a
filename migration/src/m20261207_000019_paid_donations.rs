//! Donations that were paid: a status (`PENDING` until the payment provider's signed
//! notification confirms the money, `CONFIRMED`, `EXPIRED`), the channel the money came by
//! (WeChat Pay, or cash and bank transfers recorded by staff), the provider's order and
//! transaction numbers (unique: a replayed notification cannot count twice), the offline
//! reference and who recorded it, and when the money was confirmed.
//!
//! Offline gifts have no donor account, so `account_id` loses its `NOT NULL`: SQLite rebuilds
//! the table ([`crate::sqlite_rebuild`]); PostgreSQL alters it in place. Existing donations
//! were never checked against a payment; they stay counted (the balances already hold them and
//! may have been disbursed) as `CONFIRMED` through the channel `UNVERIFIED`, so an auditor can
//! find every one of them.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

use crate::sqlite_rebuild::{Rebuild, rebuild};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CharityFund {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
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
    Status,
    Channel,
    OutTradeNo,
    TransactionId,
    Reference,
    RecordedBy,
    ConfirmedAt,
}

/// The table-wide rules of a donation.
fn checks() -> Vec<(&'static str, SimpleExpr)> {
    let status = || Expr::col(Donation::Status);
    let channel = || Expr::col(Donation::Channel);
    vec![
        (
            "ck_donation_status",
            status().is_in(["PENDING", "CONFIRMED", "EXPIRED"]),
        ),
        (
            "ck_donation_channel",
            channel().is_in(["WECHAT_PAY", "CASH", "BANK_TRANSFER", "UNVERIFIED"]),
        ),
        // Confirmed exactly when it has a confirmation time.
        (
            "ck_donation_confirmed",
            status()
                .eq("CONFIRMED")
                .eq(Expr::col(Donation::ConfirmedAt).is_not_null()),
        ),
        // An online donation has an order number, and a transaction only once confirmed.
        (
            "ck_donation_order",
            channel()
                .eq("WECHAT_PAY")
                .eq(Expr::col(Donation::OutTradeNo).is_not_null()),
        ),
        (
            "ck_donation_transaction",
            Expr::col(Donation::TransactionId)
                .is_null()
                .or(channel().eq("WECHAT_PAY").and(status().eq("CONFIRMED"))),
        ),
        // An offline gift has a reference and the staff member who recorded it, and is
        // confirmed from the start; only offline gifts may lack a donor account.
        (
            "ck_donation_offline",
            channel()
                .is_in(["CASH", "BANK_TRANSFER"])
                .eq(Expr::col(Donation::Reference)
                    .is_not_null()
                    .and(Expr::col(Donation::RecordedBy).is_not_null())),
        ),
        (
            "ck_donation_offline_confirmed",
            channel()
                .is_not_in(["CASH", "BANK_TRANSFER"])
                .or(status().eq("CONFIRMED")),
        ),
        (
            "ck_donation_donor",
            Expr::col(Donation::AccountId)
                .is_not_null()
                .or(channel().is_in(["CASH", "BANK_TRANSFER"])),
        ),
    ]
}

/// The new columns, as PostgreSQL adds them (`NOT NULL` ones with the value existing rows get).
fn new_columns() -> Vec<ColumnDef> {
    vec![
        string_len(Donation::Status, 10).default("CONFIRMED").take(),
        string_len(Donation::Channel, 16)
            .default("UNVERIFIED")
            .take(),
        string_len_null(Donation::OutTradeNo, 32)
            .unique_key()
            .take(),
        string_len_null(Donation::TransactionId, 32)
            .unique_key()
            .take(),
        string_len_null(Donation::Reference, 100).take(),
        big_integer_null(Donation::RecordedBy).take(),
        timestamp_with_time_zone_null(Donation::ConfirmedAt).take(),
    ]
}

/// Indexes the migration adds.
fn new_indexes() -> Vec<IndexCreateStatement> {
    vec![
        // One offline reference per recipient and channel: the same bank transfer recorded
        // twice is refused rather than counted twice.
        Index::create()
            .name("ux_donation_fund_reference")
            .table(Donation::Table)
            .col(Donation::FundId)
            .col(Donation::Channel)
            .col(Donation::Reference)
            .unique()
            .to_owned(),
        Index::create()
            .name("ux_donation_campaign_reference")
            .table(Donation::Table)
            .col(Donation::CampaignId)
            .col(Donation::Channel)
            .col(Donation::Reference)
            .unique()
            .to_owned(),
        // Statistics and exports read confirmed money by when it was confirmed.
        Index::create()
            .name("idx_donation_confirmed")
            .table(Donation::Table)
            .col(Donation::ConfirmedAt)
            .to_owned(),
    ]
}

/// The indexes the table had before.
fn old_indexes() -> Vec<IndexCreateStatement> {
    [
        ("idx_donation_fund", Donation::FundId),
        ("idx_donation_campaign", Donation::CampaignId),
        ("idx_donation_account", Donation::AccountId),
        ("idx_donation_created", Donation::CreatedAt),
    ]
    .into_iter()
    .map(|(name, col)| {
        Index::create()
            .name(name)
            .table(Donation::Table)
            .col(col)
            .to_owned()
    })
    .collect()
}

/// The SQLite definition of the new table, `donation_new`.
fn sqlite_table() -> TableCreateStatement {
    let name = || Alias::new("donation_new");
    let mut t = Table::create();
    t.table(name())
        .col(big_pk_auto(Donation::Id))
        .col(string_len(Donation::ReceiptNumber, 32).unique_key())
        .col(big_integer_null(Donation::FundId))
        .col(big_integer_null(Donation::CampaignId))
        .col(big_integer_null(Donation::AccountId))
        .col(big_integer(Donation::AmountFen).check(Expr::col(Donation::AmountFen).gt(0)))
        .col(string_len(Donation::DonorName, 50))
        .col(boolean(Donation::Anonymous))
        .col(string_len(Donation::Message, 500))
        .col(timestamp_with_time_zone(Donation::CreatedAt));
    for c in new_columns() {
        t.col(c);
    }
    t.check(
        Expr::col(Donation::FundId)
            .is_null()
            .ne(Expr::col(Donation::CampaignId).is_null()),
    );
    for (_, c) in checks() {
        t.check(c);
    }
    for (col, table, id) in [
        (
            Donation::FundId,
            CharityFund::Table.into_iden(),
            CharityFund::Id.into_iden(),
        ),
        (
            Donation::CampaignId,
            Campaign::Table.into_iden(),
            Campaign::Id.into_iden(),
        ),
        (
            Donation::AccountId,
            Account::Table.into_iden(),
            Account::Id.into_iden(),
        ),
        (
            Donation::RecordedBy,
            Account::Table.into_iden(),
            Account::Id.into_iden(),
        ),
    ] {
        t.foreign_key(ForeignKey::create().from(name(), col).to(table, id));
    }
    t.to_owned()
}

/// Alter the table in place on PostgreSQL (inside the migration's transaction).
async fn alter_postgres(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let mut alter = Table::alter();
    alter
        .table(Donation::Table)
        .modify_column(big_integer_null(Donation::AccountId));
    for c in new_columns() {
        alter.add_column(c);
    }
    alter.add_foreign_key(
        TableForeignKey::new()
            .name("fk_donation_recorded_by")
            .from_tbl(Donation::Table)
            .from_col(Donation::RecordedBy)
            .to_tbl(Account::Table)
            .to_col(Account::Id),
    );
    manager.alter_table(alter.to_owned()).await?;
    let db = manager.get_connection();
    db.execute_unprepared("UPDATE donation SET confirmed_at = created_at")
        .await?;
    db.execute_unprepared(
        "ALTER TABLE donation ALTER COLUMN status DROP DEFAULT, \
           ALTER COLUMN channel DROP DEFAULT",
    )
    .await?;
    crate::postgres::add_checks(db, "donation", checks()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                rebuild(
                    manager,
                    Rebuild {
                        table: "donation",
                        marker: "status",
                        create_new: sqlite_table(),
                        copy: "INSERT INTO donation_new (id, receipt_number, fund_id, \
                               campaign_id, account_id, amount_fen, donor_name, anonymous, \
                               message, created_at, status, channel, confirmed_at) \
                               SELECT id, receipt_number, fund_id, campaign_id, account_id, \
                               amount_fen, donor_name, anonymous, message, created_at, \
                               'CONFIRMED', 'UNVERIFIED', created_at FROM donation"
                            .to_owned(),
                        indexes: old_indexes().into_iter().chain(new_indexes()).collect(),
                    },
                )
                .await
            }
            _ => {
                alter_postgres(manager).await?;
                for i in new_indexes() {
                    manager.create_index(i).await?;
                }
                Ok(())
            }
        }
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Err(DbErr::Migration(
            "paid donations cannot be migrated down: offline gifts have no donor account and \
             pending donations would count as given; restore a backup taken before this \
             migration"
                .to_owned(),
        ))
    }
}
