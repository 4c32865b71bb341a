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
    connect_with(url, max_connections, Duration::from_secs(3)).await
}

/// [`connect`] with the time a request may wait for a connection (`acquire`): when the database
/// is gone, requests fail after this long with `SERVICE_UNAVAILABLE`, and the pool reconnects by
/// itself once it is back.
pub async fn connect_with(
    url: &str,
    max_connections: u32,
    acquire: Duration,
) -> Result<DatabaseConnection, DbErr> {
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
    let plain_loopback = loopback_without_sslmode(url);
    let generic_plans = !url.contains("plan_cache_mode");
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(acquire)
        .acquire_timeout(acquire)
        // sqlx pings every connection it lends by default: one more round trip per
        // statement. Only a connection idle long enough to have been dropped (a database
        // restart, a proxy's idle timeout) is pinged; a dead hot one fails its statement and
        // is replaced, which the request sees as SERVICE_UNAVAILABLE like any lost database.
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
        // Statement logging would be noise at info; slow statements still show at warn.
        .sqlx_logging(false)
        .map_sqlx_postgres_opts(move |mut o| {
            // libpq's default `sslmode=prefer` negotiates TLS even on a loopback connection,
            // where it protects nothing and costs both ends a cipher on every row. A URL that
            // names an `sslmode` (or a remote host) keeps what it asked for.
            if plain_loopback {
                o = o.ssl_mode(sea_orm::sqlx::postgres::PgSslMode::Disable);
            }
            // Every statement is prepared once per connection (sqlx caches them), but under
            // PostgreSQL's default `plan_cache_mode=auto` a statement whose generic plan looks
            // dearer than its custom ones is planned again on every execution: the home feed's
            // four-table join spent ~1 ms planning for 0.5 ms running, and planning was most
            // of the database's CPU under load (see README, Performance). Our statements are
            // index lookups and ordered range scans whose plan does not depend on the values,
            // so the generic plan is kept. A URL that sets `plan_cache_mode` itself (`?options=-c
            // plan_cache_mode%3Dauto`) keeps what it asked for.
            if generic_plans {
                o = o.options([("plan_cache_mode", "force_generic_plan")]);
            }
            o
        })
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

/// Whether `url` is a PostgreSQL URL to this machine that does not choose an `sslmode`.
fn loopback_without_sslmode(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return false;
    };
    if url.contains("sslmode=") {
        return false;
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

/// The file behind a `sqlite:` URL, if it is one (and not in-memory).
pub fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Apply all pending migrations.
///
/// On PostgreSQL, replicas starting together take turns: each holds a session advisory lock
/// while it migrates, so the second one finds the work done instead of racing the first one's
/// `CREATE TABLE`s. The lock is held on a connection opened beside the pool (a pool of one
/// could not lend a second), which must reach PostgreSQL itself, not a transaction-mode
/// PgBouncer.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        return Migrator::up(db, None).await;
    }
    use sea_orm::sqlx::{self, Connection};
    let err = |e: sqlx::Error| DbErr::Custom(format!("migration lock: {e}"));
    let options = db.get_postgres_connection_pool().connect_options();
    let mut lock = sqlx::PgConnection::connect_with(&options)
        .await
        .map_err(err)?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(MIGRATION_LOCK)
        .execute(&mut lock)
        .await
        .map_err(err)?;
    let result = Migrator::up(db, None).await;
    // Closing the session releases the lock whatever happened above.
    let closed = lock.close().await;
    result?;
    closed.map_err(err)?;
    Ok(())
}

/// The advisory lock key replicas migrate under ("tongxing" in ASCII, as a number).
const MIGRATION_LOCK: i64 = 0x746f_6e67_7869_6e67;

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

/// Attempts after the first for a transaction that met a transient conflict.
pub const TRANSIENT_RETRIES: u32 = 3;

/// Run `attempt` again (at most [`TRANSIENT_RETRIES`] more times, with a short growing pause)
/// when it fails with a transient conflict — PostgreSQL 40001/40P01, SQLite busy: the database
/// rolled that transaction back, so running it again cannot double anything. Any other outcome,
/// including a lost database (whose commit may or may not have happened), is returned as is.
pub async fn retry_transient<T, F, Fut>(mut attempt: F) -> crate::error::AppResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = crate::error::AppResult<T>>,
{
    let mut tries = 0;
    loop {
        match attempt().await {
            Err(crate::error::AppError::ServiceUnavailable(e))
                if tries < TRANSIENT_RETRIES && crate::error::db_transient(&e) =>
            {
                tries += 1;
                tracing::debug!(error = %e, tries, "transient conflict; running the transaction again");
                let jitter = u64::from(rand::random::<u8>() % 10);
                tokio::time::sleep(Duration::from_millis(10 * (1 << tries) + jitter)).await;
            }
            other => return other,
        }
    }
}

/// Whether the database answers (for `/readyz`).
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_without_an_sslmode_skip_tls() {
        assert!(loopback_without_sslmode(
            "postgres://postgres@127.0.0.1:5432/db"
        ));
        assert!(loopback_without_sslmode("postgresql://u:p@localhost/db"));
        assert!(loopback_without_sslmode("postgres://u@[::1]:5432/db"));
        assert!(!loopback_without_sslmode(
            "postgres://u@127.0.0.1/db?sslmode=require"
        ));
        assert!(!loopback_without_sslmode(
            "postgres://u@db.internal:5432/db"
        ));
        assert!(!loopback_without_sslmode(
            "postgres://u@127.0.0.1.evil.example/db"
        ));
        assert!(!loopback_without_sslmode("sqlite://data/t.db"));
    }

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

    /// A pool on `url` whose connections give up at once when another holds the write lock.
    async fn impatient(url: &str) -> DatabaseConnection {
        // As `connect` does: SQLite's allocator is set before its first connection.
        crate::sqlite_malloc::install();
        let mut o = ConnectOptions::new(url.to_owned());
        o.max_connections(1)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::ZERO)
                    .create_if_missing(true)
            });
        Database::connect(o).await.unwrap()
    }

    /// Hold SQLite's write lock from another connection for `hold`.
    async fn hold_write_lock(url: &str, hold: Duration) -> tokio::task::JoinHandle<()> {
        use sea_orm::ConnectionTrait;
        let holder = impatient(url).await;
        let txn = begin_write(&holder).await.unwrap();
        tokio::spawn(async move {
            tokio::time::sleep(hold).await;
            txn.commit().await.unwrap();
            let _ = holder.execute_unprepared("SELECT 1").await;
        })
    }

    #[tokio::test]
    async fn a_busy_database_is_retried_a_bounded_number_of_times() {
        use sea_orm::ConnectionTrait;
        use std::sync::atomic::{AtomicU32, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = impatient(&url).await;
        db.execute_unprepared("CREATE TABLE t (x INTEGER)")
            .await
            .unwrap();
        let write = |tries: &AtomicU32| {
            tries.fetch_add(1, Ordering::SeqCst);
            async {
                let txn = begin_write(&db).await?;
                txn.execute_unprepared("INSERT INTO t VALUES (1)").await?;
                txn.commit().await?;
                Ok::<_, crate::error::AppError>(())
            }
        };

        // Busy for a moment: a later attempt gets through, and the row is written once.
        let tries = AtomicU32::new(0);
        let holder = hold_write_lock(&url, Duration::from_millis(30)).await;
        retry_transient(|| write(&tries))
            .await
            .expect("written after a retry");
        holder.await.unwrap();
        assert!(
            tries.load(Ordering::SeqCst) > 1,
            "the first attempt met the lock"
        );
        let n = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Sqlite,
                "SELECT COUNT(*) AS n FROM t",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        assert_eq!(n, 1);

        // Busy for longer than the retries last: SERVICE_UNAVAILABLE after 1 + 3 attempts.
        let tries = AtomicU32::new(0);
        let holder = hold_write_lock(&url, Duration::from_secs(2)).await;
        let err = retry_transient(|| write(&tries)).await.unwrap_err();
        assert_eq!(err.code(), "SERVICE_UNAVAILABLE");
        assert_eq!(tries.load(Ordering::SeqCst), 1 + TRANSIENT_RETRIES);
        holder.await.unwrap();
    }
}
