//! Subscriptions over WebSocket (`GET /graphql/ws`): authenticated by `connection_init`,
//! closed when the account is deleted, ended cleanly on shutdown.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use async_graphql::{
    futures_util::{SinkExt, StreamExt},
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols},
};
use axum::{
    Extension,
    extract::{
        ConnectInfo, State, WebSocketUpgrade,
        ws::{CloseFrame, Message as WsMessage, WebSocket},
    },
    http::{HeaderMap, header},
    response::{IntoResponse, Response},
};

use super::{Http, caller};
use crate::{AppState, auth::Viewer, error::AppError};

/// `GET /graphql/ws`: subscriptions over WebSocket, in the `graphql-transport-ws` protocol or
/// the legacy `graphql-ws` one (chosen by `Sec-WebSocket-Protocol`).
pub(super) async fn upgrade(
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
        return AppError::BadRequest(
            "ask for the graphql-transport-ws (or graphql-ws) subprotocol".into(),
        )
        .into_response();
    };
    let addr = caller::client_addr(&http.state, &headers, connect);
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
