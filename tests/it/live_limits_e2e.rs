//! WebSocket limits: connections per address and per account, subscriptions per connection,
//! the `connection_init` deadline, message size and message rate. Each refuses the one
//! connection or subscription past it and leaves everyone else's alone.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::{
    harness::TestApp,
    live_e2e::{SHIFT_UPDATED, TRANSPORT_WS, Ws, one_place_shift},
};

type Raw =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Open a socket without `connection_init`: the socket, or the HTTP status that refused it.
async fn open(app: &TestApp) -> Result<Raw, u16> {
    let mut req = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("sec-websocket-protocol", TRANSPORT_WS.parse().unwrap());
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// The close code the server ends `socket` with (other messages skipped), within 10 s.
async fn close_code(socket: &mut Raw) -> Option<u16> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s");
        match msg {
            Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            // A reset after the close frame, or instead of it.
            Some(Err(_)) | None => return None,
        }
    }
}

#[tokio::test]
async fn connections_per_address_and_per_account_are_capped() {
    let app = TestApp::spawn_with(|c| {
        c.ws_connections_per_address = 3;
        c.ws_connections_per_account = 2;
    })
    .await;
    let me = app.register("13800000001", "小李").await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let (ws, ack) = Ws::connect(&app, TRANSPORT_WS, Some(&me.access)).await;
        assert_eq!(ack["type"], "connection_ack");
        held.push(ws);
    }
    // A third for the same account: refused at init with 4429.
    let (_third, refused) = Ws::connect(&app, TRANSPORT_WS, Some(&me.access)).await;
    assert_eq!(refused["type"], "close", "{refused}");
    assert_eq!(refused["code"], 4429);
    // The address has 3 seats; the refused one's is free again once it closed.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (anonymous, ack) = Ws::connect(&app, TRANSPORT_WS, None).await;
    assert_eq!(ack["type"], "connection_ack");
    assert_eq!(open(&app).await.err(), Some(429));
    // Closing one frees its seat.
    drop(anonymous);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(open(&app).await.is_ok());
}

#[tokio::test]
async fn a_connection_runs_a_bounded_number_of_subscriptions() {
    let app = TestApp::spawn_with(|c| c.ws_subscriptions_per_connection = 3).await;
    let (_w, _event, shift) = one_place_shift(&app).await;
    let me = app.register("13800000001", "小李").await;
    let (mut ws, _) = Ws::connect(&app, TRANSPORT_WS, Some(&me.access)).await;
    for id in ["1", "2", "3", "4"] {
        ws.subscribe(id, SHIFT_UPDATED, json!({ "s": shift })).await;
    }
    let refused = ws.next().await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "4");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    // Completing one makes room.
    ws.send(json!({ "id": "1", "type": "complete" })).await;
    ws.subscribe("5", SHIFT_UPDATED, json!({ "s": shift }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let vol = app.register("13800000002", "小王").await;
    app.sign_up(&vol.access, &shift, "k1").await;
    let mut ids = std::collections::HashSet::new();
    while ids.len() < 3 {
        let v: Value = ws.next().await;
        if v["type"] == "complete" {
            assert_eq!(v["id"], "1");
            continue;
        }
        assert_eq!(v["type"], "next", "{v}");
        ids.insert(v["id"].as_str().unwrap().to_owned());
    }
    let want: std::collections::HashSet<String> =
        ["2", "3", "5"].iter().map(|s| s.to_string()).collect();
    assert_eq!(ids, want);
}

#[tokio::test]
async fn silence_floods_and_huge_messages_close_only_their_own_connection() {
    let app = TestApp::spawn_with(|c| {
        c.ws_init_timeout_secs = 1;
        c.ws_messages_per_second = 5;
        c.max_body_bytes = 4096;
    })
    .await;
    let (_w, _event, shift) = one_place_shift(&app).await;
    let me = app.register("13800000001", "小李").await;
    let (mut bystander, _) = Ws::connect(&app, TRANSPORT_WS, Some(&me.access)).await;
    bystander
        .subscribe("1", SHIFT_UPDATED, json!({ "s": shift }))
        .await;

    // No connection_init in time: 4408.
    let mut silent = open(&app).await.unwrap();
    assert_eq!(close_code(&mut silent).await, Some(4408));

    // A flood of messages: 4429.
    let mut flood = open(&app).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": {} }).to_string();
    flood.send(Message::Text(init.into())).await.unwrap();
    for _ in 0..100 {
        let ping = json!({ "type": "ping" }).to_string();
        if flood.send(Message::Text(ping.into())).await.is_err() {
            break;
        }
    }
    assert_eq!(close_code(&mut flood).await, Some(4429));

    // A message larger than a request body may be: the connection ends.
    let mut huge = open(&app).await.unwrap();
    let big = json!({ "type": "connection_init", "payload": { "x": "x".repeat(10_000) } });
    let _ = huge.send(Message::Text(big.to_string().into())).await;
    let code = close_code(&mut huge).await;
    assert!(
        code.is_none() || code == Some(1009),
        "too big is refused as such: {code:?}"
    );

    // The bystander never noticed.
    let vol = app.register("13800000002", "小王").await;
    app.sign_up(&vol.access, &shift, "k1").await;
    bystander
        .data_until("1", |d| d["data"]["shiftUpdated"]["confirmedCount"] == 1)
        .await;
}
