//! Backups of the embedded SQLite database: `tongxing backup PATH` while the server runs, and
//! `tongxing restore PATH` while it is stopped. (PostgreSQL: `pg_dump`/`pg_restore`, see the
//! README.)
//!
//! A backup is `VACUUM INTO`: one read transaction, so the copy is the database as of one
//! moment even while sign-ups keep arriving (WAL lets the writers go on), compacted, and checked
//! with `PRAGMA integrity_check` before it is reported done.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail, ensure};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

/// SQL string literal of `path` (quotes doubled).
fn literal(path: &Path) -> anyhow::Result<String> {
    // Absolute: SQLite opens URIs, and a relative name starting with `file:` would be one.
    let path = std::path::absolute(path).context("resolving the backup path")?;
    let s = path
        .to_str()
        .context("the backup path must be valid UTF-8")?;
    Ok(format!("'{}'", s.replace('\'', "''")))
}

async fn integrity_ok(db: &DatabaseConnection, schema: &str) -> anyhow::Result<()> {
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            format!("PRAGMA {schema}.integrity_check"),
        ))
        .await?
        .context("integrity_check answered nothing")?;
    let verdict: String = row.try_get_by_index(0)?;
    ensure!(verdict == "ok", "integrity check failed: {verdict}");
    Ok(())
}

/// Write a consistent copy of the running SQLite database to `path` (which must not exist).
pub async fn backup_sqlite(db: &DatabaseConnection, path: &Path) -> anyhow::Result<()> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        bail!(
            "backup copies the embedded SQLite database; for PostgreSQL use pg_dump (see the README)"
        );
    }
    ensure!(
        !path.exists(),
        "{} exists already: a backup never overwrites a file",
        path.display()
    );
    db.execute_unprepared(&format!("VACUUM INTO {}", literal(path)?))
        .await
        .with_context(|| format!("writing {}", path.display()))?;
    check_file(path).await
}

/// Open `path` as a SQLite database and check it: integrity, and that it is a Tongxing
/// database (it has the migration table).
pub async fn check_file(path: &Path) -> anyhow::Result<()> {
    crate::sqlite_malloc::install();
    // The path is set as a file name, not pasted into a URL, where `%` or `?` would be read
    // as escapes or options.
    let mut options = sea_orm::ConnectOptions::new("sqlite://backup-check.db");
    let file = std::path::absolute(path).context("resolving the backup path")?;
    options
        .max_connections(1)
        .sqlx_logging(false)
        // Read only, and no journal-mode change: checking a file must not alter it.
        .map_sqlx_sqlite_opts(move |o| o.filename(&file).read_only(true).create_if_missing(false));
    let db = sea_orm::Database::connect(options)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    integrity_ok(&db, "main").await?;
    let migrated = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'seaql_migrations'",
        ))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    ensure!(
        migrated == 1,
        "{} is not a Tongxing database",
        path.display()
    );
    db.close().await?;
    Ok(())
}

/// Replace the SQLite database at `target` with the backup at `backup`. The server must be
/// stopped: a write-ahead log beside the target means a connection has it open (or a crash left
/// it), and the restore refuses unless `force`. The database it replaces is kept beside it as
/// `<name>.before-restore-<unix time>`. Returns that path, if there was one.
pub async fn restore_sqlite(
    backup: &Path,
    target: &Path,
    force: bool,
) -> anyhow::Result<Option<PathBuf>> {
    check_file(backup).await?;
    let side = |suffix: &str| {
        let mut p = target.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    let (wal, shm) = (side("-wal"), side("-shm"));
    if wal.exists() && !force {
        bail!(
            "{} exists: the server (or another program) has the database open, or stopped \
             without closing it. Stop the server first (or pass --force after checking)",
            wal.display()
        );
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let staged = side(".restoring");
    std::fs::copy(backup, &staged)
        .with_context(|| format!("copying {} beside the target", backup.display()))?;
    std::fs::File::open(&staged)?.sync_all()?;
    let kept = if target.exists() {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let kept = side(&format!(".before-restore-{stamp}"));
        std::fs::rename(target, &kept)
            .with_context(|| format!("moving {} aside", target.display()))?;
        // Its log goes with it: committed transactions may still be only there.
        for (log, suffix) in [(&wal, "-wal"), (&shm, "-shm")] {
            if log.exists() {
                let mut moved = kept.as_os_str().to_owned();
                moved.push(suffix);
                std::fs::rename(log, PathBuf::from(moved))?;
            }
        }
        Some(kept)
    } else {
        for stale in [&wal, &shm] {
            if stale.exists() {
                std::fs::remove_file(stale)?;
            }
        }
        None
    };
    std::fs::rename(&staged, target)
        .with_context(|| format!("putting the backup at {}", target.display()))?;
    Ok(kept)
}

/// The file behind a `sqlite:` URL.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    crate::db::sqlite_file(url).map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_quoted_as_sql_literals() {
        assert_eq!(
            literal(Path::new("/tmp/it's.db")).unwrap(),
            "'/tmp/it''s.db'"
        );
    }
}
