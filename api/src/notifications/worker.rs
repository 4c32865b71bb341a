//! The delivery worker each replica runs (unless `TONGXING_NOTIFICATIONS_DELIVER=false`):
//! about once a second it plans new notifications, sends what is due and runs the schedule.
//! Replicas share the work through the database; see [`super::outbox`] and
//! [`super::schedule`].

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{outbox, schedule};
use crate::AppState;

/// How often the worker looks for work when the last round found none.
const IDLE: Duration = Duration::from_millis(1000);
/// Rounds of a batch size at most per wake-up, so one replica does not starve the rest.
const MAX_ROUNDS: usize = 40;

/// What one [`run_once`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// Notifications planned.
    pub planned: usize,
    /// Deliveries claimed (sent, retried, skipped or deferred).
    pub claimed: usize,
    /// Notifications the schedule wrote.
    pub scheduled: usize,
}

/// Start the worker; it runs until the runtime shuts down.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut shutdown = std::pin::pin!(state.live.shutting_down());
        loop {
            let round = run_once(&state, Utc::now()).await;
            let busy = round.planned > 0 || round.claimed > 0 || round.scheduled > 0;
            if !busy {
                tokio::select! {
                    () = tokio::time::sleep(IDLE) => {}
                    () = &mut shutdown => return,
                }
            }
        }
    })
}

/// One round at `now`: plan what is waiting, send what is due, run the schedule. Errors are
/// logged; what failed is picked up by a later round.
pub async fn run_once(state: &AppState, now: DateTime<Utc>) -> Round {
    let mut round = Round::default();
    match schedule::run(state, now).await {
        Ok(n) => round.scheduled = n,
        Err(e) => e.log("notification schedule (will retry)"),
    }
    for _ in 0..MAX_ROUNDS {
        match outbox::plan(state, now).await {
            Ok(n) => {
                round.planned += n;
                if (n as u64) < outbox::PLAN_BATCH {
                    break;
                }
            }
            Err(e) => {
                e.log("planning notifications (will retry)");
                break;
            }
        }
    }
    for _ in 0..MAX_ROUNDS {
        match outbox::deliver(state, now).await {
            Ok(n) => {
                round.claimed += n;
                if (n as u64) < outbox::SEND_BATCH {
                    break;
                }
            }
            Err(e) => {
                e.log("delivering notifications (will retry)");
                break;
            }
        }
    }
    round
}
