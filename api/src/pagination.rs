//! Cursor connections (`first`/`after`) over keyset pagination: pages are read with
//! `WHERE key > cursor ORDER BY key LIMIT first + 1`, so page 1,000 costs what page 1 costs.

use async_graphql::futures_util::future::BoxFuture;
use async_graphql::{
    Object, OutputType,
    connection::{Connection, Edge},
};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IdenStatic, Order, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Select,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, LikeExpr, Query, SimpleExpr},
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

/// Rows a short nested list (`history`, `offers`, `funds`) gives when `first` is not said.
pub const LIST_DEFAULT: i32 = 20;
/// Most rows a short nested list gives: lists that could grow past it are capped, not loaded
/// whole.
pub const LIST_MAX: i32 = 100;

/// Query complexity of a capped nested list of `first` items.
pub fn list_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let n = first.unwrap_or(LIST_DEFAULT).clamp(1, LIST_MAX);
    usize::try_from(n)
        .unwrap_or(100)
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

/// `first` of a capped nested list: [`LIST_DEFAULT`] when absent, 0 to [`LIST_MAX`]
/// (`BAD_USER_INPUT` otherwise).
pub fn list_first(first: Option<i32>) -> AppResult<u64> {
    match first.unwrap_or(LIST_DEFAULT) {
        n @ 0..=LIST_MAX => Ok(n as u64),
        _ => Err(AppError::bad_input(
            "first",
            msg!("must be 0 to {LIST_MAX}", "每页条数须为 0 至 {LIST_MAX}"),
        )),
    }
}

/// Validated paging arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
            Some(n) if n < 0 => {
                return Err(AppError::bad_input(
                    "first",
                    msg!("must not be negative", "每页条数不能为负数"),
                ));
            }
            Some(n) if n as u64 > u64::from(config.max_page_size) => {
                return Err(AppError::bad_input(
                    "first",
                    msg!(
                        "must be at most {}",
                        "每页条数最多为 {}",
                        config.max_page_size
                    ),
                ));
            }
            Some(n) => n as u64,
        };
        let after = after.map(ids::decode_cursor).transpose()?;
        Ok(Self { first, after })
    }
}

/// One page of rows and whether more follow.
#[derive(Clone, Debug)]
pub struct Page<T> {
    /// The rows, in key order.
    pub items: Vec<T>,
    /// Whether a next page exists.
    pub has_next: bool,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            has_next: false,
        }
    }
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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
        select = select.filter(after_time(time, key, at, k));
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

/// Rows after the position (`at`, `k`) in (`time`, `key`) order.
pub fn after_time<Col: ColumnTrait>(time: Col, key: Col, at: DateTime<Utc>, k: i64) -> Condition {
    Condition::any()
        .add(time.gt(at))
        .add(Condition::all().add(time.eq(at)).add(key.gt(k)))
}

/// One page for each of many parents, in one statement: the rows of `select` (already narrowed
/// to the parents and past any cursor) are numbered within their `parent` in `order`
/// (ascending) by `ROW_NUMBER()`, and each parent keeps its first `first + 1` — so a nested
/// connection under a list (`events { shifts(first: 4) }`) costs one statement, not one per
/// event. `parent_of` reads the parent key back from a row.
pub async fn fetch_pages_per_parent<E, C>(
    db: &C,
    select: Select<E>,
    parent: E::Column,
    order: &[E::Column],
    first: u64,
    parent_of: impl Fn(&E::Model) -> i64,
) -> AppResult<HashMap<i64, Page<E::Model>>>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut pages: HashMap<i64, Page<E::Model>> = HashMap::new();
    if first == 0 {
        return Ok(pages);
    }
    let table = E::default().table_name();
    let quoted = |c: &E::Column| format!("\"{table}\".\"{}\"", c.as_str());
    let over = format!(
        "ROW_NUMBER() OVER (PARTITION BY {} ORDER BY {})",
        quoted(&parent),
        order.iter().map(quoted).collect::<Vec<_>>().join(", ")
    );
    let rank = Alias::new("tx_rank");
    let inner = select.expr_as(Expr::cust(over), "tx_rank").into_query();
    let outer = Query::select()
        .column(Asterisk)
        .from_subquery(inner, Alias::new("ranked"))
        .and_where(Expr::col(rank.clone()).lte(first + 1))
        .order_by(rank, Order::Asc)
        .to_owned();
    let stmt = db.get_database_backend().build(&outer);
    let rows = E::find().from_raw_sql(stmt).all(db).await?;
    for row in rows {
        let page = pages.entry(parent_of(&row)).or_default();
        if page.items.len() as u64 == first {
            page.has_next = true;
        } else {
            page.items.push(row);
        }
    }
    Ok(pages)
}

/// The parents of a wave of nested-connection keys, grouped by the page they ask for (aliases
/// of one field with different arguments make several groups; usually there is one).
pub fn group_by_page<P: Copy + Eq + std::hash::Hash>(keys: Vec<(i64, P)>) -> Vec<(P, Vec<i64>)> {
    let mut groups: Vec<(P, Vec<i64>)> = Vec::new();
    for (parent, page) in keys {
        match groups.iter_mut().find(|(p, _)| *p == page) {
            Some((_, parents)) => parents.push(parent),
            None => groups.push((page, vec![parent])),
        }
    }
    groups
}

/// File the pages of one group under their keys; a parent without rows gets an empty page.
pub fn spread_pages<P: Copy + Eq + std::hash::Hash, T>(
    out: &mut HashMap<(i64, P), Page<T>>,
    page: P,
    parents: Vec<i64>,
    mut pages: HashMap<i64, Page<T>>,
) {
    for parent in parents {
        let rows = pages.remove(&parent).unwrap_or_default();
        out.insert((parent, page), rows);
    }
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

/// A cursor connection with `totalCount`.
pub type Conn<N> = Connection<String, N, Total>;

/// The `totalCount` of a connection: how many items every page together holds, as the caller
/// may see them. Nothing is counted unless a client selects the field; then one `COUNT` runs
/// with the list's own conditions (batched with the other parents of a wave for a list nested
/// under a list).
#[derive(Clone)]
pub struct Total(Arc<dyn Fn() -> BoxFuture<'static, AppResult<u64>> + Send + Sync>);

impl Total {
    /// `SELECT COUNT(*)` over `select`: the rows the list pages through, before any cursor.
    pub fn of<E>(db: &sea_orm::DatabaseConnection, select: Select<E>) -> Self
    where
        E: EntityTrait,
        E::Model: Send + Sync,
    {
        let db = db.clone();
        Self(Arc::new(move || {
            let (db, select) = (db.clone(), select.clone());
            Box::pin(async move {
                use sea_orm::PaginatorTrait;
                Ok(select.count(&db).await?)
            })
        }))
    }

    /// The count a batched loader gives for `key` (none: zero).
    pub fn batched<L>(
        db: &sea_orm::DatabaseConnection,
        key: L::Key,
        make: impl Fn() -> L + Send + Sync + 'static,
    ) -> Self
    where
        L: crate::batch::Loader<Value = u64>,
    {
        let db = db.clone();
        let make = Arc::new(make);
        Self(Arc::new(move || {
            let (db, key, make) = (db.clone(), key.clone(), Arc::clone(&make));
            Box::pin(async move {
                Ok(crate::batch::load(&db, key, move || make())
                    .await?
                    .unwrap_or(0))
            })
        }))
    }

    /// A count already known (a list the caller may not see any of: zero).
    pub fn known(n: u64) -> Self {
        Self(Arc::new(move || Box::pin(async move { Ok(n) })))
    }
}

/// The `totalCount` of a connection.
#[Object]
impl Total {
    /// How many items the list holds across all its pages, as the caller may see them.
    /// Counted only when selected (one `COUNT`).
    async fn total_count(&self) -> async_graphql::Result<i64> {
        let n = (self.0)().await?;
        Ok(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

/// A list a phone keeps in its cache, read as "what changed since my last sync": the rows of
/// `select` changed at or after `since` (cancelled ones too — a cancellation is a change), in
/// (`updated`, `key`) order, with cursors of that order. A row that changes again while the
/// phone pages moves behind the cursor and comes with a later page. A row is stamped when its
/// request starts and committed before the request times out, so a phone that asks from its
/// last `updatedAt` minus the request timeout misses nothing.
pub async fn changed_since<E, N: OutputType>(
    db: &sea_orm::DatabaseConnection,
    select: Select<E>,
    (updated, key): (E::Column, E::Column),
    since: DateTime<Utc>,
    page: TimePageArgs,
    stamp: impl Fn(&E::Model) -> (DateTime<Utc>, i64),
    node: impl Fn(E::Model) -> N,
) -> AppResult<Conn<N>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let select = select.filter(updated.gte(since));
    let rows = fetch_time_page(db, select.clone(), updated, key, page).await?;
    Ok(connection_with(
        rows,
        page.after.is_some(),
        Total::of(db, select),
        |_, row| {
            let (at, k) = stamp(row);
            ids::encode_time_cursor(at, k)
        },
        node,
    ))
}

/// Turn a page into a GraphQL connection with cursors made by `cursor`.
pub fn connection_with<T, N: OutputType>(
    page: Page<T>,
    had_cursor: bool,
    total: Total,
    cursor: impl Fn(usize, &T) -> String,
    node: impl Fn(T) -> N,
) -> Conn<N> {
    let mut conn = Connection::with_additional_fields(had_cursor, page.has_next, total);
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
    total: Total,
    key: impl Fn(&T) -> i64,
    node: impl Fn(T) -> N,
) -> Conn<N> {
    let mut conn = Connection::with_additional_fields(had_cursor, page.has_next, total);
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
