//! Database connection and transactions, the same for SQLite and PostgreSQL.

use std::{cell::Cell, future::Future, time::Duration};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

/// Open a pool. SQLite gets WAL (readers never wait for the writer), a busy timeout (writers
/// queue instead of failing), `synchronous=NORMAL` (durable in WAL at a fraction of the fsyncs)
/// and foreign keys on.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_file(url)
        && let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(|e| {
            DbErr::Custom(format!(
                "creating the data directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    if url.starts_with("sqlite:") {
        crate::sqlite_malloc::install();
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        // Statement logging would be noise at info; slow statements still show at warn.
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(|_| {
        // Outside a counted scope (housekeeping, the CLI) there is nothing to count into.
        let _ = STATEMENTS.try_with(|n| n.set(n.get() + 1));
    });
    Ok(db)
}

tokio::task_local! {
    /// Statements run by the current request (see [`count_statements`]).
    static STATEMENTS: Cell<u32>;
}

/// Run `fut`, counting the SQL statements it sends through any connection made by
/// [`connect`] (transactions included). Every GraphQL request runs in such a scope; the count
/// goes into its log line, and tests assert it to keep relation loading free of N+1 queries.
/// Work spawned onto other tasks is not counted — resolvers do not spawn.
pub async fn count_statements<F: Future>(fut: F) -> (F::Output, u32) {
    STATEMENTS
        .scope(Cell::new(0), async {
            let out = fut.await;
            (out, STATEMENTS.with(Cell::get))
        })
        .await
}

/// The file behind a `sqlite:` URL, if it is one (and not in-memory).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Apply all pending migrations.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// Begin a transaction that will write. On SQLite it takes the write lock at `BEGIN`
/// (`BEGIN IMMEDIATE`), so a read-then-write inside it cannot fail half-way with "database is
/// locked"; on PostgreSQL it is a plain `BEGIN` (row locks and constraints do the work).
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Whether the database answers (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_file_is_found_in_urls() {
        assert_eq!(
            sqlite_file("sqlite://data/t.db?mode=rwc"),
            Some("data/t.db")
        );
        assert_eq!(sqlite_file("sqlite:/abs/t.db"), Some("/abs/t.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }
}
