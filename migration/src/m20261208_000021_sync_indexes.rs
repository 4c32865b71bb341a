//! Indexes for "what changed since my last sync": a phone refreshes its cache of its own
//! sign-ups, its own service records and an event's shifts by `updated_at`, so those reads
//! must not scan every row of the owner (or of the table).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, table, owner column) of each index; every one ends with (`updated_at`, `id`).
const INDEXES: [(&str, &str, &str); 3] = [
    ("idx_signup_account_updated", "signup", "account_id"),
    ("idx_record_account_updated", "service_record", "account_id"),
    ("idx_shift_event_updated", "shift", "event_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, owner) in INDEXES {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Alias::new(table))
                        .col(Alias::new(owner))
                        .col(Alias::new("updated_at"))
                        .col(Alias::new("id"))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            manager
                .drop_index(Index::drop().name(name).table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
