//! `/metrics` in the Prometheus text format, for the person on call.
//!
//! Counting goes through the `metrics` facade into one `metrics-exporter-prometheus` recorder
//! per server (never the process-wide one), so replicas and tests in one process keep separate
//! figures. What is counted:
//!
//! - `tongxing_graphql_requests_total{operation, outcome}` — every GraphQL operation, by its
//!   name and `ok` or its first error code; `tongxing_graphql_request_duration_seconds`;
//! - `tongxing_subscription_events_total{outcome}` — results sent to subscribers (not requests);
//! - `tongxing_rate_limited_total{limit}` — refusals by the account, address, login,
//!   registration and identity-change limits;
//! - `tongxing_signups_total{status}`, `tongxing_check_ins_total{kind}`;
//! - `tongxing_notifications_total{channel, outcome}` — notification deliveries queued, sent,
//!   failed (each failed try), retried, dead-lettered, skipped and deferred by quiet hours;
//! - gauges read when scraped: WebSocket connections, active subscriptions, database pool
//!   connections in use / idle / maximum.

use std::{collections::HashSet, sync::Mutex};

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use sea_orm::DatabaseBackend;

use crate::AppState;

/// Distinct operation names kept as labels; later names count as `other` (clients choose
/// names, and every name is a time series).
const MAX_OPERATION_NAMES: usize = 500;

/// Request duration buckets, in seconds.
const DURATION_BUCKETS: [f64; 12] = [
    0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The server's metrics.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    operations: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// An empty set of metrics.
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&DURATION_BUCKETS)
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        Self {
            recorder,
            handle,
            operations: Mutex::new(HashSet::new()),
        }
    }

    fn with(&self, f: impl FnOnce()) {
        metrics::with_local_recorder(&self.recorder, f);
    }

    /// The label for a client-chosen operation name: as sent when it is a plain GraphQL name
    /// of at most 64 characters and one of the first [`MAX_OPERATION_NAMES`], else a fixed one.
    fn operation_label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".to_owned();
        };
        if name.is_empty()
            || name.len() > 64
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return "invalid_name".to_owned();
        }
        let mut known = self.operations.lock().unwrap_or_else(|p| p.into_inner());
        if known.contains(name) || known.len() < MAX_OPERATION_NAMES {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".to_owned()
        }
    }

    /// Count a GraphQL operation: its name, `ok` or its first error code, and how long it took.
    pub fn operation(&self, name: Option<&str>, outcome: &str, seconds: f64) {
        let operation = self.operation_label(name);
        let outcome = outcome.to_owned();
        self.with(|| {
            metrics::counter!(
                "tongxing_graphql_requests_total",
                "operation" => operation.clone(),
                "outcome" => outcome
            )
            .increment(1);
            metrics::histogram!(
                "tongxing_graphql_request_duration_seconds",
                "operation" => operation
            )
            .record(seconds);
        });
    }

    /// Count one result sent to a subscriber (`ok` or its first error code).
    pub fn subscription_event(&self, outcome: &str) {
        let outcome = outcome.to_owned();
        self.with(|| {
            metrics::counter!("tongxing_subscription_events_total", "outcome" => outcome)
                .increment(1)
        });
    }

    /// Count a refusal by a rate limit (`account`, `address`, `login`, `registration`,
    /// `identity`).
    pub fn rate_limited(&self, limit: &'static str) {
        self.with(|| {
            metrics::counter!("tongxing_rate_limited_total", "limit" => limit).increment(1)
        });
    }

    /// Count a sign-up by the status it got.
    pub fn signup(&self, status: &str) {
        let status = status.to_owned();
        self.with(|| metrics::counter!("tongxing_signups_total", "status" => status).increment(1));
    }

    /// Count a payment notification by what came of it (`confirmed`, `replayed`, `refused`,
    /// `conflict`, `unknown_order`, `failed`).
    pub fn payment_notification(&self, outcome: &'static str) {
        self.with(|| {
            metrics::counter!("tongxing_payment_notifications_total", "outcome" => outcome)
                .increment(1)
        });
    }

    /// Count a notification delivery event on `channel`: `queued`, `sent`, `failed` (a try),
    /// `retried` (scheduled again), `dead` (a dead letter), `skipped`, `deferred` (quiet hours).
    pub fn notification(
        &self,
        channel: entity::notification::NotificationChannel,
        outcome: &'static str,
    ) {
        use sea_orm::ActiveEnum;
        let channel = channel.to_value();
        self.with(|| {
            metrics::counter!(
                "tongxing_notifications_total",
                "channel" => channel,
                "outcome" => outcome
            )
            .increment(1)
        });
    }

    /// Count a check-in or check-out.
    pub fn check_in(&self, kind: &'static str) {
        self.with(|| metrics::counter!("tongxing_check_ins_total", "kind" => kind).increment(1));
    }

    /// The text a scrape gets: the counters, and the gauges read now.
    pub fn render(&self, state: &AppState) -> String {
        let (size, idle) = pool_stats(state);
        let max = state.config.pool_size();
        let (connections, subscriptions) = state.live.open_counts();
        self.with(|| {
            metrics::gauge!("tongxing_db_pool_connections", "state" => "in_use")
                .set(size.saturating_sub(idle) as f64);
            metrics::gauge!("tongxing_db_pool_connections", "state" => "idle").set(idle as f64);
            metrics::gauge!("tongxing_db_pool_max_connections").set(f64::from(max));
            metrics::gauge!("tongxing_websocket_connections").set(connections as f64);
            metrics::gauge!("tongxing_subscriptions_active").set(subscriptions as f64);
        });
        self.handle.run_upkeep();
        self.handle.render()
    }
}

/// Open and idle connections of the pool.
fn pool_stats(state: &AppState) -> (usize, usize) {
    match state.db.get_database_backend() {
        DatabaseBackend::Sqlite => {
            let p = state.db.get_sqlite_connection_pool();
            (p.size() as usize, p.num_idle())
        }
        DatabaseBackend::Postgres => {
            let p = state.db.get_postgres_connection_pool();
            (p.size() as usize, p.num_idle())
        }
        _ => (0, 0),
    }
}

/// `GET /metrics`. With `TONGXING_METRICS_TOKEN` set, only `Authorization: Bearer <token>`.
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics_token {
        let sent = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let ok = sent.is_some_and(|s| {
            use sha2::{Digest, Sha256};
            // Compare digests: equal length, so the comparison time says nothing.
            Sha256::digest(s.as_bytes()) == Sha256::digest(token.expose().as_bytes())
        });
        if !ok {
            return (StatusCode::UNAUTHORIZED, "metrics need the metrics token").into_response();
        }
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        state.metrics.render(&state),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_are_bounded_labels() {
        let m = Metrics::new();
        assert_eq!(m.operation_label(Some("HomeFeed")), "HomeFeed");
        assert_eq!(m.operation_label(None), "anonymous");
        assert_eq!(m.operation_label(Some("a-b")), "invalid_name");
        assert_eq!(m.operation_label(Some(&"x".repeat(65))), "invalid_name");
        for i in 0..MAX_OPERATION_NAMES {
            m.operation_label(Some(&format!("Op{i}")));
        }
        assert_eq!(m.operation_label(Some("OneTooMany")), "other");
        assert_eq!(m.operation_label(Some("HomeFeed")), "HomeFeed");
    }
}
