//! Account security: the list of sessions, ending one or all of them, changing the password,
//! and live connections that end with the session, the token or the role they stood on.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use crate::{
    harness::{JWT_SECRET, Session, TEST_PASSWORD, TestApp},
    live_e2e::{SHIFT_UPDATED, TRANSPORT_WS, Ws, one_place_shift},
};

const SESSIONS: &str = "{ me { sessions { id device current lastSeenAt expiresAt } } }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }";

/// Log in from a device named by its `User-Agent`.
async fn login_from(app: &TestApp, phone: &str, password: &str, device: &str) -> Session {
    let body: Value = app
        .client
        .post(app.url("/graphql"))
        .header("User-Agent", device)
        .json(&json!({
            "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken account { id } } }",
            "variables": { "i": { "phone": phone, "password": password } }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(body["errors"].is_null(), "{body}");
    Session::from(&body["data"]["login"])
}

/// The session ID an access token names.
fn sid_of(token: &str) -> String {
    let claims = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .unwrap(),
    )
    .unwrap();
    claims["sid"].as_str().expect("a session ID").to_owned()
}

/// An access token for `account` in session `sid`, signed with the server's key, expiring in
/// `secs` seconds.
fn token_expiring(account: i64, sid: &str, secs: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "iss": "tongxing", "aud": "tongxing-api", "sub": account.to_string(),
                 "exp": now + secs, "iat": now - 1, "sid": sid }),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()).unwrap(),
    )
    .unwrap()
}

async fn closes_with(ws: &mut Ws) -> Value {
    loop {
        let v = ws.next().await;
        if v["type"] == "close" {
            return v["code"].clone();
        }
    }
}

#[tokio::test]
async fn sessions_are_listed_ended_one_by_one_or_all_and_a_new_password_ends_the_others() {
    let app = TestApp::spawn().await;
    let phone = "13800000001";
    let first = app.register(phone, "王小明").await;
    let phone_a = login_from(&app, phone, TEST_PASSWORD, "Tongxing/2.1 (iPhone; iOS 18)").await;
    let tablet = login_from(&app, phone, TEST_PASSWORD, "Tongxing/2.1 (iPad; iOS 18)").await;
    let listed = app.ok(Some(&tablet.access), SESSIONS, json!({})).await;
    let sessions = listed["me"]["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{listed}");
    assert_eq!(sessions[0]["device"], "Tongxing/2.1 (iPad; iOS 18)");
    assert_eq!(sessions[0]["current"], true);
    assert!(sessions[1..].iter().all(|s| s["current"] == false));
    // A refresh keeps the session, its device and its place in the list.
    let refreshed = app.ok(None, REFRESH, json!({ "t": phone_a.refresh })).await;
    let phone_a_access = refreshed["refreshToken"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(sid_of(&phone_a_access), sid_of(&phone_a.access));
    let listed = app.ok(Some(&tablet.access), SESSIONS, json!({})).await;
    assert_eq!(listed["me"]["sessions"].as_array().unwrap().len(), 3);
    assert_eq!(
        listed["me"]["sessions"][0]["device"],
        "Tongxing/2.1 (iPhone; iOS 18)"
    );

    // The lost phone's session ends; nobody else's can be ended by this account.
    let revoke = "mutation($id: String!) { revokeSession(id: $id) }";
    let lost = sid_of(&phone_a.access);
    app.ok(Some(&tablet.access), revoke, json!({ "id": lost }))
        .await;
    let listed = app.ok(Some(&tablet.access), SESSIONS, json!({})).await;
    assert_eq!(listed["me"]["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.err_code(Some(&tablet.access), revoke, json!({ "id": lost }))
            .await,
        "NOT_FOUND"
    );
    let stranger = app.register("13800000002", "路人").await;
    assert_eq!(
        app.err_code(
            Some(&stranger.access),
            revoke,
            json!({ "id": sid_of(&tablet.access) })
        )
        .await,
        "NOT_FOUND"
    );

    // A new password: proven by the old one; every other session ends, this one stays.
    let change = "mutation($i: ChangePasswordInput!) { changePassword(input: $i) }";
    let (_, body) = app
        .post(
            Some(&tablet.access),
            change,
            json!({ "i": { "currentPassword": "not the password", "newPassword": "a new long password" } }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.currentPassword"
    );
    app.ok(
        Some(&tablet.access),
        change,
        json!({ "i": { "currentPassword": TEST_PASSWORD, "newPassword": "a new long password" } }),
    )
    .await;
    assert_eq!(
        app.err_code(None, REFRESH, json!({ "t": first.refresh }))
            .await,
        "UNAUTHENTICATED"
    );
    let tablet_again = app.ok(None, REFRESH, json!({ "t": tablet.refresh })).await;
    let tablet_access = tablet_again["refreshToken"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.login_code(phone, TEST_PASSWORD).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(app.login_code(phone, "a new long password").await, None);

    // Everywhere: every session ends, this one too.
    let ended = app
        .ok(
            Some(&tablet_access),
            "mutation { logoutEverywhere }",
            json!({}),
        )
        .await;
    assert_eq!(ended["logoutEverywhere"], 2);
    let listed = app.ok(Some(&tablet_access), SESSIONS, json!({})).await;
    assert!(listed["me"]["sessions"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn live_connections_end_with_their_session_their_role_or_their_token() {
    let a = TestApp::spawn().await;
    // On PostgreSQL the connections are on another replica than the changes.
    let b = a.replica_on_postgres().await;
    let live = b.as_ref().unwrap_or(&a);
    let (w, event, shift) = one_place_shift(&a).await;
    let me = a.register("13800000001", "小李").await;

    // Logout ends the session's connection, and its access token cannot open another.
    let (mut ws, ack) = Ws::connect(live, TRANSPORT_WS, Some(&me.access)).await;
    assert_eq!(ack["type"], "connection_ack");
    ws.subscribe("1", SHIFT_UPDATED, json!({ "s": shift }))
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.ok(
        None,
        "mutation($t: String!) { logout(refreshToken: $t) }",
        json!({ "t": me.refresh }),
    )
    .await;
    assert_eq!(closes_with(&mut ws).await, 4401);
    let (mut again, first) = Ws::connect(live, TRANSPORT_WS, Some(&me.access)).await;
    let code = if first["type"] == "close" {
        first["code"].clone()
    } else {
        closes_with(&mut again).await
    };
    assert_eq!(code, 4403, "{first}");

    // Removal from the organization ends the staff member's check-in feed.
    let (mut staff, ack) = Ws::connect(live, TRANSPORT_WS, Some(&w.organizer.access)).await;
    assert_eq!(ack["type"], "connection_ack");
    staff
        .subscribe(
            "1",
            "subscription($e: ID!) { eventCheckIns(eventId: $e) { kind } }",
            json!({ "e": event }),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.ok(
        Some(&w.root.access),
        "mutation($o: ID!, $a: ID!) { removeMember(organizationId: $o, accountId: $a) }",
        json!({ "o": w.station, "a": w.organizer.account_id }),
    )
    .await;
    assert_eq!(closes_with(&mut staff).await, 4401);
    // Reconnecting is allowed (the session is fine), the feed is not.
    let (mut staff, _) = Ws::connect(live, TRANSPORT_WS, Some(&w.organizer.access)).await;
    staff
        .subscribe(
            "2",
            "subscription($e: ID!) { eventCheckIns(eventId: $e) { kind } }",
            json!({ "e": event }),
        )
        .await;
    let refused = staff.next().await;
    assert!(
        refused["type"] == "error" || !refused["payload"]["errors"].is_null(),
        "{refused}"
    );

    // A token about to expire closes the connection (4401) when it does...
    let other = a.register("13800000002", "小王").await;
    let account: i64 = other.account_key();
    let sid = sid_of(&other.access);
    let (mut short, ack) =
        Ws::connect(live, TRANSPORT_WS, Some(&token_expiring(account, &sid, 2))).await;
    assert_eq!(ack["type"], "connection_ack");
    short
        .subscribe("1", SHIFT_UPDATED, json!({ "s": shift }))
        .await;
    assert_eq!(closes_with(&mut short).await, 4401);
    // ...unless a ping brings a fresh one in time.
    let (mut renewed, _) =
        Ws::connect(live, TRANSPORT_WS, Some(&token_expiring(account, &sid, 2))).await;
    renewed
        .subscribe("1", SHIFT_UPDATED, json!({ "s": shift }))
        .await;
    renewed
        .send(json!({ "type": "ping", "payload": { "accessToken": other.access } }))
        .await;
    assert_eq!(renewed.next().await["type"], "pong");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let vol = a.register("13800000003", "小张").await;
    a.sign_up(&vol.access, &shift, "k1").await;
    renewed
        .data_until("1", |d| d["data"]["shiftUpdated"]["confirmedCount"] == 1)
        .await;
}

#[tokio::test]
async fn removal_and_deletion_revoke_the_api_clients_a_person_registered_and_erase_memos() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let register = |token: String, org: String| {
        let app = &app;
        async move {
            let c = app
                .ok(
                    Some(&token),
                    crate::clients_e2e::CREATE,
                    json!({ "i": { "organizationId": org, "name": "区平台", "scopes": ["PUBLIC_READ"] } }),
                )
                .await["createApiClient"]
                .clone();
            (
                c["client"]["clientId"].as_str().unwrap().to_owned(),
                c["clientSecret"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (id, secret) = register(w.organizer.access.clone(), w.station.clone()).await;
    let (_, body) = crate::clients_e2e::grant(&app, &id, &secret).await;
    let bearer = body["access_token"].as_str().unwrap().to_owned();
    let read = "{ organizations { edges { cursor } } }";
    app.ok(Some(&bearer), read, json!({})).await;
    // Removed from the station: the client they registered there stops at once.
    app.ok(
        Some(&w.root.access),
        "mutation($o: ID!, $a: ID!) { removeMember(organizationId: $o, accountId: $a) }",
        json!({ "o": w.station, "a": w.organizer.account_id }),
    )
    .await;
    assert_eq!(
        app.err_code(Some(&bearer), read, json!({})).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(crate::clients_e2e::grant(&app, &id, &secret).await.0, 401);

    // Deleted: every client they registered stops, and their transfer memos go.
    let (id, secret) = register(w.other_organizer.access.clone(), w.other_station.clone()).await;
    let city = api::ids::decode_any(&w.city).unwrap().1;
    let giver = w.other_organizer.account_key();
    crate::timebank::fund(&app.state.db, city, giver, 500).await;
    app.register("13800000009", "奶奶").await;
    app.ok(
        Some(&w.other_organizer.access),
        "mutation($i: TransferTimeCoinsInput!) { transferTimeCoins(input: $i) { amount } }",
        json!({ "i": { "toPhone": "13800000009", "amount": 100, "memo": "给奶奶买菜", "idempotencyKey": "m1" } }),
    )
    .await;
    // Before going, their export holds what they did as staff too.
    app.event_at(
        &w.other_organizer.access,
        &w.other_station,
        "周市助老",
        31.4,
        120.9,
        24,
        false,
    )
    .await;
    let exported = app
        .ok(
            Some(&w.other_organizer.access),
            "{ exportMyData }",
            json!({}),
        )
        .await["exportMyData"]
        .clone();
    assert_eq!(
        exported["apiClientsRegistered"][0]["client_id"],
        id.as_str()
    );
    assert_eq!(exported["eventsCreated"][0]["title"], "周市助老");
    for key in [
        "helpRequestsReported",
        "campaignsCreated",
        "fundsOpened",
        "disbursementsRecorded",
        "offlineGiftsRecorded",
        "microWishesPosted",
        "auditEntriesAsActor",
    ] {
        assert!(exported[key].is_array(), "{key}: {exported}");
    }
    app.ok(
        Some(&w.other_organizer.access),
        "mutation($p: String!) { deleteMyAccount(password: $p) }",
        json!({ "p": TEST_PASSWORD }),
    )
    .await;
    assert_eq!(crate::clients_e2e::grant(&app, &id, &secret).await.0, 401);
    // Their access token, still unexpired, opens no export and no certificate either.
    let status = app
        .client
        .get(app.url("/exports/service-records.csv"))
        .bearer_auth(&w.other_organizer.access)
        .query(&[
            ("organizationId", w.other_station.as_str()),
            ("from", "2026-01-01T00:00:00Z"),
            ("to", "2026-12-31T00:00:00Z"),
        ])
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    let status = app
        .client
        .get(app.url("/certificates/TXC-2026-0000-0000-0000.pdf"))
        .bearer_auth(&w.other_organizer.access)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let wallet = entity::timebank_account::Entity::find()
        .filter(entity::timebank_account::Column::OwnerAccountId.eq(giver))
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("the giver's time bank")
        .id;
    let transfers = entity::timebank_transfer::Entity::find()
        .filter(entity::timebank_transfer::Column::FromAccountId.eq(wallet))
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(!transfers.is_empty());
    assert!(transfers.iter().all(|t| t.memo.is_empty()), "{transfers:?}");
}
