//! Live updates over WebSocket (`/graphql/ws`), in both subprotocols, across two replicas on
//! PostgreSQL, and their clean end on shutdown.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, protocol::frame::coding::CloseCode},
};

use crate::harness::TestApp;

pub(crate) const TRANSPORT_WS: &str = "graphql-transport-ws";
const LEGACY_WS: &str = "graphql-ws";

/// A GraphQL WebSocket client speaking either subprotocol.
pub(crate) struct Ws {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    protocol: &'static str,
}

impl Ws {
    /// Connect and send `connection_init` with the token; returns the server's first answer
    /// (`connection_ack`, or an error / close).
    pub(crate) async fn connect(
        app: &TestApp,
        protocol: &'static str,
        token: Option<&str>,
    ) -> (Self, Value) {
        let mut req = format!("ws://{}/graphql/ws", app.addr)
            .into_client_request()
            .unwrap();
        req.headers_mut()
            .insert("sec-websocket-protocol", protocol.parse().unwrap());
        let (socket, resp) = tokio_tungstenite::connect_async(req)
            .await
            .expect("upgrade");
        assert_eq!(resp.headers()["sec-websocket-protocol"], protocol);
        let mut ws = Self { socket, protocol };
        let payload = match token {
            Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
            None => json!({}),
        };
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        let first = ws.next().await;
        (ws, first)
    }

    pub(crate) async fn send(&mut self, v: Value) {
        self.socket
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    pub(crate) async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = if self.protocol == TRANSPORT_WS {
            "subscribe"
        } else {
            "start"
        };
        self.send(json!({ "id": id, "type": kind, "payload": { "query": query, "variables": variables } }))
            .await;
    }

    /// The next protocol message (keep-alives skipped); a close frame comes back as
    /// `{"type": "close", "code": …}`.
    pub(crate) async fn next(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.socket.next())
                .await
                .expect("a message within 10 s")
                .expect("the socket is open")
                .expect("a frame");
            match msg {
                Message::Text(t) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    match v["type"].as_str() {
                        Some("ka") => continue,
                        Some("ping") => {
                            self.send(json!({ "type": "pong" })).await;
                            continue;
                        }
                        _ => return v,
                    }
                }
                Message::Close(frame) => {
                    return json!({ "type": "close", "code": frame.map(|f| u16::from(f.code)) });
                }
                _ => continue,
            }
        }
    }

    /// The payload of the next result for subscription `id`.
    async fn next_data(&mut self, id: &str) -> Value {
        let v = self.next().await;
        let kind = if self.protocol == TRANSPORT_WS {
            "next"
        } else {
            "data"
        };
        assert_eq!(v["type"], kind, "{v}");
        assert_eq!(v["id"], id);
        v["payload"].clone()
    }
}

impl Ws {
    /// Results for subscription `id` until one satisfies `done` (earlier notes may describe
    /// the state before the change awaited: notes are hints, results are current state).
    pub(crate) async fn data_until(&mut self, id: &str, done: impl Fn(&Value) -> bool) -> Value {
        loop {
            let data = self.next_data(id).await;
            if done(&data) {
                return data;
            }
        }
    }
}

/// The error code of a refused subscription (an `error` message, or a result with errors).
fn refusal(msg: &Value) -> String {
    let errors = if msg["type"] == "error" {
        &msg["payload"]
    } else {
        &msg["payload"]["errors"]
    };
    errors[0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code in {msg}"))
        .to_owned()
}

/// A published shift with room for one and a waitlist, and its organizer's token.
pub(crate) async fn one_place_shift(app: &TestApp) -> (crate::harness::World, String, String) {
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "助餐",
            31.38,
            120.98,
            0,
            true,
        )
        .await;
    let starts = chrono::Utc::now() + chrono::Duration::minutes(10);
    let shift = app
        .shift_at(&w.organizer.access, &event, starts, 1, true, &[])
        .await;
    (w, event, shift)
}

pub(crate) const SHIFT_UPDATED: &str =
    "subscription($s: ID!) { shiftUpdated(shiftId: $s) { confirmedCount remainingSlots } }";

#[tokio::test]
async fn a_sign_up_reaches_a_shift_subscriber() {
    let app = TestApp::spawn().await;
    let (_w, _event, shift) = one_place_shift(&app).await;
    let watcher = app.register("13800000001", "小李").await;
    let (mut ws, ack) = Ws::connect(&app, TRANSPORT_WS, Some(&watcher.access)).await;
    assert_eq!(ack["type"], "connection_ack");
    ws.subscribe("1", SHIFT_UPDATED, json!({ "s": shift }))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let vol = app.register("13800000002", "小王").await;
    app.sign_up(&vol.access, &shift, "k1").await;
    let data = ws
        .data_until("1", |d| d["data"]["shiftUpdated"]["confirmedCount"] == 1)
        .await;
    assert_eq!(
        data["data"]["shiftUpdated"],
        json!({ "confirmedCount": 1, "remainingSlots": 0 })
    );
}

#[tokio::test]
async fn a_promotion_reaches_the_volunteer_over_the_legacy_protocol() {
    let app = TestApp::spawn().await;
    let (_w, _event, shift) = one_place_shift(&app).await;
    let first = app.register("13800000001", "小李").await;
    let second = app.register("13800000002", "小王").await;
    let a = app.sign_up(&first.access, &shift, "a").await;
    let b = app.sign_up(&second.access, &shift, "b").await;
    assert_eq!(b["data"]["signUpForShift"]["status"], "WAITLISTED");
    let (mut ws, ack) = Ws::connect(&app, LEGACY_WS, Some(&second.access)).await;
    assert_eq!(ack["type"], "connection_ack");
    ws.subscribe(
        "mine",
        "subscription { mySignupUpdated { id status } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The first volunteer cancels: the second is promoted, and told.
    app.ok(
        Some(&first.access),
        "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
        json!({ "id": a["data"]["signUpForShift"]["id"] }),
    )
    .await;
    let data = ws
        .data_until("mine", |d| {
            d["data"]["mySignupUpdated"]["status"] == "CONFIRMED"
        })
        .await;
    assert_eq!(
        data["data"]["mySignupUpdated"]["id"],
        b["data"]["signUpForShift"]["id"]
    );
}

#[tokio::test]
async fn staff_follow_check_ins_and_others_are_refused() {
    let app = TestApp::spawn().await;
    let (w, event, shift) = one_place_shift(&app).await;
    let query = "subscription($e: ID!) { eventCheckIns(eventId: $e) { kind method volunteer { displayName } } }";
    // No token: the connection opens but the subscription is refused.
    let (mut anon, ack) = Ws::connect(&app, TRANSPORT_WS, None).await;
    assert_eq!(ack["type"], "connection_ack");
    anon.subscribe("x", query, json!({ "e": event })).await;
    assert_eq!(refusal(&anon.next().await), "UNAUTHENTICATED");
    // A forged token: the connection itself is refused (4403).
    let (mut forged, answer) = Ws::connect(&app, TRANSPORT_WS, Some("not-a-token")).await;
    assert_eq!(answer["type"], "close", "{answer}");
    assert_eq!(answer["code"], 4403);
    let _ = forged.socket.close(None).await;
    // Another organization's organizer: refused.
    let (mut other, _) = Ws::connect(&app, TRANSPORT_WS, Some(&w.other_organizer.access)).await;
    other.subscribe("x", query, json!({ "e": event })).await;
    assert_eq!(refusal(&other.next().await), "FORBIDDEN");

    // The event's organizer sees a check-in as it happens.
    let (mut staff, _) = Ws::connect(&app, TRANSPORT_WS, Some(&w.organizer.access)).await;
    staff.subscribe("c", query, json!({ "e": event })).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let vol = app.register("13800000001", "小李").await;
    app.sign_up(&vol.access, &shift, "k").await;
    app.ok(
        Some(&vol.access),
        "mutation($i: CheckInput!) { checkIn(input: $i) { duplicate } }",
        json!({ "i": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.3801, "longitude": 120.98 }, "clientEventId": "in" } }),
    )
    .await;
    let data = staff.next_data("c").await;
    assert_eq!(
        data["data"]["eventCheckIns"],
        json!({ "kind": "CHECK_IN", "method": "GEO", "volunteer": { "displayName": "小李" } })
    );
}

#[tokio::test]
async fn a_sign_up_on_one_replica_reaches_a_subscriber_on_another() {
    let a = TestApp::spawn().await;
    if a.state.db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        eprintln!("replica fan-out is PostgreSQL's (LISTEN/NOTIFY); set TEST_DATABASE_URL");
        return;
    }
    let b = a.spawn_replica().await;
    let (_w, _event, shift) = one_place_shift(&a).await;
    let watcher = a.register("13800000001", "小李").await;
    // Subscribed on B …
    let (mut ws, _) = Ws::connect(&b, TRANSPORT_WS, Some(&watcher.access)).await;
    ws.subscribe("1", SHIFT_UPDATED, json!({ "s": shift }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // … signed up through A.
    let vol = a.register("13800000002", "小王").await;
    a.sign_up(&vol.access, &shift, "k1").await;
    let data = ws
        .data_until("1", |d| d["data"]["shiftUpdated"]["confirmedCount"] == 1)
        .await;
    assert_eq!(data["data"]["shiftUpdated"]["remainingSlots"], 0);
    // Ids, not rows, went through the database.
    let rows = entity::live_event::Entity::find()
        .all(&a.state.db)
        .await
        .unwrap();
    assert!(
        rows.iter()
            .any(|r| r.kind == entity::live_event::LiveKind::Shift && r.shift_id.is_some()),
        "{rows:?}"
    );
}

#[tokio::test]
async fn a_change_committed_after_a_later_one_still_reaches_other_replicas() {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let a = TestApp::spawn().await;
    if a.state.db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
        eprintln!("replica fan-out is PostgreSQL's (LISTEN/NOTIFY); set TEST_DATABASE_URL");
        return;
    }
    let b = a.spawn_replica().await;
    let (w, event, first) = one_place_shift(&a).await;
    let starts = chrono::Utc::now() + chrono::Duration::minutes(20);
    let second = a
        .shift_at(&w.organizer.access, &event, starts, 5, true, &[])
        .await;
    let watcher = a.register("13800000001", "小李").await;
    let (mut ws, _) = Ws::connect(&b, TRANSPORT_WS, Some(&watcher.access)).await;
    ws.subscribe("1", SHIFT_UPDATED, json!({ "s": first }))
        .await;
    ws.subscribe("2", SHIFT_UPDATED, json!({ "s": second }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A change to the second shift takes its sequence number and is slow to commit …
    let second_key = api::ids::decode_any(&second).unwrap().1;
    let slow = a.state.db.begin().await.unwrap();
    slow.execute_unprepared(&format!(
        "INSERT INTO live_event (kind, shift_id, created_at) VALUES ('SHIFT', {second_key}, now())"
    ))
    .await
    .unwrap();
    // … while a later change (a sign-up for the first) commits and reaches B.
    let vol = a.register("13800000002", "小王").await;
    a.sign_up(&vol.access, &first, "k1").await;
    ws.data_until("1", |d| d["data"]["shiftUpdated"]["confirmedCount"] == 1)
        .await;
    // Now the slow one commits: B must not have moved past it.
    slow.execute_unprepared("SELECT pg_notify('tongxing_live', 'late')")
        .await
        .unwrap();
    slow.commit().await.unwrap();
    loop {
        let v = ws.next().await;
        if v["id"] == "2" {
            assert_eq!(
                v["payload"]["data"]["shiftUpdated"]["remainingSlots"], 5,
                "{v}"
            );
            break;
        }
    }
}

#[tokio::test]
async fn deleting_an_account_closes_its_live_connections_on_every_replica() {
    let a = TestApp::spawn().await;
    // On PostgreSQL the connection is on another replica than the deletion.
    let b = a.replica_on_postgres().await;
    let live = b.as_ref().unwrap_or(&a);
    let (_w, _event, shift) = one_place_shift(&a).await;
    let me = a.register("13800000001", "小李").await;
    let other = a.register("13800000002", "小王").await;
    let (mut mine, _) = Ws::connect(live, TRANSPORT_WS, Some(&me.access)).await;
    mine.subscribe("1", SHIFT_UPDATED, json!({ "s": shift }))
        .await;
    let (mut theirs, _) = Ws::connect(live, TRANSPORT_WS, Some(&other.access)).await;
    theirs
        .subscribe("1", SHIFT_UPDATED, json!({ "s": shift }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    a.ok(
        Some(&me.access),
        "mutation($p: String!) { deleteMyAccount(password: $p) }",
        json!({ "p": crate::harness::TEST_PASSWORD }),
    )
    .await;
    let closed = loop {
        let v = mine.next().await;
        if v["type"] == "close" {
            break v;
        }
    };
    assert_eq!(closed["code"], 4403, "{closed}");
    // Everyone else's connection carries on.
    let vol = a.register("13800000003", "小张").await;
    a.sign_up(&vol.access, &shift, "k1").await;
    theirs
        .data_until("1", |d| d["data"]["shiftUpdated"]["confirmedCount"] == 1)
        .await;
}

#[tokio::test]
async fn shutdown_completes_subscriptions_and_closes_the_socket() {
    let mut app = TestApp::spawn().await;
    let (_w, _event, shift) = one_place_shift(&app).await;
    let watcher = app.register("13800000001", "小李").await;
    let (mut ws, _) = Ws::connect(&app, TRANSPORT_WS, Some(&watcher.access)).await;
    ws.subscribe("1", SHIFT_UPDATED, json!({ "s": shift }))
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let ((), complete) = tokio::join!(app.shut_down(), ws.next());
    assert_eq!(complete, json!({ "id": "1", "type": "complete" }));
    let closed = ws.next().await;
    assert_eq!(closed["code"], u16::from(CloseCode::Away));
    assert!(started.elapsed() < Duration::from_secs(2), "no hanging");
}

#[tokio::test]
async fn only_subscriptions_run_over_the_websocket() {
    let app = TestApp::spawn().await;
    let vol = app.register("13800000001", "小李").await;
    let (mut ws, _) = Ws::connect(&app, TRANSPORT_WS, Some(&vol.access)).await;
    // Queries and mutations go over HTTP, where the budgets, limits and timeout apply.
    ws.subscribe("q", "{ me { id } }", json!({})).await;
    assert_eq!(refusal(&ws.next().await), "BAD_REQUEST");
}

#[tokio::test]
async fn a_volunteer_hears_of_a_help_offer_made_to_them_and_only_to_them() {
    use crate::help_e2e::{CREATE, request_input};
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let a = app.register("13800000031", "小赵").await;
    let b = app.register("13800000032", "小钱").await;
    let query = "subscription { helpOfferReceived { status helpRequest { id title details } } }";
    let (mut wa, _) = Ws::connect(&app, TRANSPORT_WS, Some(&a.access)).await;
    let (mut wb, _) = Ws::connect(&app, LEGACY_WS, Some(&b.access)).await;
    wa.subscribe("a", query, json!({})).await;
    wb.subscribe("b", query, json!({})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut requests = Vec::new();
    for who in [&a, &b] {
        let id = app
            .ok(
                Some(&w.organizer.access),
                CREATE,
                request_input(&w.station, &[]),
            )
            .await["createHelpRequest"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let volunteer = api::ids::encode(api::ids::NodeType::Account, who.account_key()).0;
        app.ok(
            Some(&w.organizer.access),
            "mutation($id: ID!, $v: [ID!]!) { dispatchHelpRequest(helpRequestId: $id, volunteerIds: $v) { status } }",
            json!({ "id": id, "v": [volunteer] }),
        )
        .await;
        requests.push(id);
    }
    let got_a = wa.next_data("a").await;
    let offer = &got_a["data"]["helpOfferReceived"];
    assert_eq!(offer["status"], "OPEN");
    assert_eq!(offer["helpRequest"]["id"], requests[0]);
    assert!(offer["helpRequest"]["details"].is_null());
    // B's first offer is the second request: the first one was never sent to B.
    let got_b = wb.next_data("b").await;
    assert_eq!(
        got_b["data"]["helpOfferReceived"]["helpRequest"]["id"],
        requests[1]
    );
}

#[tokio::test]
async fn many_subscribers_to_one_shift_cost_one_read_per_change() {
    let app = TestApp::spawn().await;
    let (_w, _event, shift) = one_place_shift(&app).await;
    let watchers = app.bulk_volunteers(4, "1370000").await;
    let mut sockets = Vec::new();
    for (_, token) in &watchers {
        let (mut ws, ack) = Ws::connect(&app, TRANSPORT_WS, Some(token)).await;
        assert_eq!(ack["type"], "connection_ack");
        for id in ["a", "b", "c", "d", "e"] {
            ws.subscribe(id, SHIFT_UPDATED, json!({ "s": shift })).await;
        }
        sockets.push(ws);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.state.shift_feeds.watched(), 1);
    let before = app.state.shift_feeds.reads();
    let vol = app.register("13800000002", "小王").await;
    app.sign_up(&vol.access, &shift, "k1").await;
    // Twenty subscriptions on four sockets all see the change …
    for ws in &mut sockets {
        let mut seen = std::collections::HashSet::new();
        while seen.len() < 5 {
            let v = ws.next().await;
            assert_eq!(v["type"], "next", "{v}");
            if v["payload"]["data"]["shiftUpdated"]["confirmedCount"] == 1 {
                seen.insert(v["id"].as_str().unwrap().to_owned());
            }
        }
    }
    // … read once for all of them (a sign-up may note the shift twice: a burst is one read or
    // two, never one per subscriber).
    let reads = app.state.shift_feeds.reads() - before;
    assert!((1..=2).contains(&reads), "{reads} reads for 20 subscribers");
    // The reading task stops with the last subscriber.
    drop(sockets);
    for _ in 0..50 {
        if app.state.shift_feeds.watched() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.state.shift_feeds.watched(), 0);
}
