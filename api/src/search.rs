//! Text search on events and shifts: a word or two of Chinese (or any text) found in an
//! event's title or address, its organization's name, or a shift's title. Read through the
//! indexes of migration `m20261208_000022_text_search` — `pg_trgm` GIN indexes on PostgreSQL,
//! FTS5 `trigram` tables on SQLite — as a subquery of matching keys, so the list's other
//! conditions, order and paging stay as they are.
//!
//! A trigram index finds a substring of three or more characters. One or two characters (a
//! short Chinese word such as 助餐) have no trigram to look up: SQLite then reads the indexed
//! columns with `LIKE`, and PostgreSQL's planner picks between the index and the table.

use sea_orm::{
    DbBackend,
    sea_query::{Expr, SimpleExpr},
};

/// A search the caller asked for, ready to become a condition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextSearch {
    /// The text as typed (trimmed, 1–50 characters: [`crate::validate::search`]).
    text: String,
    /// Whose SQL to write.
    backend: DbBackend,
}

impl TextSearch {
    /// A search for `text` on `backend`.
    pub fn new(text: String, backend: DbBackend) -> Self {
        Self { text, backend }
    }

    /// Whether the FTS5 trigram index can answer it (three characters or more, on SQLite).
    fn uses_fts(&self) -> bool {
        self.backend == DbBackend::Sqlite && self.text.chars().count() >= 3
    }

    /// The FTS5 query: the text as one phrase (its trigrams in a row: a substring).
    fn phrase(&self) -> String {
        format!("\"{}\"", self.text.replace('"', "\"\""))
    }

    /// `%text%` with `LIKE`'s wildcards escaped (`\`).
    fn pattern(&self) -> String {
        let mut p = String::with_capacity(self.text.len() + 2);
        p.push('%');
        for c in self.text.chars() {
            if matches!(c, '%' | '_' | '\\') {
                p.push('\\');
            }
            p.push(c);
        }
        p.push('%');
        p
    }

    /// `column LIKE <text>` for this backend, case-insensitive on both.
    fn like(&self, sql: &mut Sql, column: &str) -> String {
        let p = sql.bind(self.pattern());
        match self.backend {
            DbBackend::Postgres => format!("{column} ILIKE {p}"),
            _ => format!("{column} LIKE {p} ESCAPE '\\'"),
        }
    }

    /// `fts MATCH <text>` (SQLite, three characters or more).
    fn matches(&self, sql: &mut Sql, fts: &str) -> String {
        let p = sql.bind(self.phrase());
        format!("SELECT rowid FROM {fts} WHERE {fts} MATCH {p}")
    }

    /// Keys of events whose title, address or organization's name contains the text.
    fn event_keys(&self, sql: &mut Sql) -> String {
        if self.uses_fts() {
            let own = self.matches(sql, "event_search");
            let org = self.matches(sql, "organization_search");
            return format!(
                "{own} UNION SELECT ce.id FROM charity_event ce WHERE ce.organization_id IN ({org})"
            );
        }
        let title = self.like(sql, "ce.title");
        let address = self.like(sql, "ce.address");
        let org = self.like(sql, "o.name");
        format!(
            "SELECT ce.id FROM charity_event ce WHERE {title} OR {address} \
             UNION SELECT ce.id FROM charity_event ce JOIN organization o \
             ON o.id = ce.organization_id WHERE {org}"
        )
    }

    /// Events that match: a condition on `charity_event.id`.
    pub fn events(&self) -> SimpleExpr {
        let mut sql = Sql::new(self.backend);
        let keys = self.event_keys(&mut sql);
        Expr::cust_with_values(format!("\"charity_event\".\"id\" IN ({keys})"), sql.values)
    }

    /// Shifts that match, by their own title or their event's: a condition on `shift.id`.
    pub fn shifts(&self) -> SimpleExpr {
        let mut sql = Sql::new(self.backend);
        let own = if self.uses_fts() {
            self.matches(&mut sql, "shift_search")
        } else {
            let title = self.like(&mut sql, "s.title");
            format!("SELECT s.id FROM shift s WHERE {title}")
        };
        let events = self.event_keys(&mut sql);
        Expr::cust_with_values(
            format!(
                "\"shift\".\"id\" IN ({own} UNION SELECT s.id FROM shift s WHERE s.event_id IN ({events}))"
            ),
            sql.values,
        )
    }
}

/// A fragment of SQL being written, and the values it binds, in order.
struct Sql {
    backend: DbBackend,
    values: Vec<sea_orm::Value>,
}

impl Sql {
    fn new(backend: DbBackend) -> Self {
        Self {
            backend,
            values: Vec::new(),
        }
    }

    /// Bind `value`; its placeholder (`?` on SQLite, `$n` on PostgreSQL).
    fn bind(&mut self, value: String) -> String {
        self.values.push(value.into());
        match self.backend {
            DbBackend::Postgres => format!("${}", self.values.len()),
            _ => "?".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_escaped_and_quotes_doubled() {
        let s = TextSearch::new("50%_\\\"x\"".to_owned(), DbBackend::Sqlite);
        assert_eq!(s.pattern(), "%50\\%\\_\\\\\"x\"%");
        assert_eq!(s.phrase(), "\"50%_\\\"\"x\"\"\"");
    }

    #[test]
    fn short_text_has_no_trigram_to_look_up() {
        assert!(!TextSearch::new("助餐".into(), DbBackend::Sqlite).uses_fts());
        assert!(TextSearch::new("助餐点".into(), DbBackend::Sqlite).uses_fts());
        assert!(!TextSearch::new("助餐点".into(), DbBackend::Postgres).uses_fts());
    }

    #[test]
    fn every_value_has_its_placeholder() {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryTrait};
        for (backend, text) in [
            (DbBackend::Postgres, "敬老"),
            (DbBackend::Sqlite, "敬老"),
            (DbBackend::Sqlite, "敬老院"),
        ] {
            let search = TextSearch::new(text.into(), backend);
            let stmt = entity::shift::Entity::find()
                .filter(entity::shift::Column::Capacity.gt(1))
                .filter(search.shifts())
                .build(backend);
            let values = stmt.values.as_ref().map_or(0, |v| v.0.len());
            let placeholders = match backend {
                DbBackend::Postgres => (1..=values)
                    .filter(|n| stmt.sql.contains(&format!("${n}")))
                    .count(),
                _ => stmt.sql.matches('?').count(),
            };
            assert_eq!(placeholders, values, "{backend:?} {text}: {}", stmt.sql);
            // The capacity; then the shift's own title, the event's title and address, the
            // organization's name (FTS5 searches an event's columns with one MATCH).
            assert_eq!(
                values,
                if search.uses_fts() { 4 } else { 5 },
                "{}",
                stmt.sql
            );
        }
    }
}
