//! Check-in codes, check-in and check-out over HTTP (issue 4, first part).

use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::harness::TestApp;

const ISSUE: &str =
    "mutation($s: ID!) { issueCheckInCode(shiftId: $s) { qrPayload pin refreshAt expiresAt } }";

#[tokio::test]
async fn staff_get_a_rotating_code_bound_to_the_shift_and_others_do_not() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app
        .event_at(org, &w.station, "助餐", 31.38, 120.98, 1, true)
        .await;
    let shift = app.shift_in(org, &event, 5, true, &[]).await;

    let data = app.ok(Some(org), ISSUE, json!({ "s": shift })).await;
    let code = &data["issueCheckInCode"];
    assert!(code["qrPayload"].as_str().unwrap().starts_with("TX1."));
    assert_eq!(code["pin"].as_str().unwrap().len(), 6);
    let refresh: chrono::DateTime<chrono::Utc> =
        code["refreshAt"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<chrono::Utc> =
        code["expiresAt"].as_str().unwrap().parse().unwrap();
    assert_eq!((expires - refresh).num_seconds(), 30);
    assert!(expires <= chrono::Utc::now() + chrono::Duration::seconds(61));

    // The code the server issued verifies for this shift and not for another.
    let key = |id: &str| match api::ids::decode_any(id) {
        Some((_, k)) => k,
        None => unreachable!(),
    };
    let other = app
        .shift_at(
            org,
            &event,
            chrono::Utc::now() + chrono::Duration::hours(3),
            5,
            true,
            &[],
        )
        .await;
    let codes = &app.state.checkin_codes;
    let qr = code["qrPayload"].as_str().unwrap();
    assert!(codes.verify_qr(key(&shift), qr, chrono::Utc::now()).is_ok());
    assert!(
        codes
            .verify_qr(key(&other), qr, chrono::Utc::now())
            .is_err()
    );

    // A volunteer signed up for the shift, and another station's organizer, may not.
    let vol = app.register("13800000001", "小李").await;
    app.sign_up(&vol.access, &shift, "k").await;
    assert_eq!(
        app.err_code(Some(&vol.access), ISSUE, json!({ "s": shift }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            ISSUE,
            json!({ "s": shift })
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(None, ISSUE, json!({ "s": shift })).await,
        "UNAUTHENTICATED"
    );
}

const CHECK_IN: &str = "mutation($i: CheckInput!) { checkIn(input: $i) { duplicate checkEvent { kind method } signup { status } } }";
const CHECK_OUT: &str = "mutation($i: CheckInput!) { checkOut(input: $i) { duplicate serviceRecord { minutes status verified } } }";

fn shift_key(id: &str) -> i64 {
    match api::ids::decode_any(id) {
        Some((_, k)) => k,
        None => unreachable!(),
    }
}

/// An event that started now, a shift starting in 10 minutes (check-in open), a volunteer
/// confirmed on it. Returns (app, organizer token, volunteer token, shift ID, world).
async fn open_shift() -> (TestApp, String, String, String, crate::harness::World) {
    open_shift_with(|_| {}).await
}

/// `open_shift` on a server with adjusted configuration.
async fn open_shift_with(
    adjust: impl FnOnce(&mut api::config::Config),
) -> (TestApp, String, String, String, crate::harness::World) {
    let app = TestApp::spawn_with(adjust).await;
    let w = app.world().await;
    let org = w.organizer.access.clone();
    let event = app
        .event_at(&org, &w.station, "助餐", 31.3800, 120.9800, 0, true)
        .await;
    let starts = chrono::Utc::now() + chrono::Duration::minutes(10);
    let shift = app.shift_at(&org, &event, starts, 5, true, &[]).await;
    let vol = app.register("13800000001", "小李").await;
    let body = app.sign_up(&vol.access, &shift, "s1").await;
    assert_eq!(
        body["data"]["signUpForShift"]["status"], "CONFIRMED",
        "{body}"
    );
    (app, org, vol.access, shift, w)
}

#[tokio::test]
async fn qr_check_in_marks_attended_and_repeats_are_duplicates() {
    let (app, org, vol, shift, _w) = open_shift().await;
    let code =
        app.ok(Some(&org), ISSUE, json!({ "s": shift })).await["issueCheckInCode"]["qrPayload"]
            .clone();
    let input =
        json!({ "i": { "shiftId": shift, "method": "QR", "code": code, "clientEventId": "ev-1" } });
    let first = app.ok(Some(&vol), CHECK_IN, input.clone()).await;
    assert_eq!(first["checkIn"]["duplicate"], false);
    assert_eq!(first["checkIn"]["signup"]["status"], "ATTENDED");
    assert_eq!(first["checkIn"]["checkEvent"]["method"], "QR");
    let again = app.ok(Some(&vol), CHECK_IN, input).await;
    assert_eq!(again["checkIn"]["duplicate"], true);
    // The PIN works too, but a second check-in under a new event ID is a conflict.
    let pin =
        app.ok(Some(&org), ISSUE, json!({ "s": shift })).await["issueCheckInCode"]["pin"].clone();
    let code = app
        .err_code(
            Some(&vol),
            CHECK_IN,
            json!({ "i": { "shiftId": shift, "method": "QR", "code": pin, "clientEventId": "ev-2" } }),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    // Reusing an event ID for something else is refused.
    let code = app
        .err_code(
            Some(&vol),
            CHECK_OUT,
            json!({ "i": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.38, "longitude": 120.98 }, "clientEventId": "ev-1" } }),
        )
        .await;
    assert_eq!(code, "IDEMPOTENCY_CONFLICT");
}

#[tokio::test]
async fn every_check_in_rule_has_its_code() {
    let (app, org, vol, shift, w) = open_shift().await;
    let event2 = app
        .event_at(&org, &w.station, "另一个", 31.3800, 120.9800, 0, true)
        .await;
    let other_shift = app
        .shift_at(
            &org,
            &event2,
            chrono::Utc::now() + chrono::Duration::minutes(10),
            5,
            true,
            &[],
        )
        .await;
    let other_code = app.ok(Some(&org), ISSUE, json!({ "s": other_shift })).await["issueCheckInCode"]["qrPayload"].clone();
    let qr = |code: serde_json::Value, id: &str| json!({ "i": { "shiftId": shift, "method": "QR", "code": code, "clientEventId": id } });
    // Another shift's code.
    let (_, body) = app.post(Some(&vol), CHECK_IN, qr(other_code, "a")).await;
    assert_eq!(crate::harness::first_code(&body), "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("another shift")
    );
    // An expired code (issued five minutes ago).
    let old = app.state.checkin_codes.issue(
        shift_key(&shift),
        chrono::Utc::now() - chrono::Duration::minutes(5),
    );
    let (_, body) = app
        .post(Some(&vol), CHECK_IN, qr(json!(old.qr_payload), "b"))
        .await;
    assert_eq!(crate::harness::first_code(&body), "BAD_USER_INPUT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    // A made-up code.
    assert_eq!(
        app.err_code(Some(&vol), CHECK_IN, qr(json!("TX1.AAAA"), "c"))
            .await,
        "BAD_USER_INPUT"
    );
    // Beyond the radius (200 m + at most 100 m of accuracy): ~1.1 km north.
    let far = json!({ "i": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.3900, "longitude": 120.9800, "accuracyMeters": 500.0 }, "clientEventId": "d" } });
    assert_eq!(
        app.err_code(Some(&vol), CHECK_IN, far).await,
        "BAD_USER_INPUT"
    );
    // In the future by the phone's clock.
    let future = json!({ "i": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.38, "longitude": 120.98 }, "clientEventId": "e", "occurredAt": (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339() } });
    assert_eq!(
        app.err_code(Some(&vol), CHECK_IN, future).await,
        "BAD_USER_INPUT"
    );
    // Before the window opens (40 minutes before the start).
    let early = json!({ "i": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.38, "longitude": 120.98 }, "clientEventId": "f", "occurredAt": (chrono::Utc::now() - chrono::Duration::minutes(30)).to_rfc3339() } });
    assert_eq!(
        app.err_code(Some(&vol), CHECK_IN, early).await,
        "BAD_USER_INPUT"
    );
    // No confirmed sign-up.
    let stranger = app.register("13800000002", "路人").await;
    let near = json!({ "i": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.3801, "longitude": 120.9801 }, "clientEventId": "g" } });
    assert_eq!(
        app.err_code(Some(&stranger.access), CHECK_IN, near.clone())
            .await,
        "FORBIDDEN"
    );
    // MANUAL is for staff.
    let manual = json!({ "i": { "shiftId": shift, "method": "MANUAL", "clientEventId": "h" } });
    assert_eq!(
        app.err_code(Some(&vol), CHECK_IN, manual).await,
        "FORBIDDEN"
    );
    // Within the radius it works.
    let ok = app.ok(Some(&vol), CHECK_IN, near).await;
    assert_eq!(ok["checkIn"]["signup"]["status"], "ATTENDED");
}

#[tokio::test]
async fn check_out_records_minutes_clipped_to_the_shift() {
    use sea_orm::EntityTrait;
    let (app, _org, vol, shift, _w) = open_shift().await;
    // Move the shift into the past: it ran from 90 to 30 minutes ago.
    let now = chrono::Utc::now();
    app.reschedule_shift(
        &shift,
        now - chrono::Duration::minutes(90),
        now - chrono::Duration::minutes(30),
    )
    .await;
    let at = |mins_ago: i64, id: &str| json!({ "i": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.3801, "longitude": 120.9800, "accuracyMeters": 15.0 }, "clientEventId": id, "occurredAt": (now - chrono::Duration::minutes(mins_ago)).to_rfc3339() } });
    // Offline: arrived 100 minutes ago (before the start), left 10 minutes ago (after the end).
    app.ok(Some(&vol), CHECK_IN, at(100, "in")).await;
    let out = app.ok(Some(&vol), CHECK_OUT, at(10, "out")).await;
    let record = &out["checkOut"]["serviceRecord"];
    assert_eq!(record["minutes"], 60);
    assert_eq!(record["status"], "PENDING");
    // A location is proof only where the event accepts it (`evidence_e2e`).
    assert_eq!(record["verified"], false);
    // The server kept both clocks.
    let events = entity::check_event::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e.received_at > e.occurred_at));
}

#[tokio::test]
async fn staff_check_a_volunteer_in_by_hand() {
    let (app, org, vol, shift, _w) = open_shift().await;
    let signup = app
        .ok(
            Some(&vol),
            "query($s: ID!) { shift(id: $s) { mySignup { id } } }",
            json!({ "s": shift }),
        )
        .await["shift"]["mySignup"]["id"]
        .clone();
    let data = app
        .ok(
            Some(&org),
            CHECK_IN,
            json!({ "i": { "shiftId": shift, "method": "MANUAL", "signupId": signup, "clientEventId": "m1" } }),
        )
        .await;
    assert_eq!(data["checkIn"]["signup"]["status"], "ATTENDED");
    assert_eq!(data["checkIn"]["checkEvent"]["method"], "MANUAL");
}

#[tokio::test]
async fn an_offline_batch_is_answered_item_by_item() {
    let (app, _org, vol, shift, _w) = open_shift().await;
    let here = json!({ "latitude": 31.3801, "longitude": 120.9800, "accuracyMeters": 10.0 });
    let now = chrono::Utc::now();
    let batch = json!({ "e": [
        { "kind": "CHECK_IN", "event": { "shiftId": shift, "method": "GEO", "location": here, "clientEventId": "off-1", "occurredAt": (now - chrono::Duration::minutes(5)).to_rfc3339() } },
        { "kind": "CHECK_IN", "event": { "shiftId": shift, "method": "GEO", "location": here, "clientEventId": "off-1", "occurredAt": (now - chrono::Duration::minutes(5)).to_rfc3339() } },
        { "kind": "CHECK_OUT", "event": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.50, "longitude": 120.98 }, "clientEventId": "off-2" } },
        { "kind": "CHECK_OUT", "event": { "shiftId": "bm90LWFuLWlk", "method": "GEO", "location": here, "clientEventId": "off-3" } },
        { "kind": "CHECK_OUT", "event": { "shiftId": shift, "method": "GEO", "location": here, "clientEventId": "off-4" } }
    ] });
    let data = app
        .ok(
            Some(&vol),
            "mutation($e: [SyncCheckEventInput!]!) { syncCheckEvents(events: $e) { clientEventId status code } }",
            batch,
        )
        .await;
    let got: Vec<(String, String, Option<String>)> = data["syncCheckEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["clientEventId"].as_str().unwrap().to_owned(),
                r["status"].as_str().unwrap().to_owned(),
                r["code"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("off-1".into(), "ACCEPTED".into(), None),
            ("off-1".into(), "DUPLICATE".into(), None),
            (
                "off-2".into(),
                "REJECTED".into(),
                Some("BAD_USER_INPUT".into())
            ),
            (
                "off-3".into(),
                "REJECTED".into(),
                Some("BAD_USER_INPUT".into())
            ),
            ("off-4".into(), "ACCEPTED".into(), None),
        ]
    );
    // The good ones were recorded: one check-in, one check-out with its record.
    let records = entity::service_record::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(records.len(), 1);
}

#[tokio::test]
async fn records_are_approved_once_corrected_with_history_and_never_self_reviewed() {
    let (app, org, vol, shift, w) = open_shift().await;
    let record = app.serve_an_hour(&vol, &shift).await;
    let id = api::ids::encode(api::ids::NodeType::ServiceRecord, record.id);
    let approve = "mutation($id: ID!, $m: Int) { approveServiceRecord(id: $id, minutes: $m) { status minutes } }";

    // Staff list it by organization (the whole subtree), filtered; others may not.
    let list = "query($o: ID!) { serviceRecords(filter: {organizationId: $o, status: PENDING}) { edges { node { id minutes } } } }";
    let data = app.ok(Some(&org), list, json!({ "o": w.station })).await;
    assert_eq!(
        data["serviceRecords"]["edges"][0]["node"]["id"],
        id.as_str()
    );
    let data = app
        .ok(Some(&w.root.access), list, json!({ "o": w.city }))
        .await;
    assert_eq!(data["serviceRecords"]["edges"].as_array().unwrap().len(), 1);
    let data = app
        .ok(
            Some(&w.other_organizer.access),
            list,
            json!({ "o": w.other_station }),
        )
        .await;
    assert!(
        data["serviceRecords"]["edges"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        app.err_code(Some(&vol), list, json!({ "o": w.station }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            list,
            json!({ "o": w.station })
        )
        .await,
        "FORBIDDEN"
    );

    // The volunteer cannot approve their own time; approval cannot raise the minutes.
    assert_eq!(
        app.err_code(Some(&vol), approve, json!({ "id": id, "m": 60 }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.err_code(Some(&org), approve, json!({ "id": id, "m": 61 }))
            .await,
        "BAD_USER_INPUT"
    );

    // Two staff approve at the same moment: exactly one wins.
    let (a, b) = tokio::join!(
        app.post(Some(&org), approve, json!({ "id": id, "m": 50 })),
        app.post(Some(&w.root.access), approve, json!({ "id": id, "m": 50 })),
    );
    let wins = [&a.1, &b.1]
        .iter()
        .filter(|body| body["data"]["approveServiceRecord"]["status"] == "APPROVED")
        .count();
    assert_eq!(wins, 1, "{a:?} {b:?}");
    let loser = if a.1["errors"].is_array() { &a.1 } else { &b.1 };
    assert_eq!(crate::harness::first_code(loser), "CONFLICT");

    // A correction keeps the record approved and the history tells who, before, after, why.
    let data = app
        .ok(
            Some(&org),
            "mutation($id: ID!) { correctServiceRecord(id: $id, minutes: 45, reason: \"提前离开\") { status minutes history { action minutesBefore minutesAfter statusAfter reason } } }",
            json!({ "id": id }),
        )
        .await;
    let r = &data["correctServiceRecord"];
    assert_eq!(r["status"], "APPROVED");
    assert_eq!(r["minutes"], 45);
    let history = r["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["action"], "APPROVE");
    assert_eq!(history[0]["minutesBefore"], 60);
    assert_eq!(history[0]["minutesAfter"], 50);
    assert_eq!(history[1]["action"], "CORRECT");
    assert_eq!(history[1]["minutesAfter"], 45);
    assert_eq!(history[1]["reason"], "提前离开");
    // An approved record is not rejected afterwards; the volunteer sees it through node(id:).
    let code = app
        .err_code(
            Some(&org),
            "mutation($id: ID!) { rejectServiceRecord(id: $id, reason: \"x\") { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    let mine = app
        .ok(
            Some(&vol),
            "query($id: ID!) { node(id: $id) { ... on ServiceRecord { minutes status } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(mine["node"]["minutes"], 45);
    let me = app
        .ok(
            Some(&vol),
            "{ me { serviceSummary { approvedMinutes recordCount byCategory { category minutes } } serviceRecords { edges { node { minutes status } } } } }",
            json!({}),
        )
        .await;
    let summary = &me["me"]["serviceSummary"];
    assert_eq!(summary["approvedMinutes"], 45);
    assert_eq!(summary["recordCount"], 1);
    assert_eq!(
        summary["byCategory"],
        json!([{ "category": "ELDERLY_CARE", "minutes": 45 }])
    );
    assert_eq!(
        me["me"]["serviceRecords"]["edges"][0]["node"]["status"],
        "APPROVED"
    );
    // Coins followed the approved minutes exactly once: 50 min → 0.83 coin credited by the
    // single winning approval, then the correction to 45 min posted −0.08.
    let bank = app
        .ok(
            Some(&vol),
            "{ me { timeBank { balance entries { edges { node { amount } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(bank["me"]["timeBank"]["balance"], 75);
    let amounts: Vec<i64> = bank["me"]["timeBank"]["entries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, vec![83, -8]);
}

#[tokio::test]
async fn a_missing_check_out_is_closed_at_the_end_and_flagged() {
    let (app, _org, vol, shift, _w) = open_shift().await;
    let now = chrono::Utc::now();
    // Checked in 200 minutes ago on a shift that ran from 210 to 90 minutes ago; never left.
    app.reschedule_shift(
        &shift,
        now - chrono::Duration::minutes(210),
        now - chrono::Duration::minutes(90),
    )
    .await;
    let input = json!({ "i": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.3801, "longitude": 120.98 }, "clientEventId": "in", "occurredAt": (now - chrono::Duration::minutes(200)).to_rfc3339() } });
    app.ok(Some(&vol), CHECK_IN, input).await;
    api::housekeeping::run_once(&app.state).await;
    assert_eq!(
        entity::service_record::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
            .len(),
        1
    );
    let r = entity::service_record::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    // The shift ended 90 minutes ago, past the 60-minute grace: closed at its end, 110 minutes,
    // flagged for review.
    assert_eq!(r.minutes, 110);
    assert!(r.flagged);
    assert!(!r.verified);
    assert_eq!(r.status, entity::service_record::RecordStatus::Pending);
    // The server closed it: no check-out vouches for the end, so the record claims no
    // evidence, however good its check-in was.
    let mine = app
        .ok(
            Some(&vol),
            "{ me { serviceRecords { edges { node { evidence flagged checkIn { evidence } checkOut { evidence } } } } } }",
            json!({}),
        )
        .await;
    let node = &mine["me"]["serviceRecords"]["edges"][0]["node"];
    assert_eq!(node["checkIn"]["evidence"], "LOCATION");
    assert!(node["checkOut"].is_null());
    assert!(node["evidence"].is_null());
    // Running again (or on another replica) adds nothing.
    api::housekeeping::run_once(&app.state).await;
    assert_eq!(
        entity::service_record::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn campaign_progress_counts_approved_service() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = w.organizer.access.clone();
    let campaign = app
        .ok(
            Some(&w.root.access),
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }",
            json!({ "i": { "organizationId": w.city, "title": "慈善同心·志愿同行", "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z" } }),
        )
        .await["createCampaign"]["id"]
        .clone();
    app.ok(
        Some(&w.root.access),
        "mutation($id: ID!) { publishCampaign(id: $id) { id } }",
        json!({ "id": campaign }),
    )
    .await;
    let now = chrono::Utc::now();
    let event = app
        .ok(
            Some(&org),
            "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": { "organizationId": w.station, "campaignId": campaign, "title": "助老", "category": "ELDERLY_CARE", "address": "x", "latitude": 31.38, "longitude": 120.98, "startsAt": (now - chrono::Duration::hours(3)).to_rfc3339(), "endsAt": (now + chrono::Duration::hours(5)).to_rfc3339() } }),
        )
        .await["createEvent"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(&org),
        "mutation($id: ID!) { publishEvent(id: $id) { id } }",
        json!({ "id": event }),
    )
    .await;
    let shift = app
        .shift_at(
            &org,
            &event,
            now + chrono::Duration::minutes(10),
            1,
            false,
            &[],
        )
        .await;
    let vol = app.register("13800000001", "小李").await;
    app.sign_up(&vol.access, &shift, "k").await;
    let q = "query($id: ID!) { campaign(id: $id) { progress { volunteerMinutes volunteerCount eventCount shiftsFilled } } }";
    let p = app.ok(None, q, json!({ "id": campaign })).await["campaign"]["progress"].clone();
    assert_eq!(
        p,
        json!({ "volunteerMinutes": 0, "volunteerCount": 0, "eventCount": 1, "shiftsFilled": 1 })
    );

    // Serve an hour (the shift moved into the past), get it approved: it counts.
    app.reschedule_shift(
        &shift,
        now - chrono::Duration::minutes(90),
        now - chrono::Duration::minutes(30),
    )
    .await;
    let at = |mins_ago: i64, id: &str| json!({ "i": { "shiftId": shift, "method": "GEO", "location": { "latitude": 31.38, "longitude": 120.98 }, "clientEventId": id, "occurredAt": (now - chrono::Duration::minutes(mins_ago)).to_rfc3339() } });
    app.ok(Some(&vol.access), CHECK_IN, at(95, "in")).await;
    app.ok(Some(&vol.access), CHECK_OUT, at(20, "out")).await;
    let p = app.ok(None, q, json!({ "id": campaign })).await["campaign"]["progress"].clone();
    assert_eq!(p["volunteerMinutes"], 0, "pending service does not count");
    let record = entity::service_record::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    app.ok(
        Some(&org),
        "mutation($id: ID!) { approveServiceRecord(id: $id) { status } }",
        json!({ "id": api::ids::encode(api::ids::NodeType::ServiceRecord, record.id) }),
    )
    .await;
    let p = app.ok(None, q, json!({ "id": campaign })).await["campaign"]["progress"].clone();
    assert_eq!(p["volunteerMinutes"], 60);
    assert_eq!(p["volunteerCount"], 1);
}

#[tokio::test]
async fn coins_follow_the_category_rate_and_staff_see_the_issuing_account() {
    // Elderly care pays 1.5 coins an hour here; the event in `open_shift` is elderly care.
    let (app, org, vol, shift, w) = open_shift_with(|c| {
        c.coin_rates = "ELDERLY_CARE=150".parse().unwrap();
    })
    .await;
    let record = app.serve_an_hour(&vol, &shift).await;
    let id = api::ids::encode(api::ids::NodeType::ServiceRecord, record.id);
    app.ok(
        Some(&org),
        "mutation($id: ID!) { approveServiceRecord(id: $id) { status } }",
        json!({ "id": id }),
    )
    .await;
    let balance = "{ me { timeBank { balance } } }";
    let mine = app.ok(Some(&vol), balance, json!({})).await;
    assert_eq!(mine["me"]["timeBank"]["balance"], 150, "60 min at 1.5/h");

    // The station's staff see its issuing account, which paid it; a volunteer may not.
    let org_bank = "query($o: ID!) { node(id: $o) { ... on Organization { timeBank { balance entries { edges { node { amount } } } } } } }";
    let data = app
        .ok(Some(&org), org_bank, json!({ "o": w.station }))
        .await;
    assert_eq!(data["node"]["timeBank"]["balance"], -150);
    assert_eq!(
        data["node"]["timeBank"]["entries"]["edges"][0]["node"]["amount"],
        -150
    );
    assert_eq!(
        app.err_code(Some(&vol), org_bank, json!({ "o": w.station }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            org_bank,
            json!({ "o": w.station })
        )
        .await,
        "FORBIDDEN"
    );

    // The configured rate drops to 1 coin/hour; the record keeps the rate it was approved at,
    // so a correction to 30 minutes is worth 75 at 1.5/h and takes back exactly 75.
    let mut lower = app.state.config.as_ref().clone();
    lower.coin_rates = api::config::CoinRates::default();
    let organizer = entity::account::Entity::find_by_id(w.organizer.account_key())
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    api::checkins::records::review(
        &app.state.db,
        &lower,
        &organizer,
        record.id,
        api::checkins::records::Review::Correct {
            minutes: 30,
            reason: "left early".to_owned(),
        },
    )
    .await
    .unwrap();
    let mine = app.ok(Some(&vol), balance, json!({})).await;
    assert_eq!(mine["me"]["timeBank"]["balance"], 75);
}

#[tokio::test]
async fn an_approval_list_shows_who_served_what_where_and_when() {
    let (app, org, vol, shift, w) = open_shift().await;
    let record = app.serve_an_hour(&vol, &shift).await;
    let list = "query($o: ID!) { serviceRecords(filter: {organizationId: $o, status: PENDING}) {
        totalCount
        edges { node { minutes startedAt endedAt evidence volunteer { displayName }
            shift { id startsAt endsAt } event { title } helpRequest { title } } } } }";
    let data = app.ok(Some(&org), list, json!({ "o": w.station })).await;
    assert_eq!(data["serviceRecords"]["totalCount"], 1);
    let node = &data["serviceRecords"]["edges"][0]["node"];
    // Both ends by the phone's location: that is what the record rests on.
    assert_eq!(node["evidence"], "LOCATION");
    assert_eq!(node["volunteer"]["displayName"], "小李");
    assert_eq!(node["shift"]["id"], shift.as_str());
    assert_eq!(node["event"]["title"], "助餐");
    assert!(node["helpRequest"].is_null());
    // Checked in before the shift began and out after it ended: the counted hour is the
    // shift's own, start to end.
    let at = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    assert_eq!(node["minutes"], 60);
    assert_eq!(at(&node["startedAt"]), at(&node["shift"]["startsAt"]));
    assert_eq!(at(&node["endedAt"]), at(&node["shift"]["endsAt"]));
    assert_eq!(
        at(&node["startedAt"]).timestamp(),
        record.served_at.timestamp()
    );
    // The volunteer sees the same record through their own list.
    let mine = app
        .ok(
            Some(&vol),
            "{ me { serviceRecords(first: 5) { edges { node { event { title } endedAt } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["me"]["serviceRecords"]["edges"][0]["node"]["event"]["title"],
        "助餐"
    );
}

#[tokio::test]
async fn a_ledger_line_says_what_it_paid_for_and_who_was_on_the_other_side() {
    let (app, org, vol, shift, w) = open_shift().await;
    let record = app.serve_an_hour(&vol, &shift).await;
    let record_id = api::ids::encode(api::ids::NodeType::ServiceRecord, record.id);
    app.ok(
        Some(&org),
        "mutation($id: ID!) { approveServiceRecord(id: $id) { status } }",
        json!({ "id": record_id }),
    )
    .await;
    // The volunteer gives part of it to a neighbour, with a note.
    let friend = app.register("13800000002", "老王").await;
    app.ok(
        Some(&vol),
        "mutation($i: TransferTimeCoinsInput!) { transferTimeCoins(input: $i) { amount } }",
        json!({ "i": { "toPhone": "13800000002", "amount": 30, "memo": "谢谢帮忙买菜", "idempotencyKey": "g1" } }),
    )
    .await;

    let ledger = "{ me { timeBank { balance entries { totalCount edges { node {
        amount kind memo
        counterparty { __typename ... on Account { displayName phone } ... on Organization { name } }
        serviceRecord { id minutes event { title } } } } } } } }";
    let mine = app.ok(Some(&vol), ledger, json!({})).await;
    let bank = &mine["me"]["timeBank"];
    assert_eq!(bank["entries"]["totalCount"], 2);
    let paid = &bank["entries"]["edges"][0]["node"];
    assert_eq!(paid["amount"], 100);
    assert_eq!(paid["kind"], "SERVICE");
    assert_eq!(paid["counterparty"]["__typename"], "Organization");
    assert_eq!(paid["counterparty"]["name"], "亭林社工站");
    assert_eq!(paid["serviceRecord"]["id"], record_id.as_str());
    assert_eq!(paid["serviceRecord"]["event"]["title"], "助餐");
    let gift = &bank["entries"]["edges"][1]["node"];
    assert_eq!(gift["amount"], -30);
    assert_eq!(gift["kind"], "GIFT");
    assert_eq!(gift["memo"], "谢谢帮忙买菜");
    assert_eq!(gift["counterparty"]["__typename"], "Account");
    assert_eq!(gift["counterparty"]["displayName"], "老王");
    assert!(gift["serviceRecord"].is_null());

    // The receiver sees who sent it; the sender's phone stays masked to a stranger.
    let theirs = app.ok(Some(&friend.access), ledger, json!({})).await;
    let got = &theirs["me"]["timeBank"]["entries"]["edges"][0]["node"];
    assert_eq!(got["amount"], 30);
    assert_eq!(got["counterparty"]["displayName"], "小李");
    let phone = got["counterparty"]["phone"].as_str().unwrap();
    assert!(phone.contains('*'), "masked: {phone}");

    // The station's issuing account sees whom it paid, and for what.
    let org_bank = "query($o: ID!) { node(id: $o) { ... on Organization { timeBank { entries {
        totalCount edges { node { kind counterparty { ... on Account { displayName } } serviceRecord { id } } } } } } } }";
    let data = app
        .ok(Some(&org), org_bank, json!({ "o": w.station }))
        .await;
    let entries = &data["node"]["timeBank"]["entries"];
    assert_eq!(entries["totalCount"], 1);
    assert_eq!(
        entries["edges"][0]["node"]["counterparty"]["displayName"],
        "小李"
    );
    assert_eq!(
        entries["edges"][0]["node"]["serviceRecord"]["id"],
        record_id.as_str()
    );
}
