//! Check-in evidence the server can stand behind (issue 16, part 1): codes are judged by when
//! the server received them, PIN guesses are limited, and a phone's location alone waits for a
//! reviewer unless the event accepts it.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::harness::{TestApp, World, exec};

const ISSUE: &str = "mutation($s: ID!) { issueCheckInCode(shiftId: $s) { qrPayload pin } }";
const CHECK_IN: &str =
    "mutation($i: CheckInput!) { checkIn(input: $i) { checkEvent { evidence receivedAt } } }";
const CHECK_OUT: &str =
    "mutation($i: CheckInput!) { checkOut(input: $i) { serviceRecord { id minutes status verified
    checkIn { evidence occurredAt receivedAt distanceMeters }
    checkOut { evidence occurredAt receivedAt distanceMeters } } } }";

fn key(id: &str) -> i64 {
    match api::ids::decode_any(id) {
        Some((_, k)) => k,
        None => panic!("not an ID: {id}"),
    }
}

/// A shift that started 90 minutes ago and ends in 30, at an event that approves verified
/// service automatically, and a confirmed volunteer on it.
struct Site {
    app: TestApp,
    w: World,
    event: String,
    shift: String,
}

impl Site {
    /// The site, and the access tokens of volunteers with these phones, signed up before the
    /// shift began.
    async fn open(
        adjust: impl FnOnce(&mut api::config::Config),
        phones: &[&str],
    ) -> (Self, Vec<String>) {
        let app = TestApp::spawn_with(adjust).await;
        let w = app.world().await;
        let org = w.organizer.access.clone();
        let event = app
            .event_at(&org, &w.station, "助餐", 31.3800, 120.9800, 0, true)
            .await;
        app.ok(
            Some(&org),
            "mutation($id: ID!) { updateEvent(id: $id, input: {autoApproveVerified: true}) { id } }",
            json!({ "id": event }),
        )
        .await;
        let starts = Utc::now() + Duration::minutes(10);
        let shift = app.shift_at(&org, &event, starts, 20, true, &[]).await;
        let mut vols = Vec::new();
        for phone in phones {
            let vol = app.register(phone, "小李").await;
            let body = app.sign_up(&vol.access, &shift, phone).await;
            assert_eq!(
                body["data"]["signUpForShift"]["status"], "CONFIRMED",
                "{body}"
            );
            vols.push(vol.access);
        }
        let now = Utc::now();
        app.reschedule_shift(
            &shift,
            now - Duration::minutes(90),
            now + Duration::minutes(30),
        )
        .await;
        // The event began with the shift (the API refuses events in the past).
        exec(
            &app.state.db,
            "UPDATE charity_event SET starts_at = ? WHERE id = ?",
            vec![(now - Duration::minutes(90)).into(), key(&event).into()],
        )
        .await;
        let site = Self {
            app,
            w,
            event,
            shift,
        };
        (site, vols)
    }

    async fn current_code(&self) -> (String, String) {
        let c = self
            .app
            .ok(
                Some(&self.w.organizer.access),
                ISSUE,
                json!({ "s": self.shift }),
            )
            .await["issueCheckInCode"]
            .clone();
        (
            c["qrPayload"].as_str().unwrap().to_owned(),
            c["pin"].as_str().unwrap().to_owned(),
        )
    }

    fn qr(&self, code: &str, id: &str, occurred: chrono::DateTime<Utc>) -> Value {
        json!({ "i": { "shiftId": self.shift, "method": "QR", "code": code, "clientEventId": id,
                       "occurredAt": occurred.to_rfc3339() } })
    }

    fn geo(&self, id: &str) -> Value {
        json!({ "i": { "shiftId": self.shift, "method": "GEO", "clientEventId": id,
                       "location": { "latitude": 31.3801, "longitude": 120.9800, "accuracyMeters": 10.0 } } })
    }

    /// Move every check event `minutes` into the past, as if that long had gone by.
    async fn let_time_pass(&self, minutes: i64) {
        let ago = Utc::now() - Duration::minutes(minutes);
        exec(
            &self.app.state.db,
            "UPDATE check_event SET occurred_at = ?, received_at = ?",
            vec![ago.into(), ago.into()],
        )
        .await;
    }
}

fn wrong(pin: &str) -> String {
    let n: u32 = pin.parse().unwrap();
    format!("{:06}", (n + 500_000) % 1_000_000)
}

#[tokio::test]
async fn a_code_that_reaches_the_server_after_its_window_is_never_verified() {
    let (site, vols) = Site::open(|_| {}, &["13800000101", "13800000102", "13800000103"]).await;
    let vol = vols[0].clone();
    let other = vols[1].clone();
    let third = vols[2].clone();
    let app = &site.app;
    // A photo of the kiosk taken 80 minutes ago, sent now with its time: genuine for then.
    let then = Utc::now() - Duration::minutes(80);
    let old = app.state.checkin_codes.issue(key(&site.shift), then);
    let late = app
        .ok(Some(&vol), CHECK_IN, site.qr(&old.qr_payload, "in", then))
        .await;
    assert_eq!(late["checkIn"]["checkEvent"]["evidence"], "LATE_CODE");
    // A fresh code cannot be dated back to then either: it did not exist yet.
    let (fresh, _) = site.current_code().await;
    assert_eq!(
        app.err_code(Some(&other), CHECK_IN, site.qr(&fresh, "in", then))
            .await,
        "BAD_USER_INPUT"
    );
    // Leaving with a current code: the record waits for a reviewer, although the event
    // approves verified service automatically, and says why.
    let out = app
        .ok(Some(&vol), CHECK_OUT, site.qr(&fresh, "out", Utc::now()))
        .await;
    let record = &out["checkOut"]["serviceRecord"];
    assert_eq!(record["verified"], false, "{record}");
    assert_eq!(record["status"], "PENDING");
    assert_eq!(record["minutes"], 80);
    assert_eq!(record["checkIn"]["evidence"], "LATE_CODE");
    assert_eq!(record["checkOut"]["evidence"], "CODE");
    assert_ne!(
        record["checkIn"]["occurredAt"],
        record["checkIn"]["receivedAt"]
    );
    // Nothing was paid.
    let coins = app
        .ok(Some(&vol), "{ me { timeBank { balance } } }", json!({}))
        .await;
    assert_eq!(coins["me"]["timeBank"]["balance"], 0);
    // The PIN of a past window is judged the same way.
    let pin_then = app
        .state
        .checkin_codes
        .issue(key(&site.shift), Utc::now() - Duration::minutes(30))
        .pin;
    let by_pin = app
        .ok(
            Some(&third),
            CHECK_IN,
            site.qr(&pin_then, "in", Utc::now() - Duration::minutes(30)),
        )
        .await;
    assert_eq!(by_pin["checkIn"]["checkEvent"]["evidence"], "LATE_CODE");
}

#[tokio::test]
async fn current_codes_at_both_ends_are_verified_and_approved_automatically() {
    let (site, vols) = Site::open(|_| {}, &["13800000111"]).await;
    let vol = vols[0].clone();
    let app = &site.app;
    let (code, _) = site.current_code().await;
    let came = app
        .ok(Some(&vol), CHECK_IN, site.qr(&code, "in", Utc::now()))
        .await;
    assert_eq!(came["checkIn"]["checkEvent"]["evidence"], "CODE");
    site.let_time_pass(60).await;
    // Leaving by PIN, current too.
    let (_, pin) = site.current_code().await;
    let out = app
        .ok(Some(&vol), CHECK_OUT, site.qr(&pin, "out", Utc::now()))
        .await;
    let record = &out["checkOut"]["serviceRecord"];
    assert_eq!(record["verified"], true, "{record}");
    assert_eq!(record["status"], "APPROVED");
    assert_eq!(record["minutes"], 60);
    assert_eq!(record["checkOut"]["evidence"], "CODE");
    let history = app
        .ok(
            Some(&vol),
            "query($id: ID!) { node(id: $id) { ... on ServiceRecord { history { action reason } } } }",
            json!({ "id": record["id"] }),
        )
        .await;
    let reason = history["node"]["history"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("automatically"), "{reason}");
    // The server's own words are shown in the reader's language (Chinese by default).
    let zh: serde_json::Value = reqwest::Client::new()
        .post(app.url("/graphql"))
        .bearer_auth(&vol)
        .json(&json!({
            "query": "query($id: ID!) { node(id: $id) { ... on ServiceRecord { history { reason } } } }",
            "variables": { "id": record["id"] },
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        zh["data"]["node"]["history"][0]["reason"],
        "现场核验通过，已按活动设置自动审核"
    );
    let coins = app
        .ok(Some(&vol), "{ me { timeBank { balance } } }", json!({}))
        .await;
    assert_eq!(
        coins["me"]["timeBank"]["balance"], 100,
        "an hour at the default rate"
    );
}

#[tokio::test]
async fn a_location_alone_waits_for_review_and_counts_only_where_the_event_accepts_it() {
    let (site, vols) = Site::open(|_| {}, &["13800000121", "13800000122"]).await;
    let vol = vols[0].clone();
    let second = vols[1].clone();
    let app = &site.app;
    app.ok(Some(&vol), CHECK_IN, site.geo("in")).await;
    site.let_time_pass(30).await;
    let out = app.ok(Some(&vol), CHECK_OUT, site.geo("out")).await;
    let record = &out["checkOut"]["serviceRecord"];
    assert_eq!(record["verified"], false, "{record}");
    assert_eq!(record["status"], "PENDING");
    assert_eq!(record["checkIn"]["evidence"], "LOCATION");
    let d = record["checkOut"]["distanceMeters"].as_f64().unwrap();
    assert!((5.0..20.0).contains(&d), "{d}");

    // Where organizers accept location evidence it is proof, but still not approved without a
    // reviewer.
    let on = app
        .ok(
            Some(&site.w.organizer.access),
            "mutation($id: ID!) { updateEvent(id: $id, input: {acceptLocationEvidence: true}) { acceptLocationEvidence } }",
            json!({ "id": site.event }),
        )
        .await;
    assert_eq!(on["updateEvent"]["acceptLocationEvidence"], true);
    app.ok(Some(&second), CHECK_IN, site.geo("in2")).await;
    let out = app.ok(Some(&second), CHECK_OUT, site.geo("out2")).await;
    let record = &out["checkOut"]["serviceRecord"];
    assert_eq!(record["verified"], true, "{record}");
    assert_eq!(record["status"], "PENDING");
}

/// The error codes of a response, in order.
fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn the_sixth_wrong_pin_is_refused_and_so_is_the_right_one_until_the_window_passes() {
    let (site, vols) = Site::open(|_| {}, &["13800000131", "13800000132"]).await;
    let vol = vols[0].clone();
    let other = vols[1].clone();
    let app = &site.app;
    let (_, pin) = site.current_code().await;
    let bad = wrong(&pin);
    // Five wrong guesses in one document, as aliases: each counts.
    let aliases: String = (0..5)
        .map(|i| format!("g{i}: checkIn(input: {{shiftId: $s, method: QR, code: $c, clientEventId: \"g{i}\"}}) {{ duplicate }} "))
        .collect();
    let (_, body) = app
        .post(
            Some(&vol),
            &format!("mutation($s: ID!, $c: String!) {{ {aliases} }}"),
            json!({ "s": site.shift, "c": bad }),
        )
        .await;
    assert_eq!(codes(&body), vec!["BAD_USER_INPUT"; 5], "{body}");
    // The sixth is refused without being checked, and so is the right PIN.
    assert_eq!(
        app.err_code(Some(&vol), CHECK_IN, site.qr(&bad, "g5", Utc::now()))
            .await,
        "RATE_LIMITED"
    );
    let (_, body) = app
        .post(Some(&vol), CHECK_IN, site.qr(&pin, "right", Utc::now()))
        .await;
    assert_eq!(codes(&body), vec!["RATE_LIMITED"], "{body}");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // A QR code still works for someone else at the shift.
    let (qr, _) = site.current_code().await;
    app.ok(Some(&other), CHECK_IN, site.qr(&qr, "in", Utc::now()))
        .await;

    // Ten minutes later the guesses no longer count.
    exec(
        &app.state.db,
        "UPDATE pin_guess SET at = ?",
        vec![(Utc::now() - Duration::minutes(11)).into()],
    )
    .await;
    let (_, pin) = site.current_code().await;
    let came = app
        .ok(Some(&vol), CHECK_IN, site.qr(&pin, "right-2", Utc::now()))
        .await;
    assert_eq!(came["checkIn"]["checkEvent"]["evidence"], "CODE");
}

#[tokio::test]
async fn concurrent_and_batched_guesses_all_count() {
    let (site, vols) = Site::open(|_| {}, &["13800000141", "13800000142"]).await;
    let vol = vols[0].clone();
    let batcher = vols[1].clone();
    let app = &site.app;
    let (_, pin) = site.current_code().await;
    let bad = wrong(&pin);

    // Twenty guesses at once from one account: five are checked, the rest refused.
    let attempts = (0..20).map(|i| {
        let input = site.qr(&bad, &format!("c{i}"), Utc::now());
        let vol = vol.clone();
        async move { app.post(Some(&vol), CHECK_IN, input).await.1 }
    });
    let bodies = futures::future::join_all(attempts).await;
    let all: Vec<String> = bodies.iter().flat_map(codes).collect();
    let mut checked = all.iter().filter(|c| *c == "BAD_USER_INPUT").count();
    let refused = all.iter().filter(|c| *c == "RATE_LIMITED").count();
    // Never more than five get checked. Under contention more are refused: an attempt still
    // being checked counts against the others, so a burst may even see none checked (it did
    // on PostgreSQL in CI). Refusing too many is the safe side of the race.
    assert!(checked <= 5, "{all:?}");
    assert_eq!(checked + refused, 20, "{all:?}");
    // Guessing on one at a time, exactly five are checked in all.
    for i in 0.. {
        let code = app
            .err_code(
                Some(&vol),
                CHECK_IN,
                site.qr(&bad, &format!("s{i}"), Utc::now()),
            )
            .await;
        if code == "RATE_LIMITED" {
            break;
        }
        assert_eq!(code, "BAD_USER_INPUT");
        checked += 1;
    }
    assert_eq!(checked, 5);

    // An offline batch: every item is a guess.
    let events: Vec<Value> = (0..8)
        .map(|i| json!({ "kind": "CHECK_IN", "event": { "shiftId": site.shift, "method": "QR", "code": bad, "clientEventId": format!("b{i}") } }))
        .collect();
    let data = app
        .ok(
            Some(&batcher),
            "mutation($e: [SyncCheckEventInput!]!) { syncCheckEvents(events: $e) { status code } }",
            json!({ "e": events }),
        )
        .await;
    let got: Vec<&str> = data["syncCheckEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        got,
        [vec!["BAD_USER_INPUT"; 5], vec!["RATE_LIMITED"; 3]].concat(),
        "{data}"
    );
}

#[tokio::test]
async fn a_shift_has_a_budget_of_wrong_pins_across_accounts() {
    let (site, vols) = Site::open(
        |c| c.pin_guesses_per_shift = 3,
        &["13800000151", "13800000152"],
    )
    .await;
    let a = vols[0].clone();
    let b = vols[1].clone();
    let app = &site.app;
    let (_, pin) = site.current_code().await;
    let bad = wrong(&pin);
    for (who, id) in [(&a, "a1"), (&a, "a2"), (&b, "b1")] {
        assert_eq!(
            app.err_code(Some(who), CHECK_IN, site.qr(&bad, id, Utc::now()))
                .await,
            "BAD_USER_INPUT"
        );
    }
    assert_eq!(
        app.err_code(Some(&b), CHECK_IN, site.qr(&bad, "b2", Utc::now()))
            .await,
        "RATE_LIMITED"
    );
}
