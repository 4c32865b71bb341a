//! Changing a table SQLite cannot `ALTER` (dropping a `NOT NULL`, adding a table `CHECK`): the
//! rebuild SQLite documents (<https://sqlite.org/lang_altertable.html#otheralter>). On one
//! connection with foreign keys off, in one transaction: create the new table, copy, check that
//! every row came along, drop the old, rename, re-index, re-create its triggers, check every
//! foreign key; then foreign keys back on. Any failure rolls the whole rebuild back.

use sea_orm_migration::{prelude::*, sea_orm::sqlx};

/// One table's rebuild.
pub struct Rebuild {
    /// The table.
    pub table: &'static str,
    /// A column only the new definition has: when the table has it, the rebuild is done (a run
    /// that rebuilt it stopped before recording the migration).
    pub marker: &'static str,
    /// The new definition, creating `<table>_new`.
    pub create_new: TableCreateStatement,
    /// `INSERT INTO <table>_new (…) SELECT … FROM <table> …`.
    pub copy: String,
    /// The table's indexes, on the final name.
    pub indexes: Vec<IndexCreateStatement>,
}

/// Run `r` (see the module documentation). Every statement is built from constants here,
/// never from input.
pub async fn rebuild(manager: &SchemaManager<'_>, r: Rebuild) -> Result<(), DbErr> {
    let table = r.table;
    let db_err = |e: sqlx::Error| DbErr::Migration(format!("rebuilding {table}: {e}"));
    let SchemaManagerConnection::Connection(db) = manager.get_connection() else {
        return Err(DbErr::Migration(format!(
            "the SQLite rebuild of {table} needs its own connection, not a transaction"
        )));
    };
    let mut conn = db
        .get_sqlite_connection_pool()
        .acquire()
        .await
        .map_err(db_err)?;
    let done: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = '{}'",
        r.marker
    )))
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    if done > 0 {
        return Ok(());
    }
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let head = [
        "BEGIN IMMEDIATE".to_owned(),
        r.create_new.to_string(SqliteQueryBuilder),
        r.copy,
    ];
    let tail = [
        format!("DROP TABLE {table}"),
        format!("ALTER TABLE {table}_new RENAME TO {table}"),
    ];
    let indexes = r.indexes.iter().map(|i| i.to_string(SqliteQueryBuilder));
    let result = async {
        for s in head {
            sqlx::query(sqlx::AssertSqlSafe(s))
                .execute(&mut *conn)
                .await?;
        }
        let (old, new): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT (SELECT COUNT(*) FROM {table}), (SELECT COUNT(*) FROM {table}_new)"
        )))
        .fetch_one(&mut *conn)
        .await?;
        if old != new {
            return Err(sqlx::Error::Protocol(format!(
                "{old} rows but only {new} could be copied"
            )));
        }
        // Dropping the table drops its triggers (those that keep the text-search tables in
        // step): take them as they are and create them again on the rebuilt table.
        let triggers: Vec<(String,)> =
            sqlx::query_as("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?")
                .bind(table)
                .fetch_all(&mut *conn)
                .await?;
        let triggers = triggers.into_iter().map(|(sql,)| sql);
        for s in tail.into_iter().chain(indexes).chain(triggers) {
            sqlx::query(sqlx::AssertSqlSafe(s))
                .execute(&mut *conn)
                .await?;
        }
        let broken: Vec<(String,)> =
            sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
                .fetch_all(&mut *conn)
                .await?;
        if !broken.is_empty() {
            return Err(sqlx::Error::Protocol(format!(
                "foreign keys broken in {broken:?}"
            )));
        }
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        Ok(())
    }
    .await;
    if result.is_err() {
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    let restored = sqlx::query("PRAGMA foreign_keys = ON")
        .execute(&mut *conn)
        .await;
    result.map_err(db_err)?;
    restored.map_err(db_err)?;
    Ok(())
}
