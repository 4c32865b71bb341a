//! Fan-out of results, not of queries: however many subscriptions watch one thing (a shift on
//! a kiosk, a hall of phones watching the same shift), a change to it is read once, by one task
//! per watched key, and the value is handed to every subscriber through a `watch` channel.
//!
//! The task starts with the first subscriber and stops with the last. A burst of changes is
//! read once: the task drains what is queued before it reads. A subscriber that falls behind
//! sees the newest value only — for a live view, the current state is all that matters.

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::sync::{
    broadcast::error::{RecvError, TryRecvError},
    watch,
};

use super::Change;
use crate::{AppState, error::AppResult};

/// Feeds of `T` by key: one reading task per key while anyone watches it.
pub struct Feeds<T> {
    feeds: Mutex<HashMap<i64, Weak<Feed<T>>>>,
    /// Values read since the start (for tests and `/metrics`).
    reads: AtomicU64,
}

impl<T> Default for Feeds<T> {
    fn default() -> Self {
        Self {
            feeds: Mutex::new(HashMap::new()),
            reads: AtomicU64::new(0),
        }
    }
}

/// One key's feed; subscribers hold it, and the last one to drop it stops the task.
pub struct Feed<T> {
    key: i64,
    rx: watch::Receiver<Option<Arc<T>>>,
    task: tokio::task::JoinHandle<()>,
    owner: Weak<Feeds<T>>,
}

impl<T> Feed<T> {
    /// A receiver of the values read from now on (the current one counts as seen).
    pub fn receiver(&self) -> watch::Receiver<Option<Arc<T>>> {
        let mut rx = self.rx.clone();
        rx.mark_unchanged();
        rx
    }
}

impl<T> Drop for Feed<T> {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(owner) = self.owner.upgrade() {
            let mut feeds = owner.feeds.lock().unwrap_or_else(|e| e.into_inner());
            // Only if no newer feed took the key meanwhile.
            if feeds.get(&self.key).is_some_and(|w| w.strong_count() == 0) {
                feeds.remove(&self.key);
            }
        }
    }
}

impl<T: Send + Sync + 'static> Feeds<T> {
    /// Values read so far by all feeds.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }

    /// Keys watched now.
    pub fn watched(&self) -> usize {
        self.feeds
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|w| w.strong_count() > 0)
            .count()
    }

    /// The feed of `key`, started if nobody watches it yet: on every change `concerns` says is
    /// about `key` (and after the hub's channel lagged), `read` loads the value once.
    pub fn watch<R, F>(
        self: &Arc<Self>,
        state: &AppState,
        key: i64,
        concerns: fn(&Change, i64) -> bool,
        read: R,
    ) -> Arc<Feed<T>>
    where
        R: Fn(AppState, i64) -> F + Send + 'static,
        F: Future<Output = AppResult<Option<T>>> + Send,
    {
        let mut feeds = self.feeds.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(feed) = feeds.get(&key).and_then(Weak::upgrade) {
            return feed;
        }
        // Subscribed before the task starts, so no change published from now on is missed.
        let mut changes = state.live.subscribe();
        let (tx, rx) = watch::channel(None);
        let state = state.clone();
        let this = Arc::downgrade(self);
        let task = tokio::spawn(async move {
            loop {
                match changes.recv().await {
                    Ok(c) if concerns(&c, key) => {}
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                }
                // A burst is read once: whatever else is queued now is covered by this read.
                while let Ok(_) | Err(TryRecvError::Lagged(_)) = changes.try_recv() {}
                if let Some(feeds) = this.upgrade() {
                    feeds.reads.fetch_add(1, Ordering::Relaxed);
                }
                match read(state.clone(), key).await {
                    Ok(Some(value)) => {
                        tx.send_replace(Some(Arc::new(value)));
                    }
                    // Gone: nothing to show; subscribers keep the last value.
                    Ok(None) => {}
                    // The next change reads again; the cause is the server's, not a client's.
                    Err(e) => tracing::warn!(error = %e, "live feed read failed"),
                }
            }
        });
        let feed = Arc::new(Feed {
            key,
            rx,
            task,
            owner: Arc::downgrade(self),
        });
        feeds.insert(key, Arc::downgrade(&feed));
        feed
    }
}
