//! Station staffing (issue 20, part 1): resident and dispatched social workers, authority that
//! follows a running assignment, the operator's view across stations, masked certificates and
//! the roll-ups in `Organization.stats`.

use chrono::{Duration, Utc};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, World};

const ASSIGN: &str = "mutation($i: AssignSocialWorkerInput!) { assignSocialWorker(input: $i) {
    id kind startsOn endsOn running qualification certificateNumber
    worker { id } station { id } operator { id } } }";
const STAFFING: &str = "query($o: ID!) { organization(id: $o) { staffing {
    id kind running certificateNumber worker { id } } } }";
const END: &str = "mutation($id: ID!, $on: Date) { endStaffAssignment(id: $id, endsOn: $on) { id endsOn running } }";

fn day(offset: i64) -> String {
    (Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        + Duration::days(offset))
    .date_naive()
    .to_string()
}

fn input(station: &str, worker: &Session, kind: &str, extra: Value) -> Value {
    let mut i = json!({
        "stationId": station, "accountId": worker.account_id, "kind": kind,
        "startsOn": day(-10), "endsOn": day(10)
    });
    for (k, v) in extra.as_object().unwrap() {
        i[k] = v.clone();
    }
    json!({ "i": i })
}

async fn operator(app: &TestApp, w: &World) -> String {
    app.create_org(
        &w.root.access,
        "益众社工服务中心",
        "SOCIAL_ORG",
        Some(&w.city),
    )
    .await
}

#[tokio::test]
async fn a_running_assignment_makes_the_worker_staff_of_the_station() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let worker = app.register("13800008001", "沈晓雯").await;
    let later = app.register("13800008002", "陆建峰").await;
    // Before any assignment: not staff.
    assert_eq!(
        app.err_code(Some(&worker.access), STAFFING, json!({ "o": w.station }))
            .await,
        "FORBIDDEN"
    );
    // Only an administrator of the station (or above) assigns.
    let resident = input(
        &w.station,
        &worker,
        "RESIDENT",
        json!({ "qualification": "INTERMEDIATE", "certificateNumber": "SW-2021-0001" }),
    );
    assert_eq!(
        app.err_code(Some(&w.organizer.access), ASSIGN, resident.clone())
            .await,
        "FORBIDDEN"
    );
    let a = app.ok(Some(&w.root.access), ASSIGN, resident.clone()).await;
    let a = &a["assignSocialWorker"];
    assert_eq!(a["kind"], "RESIDENT");
    assert_eq!(a["running"], true);
    assert_eq!(a["certificateNumber"], "SW-2021-0001");
    assert!(a["operator"].is_null());
    // The same worker, the same station, overlapping days: refused.
    assert_eq!(
        app.err_code(Some(&w.root.access), ASSIGN, resident).await,
        "CONFLICT"
    );
    // One who starts tomorrow is not staff yet.
    app.ok(
        Some(&w.root.access),
        ASSIGN,
        input(
            &w.station,
            &later,
            "RESIDENT",
            json!({ "startsOn": day(1) }),
        ),
    )
    .await;
    assert_eq!(
        app.err_code(Some(&later.access), STAFFING, json!({ "o": w.station }))
            .await,
        "FORBIDDEN"
    );
    // The worker is staff now: sees the station's staffing, their own certificate in full;
    // the station's organizer sees its last four characters.
    let seen = app
        .ok(Some(&worker.access), STAFFING, json!({ "o": w.station }))
        .await;
    let list = seen["organization"]["staffing"].as_array().unwrap();
    assert_eq!(list.len(), 1, "only who serves today: {list:?}");
    assert_eq!(list[0]["worker"]["id"], worker.account_id.as_str());
    assert_eq!(list[0]["certificateNumber"], "SW-2021-0001");
    let by_organizer = app
        .ok(
            Some(&w.organizer.access),
            STAFFING,
            json!({ "o": w.station }),
        )
        .await;
    assert_eq!(
        by_organizer["organization"]["staffing"][0]["certificateNumber"],
        "****0001"
    );
    // Not staff of another station.
    assert_eq!(
        app.err_code(
            Some(&worker.access),
            STAFFING,
            json!({ "o": w.other_station })
        )
        .await,
        "FORBIDDEN"
    );
    // Ended yesterday: authority ends with it.
    let ended = app
        .ok(
            Some(&w.root.access),
            END,
            json!({ "id": a["id"], "on": day(-1) }),
        )
        .await;
    assert_eq!(ended["endStaffAssignment"]["running"], false);
    assert_eq!(ended["endStaffAssignment"]["endsOn"], day(-1));
    assert_eq!(
        app.err_code(Some(&worker.access), STAFFING, json!({ "o": w.station }))
            .await,
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn bad_assignments_are_refused_with_the_field() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let op = operator(&app, &w).await;
    let worker = app.register("13800008011", "顾佳怡").await;
    let field = |body: &Value| body["errors"][0]["extensions"]["field"].clone();
    for (i, want) in [
        (
            input(&w.district, &worker, "RESIDENT", json!({})),
            "input.stationId",
        ),
        (
            input(&w.station, &worker, "DISPATCHED", json!({})),
            "input.operatorId",
        ),
        (
            input(&w.station, &worker, "RESIDENT", json!({ "operatorId": op })),
            "input.operatorId",
        ),
        (
            input(
                &w.station,
                &worker,
                "DISPATCHED",
                json!({ "operatorId": w.other_station }),
            ),
            "input.operatorId",
        ),
        (
            input(
                &w.station,
                &worker,
                "RESIDENT",
                json!({ "endsOn": day(-11) }),
            ),
            "input.endsOn",
        ),
        (
            input(
                &w.station,
                &worker,
                "RESIDENT",
                json!({ "certificateNumber": "SW-1" }),
            ),
            "input.certificateNumber",
        ),
    ] {
        let (_, body) = app.post(Some(&w.root.access), ASSIGN, i).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(field(&body), want, "{body}");
    }
    // A dispatched worker with an operator is fine.
    let ok = app
        .ok(
            Some(&w.root.access),
            ASSIGN,
            input(
                &w.station,
                &worker,
                "DISPATCHED",
                json!({ "operatorId": op }),
            ),
        )
        .await;
    assert_eq!(ok["assignSocialWorker"]["operator"]["id"], op.as_str());
}

#[tokio::test]
async fn an_operator_sees_and_recalls_its_workers_across_stations() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let op = operator(&app, &w).await;
    let op_key = api::ids::decode_any(&async_graphql::ID(op.clone()))
        .unwrap()
        .1;
    // The operator's own administrator (not a system administrator).
    let boss = app.register("13800008021", "机构主任").await;
    let root = api::accounts::service::get(&app.state.db, w.root.account_key())
        .await
        .unwrap()
        .unwrap();
    api::organizations::service::grant_membership(
        &app.state.db,
        &root,
        op_key,
        "13800008021",
        api::organizations::domain::MemberRole::Admin,
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for (phone, station) in [
        ("13800008022", &w.station),
        ("13800008023", &w.other_station),
    ] {
        let worker = app.register(phone, "外派社工").await;
        let a = app
            .ok(
                Some(&w.root.access),
                ASSIGN,
                input(station, &worker, "DISPATCHED", json!({ "operatorId": op, "qualification": "ASSISTANT", "certificateNumber": "ASW-2023-9999" })),
            )
            .await;
        ids.push(a["assignSocialWorker"]["id"].clone());
    }
    const DISPATCHED: &str = "query($o: ID!) { organization(id: $o) { dispatchedWorkers { station { id } certificateNumber } } }";
    let seen = app
        .ok(Some(&boss.access), DISPATCHED, json!({ "o": op }))
        .await;
    let list = seen["organization"]["dispatchedWorkers"]
        .as_array()
        .unwrap();
    let stations: Vec<&Value> = list.iter().map(|a| &a["station"]["id"]).collect();
    assert_eq!(stations, [&json!(w.station), &json!(w.other_station)]);
    assert_eq!(list[0]["certificateNumber"], "ASW-2023-9999");
    // Someone else's organizer: not theirs to see.
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            DISPATCHED,
            json!({ "o": op })
        )
        .await,
        "FORBIDDEN"
    );
    // The operator recalls a worker; the station's organizer cannot end an assignment.
    assert_eq!(
        app.err_code(Some(&w.organizer.access), END, json!({ "id": ids[0] }))
            .await,
        "FORBIDDEN"
    );
    let ended = app
        .ok(Some(&boss.access), END, json!({ "id": ids[0] }))
        .await;
    assert_eq!(ended["endStaffAssignment"]["endsOn"], day(0));
}

#[tokio::test]
async fn stats_count_social_workers_over_the_subtree() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let op = operator(&app, &w).await;
    let people = [
        ("13800008031", &w.station, "RESIDENT", Some("SENIOR")),
        ("13800008032", &w.station, "DISPATCHED", None),
        (
            "13800008033",
            &w.other_station,
            "DISPATCHED",
            Some("ASSISTANT"),
        ),
    ];
    for (phone, station, kind, level) in people {
        let worker = app.register(phone, "社工").await;
        let mut extra = if kind == "DISPATCHED" {
            json!({ "operatorId": op })
        } else {
            json!({})
        };
        if let Some(l) = level {
            extra["qualification"] = json!(l);
        }
        app.ok(
            Some(&w.root.access),
            ASSIGN,
            input(station, &worker, kind, extra),
        )
        .await;
    }
    // One whose assignment ended long before the period: not counted.
    let old = app.register("13800008034", "往年社工").await;
    app.ok(
        Some(&w.root.access),
        ASSIGN,
        input(
            &w.station,
            &old,
            "RESIDENT",
            json!({ "startsOn": day(-400), "endsOn": day(-300) }),
        ),
    )
    .await;
    const STATS: &str = "query($o: ID!, $from: DateTime!, $to: DateTime!) { organization(id: $o) { stats(from: $from, to: $to) { residentSocialWorkers dispatchedSocialWorkers certifiedSocialWorkers certifiedShare } } }";
    let figures = |org: &str| {
        let org = org.to_owned();
        let app = &app;
        let token = w.root.access.clone();
        async move {
            let now = Utc::now();
            app.ok(
                Some(&token),
                STATS,
                json!({ "o": org, "from": (now - Duration::days(7)).to_rfc3339(), "to": now.to_rfc3339() }),
            )
            .await["organization"]["stats"]
                .clone()
        }
    };
    // The city: 1 resident, 2 dispatched, 2 of 3 certified.
    let city = figures(&w.city).await;
    assert_eq!(city["residentSocialWorkers"], 1);
    assert_eq!(city["dispatchedSocialWorkers"], 2);
    assert_eq!(city["certifiedSocialWorkers"], 2);
    assert!((city["certifiedShare"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9);
    // The station alone: 1 and 1, one certified.
    let station = figures(&w.station).await;
    assert_eq!(station["residentSocialWorkers"], 1);
    assert_eq!(station["dispatchedSocialWorkers"], 1);
    assert_eq!(station["certifiedSocialWorkers"], 1);
}
