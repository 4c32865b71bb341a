//! Subscriptions over WebSocket (`GET /graphql/ws`): authenticated by `connection_init`, and
//! following the account: the connection closes with 4401 when its access token expires
//! (unless a `ping` brought a fresh one), when its session ends (logout, revoked session,
//! password change, refresh-token reuse) or the account's roles change, and with 4403 when the
//! account is deleted — on whichever replica that happened. Ended cleanly on shutdown.

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
use crate::{
    AppState,
    auth::Viewer,
    error::AppError,
    i18n::{Lang, Msg},
    live::{Closing, Holder, Seat},
};

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
        return AppError::BadRequest(msg!(
            "ask for the graphql-transport-ws (or graphql-ws) subprotocol",
            "请使用 graphql-transport-ws（或 graphql-ws）子协议"
        ))
        .into_response();
    };
    let addr = caller::client_addr(&http.state, &headers, connect);
    let config = &http.state.config;
    let seat = match addr {
        Some(ip) => match http
            .state
            .live
            .seats
            .take(Holder::Address(ip), config.ws_connections_per_address)
        {
            Some(seat) => Some(seat),
            None => {
                http.state.metrics.rate_limited("websocket");
                return AppError::RateLimited {
                    retry_after_secs: 60,
                    limit: "websocket",
                }
                .into_response();
            }
        },
        None => None,
    };
    // Messages and close reasons in the upgrade request's language (or the `language` of
    // `connection_init`, for clients that cannot set headers on a WebSocket).
    let lang = Lang::from_headers(&headers);
    // A message is no larger than a request body may be.
    let max = config.max_body_bytes;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| serve_ws(http, socket, protocol, addr, seat, lang))
}

/// What the input side asks the connection loop to do.
enum Control {
    /// Send this text message to the client.
    Reply(String),
    /// Close with this code and reason.
    Close(u16, Msg),
}

/// What the input side tracks of one connection: its running subscriptions and message rate.
struct Inbound {
    protocol: WebSocketProtocols,
    max_subscriptions: usize,
    active: std::collections::HashSet<String>,
    rate: governor::DefaultDirectRateLimiter,
    control: tokio::sync::mpsc::UnboundedSender<Control>,
    /// The connection's language.
    lang: Arc<std::sync::Mutex<Lang>>,
}

impl Inbound {
    /// Whether to pass `bytes` on to the GraphQL protocol handler; refusals are sent through
    /// the control channel.
    fn admit(&mut self, bytes: &[u8]) -> bool {
        if self.rate.check().is_err() {
            let _ = self.control.send(Control::Close(
                4429,
                msg!(
                    "too many messages: slow down",
                    "消息发送过于频繁，请放慢速度"
                ),
            ));
            return false;
        }
        #[derive(serde::Deserialize)]
        struct Msg {
            #[serde(rename = "type")]
            kind: String,
            #[serde(default)]
            id: Option<String>,
        }
        let Ok(msg) = serde_json::from_slice::<Msg>(bytes) else {
            return true;
        };
        match (msg.kind.as_str(), msg.id) {
            ("subscribe" | "start", Some(id)) => {
                if !self.active.contains(&id) && self.active.len() >= self.max_subscriptions {
                    let message = msg!(
                        "too many subscriptions on this connection; complete one first",
                        "该连接上的订阅过多，请先结束一个"
                    );
                    let error = serde_json::json!({
                        "message": message.get(*lock(&self.lang)),
                        "extensions": { "code": "RATE_LIMITED" },
                    });
                    let payload = match self.protocol {
                        WebSocketProtocols::GraphQLWS => serde_json::json!([error]),
                        _ => error,
                    };
                    let reply =
                        serde_json::json!({ "id": id, "type": "error", "payload": payload });
                    let _ = self.control.send(Control::Reply(reply.to_string()));
                    return false;
                }
                self.active.insert(id);
            }
            ("complete" | "stop", Some(id)) => {
                self.active.remove(&id);
            }
            _ => {}
        }
        true
    }
}

/// Why a `connection_init` was refused: the token does not verify.
fn bad_init_token() -> Msg {
    crate::auth::jwt::bad_token()
}

/// Why a `connection_init` was refused: the account holds its share of connections.
fn too_many_connections() -> Msg {
    msg!(
        "too many live connections for this account",
        "该账号的实时连接过多"
    )
}

/// The close code of a `connection_init` refused with `reason` (in either language): a refused
/// token is 4403 Forbidden in graphql-transport-ws, not a protocol error.
fn init_close_code(code: u16, reason: &str) -> u16 {
    let is = |m: Msg| reason == m.en() || reason == m.zh();
    if is(bad_init_token()) {
        4403
    } else if is(too_many_connections()) {
        4429
    } else {
        code
    }
}

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
    _address_seat: Option<Seat>,
    lang: Lang,
) {
    let lang = Arc::new(std::sync::Mutex::new(lang));
    let state = http.state.clone();
    let _open = state.live.connection();
    let (mut sink, stream) = socket.split();
    let config = state.config.clone();
    let (control_tx, mut control) = tokio::sync::mpsc::unbounded_channel::<Control>();
    let inbound = Arc::new(std::sync::Mutex::new(Inbound {
        protocol,
        max_subscriptions: config.ws_subscriptions_per_connection as usize,
        active: Default::default(),
        rate: governor::RateLimiter::direct(
            governor::Quota::per_second(
                std::num::NonZeroU32::new(config.ws_messages_per_second)
                    .unwrap_or(std::num::NonZeroU32::MIN),
            )
            .allow_burst(
                std::num::NonZeroU32::new(config.ws_messages_per_second.saturating_mul(2))
                    .unwrap_or(std::num::NonZeroU32::MIN),
            ),
        ),
        control: control_tx.clone(),
        lang: lang.clone(),
    }));
    let admit = inbound.clone();
    // Set once `connection_init` was answered; without it in time, the connection closes.
    let inited = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let init_deadline =
        tokio::time::Instant::now() + Duration::from_secs(u64::from(config.ws_init_timeout_secs));
    // The account's seat, once it is known.
    let account_seat = Arc::new(std::sync::Mutex::new(None::<Seat>));
    // Whose connection this is, once `connection_init` said, and until when its token holds.
    let auth = Arc::new(std::sync::Mutex::new(None::<Auth>));
    let ping_state = state.clone();
    let ping_auth = auth.clone();
    // How the client's side ended, if it broke off with an error (a message too large).
    let broke = Arc::new(std::sync::Mutex::new(None::<(u16, Msg)>));
    let broke_in = broke.clone();
    let input = stream
        .take_while(move |m| {
            if let Err(e) = m {
                *lock(&broke_in) = Some(if e.to_string().contains("too long") {
                    (1009, msg!("message too big", "消息过大"))
                } else {
                    (1002, msg!("protocol error", "协议错误"))
                });
            }
            std::future::ready(m.is_ok())
        })
        .filter_map(move |m| {
            let data = match m {
                Ok(m @ (WsMessage::Text(_) | WsMessage::Binary(_))) => Some(m.into_data()),
                _ => None,
            }
            .filter(|bytes| lock(&admit).admit(bytes));
            let (state, auth) = (ping_state.clone(), ping_auth.clone());
            Box::pin(async move {
                if let Some(bytes) = &data {
                    renew_from_ping(&state, &auth, bytes).await;
                }
                data
            })
        });
    let init_state = state.clone();
    let init_auth = auth.clone();
    let init_done = inited.clone();
    let init_seat = account_seat.clone();
    let init_lang = lang.clone();
    let mut closed_accounts = state.live.closed_accounts();
    let on_init = move |payload: serde_json::Value| async move {
        // `{"language": "en"}` (an `Accept-Language` value) for clients that cannot set
        // headers on a WebSocket (browsers); otherwise the upgrade request's.
        if let Some(asked) = payload.get("language").and_then(|v| v.as_str()) {
            *lock(&init_lang) = Lang::from_accept_language(asked);
        }
        let viewer = match init_token(&payload) {
            None => Viewer::anonymous(addr),
            Some(token) => match signed_in(&init_state, token).await {
                Some(a) => {
                    let Some(seat) = init_state.live.seats.take(
                        Holder::Account(a.account_id),
                        init_state.config.ws_connections_per_account,
                    ) else {
                        init_state.metrics.rate_limited("websocket");
                        let lang = *lock(&init_lang);
                        return Err(too_many_connections().into_text(lang).into_owned().into());
                    };
                    *lock(&init_seat) = Some(seat);
                    let viewer = Viewer::signed_in(
                        crate::auth::jwt::Verified {
                            account_id: a.account_id,
                            session: a.session.clone(),
                            expires_at: a.expires_at,
                        },
                        addr,
                    );
                    *lock(&init_auth) = Some(a);
                    viewer
                }
                None => {
                    let lang = *lock(&init_lang);
                    return Err(bad_init_token().into_text(lang).into_owned().into());
                }
            },
        };
        init_done.store(true, std::sync::atomic::Ordering::SeqCst);
        let mut data = async_graphql::Data::default();
        data.insert(Arc::new(viewer));
        data.insert(crate::schema::OverWebSocket);
        data.insert(*lock(&init_lang));
        Ok(data)
    };
    let mut out = async_graphql::http::WebSocket::new(http.schema.clone(), input, protocol)
        .on_connection_init(on_init)
        .map(|msg| match msg {
            async_graphql::http::WsMessage::Text(text) => WsMessage::Text(text.into()),
            async_graphql::http::WsMessage::Close(code, reason) => {
                WsMessage::Close(Some(CloseFrame {
                    code: init_close_code(code, &reason),
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
        let signed = lock(&auth).clone();
        let mut close: Option<(u16, Msg)> = None;
        let deadline = drain_until
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400));
        // When the token runs out (a `ping` carrying a fresh one moves it).
        let expiry = signed.as_ref().map_or(deadline, |a| until(a.expires_at));
        tokio::select! {
            msg = out.next() => match msg {
                Some(m) => {
                    // A subscription the server completed no longer counts.
                    if let WsMessage::Text(text) = &m
                        && text.contains("\"complete\"")
                        && let Ok(v) = serde_json::from_str::<serde_json::Value>(text)
                        && v["type"] == "complete"
                        && let Some(id) = v["id"].as_str()
                    {
                        lock(&inbound).active.remove(id);
                    }
                    if sink.send(m).await.is_err() {
                        return;
                    }
                }
                None => break,
            },
            Some(c) = control.recv() => match c {
                Control::Reply(text) => {
                    if sink.send(WsMessage::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Control::Close(code, reason) => close = Some((code, reason)),
            },
            () = tokio::time::sleep_until(init_deadline),
                if !inited.load(std::sync::atomic::Ordering::SeqCst) && drain_until.is_none() =>
            {
                close = Some((
                    4408,
                    msg!("connection initialisation timeout", "连接初始化超时"),
                ));
            }
            () = &mut shutdown, if drain_until.is_none() => {
                drain_until = Some(tokio::time::Instant::now() + Duration::from_millis(300));
            }
            () = tokio::time::sleep_until(expiry), if signed.is_some() && drain_until.is_none() => {
                let was = signed.as_ref().map_or(0, |a| a.expires_at);
                let renewed = lock(&auth).as_ref().is_some_and(|a| a.expires_at > was);
                if !renewed {
                    close = Some((
                        4401,
                        msg!(
                            "access token expired: reconnect with a fresh one",
                            "登录凭证已过期，请用新凭证重新连接"
                        ),
                    ));
                }
            }
            closed = closed_accounts.recv(), if signed.is_some() && !hub_gone => {
                let me = signed.as_ref().map(|a| a.account_id);
                match closed {
                    Ok((id, why)) if Some(id) == me => {
                        close = Some(match why {
                            Closing::Deleted => (4403, account_deleted_reason()),
                            Closing::AccessChanged => (4401, access_changed()),
                        });
                    }
                    Ok(_) => {}
                    // Missed some (hundreds at once): ask the database.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        close = still_valid(&state, signed.as_ref()).await;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => hub_gone = true,
                }
            }
            // A backstop for an announcement that never came (a request timed out after its
            // commit, an announcement failed): look now and then.
            _ = recheck.tick(), if signed.is_some() => {
                close = still_valid(&state, signed.as_ref()).await;
            }
            () = tokio::time::sleep_until(deadline), if drain_until.is_some() => break,
        }
        if let Some((code, reason)) = close {
            let reason = reason.get(*lock(&lang)).to_owned();
            let _ = sink
                .send(WsMessage::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })))
                .await;
            return;
        }
    }
    let (code, reason) = match lock(&broke).take() {
        Some(why) if drain_until.is_none() => why,
        _ => (1001, msg!("server shutting down", "服务器正在关闭")),
    };
    let reason = reason.get(*lock(&lang)).to_owned();
    let _ = sink
        .send(WsMessage::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

/// Why a connection closes when its account's sessions or roles changed.
fn access_changed() -> Msg {
    msg!(
        "signed out, or access changed: reconnect with a current token",
        "已退出登录或权限已变更，请用当前凭证重新连接"
    )
}

/// Why a connection closes when its account was deleted.
fn account_deleted_reason() -> Msg {
    msg!("account deleted", "账号已注销")
}

/// Who a connection speaks for, and until when.
#[derive(Clone, Debug)]
struct Auth {
    account_id: i64,
    session: Option<String>,
    expires_at: u64,
}

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The instant a token that expires at `exp` (epoch seconds) runs out.
fn until(exp: u64) -> tokio::time::Instant {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    tokio::time::Instant::now() + Duration::from_secs(exp.saturating_sub(now))
}

/// The account a token speaks for, if it verifies, its session is still open and the account
/// is not deleted.
async fn signed_in(state: &AppState, token: &str) -> Option<Auth> {
    let v = state.jwt.verify_session(token).ok()?;
    let a = Auth {
        account_id: v.account_id,
        session: v.session,
        expires_at: v.expires_at,
    };
    still_valid(state, Some(&a)).await.is_none().then_some(a)
}

/// Why the connection of `auth` must close now, if it must: the account was deleted, or its
/// session ended. A database error keeps it open (the next check decides).
async fn still_valid(state: &AppState, auth: Option<&Auth>) -> Option<(u16, Msg)> {
    let auth = auth?;
    if account_deleted(state, auth.account_id).await {
        return Some((4403, account_deleted_reason()));
    }
    if let Some(sid) = &auth.session
        && matches!(
            crate::accounts::service::session_open(&state.db, auth.account_id, sid).await,
            Ok(false)
        )
    {
        return Some((4401, access_changed()));
    }
    None
}

/// A `ping` (graphql-transport-ws) whose payload carries a fresh access token of the same
/// account (`{"accessToken": "…"}`, or any name `connection_init` takes) keeps the connection
/// past the old token's expiry. Anything else is left alone.
async fn renew_from_ping(state: &AppState, auth: &std::sync::Mutex<Option<Auth>>, bytes: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Ping {
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        payload: serde_json::Value,
    }
    let Some(account) = lock(auth).as_ref().map(|a| a.account_id) else {
        return;
    };
    let Ok(ping) = serde_json::from_slice::<Ping>(bytes) else {
        return;
    };
    if ping.kind != "ping" {
        return;
    }
    let Some(token) = init_token(&ping.payload) else {
        return;
    };
    if let Some(fresh) = signed_in(state, token).await
        && fresh.account_id == account
    {
        *lock(auth) = Some(fresh);
    }
}

/// Whether `account_id` has been deleted (pseudonymized); a database error answers no.
async fn account_deleted(state: &AppState, account_id: i64) -> bool {
    matches!(
        <entity::account::Entity as sea_orm::EntityTrait>::find_by_id(account_id).one(&state.db).await,
        Ok(Some(a)) if a.password_hash == crate::privacy::DELETED_HASH
    )
}
