//! GraphQL over HTTP: `POST /graphql` (one operation or a batch) and `GET /graphql` (queries
//! only), with the request budgets, the timeout, error codes, the live publishing of what the
//! operation changed, and the response's media type.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use async_graphql::{
    BatchRequest, BatchResponse, ServerError,
    parser::types::{DocumentOperations, OperationType},
};
use axum::{
    Extension,
    body::Bytes,
    extract::{ConnectInfo, RawQuery, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use tracing::Instrument;

use super::{Http, caller};
use crate::{
    db,
    error::{AppError, finalize_errors},
    i18n::Lang,
    schema::{PARSE_FAILED, VALIDATION_FAILED},
};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// `POST /graphql`.
pub(super) async fn post(
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
        let mut resp = AppError::BadRequest(msg!(
            "send the request as application/json",
            "请以 application/json 格式发送请求"
        ))
        .into_response();
        *resp.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
        return resp;
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return AppError::BadRequest(msg!(
                "the body is not a GraphQL request: {e}",
                "请求体不是 GraphQL 请求：{e}"
            ))
            .into_response();
        }
    };
    execute(http, connect, headers, batch).await
}

/// `GET /graphql`: queries only.
pub(super) async fn get(
    State(http): State<Http>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let mut request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or(""))
    {
        Ok(r) => r,
        Err(e) => {
            return AppError::BadRequest(msg!(
                "the query string is not a GraphQL request: {e}",
                "查询参数不是 GraphQL 请求：{e}"
            ))
            .into_response();
        }
    };
    // A persisted query's text is needed to know whether it is a mutation.
    if let Err(e) = http.state.persisted.resolve(&mut request) {
        let mut response = async_graphql::Response::from_errors(vec![e]);
        finalize_errors(&mut response.errors, Lang::from_headers(&headers));
        return respond(&headers, BatchResponse::Single(response));
    }
    if is_mutation(&request.query, request.operation_name.as_deref()) {
        let mut resp = AppError::BadRequest(msg!(
            "mutations must be sent with POST",
            "变更操作（mutation）须用 POST 发送"
        ))
        .into_response();
        *resp.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
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
        return AppError::BadRequest(msg!(
            "a batch holds 1 to {max_batch} operations",
            "批量请求须包含 1 至 {max_batch} 个操作"
        ))
        .into_response();
    }
    let addr = caller::client_addr(&http.state, &headers, connect);
    let viewer = Arc::new(caller::viewer(&http.state, &headers, addr));
    // Messages are written in the language the client asks for; codes are the same in all.
    let lang = Lang::from_headers(&headers);
    // Every operation of a batch spends the budgets, so batching buys no extra attempts.
    if let Err(limited) =
        http.state
            .request_limiter
            .check(viewer.account_id(), addr, batch_len(&batch))
    {
        tracing::warn!(outcome = "rate_limited", "request throttled");
        if let AppError::RateLimited { limit, .. } = &limited {
            http.state.metrics.rate_limited(limit);
        }
        return limited.into_response();
    }
    // A client's token outlives nothing: a client revoked since it was issued (or whose
    // registrar left) is refused before anything runs, public reads included.
    // Boxed: a statement's future is large, and this handler's is on every request's stack.
    if viewer.grant().is_some()
        && let Err(e) = Box::pin(viewer.require(&http.state.db)).await
    {
        return e.into_response();
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
        let exec = http.schema.execute_batch(batch.data(viewer).data(lang));
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
                .operation(None, AppError::Timeout.code(), started.elapsed().as_secs_f64());
            return AppError::Timeout.into_response();
        };
        let mut codes: Vec<String> = Vec::new();
        for errors in response_errors(&mut response) {
            finalize_errors(errors, lang);
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
    // A request error (the document did not parse or validate, or was refused before it ran)
    // has no `data` entry at all (GraphQL spec, "Response"; GraphQL over HTTP); only errors
    // raised while executing sit beside `data: null`.
    let body = match &response {
        BatchResponse::Single(r) if refused_before_execution(r) => {
            without_data(r).and_then(|v| serde_json::to_vec(&v))
        }
        BatchResponse::Batch(items) if items.iter().any(refused_before_execution) => items
            .iter()
            .map(|r| {
                if refused_before_execution(r) {
                    without_data(r)
                } else {
                    serde_json::to_value(r)
                }
            })
            .collect::<Result<Vec<_>, _>>()
            .and_then(|v| serde_json::to_vec(&v)),
        // The common case, serialized once.
        _ => serde_json::to_vec(&response),
    };
    match body {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response(),
        Err(e) => AppError::Internal(anyhow::Error::new(e).context("serializing a response"))
            .into_response(),
    }
}

/// Whether `r` is a request error: no data, and errors that name no field (every error raised
/// while executing has a path).
fn refused_before_execution(r: &async_graphql::Response) -> bool {
    r.data == async_graphql::Value::Null
        && !r.errors.is_empty()
        && r.errors.iter().all(|e| e.path.is_empty())
}

fn without_data(r: &async_graphql::Response) -> serde_json::Result<serde_json::Value> {
    let mut v = serde_json::to_value(r)?;
    if let Some(o) = v.as_object_mut() {
        o.remove("data");
    }
    Ok(v)
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
