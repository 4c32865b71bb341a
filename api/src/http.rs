//! The HTTP surface: `/graphql` (POST and GET), GraphiQL at `/`, `/healthz`, `/readyz`, and the
//! server loop with graceful shutdown.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use async_graphql::{
    BatchRequest, BatchResponse, ServerError,
    http::GraphiQLSource,
    parser::types::{DocumentOperations, OperationType},
};
use async_graphql::{
    futures_util::{SinkExt, StreamExt},
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols},
};
use axum::{
    Extension, Router,
    body::Bytes,
    extract::{
        ConnectInfo, RawQuery, State, WebSocketUpgrade,
        ws::{CloseFrame, Message as WsMessage, WebSocket},
    },
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
    routing::get,
};
use tokio::net::TcpListener;
use tower_http::{
    catch_panic::CatchPanicLayer, compression::CompressionLayer, limit::RequestBodyLimitLayer,
    trace::TraceLayer,
};
use tracing::Instrument;

use crate::{
    AppState,
    auth::Viewer,
    db,
    error::{AppError, finalize_errors},
    schema::{AppSchema, PARSE_FAILED, VALIDATION_FAILED, build_schema},
};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

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
        Router::new().route("/", get(graphiql))
    };
    router
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphql/ws", get(graphql_ws))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route(
            "/metrics",
            get(crate::metrics::serve).with_state(http.state.clone()),
        )
        .merge(crate::clients::http::router(http.state.clone()))
        .merge(crate::certificates::http::router(http.state.clone()))
        .merge(crate::exports::router(http.state.clone()))
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
                tracing::error!("a request handler panicked");
                request_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL",
                    "internal error",
                )
            },
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    // Path only: query strings may carry GraphQL variables.
                    let path = req.uri().path();
                    // Span names for traces: a handful, not one per shift, certificate or
                    // path a scanner tries.
                    let route = match path.split('/').nth(1).unwrap_or_default() {
                        "graphql" if path == "/graphql/ws" => "/graphql/ws",
                        "graphql" => "/graphql",
                        "kiosk" => "/kiosk",
                        "certificates" => "/certificates",
                        "exports" => "/exports",
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

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
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

/// A response that is a GraphQL error document outside of execution (bad body, bad method).
pub(crate) fn request_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

fn client_addr(
    state: &AppState,
    headers: &HeaderMap,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Option<IpAddr> {
    if state.config.trust_forwarded_for {
        // The rightmost entry is the one our proxy appended; entries left of it are whatever
        // the client chose to send.
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    connect.map(|Extension(ConnectInfo(addr))| addr.ip())
}

/// The account a request's `Authorization: Bearer` access token names: `None` without the
/// header, `Some(None)` when the header holds no valid token.
pub(crate) fn bearer_account(state: &AppState, headers: &HeaderMap) -> Option<Option<i64>> {
    let value = headers.get(header::AUTHORIZATION)?;
    let token = value.to_str().ok().and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
    });
    Some(token.and_then(|t| state.jwt.verify(t.trim()).ok()))
}

fn viewer(state: &AppState, headers: &HeaderMap, addr: Option<IpAddr>) -> Viewer {
    match bearer_account(state, headers) {
        None => Viewer::anonymous(addr),
        Some(Some(account_id)) => Viewer::account(account_id, addr),
        Some(None) => match client_grant(state, headers) {
            Some(grant) => Viewer::client(grant, addr),
            None => Viewer::invalid("invalid or expired access token", addr),
        },
    }
}

/// The grant of a third-party client's bearer token, if that is what the request carries.
fn client_grant(state: &AppState, headers: &HeaderMap) -> Option<crate::clients::ClientGrant> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    let claims = state.jwt.verify_client(token.trim()).ok()?;
    Some(crate::clients::ClientGrant {
        client_key: claims.sub.strip_prefix("client:")?.parse().ok()?,
        organization_id: claims.org,
        scopes: crate::clients::service::parse_scopes(&claims.scope)?,
    })
}

async fn graphql_post(
    State(http): State<Http>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/json") || v.starts_with("application/graphql+json")
        });
    if !is_json {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "BAD_REQUEST",
            "send the request as application/json",
        );
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the body is not a GraphQL request: {e}"),
            );
        }
    };
    execute(http, connect, headers, batch).await
}

async fn graphql_get(
    State(http): State<Http>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or(""))
    {
        Ok(r) => r,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                &format!("the query string is not a GraphQL request: {e}"),
            );
        }
    };
    // A persisted query's text is needed to know whether it is a mutation.
    if let Err(e) = http.state.persisted.resolve(&mut request) {
        let response = async_graphql::Response::from_errors(vec![e]);
        return respond(&headers, BatchResponse::Single(response));
    }
    if is_mutation(&request.query, request.operation_name.as_deref()) {
        let mut resp = request_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "BAD_REQUEST",
            "mutations must be sent with POST",
        );
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return resp;
    }
    execute(http, connect, headers, BatchRequest::Single(request)).await
}

/// Whether the operation a GET would run is a mutation (GET must not change anything).
fn is_mutation(query: &str, operation_name: Option<&str>) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return false; // execution reports the syntax error
    };
    let ty = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        // A single named operation runs without `operationName`.
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    };
    ty == Some(OperationType::Mutation)
}

async fn execute(
    http: Http,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    batch: BatchRequest,
) -> Response {
    let max_batch = http.state.config.max_batch_size;
    if let BatchRequest::Batch(items) = &batch
        && (items.is_empty() || items.len() > max_batch)
    {
        return request_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            &format!("a batch holds 1 to {max_batch} operations"),
        );
    }
    let addr = client_addr(&http.state, &headers, connect);
    let viewer = Arc::new(viewer(&http.state, &headers, addr));
    // Every operation of a batch spends the budgets, so batching buys no extra attempts.
    if let Err(AppError::RateLimited {
        retry_after_secs,
        limit,
    }) = http
        .state
        .request_limiter
        .check(viewer.account_id(), addr, batch_len(&batch))
    {
        tracing::warn!(outcome = "rate_limited", "request throttled");
        http.state.metrics.rate_limited(limit);
        let body = serde_json::json!({
            "errors": [{
                "message": format!("too many requests, retry in {retry_after_secs} s"),
                "extensions": { "code": "RATE_LIMITED", "retryAfter": retry_after_secs }
            }]
        });
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [
                (header::CONTENT_TYPE, "application/json".to_owned()),
                (header::RETRY_AFTER, retry_after_secs.to_string()),
            ],
            body.to_string(),
        )
            .into_response();
    }
    let timeout = Duration::from_secs(http.state.config.request_timeout_secs);
    // `operation` is recorded by the schema once the document names it.
    let span = tracing::info_span!(
        "graphql",
        operation = tracing::field::Empty,
        batch = batch_len(&batch)
    );
    async move {
        let started = Instant::now();
        // A client's request is confined to its organization's subtree (see `authz`).
        let confined = viewer.grant().map(|g| g.organization_id);
        let exec = http.schema.execute_batch(batch.data(viewer));
        let exec = async move {
            match confined {
                Some(org) => crate::clients::CLIENT_ORGANIZATION.scope(org, exec).await,
                None => exec.await,
            }
        };
        let run = crate::live::collecting(db::count_statements(exec));
        // Dropping a request that ran too long rolls back whatever transaction it held.
        let Ok(((mut response, statements), changes)) = tokio::time::timeout(timeout, run).await
        else {
            tracing::warn!(outcome = "timeout", "graphql request timed out");
            http.state
                .metrics
                .operation(None, "TIMEOUT", started.elapsed().as_secs_f64());
            return request_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "TIMEOUT",
                "the request took too long and was stopped; try again",
            );
        };
        let mut codes: Vec<String> = Vec::new();
        for errors in response_errors(&mut response) {
            finalize_errors(errors);
            codes.extend(errors.iter().filter_map(error_code));
            // Documents refused before running (parse, validation, limits, scopes, unknown
            // persisted queries: errors without a path) never reach the schema's count of
            // operations: counted here.
            if let Some(e) = errors.first()
                && e.path.is_empty()
            {
                http.state.metrics.operation(
                    Some("refused_document"),
                    error_code(e).as_deref().unwrap_or("BAD_USER_INPUT"),
                    started.elapsed().as_secs_f64(),
                );
            }
        }
        // Its transactions are over: tell live subscribers what changed.
        http.state.live.publish_all(&http.state.db, changes);
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if codes.is_empty() {
            tracing::info!(elapsed_ms, statements, outcome = "ok", "graphql request");
        } else {
            tracing::info!(elapsed_ms, statements, outcome = "error", codes = ?codes, "graphql request");
        }
        respond(&headers, response)
    }
    .instrument(span)
    .await
}

fn batch_len(batch: &BatchRequest) -> usize {
    match batch {
        BatchRequest::Single(_) => 1,
        BatchRequest::Batch(items) => items.len(),
    }
}

fn response_errors(response: &mut BatchResponse) -> Vec<&mut Vec<ServerError>> {
    match response {
        BatchResponse::Single(r) => vec![&mut r.errors],
        BatchResponse::Batch(rs) => rs.iter_mut().map(|r| &mut r.errors).collect(),
    }
}

fn error_code(err: &ServerError) -> Option<String> {
    extension_str(err, "code")
}

fn extension_str(err: &ServerError, key: &str) -> Option<String> {
    match err.extensions.as_ref()?.get(key)? {
        async_graphql::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Serialize the response in the media type the client accepts. Under
/// `application/graphql-response+json`, a document that failed to parse or validate is a 400
/// (GraphQL over HTTP); under `application/json` every GraphQL response is a 200.
fn respond(headers: &HeaderMap, response: BatchResponse) -> Response {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let wants_graphql_json = accept.contains(GRAPHQL_RESPONSE_JSON);
    let mut status = StatusCode::OK;
    if wants_graphql_json
        && let BatchResponse::Single(r) = &response
        && r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| {
            matches!(
                extension_str(e, "reason").as_deref(),
                Some(PARSE_FAILED | VALIDATION_FAILED | crate::limits::TOO_MANY_ALIASES)
            )
        })
    {
        status = StatusCode::BAD_REQUEST;
    }
    let content_type = if wants_graphql_json {
        GRAPHQL_RESPONSE_JSON
    } else {
        "application/json"
    };
    match serde_json::to_vec(&response) {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "serializing a response");
            request_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL",
                "internal error",
            )
        }
    }
}

/// Serve `router` on `listener` until `shutdown` resolves; then stop accepting, and give
/// in-flight requests up to `grace` to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = signalled_tx.send(());
    });
    tokio::select! {
        result = server.into_future() => result,
        () = async {
            if signalled_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        } => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period; exiting");
            Ok(())
        }
    }
}

/// `GET /graphql/ws`: subscriptions over WebSocket, in the `graphql-transport-ws` protocol or
/// the legacy `graphql-ws` one (chosen by `Sec-WebSocket-Protocol`).
async fn graphql_ws(
    State(http): State<Http>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(',')
                .find_map(|p| p.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        return request_error(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "ask for the graphql-transport-ws (or graphql-ws) subprotocol",
        );
    };
    let addr = client_addr(&http.state, &headers, connect);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| serve_ws(http, socket, protocol, addr))
}

/// Why a `connection_init` was refused.
const BAD_INIT_TOKEN: &str = "invalid or expired access token";

/// The access token a `connection_init` payload carries, under the names clients use.
fn init_token(payload: &serde_json::Value) -> Option<&str> {
    [
        "Authorization",
        "authorization",
        "authToken",
        "accessToken",
        "token",
    ]
    .iter()
    .find_map(|k| payload.get(*k).and_then(|v| v.as_str()))
    .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).trim())
}

/// One WebSocket connection: authenticated by `connection_init`, ended cleanly on shutdown —
/// every running subscription sends `complete`, then the socket closes with 1001.
async fn serve_ws(
    http: Http,
    socket: WebSocket,
    protocol: WebSocketProtocols,
    addr: Option<IpAddr>,
) {
    let state = http.state.clone();
    let _open = state.live.connection();
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|m| std::future::ready(m.is_ok()))
        .filter_map(|m| {
            std::future::ready(match m {
                Ok(m @ (WsMessage::Text(_) | WsMessage::Binary(_))) => Some(m.into_data()),
                _ => None,
            })
        });
    let init_state = state.clone();
    // Whose connection this is, once `connection_init` said: it closes if they delete their
    // account (on whichever replica).
    let account = Arc::new(std::sync::OnceLock::<i64>::new());
    let init_account = account.clone();
    let mut closed_accounts = state.live.closed_accounts();
    let on_init = move |payload: serde_json::Value| async move {
        let viewer = match init_token(&payload) {
            None => Viewer::anonymous(addr),
            Some(token) => match init_state.jwt.verify(token) {
                Ok(account_id) => {
                    let _ = init_account.set(account_id);
                    Viewer::account(account_id, addr)
                }
                Err(_) => return Err(BAD_INIT_TOKEN.into()),
            },
        };
        let mut data = async_graphql::Data::default();
        data.insert(Arc::new(viewer));
        data.insert(crate::schema::OverWebSocket);
        Ok(data)
    };
    let mut out = async_graphql::http::WebSocket::new(http.schema.clone(), input, protocol)
        .on_connection_init(on_init)
        .map(|msg| match msg {
            async_graphql::http::WsMessage::Text(text) => WsMessage::Text(text.into()),
            async_graphql::http::WsMessage::Close(code, reason) => {
                // A refused token is 4403 Forbidden in graphql-transport-ws, not a protocol
                // error.
                let code = if reason == BAD_INIT_TOKEN { 4403 } else { code };
                WsMessage::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                }))
            }
        });
    let mut shutdown = std::pin::pin!(state.live.shutting_down());
    // After shutdown begins, a moment for the subscriptions' `complete` messages to go out.
    let mut drain_until: Option<tokio::time::Instant> = None;
    let mut hub_gone = false;
    let mut recheck = tokio::time::interval_at(
        tokio::time::Instant::now() + Duration::from_secs(300),
        Duration::from_secs(300),
    );
    loop {
        let mut deleted = false;
        let deadline = drain_until
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400));
        tokio::select! {
            msg = out.next() => match msg {
                Some(m) => {
                    if sink.send(m).await.is_err() {
                        return;
                    }
                }
                None => break,
            },
            () = &mut shutdown, if drain_until.is_none() => {
                drain_until = Some(tokio::time::Instant::now() + Duration::from_millis(300));
            }
            closed = closed_accounts.recv(), if account.get().is_some() && !hub_gone => {
                let gone = match closed {
                    Ok(id) => Some(&id) == account.get(),
                    // Missed some (hundreds of deletions at once): ask the database.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        account_deleted(&state, *account.get().unwrap_or(&0)).await
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                        hub_gone = true;
                        false
                    }
                };
                deleted = gone;
            }
            // A backstop for an announcement that never came (a request timed out after its
            // commit, an announcement failed): look now and then.
            _ = recheck.tick(), if account.get().is_some() => {
                deleted = account_deleted(&state, *account.get().unwrap_or(&0)).await;
            }
            () = tokio::time::sleep_until(deadline), if drain_until.is_some() => break,
        }
        if deleted {
            let _ = sink
                .send(WsMessage::Close(Some(CloseFrame {
                    code: 4403,
                    reason: "account deleted".into(),
                })))
                .await;
            return;
        }
    }
    let _ = sink
        .send(WsMessage::Close(Some(CloseFrame {
            code: 1001,
            reason: "server shutting down".into(),
        })))
        .await;
}

/// Whether `account_id` has been deleted (pseudonymized); a database error answers no.
async fn account_deleted(state: &AppState, account_id: i64) -> bool {
    matches!(
        <entity::account::Entity as sea_orm::EntityTrait>::find_by_id(account_id).one(&state.db).await,
        Ok(Some(a)) if a.password_hash == crate::privacy::DELETED_HASH
    )
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_are_recognized_for_get() {
        assert!(is_mutation(
            "mutation { logout(refreshToken: \"x\") }",
            None
        ));
        assert!(!is_mutation("{ me { id } }", None));
        assert!(is_mutation(
            "query A { me { id } } mutation B { x }",
            Some("B")
        ));
        assert!(!is_mutation(
            "query A { me { id } } mutation B { x }",
            Some("A")
        ));
    }
}
