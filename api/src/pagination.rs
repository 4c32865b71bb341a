//! Cursor connections (`first`/`after`) over keyset pagination: pages are read with
//! `WHERE key > cursor ORDER BY key LIMIT first + 1`, so page 1,000 costs what page 1 costs.

use async_graphql::{
    OutputType,
    connection::{Connection, Edge},
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr},
};

use crate::{
    config::Config,
    error::{AppError, AppResult},
    ids,
};

/// Complexity of a connection field for the query-cost limit: its items cost what one item's
/// selection costs, times the page size asked for (20 when not given, 100 at most — what
/// [`PageArgs`] would allow), plus one for the field itself.
pub fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let n = first.unwrap_or(20).clamp(1, 100);
    usize::try_from(n)
        .unwrap_or(100)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

/// Validated paging arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageArgs {
    /// Rows wanted.
    pub first: u64,
    /// Key after which to start.
    pub after: Option<i64>,
}

impl PageArgs {
    /// Check `first` against the configured maximum (default when absent) and decode `after`.
    pub fn new(first: Option<i32>, after: Option<&str>, config: &Config) -> AppResult<Self> {
        let first = match first {
            None => u64::from(config.default_page_size),
            Some(n) if n < 0 => return Err(AppError::bad_input("first", "must not be negative")),
            Some(n) if n as u64 > u64::from(config.max_page_size) => {
                return Err(AppError::bad_input(
                    "first",
                    format!("must be at most {}", config.max_page_size),
                ));
            }
            Some(n) => n as u64,
        };
        let after = after.map(ids::decode_cursor).transpose()?;
        Ok(Self { first, after })
    }
}

/// One page of rows and whether more follow.
pub struct Page<T> {
    /// The rows, in key order.
    pub items: Vec<T>,
    /// Whether a next page exists.
    pub has_next: bool,
}

/// Read one page of `select`, keyed and ordered by the integer column `key`.
pub async fn fetch_page<E, C>(
    db: &C,
    select: Select<E>,
    key: E::Column,
    page: PageArgs,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    if page.first == 0 {
        return Ok(Page {
            items: Vec::new(),
            has_next: false,
        });
    }
    let mut select = select;
    if let Some(after) = page.after {
        select = select.filter(key.gt(after));
    }
    let mut items = select
        .order_by_asc(key)
        .limit(page.first + 1)
        .all(db)
        .await?;
    let has_next = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Page { items, has_next })
}

/// Paging arguments of a list in time order: `first`, and the (time, key) after which to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimePageArgs {
    /// Rows wanted.
    pub first: u64,
    /// Position after which to start.
    pub after: Option<(DateTime<Utc>, i64)>,
}

impl TimePageArgs {
    /// Check `first` and decode an `after` made by [`ids::encode_time_cursor`].
    pub fn new(first: Option<i32>, after: Option<&str>, config: &Config) -> AppResult<Self> {
        let first = PageArgs::new(first, None, config)?.first;
        let after = after.map(ids::decode_time_cursor).transpose()?;
        Ok(Self { first, after })
    }
}

/// Read one page of `select` ordered by (`time`, `key`), both ascending.
pub async fn fetch_time_page<E, C>(
    db: &C,
    select: Select<E>,
    time: E::Column,
    key: E::Column,
    page: TimePageArgs,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    if page.first == 0 {
        return Ok(Page {
            items: Vec::new(),
            has_next: false,
        });
    }
    let mut select = select;
    if let Some((at, k)) = page.after {
        select = select.filter(
            Condition::any()
                .add(time.gt(at))
                .add(Condition::all().add(time.eq(at)).add(key.gt(k))),
        );
    }
    let mut items = select
        .order_by_asc(time)
        .order_by_asc(key)
        .limit(page.first + 1)
        .all(db)
        .await?;
    let has_next = items.len() as u64 > page.first;
    items.truncate(page.first as usize);
    Ok(Page { items, has_next })
}

/// Read one page of an already ordered `select`, `first` rows from `offset` on.
pub async fn fetch_ranked_page<E, C>(
    db: &C,
    select: Select<E>,
    first: u64,
    offset: u64,
) -> AppResult<Page<E::Model>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    if first == 0 {
        return Ok(Page {
            items: Vec::new(),
            has_next: false,
        });
    }
    let mut items = select.offset(offset).limit(first + 1).all(db).await?;
    let has_next = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(Page { items, has_next })
}

/// Turn a page into a GraphQL connection with cursors made by `cursor`.
pub fn connection_with<T, N: OutputType>(
    page: Page<T>,
    had_cursor: bool,
    cursor: impl Fn(usize, &T) -> String,
    node: impl Fn(T) -> N,
) -> Connection<String, N> {
    let mut conn = Connection::new(had_cursor, page.has_next);
    conn.edges.extend(
        page.items
            .into_iter()
            .enumerate()
            .map(|(i, row)| Edge::new(cursor(i, &row), node(row))),
    );
    conn
}

/// `LOWER(column) LIKE '%text%'`, the text's wildcards escaped: case-insensitive for Latin
/// letters on both databases (CJK text has no case).
pub fn contains_text(column: impl ColumnTrait, text: &str) -> SimpleExpr {
    let mut escaped = String::with_capacity(text.len());
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    Expr::expr(Func::lower(Expr::col(column)))
        .like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// Turn a page into a GraphQL connection, each edge's cursor made from its row key.
pub fn connection<T, N: OutputType>(
    page: Page<T>,
    had_cursor: bool,
    key: impl Fn(&T) -> i64,
    node: impl Fn(T) -> N,
) -> Connection<String, N> {
    let mut conn = Connection::new(had_cursor, page.has_next);
    conn.edges.extend(
        page.items
            .into_iter()
            .map(|row| Edge::new(ids::encode_cursor(key(&row)), node(row))),
    );
    conn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_defaults_and_is_bounded() {
        let config = Config::for_data_dir("/tmp");
        assert_eq!(PageArgs::new(None, None, &config).unwrap().first, 20);
        assert_eq!(PageArgs::new(Some(100), None, &config).unwrap().first, 100);
        assert!(PageArgs::new(Some(101), None, &config).is_err());
        assert!(PageArgs::new(Some(-1), None, &config).is_err());
    }

    #[test]
    fn after_must_be_a_cursor() {
        let config = Config::for_data_dir("/tmp");
        let c = ids::encode_cursor(5);
        assert_eq!(
            PageArgs::new(None, Some(&c), &config).unwrap().after,
            Some(5)
        );
        assert!(PageArgs::new(None, Some("nope"), &config).is_err());
    }
}
