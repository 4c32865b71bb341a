//! Periodic upkeep while the server runs: forgetting idempotency keys past their retention,
//! closing check-ins whose check-out never came, reopening lapsed micro-wish claims, dropping
//! check-in locations past their retention, expiring online donations never paid, and
//! forgetting notification deliveries done a month ago.

use std::time::Duration;

use crate::{AppState, error::AppError, idempotency};

/// How often upkeep runs.
const PERIOD: Duration = Duration::from_secs(600);

/// Start the upkeep loop; it runs until the runtime shuts down.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        loop {
            tick.tick().await;
            run_once(&state).await;
        }
    })
}

/// One round of upkeep.
pub async fn run_once(state: &AppState) {
    let retention = chrono::Duration::hours(i64::from(state.config.idempotency_retention_hours));
    match idempotency::purge_older_than(&state.db, retention).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(purged = n, "expired idempotency keys removed"),
        Err(e) => e.log("idempotency key purge (will retry)"),
    }
    let grace = chrono::Duration::minutes(i64::from(state.config.checkout_grace_minutes));
    match crate::checkins::records::close_missing_checkouts(&state.db, grace).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(closed = n, "missing check-outs closed and flagged"),
        Err(e) => e.log("closing missing check-outs (will retry)"),
    }
    match crate::wishes::service::release_lapsed_claims(&state.db, chrono::Utc::now()).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(released = n, "lapsed micro-wish claims reopened"),
        Err(e) => e.log("reopening lapsed micro-wish claims (will retry)"),
    }
    let window = chrono::Duration::minutes(i64::from(state.config.payment_window_minutes));
    match crate::funds::service::expire_unpaid(&state.db, chrono::Utc::now(), window).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(expired = n, "unpaid online donations expired"),
        Err(e) => e.log("expiring unpaid donations (will retry)"),
    }
    match crate::notifications::outbox::forget_done(&state.db, chrono::Utc::now()).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(forgotten = n, "old notification deliveries forgotten"),
        Err(e) => e.log("forgetting old notification deliveries (will retry)"),
    }
    match crate::accounts::codes::forget_old(&state.db, chrono::Utc::now()).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(forgotten = n, "old phone codes forgotten"),
        Err(e) => e.log("forgetting old phone codes (will retry)"),
    }
    match crate::checkins::guesses::forget_old(&state.db, chrono::Utc::now()).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(forgotten = n, "old check-in PIN guesses forgotten"),
        Err(e) => e.log("forgetting old PIN guesses (will retry)"),
    }
    match crate::privacy::expire_locations(&state.db, state.config.location_retention_days).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(dropped = n, "check-in locations past retention dropped"),
        Err(e) => e.log("dropping old check-in locations (will retry)"),
    }
    if state.db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        match crate::live::postgres::purge(&state.db).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(purged = n, "old live events removed"),
            Err(e) => AppError::from(e).log("live event purge (will retry)"),
        }
    }
}
