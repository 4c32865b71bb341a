//! Fan-out between replicas through PostgreSQL: a `live_event` row per change and a `NOTIFY`
//! carrying its sequence number.

use std::{collections::BTreeSet, time::Duration};

use chrono::Utc;
use entity::live_event::{self, LiveKind};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Iterable, QueryFilter,
    QueryOrder, QuerySelect, Statement, sqlx::postgres::PgListener,
};

use super::Change;
use crate::AppState;

const CHANNEL: &str = "tongxing_live";
/// Sequence numbers are taken before commit, so a row may appear after a later one was read:
/// each read looks this far back and skips what it has seen.
const LOOK_BACK: i64 = 256;

/// A change as its `live_event` row's columns.
struct Columns {
    kind: LiveKind,
    shift: Option<i64>,
    event: Option<i64>,
    signup: Option<i64>,
    account: Option<i64>,
    reference: Option<i64>,
}

fn columns(c: &Change) -> Columns {
    let none = |kind| Columns {
        kind,
        shift: None,
        event: None,
        signup: None,
        account: None,
        reference: None,
    };
    match *c {
        Change::Shift { shift_id } => Columns {
            shift: Some(shift_id),
            ..none(LiveKind::Shift)
        },
        Change::Signup {
            signup_id,
            account_id,
            shift_id,
        } => Columns {
            shift: Some(shift_id),
            signup: Some(signup_id),
            account: Some(account_id),
            ..none(LiveKind::Signup)
        },
        Change::CheckIn {
            event_id,
            shift_id,
            check_event_id,
        } => Columns {
            shift: Some(shift_id),
            event: Some(event_id),
            reference: Some(check_event_id),
            ..none(LiveKind::CheckIn)
        },
        Change::HelpOffer {
            offer_id,
            volunteer_id,
        } => Columns {
            account: Some(volunteer_id),
            reference: Some(offer_id),
            ..none(LiveKind::HelpOffer)
        },
        Change::AccountClosed { account_id } => Columns {
            account: Some(account_id),
            ..none(LiveKind::AccountClosed)
        },
        Change::AccessChanged { account_id } => Columns {
            account: Some(account_id),
            ..none(LiveKind::AccessChanged)
        },
        Change::Notification { account_id } => Columns {
            account: Some(account_id),
            ..none(LiveKind::Notification)
        },
    }
}

fn change_of(row: &live_event::Model) -> Option<Change> {
    Some(match row.kind {
        LiveKind::Shift => Change::Shift {
            shift_id: row.shift_id?,
        },
        LiveKind::Signup => Change::Signup {
            signup_id: row.signup_id?,
            account_id: row.account_id?,
            shift_id: row.shift_id?,
        },
        LiveKind::CheckIn => Change::CheckIn {
            event_id: row.event_id?,
            shift_id: row.shift_id?,
            check_event_id: row.ref_id?,
        },
        LiveKind::HelpOffer => Change::HelpOffer {
            offer_id: row.ref_id?,
            volunteer_id: row.account_id?,
        },
        LiveKind::AccountClosed => Change::AccountClosed {
            account_id: row.account_id?,
        },
        LiveKind::AccessChanged => Change::AccessChanged {
            account_id: row.account_id?,
        },
        LiveKind::Notification => Change::Notification {
            account_id: row.account_id?,
        },
    })
}

/// Write the changes and announce them: one statement per change, each row and its `NOTIFY`
/// together.
pub(super) async fn announce(db: &DatabaseConnection, changes: &[Change]) -> Result<(), DbErr> {
    for c in changes {
        let c = columns(c);
        db.execute_raw(Statement::from_sql_and_values(
            sea_orm::DatabaseBackend::Postgres,
            "WITH e AS (INSERT INTO live_event (kind, shift_id, event_id, signup_id, account_id, ref_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq) \
             SELECT pg_notify('tongxing_live', seq::text) FROM e",
            [
                c.kind.into(),
                c.shift.into(),
                c.event.into(),
                c.signup.into(),
                c.account.into(),
                c.reference.into(),
                Utc::now().into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// What has been delivered: the highest sequence and the recent ones (to skip repeats).
struct Cursor {
    last: i64,
    seen: BTreeSet<i64>,
}

impl Cursor {
    /// The highest sequence number at or below which every row is delivered or out of the
    /// window: only rows above it can still be new. Gaps (sequence numbers taken by
    /// transactions not yet committed, or never) hold it back, up to the window.
    fn floor(&self) -> i64 {
        let mut floor = self.last - LOOK_BACK;
        for &seq in self.seen.range(floor + 1..) {
            if seq != floor + 1 {
                break;
            }
            floor = seq;
        }
        floor
    }

    /// Whether the row `seq` has been delivered (or fell out of the window).
    fn delivered(&self, seq: i64) -> bool {
        seq <= self.floor() || self.seen.contains(&seq)
    }

    /// Deliver every row after the cursor, in order.
    async fn catch_up(&mut self, state: &AppState) -> Result<(), DbErr> {
        loop {
            // Only what may be new: reading the whole look-back window on every notification
            // made each replica re-read ~256 rows per change (found by `benches/launch`).
            let rows = live_event::Entity::find()
                .filter(live_event::Column::Seq.gt(self.floor()))
                .filter(live_event::Column::Kind.is_in(LiveKind::iter()))
                .order_by_asc(live_event::Column::Seq)
                .limit(1000)
                .all(&state.db)
                .await?;
            let mut fresh = 0;
            for row in &rows {
                if row.seq <= self.last - LOOK_BACK || !self.seen.insert(row.seq) {
                    continue;
                }
                fresh += 1;
                self.last = self.last.max(row.seq);
                if let Some(c) = change_of(row) {
                    state.live.deliver(c);
                }
            }
            let floor = self.last - LOOK_BACK;
            self.seen = self.seen.split_off(&floor);
            if rows.len() < 1000 || fresh == 0 {
                return Ok(());
            }
        }
    }
}

/// This replica's listener: `LISTEN`, and on every notification (and after every reconnect)
/// deliver the rows past the cursor. Starts at the current end: older changes are history.
pub(super) async fn listen(state: AppState) {
    let mut shutdown = std::pin::pin!(state.live.shutting_down());
    // Where "now" is; retried rather than guessed (0 would replay the last hour to everyone).
    let start = loop {
        match live_event::Entity::find()
            .select_only()
            .column_as(live_event::Column::Seq.max(), "m")
            .into_tuple::<Option<i64>>()
            .one(&state.db)
            .await
        {
            Ok(max) => break max.flatten().unwrap_or(0),
            Err(e) => {
                tracing::warn!(error = %e, "live listener cannot read its start; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = &mut shutdown => return,
                }
            }
        }
    };
    // The rows already there count as delivered (history); numbers in the window without a
    // row may still commit, so they stay open.
    let existing = live_event::Entity::find()
        .select_only()
        .column(live_event::Column::Seq)
        .filter(live_event::Column::Seq.gt(start - LOOK_BACK))
        .filter(live_event::Column::Seq.lte(start))
        .into_tuple::<i64>()
        .all(&state.db)
        .await;
    let mut cursor = Cursor {
        last: start,
        seen: match existing {
            Ok(seqs) => seqs.into_iter().collect(),
            Err(_) => (start - LOOK_BACK..=start).collect(),
        },
    };
    let url = state.config.database_url();
    loop {
        let mut listener = match PgListener::connect(&url).await {
            Ok(mut l) => match l.listen(CHANNEL).await {
                Ok(()) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN failed; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        () = &mut shutdown => return,
                    }
                }
            },
            Err(e) => {
                tracing::warn!(error = %e, "live listener cannot connect; retrying");
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    () = &mut shutdown => return,
                }
            }
        };
        // Whatever happened while we were not listening.
        if let Err(e) = cursor.catch_up(&state).await {
            tracing::warn!(error = %e, "live catch-up failed");
        }
        // A catch-up now and then too: a failed read is retried without waiting for traffic.
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if let Err(e) = cursor.catch_up(&state).await {
                        tracing::warn!(error = %e, "live catch-up failed");
                    }
                }
                got = listener.try_recv() => match got {
                    // A notification, or `None` after sqlx reconnected by itself: read on.
                    Ok(notification) => {
                        // A notification for a row an earlier read already delivered (that
                        // read saw every row committed by then) needs no read of its own.
                        if notification
                            .and_then(|n| n.payload().parse::<i64>().ok())
                            .is_some_and(|seq| cursor.delivered(seq))
                        {
                            continue;
                        }
                        if let Err(e) = cursor.catch_up(&state).await {
                            tracing::warn!(error = %e, "live catch-up failed");
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "live listener lost its connection");
                        break;
                    }
                },
                () = &mut shutdown => return,
            }
        }
    }
}

/// Forget announced changes older than an hour (housekeeping; PostgreSQL only).
pub async fn purge<C: ConnectionTrait>(db: &C) -> Result<u64, DbErr> {
    Ok(live_event::Entity::delete_many()
        .filter(live_event::Column::CreatedAt.lt(Utc::now() - chrono::Duration::hours(1)))
        .exec(db)
        .await?
        .rows_affected)
}

#[cfg(test)]
mod tests {
    use super::{Cursor, LOOK_BACK};

    fn cursor(last: i64, seen: impl IntoIterator<Item = i64>) -> Cursor {
        Cursor {
            last,
            seen: seen.into_iter().collect(),
        }
    }

    #[test]
    fn a_catch_up_reads_from_the_first_gap_and_never_beyond_the_window() {
        // Everything up to 100 delivered: only newer rows can be new.
        assert_eq!(cursor(100, 100 - LOOK_BACK..=100).floor(), 100);
        // 96 and 99 not seen yet (their transactions may still commit): read from 96 on.
        let seen = (100 - LOOK_BACK..=95).chain([97, 98, 100]);
        assert_eq!(cursor(100, seen).floor(), 95);
        // A gap that never fills stops mattering once it leaves the window.
        assert_eq!(cursor(1_000, [1_000]).floor(), 1_000 - LOOK_BACK);
        // What a notification may skip: rows seen, or at or below the floor — not gaps.
        let c = cursor(100, (100 - LOOK_BACK..=95).chain([97, 98, 100]));
        assert!(c.delivered(95) && c.delivered(97) && c.delivered(100));
        assert!(!c.delivered(96) && !c.delivered(99) && !c.delivered(101));
    }
}
