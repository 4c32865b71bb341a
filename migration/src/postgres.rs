//! Changes PostgreSQL makes in place where SQLite rebuilds the table
//! ([`crate::sqlite_rebuild`]).

use sea_orm_migration::{prelude::*, sea_orm::ConnectionTrait};

/// Add named `CHECK` constraints to `table`, each written from the same expression the
/// SQLite definition of the table uses, so both databases enforce one rule.
pub async fn add_checks(
    db: &impl ConnectionTrait,
    table: &str,
    checks: impl IntoIterator<Item = (&'static str, SimpleExpr)>,
) -> Result<(), DbErr> {
    for (name, check) in checks {
        let check = Query::select()
            .expr(check)
            .to_string(PostgresQueryBuilder)
            .trim_start_matches("SELECT ")
            .to_owned();
        db.execute_unprepared(&format!(
            "ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({check})"
        ))
        .await?;
    }
    Ok(())
}
