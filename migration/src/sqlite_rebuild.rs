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

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_orm::{ConnectionTrait, Database};

    /// Rows of `fts` matching `phrase`.
    async fn found(db: &sea_orm_migration::sea_orm::DatabaseConnection, phrase: &str) -> i64 {
        let row = db
            .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!(
                    "SELECT COUNT(*) AS n FROM item_search WHERE item_search MATCH '\"{phrase}\"'"
                ),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }

    #[tokio::test]
    async fn a_rebuilt_table_keeps_its_triggers_and_its_search_index() {
        let dir = std::env::temp_dir().join(format!(
            "tongxing-rebuild-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        let db = Database::connect(&url).await.unwrap();
        db.execute_unprepared("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            .await
            .unwrap();
        db.execute_unprepared(
            "CREATE VIRTUAL TABLE item_search USING fts5(name, content='item', \
             content_rowid='id', tokenize='trigram')",
        )
        .await
        .unwrap();
        for t in
            crate::m20261208_000022_text_search::sqlite_triggers("item_search", "item", &["name"])
        {
            db.execute_unprepared(&t).await.unwrap();
        }
        db.execute_unprepared("INSERT INTO item (id, name) VALUES (1, '重阳节敬老助餐')")
            .await
            .unwrap();
        assert_eq!(found(&db, "敬老助").await, 1);

        let manager = SchemaManager::new(&db);
        rebuild(
            &manager,
            Rebuild {
                table: "item",
                marker: "note",
                create_new: Table::create()
                    .table(Alias::new("item_new"))
                    .col(
                        ColumnDef::new(Alias::new("id"))
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Alias::new("name")).string().not_null())
                    .col(ColumnDef::new(Alias::new("note")).string().null())
                    .to_owned(),
                copy: "INSERT INTO item_new (id, name) SELECT id, name FROM item".to_owned(),
                indexes: Vec::new(),
            },
        )
        .await
        .unwrap();

        // The rebuilt table still feeds the index: a rename and a new row are found, the old
        // name is not.
        db.execute_unprepared("UPDATE item SET name = '中秋慰问' WHERE id = 1")
            .await
            .unwrap();
        db.execute_unprepared("INSERT INTO item (id, name) VALUES (2, '敬老院探访')")
            .await
            .unwrap();
        assert_eq!(found(&db, "敬老助").await, 0);
        assert_eq!(found(&db, "中秋慰").await, 1);
        assert_eq!(found(&db, "敬老院").await, 1);
        drop(db);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
