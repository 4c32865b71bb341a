//! The HTTP edge, the one place requests come in: the router and its layers (this file),
//! GraphQL over HTTP (`graphql`), subscriptions over WebSocket (`ws`), who is calling
//! ([`caller`]), the one error-to-response mapping ([`error`]), the routes that are files or
//! protocols rather than GraphQL ([`exports`], [`certificates`], [`oauth`]; the calendar's are
//! merged from [`crate::calendar::web`]), and the server loop
//! with graceful shutdown ([`server`]). GraphiQL at `/` (embedded, `graphiql`), `/healthz`,
//! `/readyz`, `/metrics`.

pub mod caller;
pub mod certificates;
pub mod error;
pub mod exports;
mod graphiql;
mod graphql;
pub mod oauth;
pub mod payments;
pub mod server;
mod ws;

use std::time::Duration;

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::{
    catch_panic::CatchPanicLayer, compression::CompressionLayer, limit::RequestBodyLimitLayer,
    trace::TraceLayer,
};

pub use graphiql::GRAPHIQL_VERSION;
pub use server::{serve, shutdown_signal};

use crate::{
    AppState, db,
    error::AppError,
    schema::{AppSchema, build_schema},
};

/// What every GraphQL handler needs: the state and the built schema.
#[derive(Clone)]
struct Http {
    state: AppState,
    schema: AppSchema,
}

/// The router with every route and layer.
pub fn app(state: AppState) -> Router {
    crate::live::LiveHub::start(&state);
    let body_limit = state.config.max_body_bytes;
    let production = state.config.environment == crate::config::Environment::Production;
    let http = Http {
        schema: build_schema(state.clone()),
        state,
    };
    let router = if production {
        Router::new()
    } else {
        Router::new()
            .route("/", get(graphiql::page))
            .route("/graphiql/{version}/{file}", get(graphiql::asset))
    };
    router
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::upgrade))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(crate::metrics::serve).with_state(http.state.clone()),
        )
        .merge(oauth::router(http.state.clone()))
        .merge(certificates::router(http.state.clone()))
        .merge(exports::router(http.state.clone()))
        .merge(payments::router(http.state.clone()))
        .merge(crate::calendar::web::router(http.state.clone()))
        .merge(crate::kiosk::router())
        .layer(RequestBodyLimitLayer::new(body_limit))
        // The configured limit above is the one that counts, not axum's 2 MB default.
        .layer(axum::extract::DefaultBodyLimit::disable())
        // gzip or brotli when the client accepts it: a 50-shift feed shrinks about tenfold.
        .layer(CompressionLayer::new())
        // A bug that panics answers 500 like any internal error, without its message (which
        // could hold request data), instead of dropping the connection.
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                AppError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
            },
        ))
        // The request's language (`Accept-Language`) for every message answered, the panic's
        // above included.
        .layer(axum::middleware::from_fn(crate::i18n::scope_language))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    // Path only: query strings may carry GraphQL variables. A calendar feed's
                    // path is its credential: it is never logged.
                    let path = match req.uri().path() {
                        p if p.starts_with("/calendar/") && !p.starts_with("/calendar/shifts/") => {
                            "/calendar/[feed].ics"
                        }
                        p => p,
                    };
                    // Span names for traces: a handful, not one per shift, certificate or
                    // path a scanner tries.
                    let route = match path.split('/').nth(1).unwrap_or_default() {
                        "graphql" if path == "/graphql/ws" => "/graphql/ws",
                        "graphql" => "/graphql",
                        "kiosk" => "/kiosk",
                        "certificates" => "/certificates",
                        "exports" => "/exports",
                        "payments" => "/payments",
                        "calendar" => "/calendar",
                        "healthz" => "/healthz",
                        "readyz" => "/readyz",
                        "metrics" => "/metrics",
                        "" => "/",
                        _ => "other",
                    };
                    let span = tracing::info_span!(
                        "http",
                        method = %req.method(),
                        path = %path,
                        status = tracing::field::Empty,
                        otel.name = %format_args!("{} {route}", req.method()),
                        otel.kind = "server",
                    );
                    crate::telemetry::continue_remote_trace(&span, req.headers());
                    span
                })
                .on_response(
                    |res: &axum::http::Response<_>, latency: Duration, span: &tracing::Span| {
                        span.record("status", res.status().as_u16());
                        tracing::debug!(
                            status = res.status().as_u16(),
                            latency_ms = latency.as_secs_f64() * 1000.0,
                            "response"
                        );
                    },
                ),
        )
        .with_state(http)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(http): State<Http>) -> Response {
    if http
        .state
        .draining
        .load(std::sync::atomic::Ordering::SeqCst)
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    if db::ping(&http.state.db).await {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}
