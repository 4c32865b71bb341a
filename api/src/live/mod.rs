//! Live updates. Services note what changed ([`record`]) while a request runs; once the request
//! is over (its transactions committed) the notes are published ([`LiveHub::publish_all`]).
//! Subscribers get ids, never rows, and read the current state themselves — so a note is a hint
//! that may arrive twice or for a change that was rolled back, and nothing stale is ever sent.
//!
//! Fan-out: on SQLite (one process) a tokio broadcast channel. On PostgreSQL every replica
//! writes its notes to the `live_event` table and `NOTIFY`s the sequence number; one listener
//! per replica reads the new rows and broadcasts them locally. After a lost listening
//! connection it reads everything past the last sequence it saw, so no change is missed.

pub mod feeds;
pub mod graphql;
pub mod postgres;

use std::{
    cell::RefCell,
    future::Future,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    time::Duration,
};

use sea_orm::{DatabaseBackend, DatabaseConnection};
use tokio::sync::{broadcast, watch};

/// What changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// A shift's counts or details.
    Shift {
        /// The shift.
        shift_id: i64,
    },
    /// A sign-up's status (signed up, promoted, cancelled, attended, no-show).
    Signup {
        /// The sign-up.
        signup_id: i64,
        /// Its volunteer.
        account_id: i64,
        /// Its shift.
        shift_id: i64,
    },
    /// Someone checked in to a shift of an event.
    CheckIn {
        /// The event.
        event_id: i64,
        /// The shift.
        shift_id: i64,
        /// The check event.
        check_event_id: i64,
    },
    /// A help request was offered to a volunteer.
    HelpOffer {
        /// The offer.
        offer_id: i64,
        /// Its volunteer.
        volunteer_id: i64,
    },
    /// An account was deleted: its WebSocket connections close, on every replica.
    AccountClosed {
        /// The account.
        account_id: i64,
    },
    /// An account's sessions or roles changed: its WebSocket connections close (4401), on every
    /// replica, and reconnect only with a token of a session still open.
    AccessChanged {
        /// The account.
        account_id: i64,
    },
    /// Notifications were written for an account.
    Notification {
        /// The account.
        account_id: i64,
    },
}

/// Why an account's live connections must close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closing {
    /// The account was deleted (4403).
    Deleted,
    /// Its sessions or roles changed (4401): sign in again.
    AccessChanged,
}

tokio::task_local! {
    static OUTBOX: RefCell<Vec<Change>>;
}

/// Note a change made by the current request (nothing happens outside [`collecting`]).
pub fn record(change: Change) {
    let _ = OUTBOX.try_with(|o| o.borrow_mut().push(change));
}

/// Run `fut`, returning what it [`record`]ed, each change once.
pub async fn collecting<F: Future>(fut: F) -> (F::Output, Vec<Change>) {
    OUTBOX
        .scope(RefCell::new(Vec::new()), async {
            let out = fut.await;
            let mut changes = OUTBOX.with(|o| std::mem::take(&mut *o.borrow_mut()));
            let mut seen = std::collections::HashSet::new();
            changes.retain(|c| seen.insert(*c));
            (out, changes)
        })
        .await
}

/// Buffered changes per subscriber before it counts as lagging (it then re-reads the state).
const CHANNEL: usize = 4096;

/// The process's live-update hub.
pub struct LiveHub {
    tx: broadcast::Sender<Change>,
    /// Accounts whose connections must close, for WebSocket connections (rare: every
    /// connection listens).
    closed_accounts: broadcast::Sender<(i64, Closing)>,
    postgres: bool,
    shutdown: watch::Sender<bool>,
    connections: AtomicUsize,
    subscriptions: AtomicUsize,
    listening: AtomicBool,
    /// Open WebSocket connections per client address and per account.
    pub seats: Seats,
}

/// Counts of open WebSocket connections by key, for the per-address and per-account limits.
#[derive(Default)]
pub struct Seats {
    by_address: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Holder, u32>>>,
}

/// Who holds a seat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Holder {
    /// A client address.
    Address(std::net::IpAddr),
    /// An account.
    Account(i64),
}

/// A taken seat; dropping it frees it.
pub struct Seat {
    map: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<Holder, u32>>>,
    holder: Holder,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.holder) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.holder);
            }
        }
    }
}

impl Seats {
    /// Take one of `limit` seats of `holder`; `None` when all are taken.
    pub fn take(&self, holder: Holder, limit: u32) -> Option<Seat> {
        let mut map = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(holder).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Seat {
            map: self.by_address.clone(),
            holder,
        })
    }
}

impl LiveHub {
    /// A hub for `db`'s kind of database (call [`start`](Self::start) to listen on PostgreSQL).
    pub fn new(db: &DatabaseConnection) -> Self {
        Self {
            tx: broadcast::channel(CHANNEL).0,
            closed_accounts: broadcast::channel(256).0,
            postgres: db.get_database_backend() == DatabaseBackend::Postgres,
            shutdown: watch::channel(false).0,
            connections: AtomicUsize::new(0),
            subscriptions: AtomicUsize::new(0),
            listening: AtomicBool::new(false),
            seats: Seats::default(),
        }
    }

    /// On PostgreSQL, start this replica's listener (once; it runs until shutdown).
    pub fn start(state: &crate::AppState) {
        if state.live.postgres && !state.live.listening.swap(true, Ordering::SeqCst) {
            tokio::spawn(postgres::listen(state.clone()));
        }
    }

    /// Changes as they are published (all replicas').
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }

    /// Accounts whose connections must close from now on (on any replica).
    pub fn closed_accounts(&self) -> broadcast::Receiver<(i64, Closing)> {
        self.closed_accounts.subscribe()
    }

    fn deliver(&self, change: Change) {
        // No subscriber is not an error.
        match change {
            Change::AccountClosed { account_id } => {
                let _ = self.closed_accounts.send((account_id, Closing::Deleted));
                return;
            }
            Change::AccessChanged { account_id } => {
                let _ = self
                    .closed_accounts
                    .send((account_id, Closing::AccessChanged));
                return;
            }
            _ => {}
        }
        let _ = self.tx.send(change);
    }

    /// Publish what a request changed, after it committed.
    pub fn publish_all(&self, db: &DatabaseConnection, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        if self.postgres {
            let db = db.clone();
            tokio::spawn(async move {
                if let Err(e) = postgres::announce(&db, &changes).await {
                    tracing::warn!(error = %e, "live update not announced");
                }
            });
        } else {
            for c in changes {
                self.deliver(c);
            }
        }
    }

    /// Start shutting down: subscriptions complete and WebSocket connections close.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Resolves when shutdown has begun.
    pub fn shutting_down(&self) -> impl Future<Output = ()> + Send + use<> {
        let mut rx = self.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|down| *down).await;
        }
    }

    /// Count an open WebSocket connection while the guard lives.
    pub fn connection(&self) -> ConnectionGuard<'_> {
        self.connections.fetch_add(1, Ordering::SeqCst);
        ConnectionGuard(self)
    }

    /// Count an active subscription while the guard lives.
    pub fn subscription(self: &std::sync::Arc<Self>) -> SubscriptionGuard {
        self.subscriptions.fetch_add(1, Ordering::SeqCst);
        SubscriptionGuard(self.clone())
    }

    /// Open WebSocket connections and active subscriptions (for `/metrics`).
    pub fn open_counts(&self) -> (usize, usize) {
        (
            self.connections.load(Ordering::SeqCst),
            self.subscriptions.load(Ordering::SeqCst),
        )
    }

    /// Wait (at most `grace`) until every WebSocket connection has closed.
    pub async fn wait_for_connections(&self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        while self.connections.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// An active subscription (see [`LiveHub::subscription`]).
pub struct SubscriptionGuard(std::sync::Arc<LiveHub>);

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        self.0.subscriptions.fetch_sub(1, Ordering::SeqCst);
    }
}

/// An open WebSocket connection (see [`LiveHub::connection`]).
pub struct ConnectionGuard<'a>(&'a LiveHub);

impl Drop for ConnectionGuard<'_> {
    fn drop(&mut self) {
        self.0.connections.fetch_sub(1, Ordering::SeqCst);
    }
}
