//! Text search on events and shifts (title, address, organization name) that works for
//! Chinese and uses an index on both databases, instead of `LIKE '%…%'` over every row:
//!
//! - PostgreSQL: `pg_trgm` GIN indexes on `charity_event.title`, `charity_event.address`,
//!   `shift.title` and `organization.name`; `ILIKE '%…%'` with three or more characters reads
//!   them. `pg_trgm` is a trusted extension (PostgreSQL 13+): the database's owner may create
//!   it.
//! - SQLite: FTS5 tables with the `trigram` tokenizer (case-insensitive) over the same
//!   columns, as external-content tables of the rows they index, kept in step by triggers, so
//!   every writer (the API, the seeders, a restore) keeps them right.
//!
//! A later SQLite migration that rebuilds one of these tables (`sqlite_rebuild`) creates its
//! triggers again on the new table (the rows keep their ids, so the index stays right).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (FTS table, indexed table, columns) on SQLite.
const SQLITE: [(&str, &str, &[&str]); 3] = [
    ("event_search", "charity_event", &["title", "address"]),
    ("shift_search", "shift", &["title"]),
    ("organization_search", "organization", &["name"]),
];

/// (index, table, column) on PostgreSQL.
const POSTGRES: [(&str, &str, &str); 4] = [
    ("idx_event_title_trgm", "charity_event", "title"),
    ("idx_event_address_trgm", "charity_event", "address"),
    ("idx_shift_title_trgm", "shift", "title"),
    ("idx_organization_name_trgm", "organization", "name"),
];

/// The triggers that keep FTS table `fts` in step with `table`'s `columns`.
pub(crate) fn sqlite_triggers(fts: &str, table: &str, columns: &[&str]) -> Vec<String> {
    let cols = columns.join(", ");
    let new = columns
        .iter()
        .map(|c| format!("new.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let old = columns
        .iter()
        .map(|c| format!("old.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = format!("INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});");
    let delete =
        format!("INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});");
    vec![
        format!("CREATE TRIGGER IF NOT EXISTS {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END"),
        format!("CREATE TRIGGER IF NOT EXISTS {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END"),
        format!(
            "CREATE TRIGGER IF NOT EXISTS {fts}_au AFTER UPDATE OF {cols} ON {table} BEGIN {delete} {insert} END"
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                for (fts, table, columns) in SQLITE {
                    db.execute_unprepared(&format!(
                        "CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({}, content='{table}', \
                         content_rowid='id', tokenize='trigram')",
                        columns.join(", ")
                    ))
                    .await?;
                    for trigger in sqlite_triggers(fts, table, columns) {
                        db.execute_unprepared(&trigger).await?;
                    }
                    // Index the rows that are already there.
                    db.execute_unprepared(&format!("INSERT INTO {fts}({fts}) VALUES ('rebuild')"))
                        .await?;
                }
            }
            _ => {
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .await?;
                for (index, table, column) in POSTGRES {
                    db.execute_unprepared(&format!(
                        "CREATE INDEX IF NOT EXISTS {index} ON {table} USING gin ({column} gin_trgm_ops)"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                for (fts, _, _) in SQLITE {
                    for suffix in ["ai", "ad", "au"] {
                        db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {fts}_{suffix}"))
                            .await?;
                    }
                    db.execute_unprepared(&format!("DROP TABLE IF EXISTS {fts}"))
                        .await?;
                }
            }
            _ => {
                for (index, _, _) in POSTGRES {
                    db.execute_unprepared(&format!("DROP INDEX IF EXISTS {index}"))
                        .await?;
                }
            }
        }
        Ok(())
    }
}
