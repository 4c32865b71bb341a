//! One SQL statement per relation level, whatever shape a query takes.
//!
//! async-graphql resolves the items of a list, and the fields of an object, as concurrent
//! futures of one task. A resolver that needs rows of a relation calls [`load`] instead of
//! querying: it files its key with the request's batcher and waits. Every operation runs
//! under [`drive`], which polls the resolvers until none of them can move without data —
//! until the request is *quiescent* — then sends each loader's collected keys as one statement
//! and wakes the waiters with their rows. A page of 50 shifts asking for their events costs one
//! `WHERE id IN (…)` whether the client wrote `nodes` or `edges { node }`, spread fragments,
//! aliased the field, came through `node(id:)` or a subscription — the batching follows the
//! execution, not the document, and no timer decides when a batch is full.
//!
//! Values are not cached across waves: a mutation that reads, writes and reads again sees its
//! own write. Outside [`drive`] (a service test, the CLI) [`load`] runs each key on its own,
//! which is also the "plain per-field" path the differential tests compare against.

use std::{
    any::{Any, TypeId},
    collections::{HashMap, HashSet},
    future::Future,
    hash::Hash,
    pin::pin,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll, Wake, Waker},
};

use async_graphql::futures_util::{
    StreamExt,
    future::{BoxFuture, FutureExt, poll_fn},
    stream::FuturesUnordered,
};
use sea_orm::DatabaseConnection;

use crate::error::{AppError, AppResult};

/// A kind of batched read: the rows for many keys in one statement. Its fields are the
/// request's constants (the viewer, say), never a key's arguments: those belong in the key,
/// so one wave holds every key of the loader.
pub trait Loader: Send + 'static {
    /// What a resolver asks for (an id, or an id with its page arguments).
    type Key: Eq + Hash + Clone + Send + Sync + 'static;
    /// What it gets; a key missing from the map means "none" (or "not visible").
    type Value: Clone + Send + Sync + 'static;
    /// Read the rows of `keys` (distinct), in as few statements as the keys allow.
    fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<Self::Key>,
    ) -> impl Future<Output = AppResult<HashMap<Self::Key, Self::Value>>> + Send + 'static;
}

/// Request data that turns batching off: every relation then loads on its own, row by row,
/// and list resolvers skip their joined fast paths. Only the differential tests put it in a
/// request, to compare the batched answer with the plain one.
pub struct PerField;

/// Whether the request asked for the plain per-field path ([`PerField`]).
pub fn per_field(ctx: &async_graphql::Context<'_>) -> bool {
    ctx.data_opt::<PerField>().is_some()
}

tokio::task_local! {
    static BATCHER: Arc<Batcher>;
}

/// The keys filed since the last wave, one entry per loader type.
struct Batcher {
    db: DatabaseConnection,
    pending: Mutex<Vec<Entry>>,
}

/// A loader's wave being filled: its keys and the cell its waiters read.
struct Entry {
    loader: TypeId,
    wave: Box<dyn Any + Send>,
    start: fn(Box<dyn Any + Send>, DatabaseConnection) -> BoxFuture<'static, ()>,
}

struct Wave<L: Loader> {
    loader: L,
    keys: Vec<L::Key>,
    seen: HashSet<L::Key>,
    shared: Arc<Shared<L::Key, L::Value>>,
}

/// The result of one wave, shared by its waiters.
struct Shared<K, V> {
    result: OnceLock<Result<HashMap<K, V>, Arc<AppError>>>,
    wakers: Mutex<Vec<Waker>>,
}

impl<K, V> Shared<K, V> {
    fn new() -> Self {
        Self {
            result: OnceLock::new(),
            wakers: Mutex::new(Vec::new()),
        }
    }

    fn complete(&self, result: Result<HashMap<K, V>, Arc<AppError>>) {
        let _ = self.result.set(result);
        let wakers = std::mem::take(&mut *lock(&self.wakers));
        for w in wakers {
            w.wake();
        }
    }

    fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<&Result<HashMap<K, V>, Arc<AppError>>> {
        if let Some(r) = self.result.get() {
            return Poll::Ready(r);
        }
        let mut wakers = lock(&self.wakers);
        // Checked again under the lock `complete` drains under: no wake-up is lost.
        if let Some(r) = self.result.get() {
            return Poll::Ready(r);
        }
        if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding these locks leaves nothing half-written worth refusing.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn start_wave<L: Loader>(
    wave: Box<dyn Any + Send>,
    db: DatabaseConnection,
) -> BoxFuture<'static, ()> {
    let Ok(wave) = wave.downcast::<Wave<L>>() else {
        unreachable!("entries are filed under their own loader's type id")
    };
    let Wave {
        loader,
        keys,
        shared,
        ..
    } = *wave;
    async move {
        let result = loader.load(db, keys).await.map_err(Arc::new);
        shared.complete(result);
    }
    .boxed()
}

/// The error of a failed wave, for one of its waiters: the same `extensions.code`; the cause
/// stays in the log line of the first error.
fn shared_error(e: &Arc<AppError>) -> AppError {
    match &**e {
        AppError::ServiceUnavailable(db) => {
            AppError::ServiceUnavailable(sea_orm::DbErr::Custom(db.to_string()))
        }
        AppError::Internal(_) => AppError::Internal(anyhow::anyhow!(SharedCause(e.clone()))),
        AppError::Unauthenticated(m) => AppError::Unauthenticated(m.clone()),
        AppError::Forbidden(m) => AppError::Forbidden(m.clone()),
        AppError::NotFound(m) => AppError::NotFound(*m),
        AppError::BadUserInput { field, message } => AppError::bad_input(field, message.clone()),
        AppError::Conflict(m) => AppError::Conflict(m.clone()),
        other => AppError::Internal(anyhow::anyhow!("batched load failed: {}", other.code())),
    }
}

/// An internal error shared by the waiters of one wave, keeping its cause chain for the log.
#[derive(Debug)]
struct SharedCause(Arc<AppError>);

impl std::fmt::Display for SharedCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "batched load failed")
    }
}

impl std::error::Error for SharedCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// The value for `key` from `loader`, batched with every other key of the same loader that
/// the request's resolvers ask for at the same time. `make` builds the loader when this key
/// opens a wave.
pub async fn load<L: Loader>(
    db: &DatabaseConnection,
    key: L::Key,
    make: impl FnOnce() -> L,
) -> AppResult<Option<L::Value>> {
    let Ok(batcher) = BATCHER.try_with(Arc::clone) else {
        // Not under `drive`: one key, one statement.
        let mut rows = make().load(db.clone(), vec![key.clone()]).await?;
        return Ok(rows.remove(&key));
    };
    let shared = batcher.file(key.clone(), make);
    poll_fn(|cx| shared.poll_ready(cx).map(|_| ())).await;
    match shared.result.get() {
        Some(Ok(rows)) => Ok(rows.get(&key).cloned()),
        Some(Err(e)) => Err(shared_error(e)),
        None => unreachable!("ready means the wave completed"),
    }
}

impl Batcher {
    fn file<L: Loader>(
        &self,
        key: L::Key,
        make: impl FnOnce() -> L,
    ) -> Arc<Shared<L::Key, L::Value>> {
        let mut pending = lock(&self.pending);
        let id = TypeId::of::<L>();
        let entry = match pending.iter_mut().position(|e| e.loader == id) {
            Some(i) => &mut pending[i],
            None => {
                pending.push(Entry {
                    loader: id,
                    wave: Box::new(Wave::<L> {
                        loader: make(),
                        keys: Vec::new(),
                        seen: HashSet::new(),
                        shared: Arc::new(Shared::new()),
                    }),
                    start: start_wave::<L>,
                });
                let last = pending.len() - 1;
                &mut pending[last]
            }
        };
        let Some(wave) = entry.wave.downcast_mut::<Wave<L>>() else {
            unreachable!("entries are filed under their own loader's type id")
        };
        if wave.seen.insert(key.clone()) {
            wave.keys.push(key);
        }
        wave.shared.clone()
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        let entries = std::mem::take(&mut *lock(&self.pending));
        entries
            .into_iter()
            .map(|e| (e.start)(e.wave, self.db.clone()))
            .collect()
    }
}

/// Whether the request's future was woken while it was being polled (it can move on).
#[derive(Default)]
struct Woken {
    flag: AtomicBool,
    parent: Mutex<Option<Waker>>,
}

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.flag.store(true, Ordering::Release);
        if let Some(w) = lock(&self.parent).as_ref() {
            w.wake_by_ref();
        }
    }
}

/// How many times one poll may run the request again before handing the thread back to the
/// runtime (a future that keeps waking itself must not starve the other requests).
const ROUNDS_PER_POLL: usize = 64;

/// Run `fut` (one GraphQL operation) with batched relation loading: see the module comment.
pub async fn drive<F: Future>(db: DatabaseConnection, fut: F) -> F::Output {
    let batcher = Arc::new(Batcher {
        db,
        pending: Mutex::new(Vec::new()),
    });
    let mut inner = pin!(BATCHER.scope(batcher.clone(), fut));
    let mut in_flight: FuturesUnordered<BoxFuture<'static, ()>> = FuturesUnordered::new();
    let woken = Arc::new(Woken::default());
    let waker = Waker::from(woken.clone());
    poll_fn(move |cx| {
        {
            let mut parent = lock(&woken.parent);
            if !parent.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *parent = Some(cx.waker().clone());
            }
        }
        let mut icx = Context::from_waker(&waker);
        for _ in 0..ROUNDS_PER_POLL {
            woken.flag.store(false, Ordering::Release);
            if let Poll::Ready(out) = inner.as_mut().poll(&mut icx) {
                return Poll::Ready(out);
            }
            drain(&mut in_flight, &mut icx);
            if woken.flag.load(Ordering::Acquire) {
                continue; // some resolver can move: let it file its keys first
            }
            // Quiescent: every resolver waits for data. Send what they asked for.
            let waves = batcher.take();
            if waves.is_empty() {
                return Poll::Pending;
            }
            in_flight.extend(waves);
            drain(&mut in_flight, &mut icx);
            if !woken.flag.load(Ordering::Acquire) {
                return Poll::Pending;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

fn drain(in_flight: &mut FuturesUnordered<BoxFuture<'static, ()>>, cx: &mut Context<'_>) {
    while let Poll::Ready(Some(())) = in_flight.poll_next_unpin(cx) {}
}

/// A loader that is only a type (its work is told by its type parameter): the struct, and
/// `new` to hand to [`load`] as `make`.
macro_rules! type_loader {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name<T>(std::marker::PhantomData<fn() -> T>);

        impl<T> $name<T> {
            /// The loader (for [`load`]'s `make`).
            pub fn new() -> Self {
                Self(std::marker::PhantomData)
            }
        }

        impl<T> Default for $name<T> {
            fn default() -> Self {
                Self::new()
            }
        }
    };
}

type_loader!(
    /// Rows of `E` by primary key (an integer), batched: for relations whose rows need no
    /// visibility rule of their own (organizations are public; an account's fields guard
    /// themselves; a sign-up's shift is the volunteer's to see).
    ById
);

impl<E> Loader for ById<E>
where
    E: sea_orm::EntityTrait,
    E::Model: Clone + Send + Sync,
{
    type Key = i64;
    type Value = E::Model;
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<HashMap<i64, E::Model>> {
        by_primary_key::<E>(&db, keys, None).await
    }
}

/// Rows of `E` by primary key that meet the caller's visibility rule for `E` (events and
/// campaigns the caller may see). One rule per entity and request, so the entity names the
/// loader.
pub struct VisibleById<E> {
    rule: sea_orm::Condition,
    entity: std::marker::PhantomData<fn() -> E>,
}

impl<E> VisibleById<E> {
    /// The loader, with the caller's rule for `E`.
    pub fn new(rule: sea_orm::Condition) -> Self {
        Self {
            rule,
            entity: std::marker::PhantomData,
        }
    }
}

impl<E> Loader for VisibleById<E>
where
    E: sea_orm::EntityTrait,
    E::Model: Clone + Send + Sync,
{
    type Key = i64;
    type Value = E::Model;
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<HashMap<i64, E::Model>> {
        by_primary_key::<E>(&db, keys, Some(self.rule)).await
    }
}

/// Rows of `E` whose integer primary key is among `keys` (and that meet `rule`), by key.
async fn by_primary_key<E>(
    db: &DatabaseConnection,
    keys: Vec<i64>,
    rule: Option<sea_orm::Condition>,
) -> AppResult<HashMap<i64, E::Model>>
where
    E: sea_orm::EntityTrait,
{
    use sea_orm::{ColumnTrait, Iterable, ModelTrait, PrimaryKeyToColumn, QueryFilter};
    let Some(pk) = E::PrimaryKey::iter()
        .next()
        .map(PrimaryKeyToColumn::into_column)
    else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "entity without a primary key"
        )));
    };
    let mut select = E::find().filter(pk.is_in(keys));
    if let Some(rule) = rule {
        select = select.filter(rule);
    }
    Ok(select
        .all(db)
        .await?
        .into_iter()
        .filter_map(|m| {
            let key = match m.get(pk) {
                sea_orm::Value::BigInt(Some(k)) => k,
                sea_orm::Value::Int(Some(k)) => i64::from(k),
                _ => return None,
            };
            Some((key, m))
        })
        .collect())
}

/// A list of child rows under a parent, in key order, paged with `first`/`after`: what
/// [`ChildPages`] loads. Each kind is its own type, so two lists of one table under different
/// parents (donations to a fund, donations to a campaign) never share a wave.
pub trait Children: 'static {
    /// The child table.
    type Entity: sea_orm::EntityTrait;
    /// The column that names the parent.
    fn parent() -> <Self::Entity as sea_orm::EntityTrait>::Column;
    /// The integer key the list is ordered and paged by.
    fn key() -> <Self::Entity as sea_orm::EntityTrait>::Column;
    /// The parent of a row.
    fn parent_of(row: &<Self::Entity as sea_orm::EntityTrait>::Model) -> i64;
    /// Rows to leave out, beside the parent condition (none by default).
    fn narrow(select: sea_orm::Select<Self::Entity>) -> sea_orm::Select<Self::Entity> {
        select
    }
}

type_loader!(
    /// One page of `C` for each parent of a wave, one statement per distinct page asked for
    /// ([`crate::pagination::fetch_pages_per_parent`]).
    ChildPages
);

impl<C: Children> Loader for ChildPages<C>
where
    <C::Entity as sea_orm::EntityTrait>::Model: Clone + Send + Sync,
{
    type Key = (i64, crate::pagination::PageArgs);
    type Value = crate::pagination::Page<<C::Entity as sea_orm::EntityTrait>::Model>;
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<Self::Key>,
    ) -> AppResult<HashMap<Self::Key, Self::Value>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let mut out = HashMap::new();
        for (page, parents) in crate::pagination::group_by_page(keys) {
            let mut select =
                C::narrow(C::Entity::find().filter(C::parent().is_in(parents.iter().copied())));
            if let Some(after) = page.after {
                select = select.filter(C::key().gt(after));
            }
            let pages = crate::pagination::fetch_pages_per_parent(
                &db,
                select,
                C::parent(),
                &[C::key()],
                page.first,
                C::parent_of,
            )
            .await?;
            crate::pagination::spread_pages(&mut out, page, parents, pages);
        }
        Ok(out)
    }
}

/// The first `first` rows of `C` under `parent`, in key order: a short nested list that is
/// capped, not paged (a request's offers and steps, a record's changes, an organization's
/// funds). Batched with the other parents of a wave asking for as many, one statement each.
pub async fn first_children<C: Children>(
    db: &DatabaseConnection,
    parent: i64,
    first: u64,
) -> AppResult<Vec<<C::Entity as sea_orm::EntityTrait>::Model>>
where
    <C::Entity as sea_orm::EntityTrait>::Model: Clone + Send + Sync,
{
    let page = crate::pagination::PageArgs { first, after: None };
    Ok(load(db, (parent, page), ChildPages::<C>::new)
        .await?
        .map(|p| p.items)
        .unwrap_or_default())
}

type_loader!(
    /// How many rows of `C` each parent of a wave has, in one `GROUP BY` statement: the
    /// `totalCount` of a nested connection.
    ChildCounts
);

impl<C: Children> Loader for ChildCounts<C> {
    type Key = i64;
    type Value = u64;
    async fn load(self, db: DatabaseConnection, keys: Vec<i64>) -> AppResult<HashMap<i64, u64>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let select = C::narrow(C::Entity::find().filter(C::parent().is_in(keys)));
        count_per_parent(&db, select, C::parent()).await
    }
}

/// `SELECT parent, COUNT(*) … GROUP BY parent` over `select`: how many rows each parent has.
pub async fn count_per_parent<E: sea_orm::EntityTrait>(
    db: &DatabaseConnection,
    select: sea_orm::Select<E>,
    parent: E::Column,
) -> AppResult<HashMap<i64, u64>> {
    use sea_orm::{
        QuerySelect,
        sea_query::{Expr, ExprTrait},
    };
    let rows: Vec<(i64, i64)> = select
        .select_only()
        .column(parent)
        .column_as(Expr::col(parent).count(), "n")
        .group_by(parent)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(p, n)| (p, u64::try_from(n).unwrap_or(0)))
        .collect())
}

type_loader!(
    /// Every row of `C` under each parent of a wave, in key order, in one statement: for lists
    /// the domain keeps short (a sign-up's check events).
    AllChildren
);

impl<C: Children> Loader for AllChildren<C>
where
    <C::Entity as sea_orm::EntityTrait>::Model: Clone + Send + Sync,
{
    type Key = i64;
    type Value = Vec<<C::Entity as sea_orm::EntityTrait>::Model>;
    async fn load(
        self,
        db: DatabaseConnection,
        keys: Vec<i64>,
    ) -> AppResult<HashMap<i64, Self::Value>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let rows = C::narrow(C::Entity::find().filter(C::parent().is_in(keys)))
            .order_by_asc(C::key())
            .all(&db)
            .await?;
        let mut out: HashMap<i64, Self::Value> = HashMap::new();
        for row in rows {
            out.entry(C::parent_of(&row)).or_default().push(row);
        }
        Ok(out)
    }
}

/// Whether the connection being resolved selects `path` below its nodes, through `nodes` or
/// `edges { node }` (fragments included): what a list resolver reads to join a relation into
/// its own statement instead of loading it a level later.
pub fn node_selects(ctx: &async_graphql::Context<'_>, path: &[&str]) -> bool {
    let look = ctx.look_ahead();
    [look.field("nodes"), look.field("edges").field("node")]
        .into_iter()
        .any(|mut l| {
            for name in path {
                l = l.field(name);
            }
            l.exists()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Doubles its keys and counts its calls; no database needed.
    struct Double(Arc<AtomicUsize>);

    impl Loader for Double {
        type Key = i64;
        type Value = i64;
        fn load(
            self,
            _db: DatabaseConnection,
            keys: Vec<i64>,
        ) -> impl Future<Output = AppResult<HashMap<i64, i64>>> + Send + 'static {
            self.0.fetch_add(1, Ordering::SeqCst);
            async move {
                tokio::task::yield_now().await;
                Ok(keys
                    .into_iter()
                    .filter(|k| *k != 13)
                    .map(|k| (k, k * 2))
                    .collect())
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_keys_go_out_as_one_call_per_level() {
        let calls = Arc::new(AtomicUsize::new(0));
        let db = DatabaseConnection::default();
        let c = calls.clone();
        let out = drive(db.clone(), async {
            let db = &db;
            let c = &c;
            // 100 "items", each loading a key, then a second level from the first's value.
            async_graphql::futures_util::future::join_all((0..100).map(|i| async move {
                let first = load(db, i, || Double(c.clone())).await.unwrap();
                match first {
                    Some(v) => load(db, v + 1000, || Double(c.clone())).await.unwrap(),
                    None => None,
                }
            }))
            .await
        })
        .await;
        assert_eq!(out[1], Some(2004));
        assert_eq!(out[13], None, "a missing key is None");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "one call per level");
    }

    #[tokio::test]
    async fn outside_drive_each_key_loads_on_its_own() {
        let calls = Arc::new(AtomicUsize::new(0));
        let db = DatabaseConnection::default();
        for i in 0..3 {
            let v = load(&db, i, || Double(calls.clone())).await.unwrap();
            assert_eq!(v, Some(i * 2));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
