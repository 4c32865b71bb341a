//! Help requests over HTTP: ranking the nearest volunteers, offers, one winner among many
//! acceptances, completion into a service record, and who sees the personal details.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::harness::TestApp;

pub const CREATE: &str =
    "mutation($i: CreateHelpRequestInput!) { createHelpRequest(input: $i) { id status details } }";
const DISPATCH: &str = "mutation($id: ID!, $v: [ID!]!) { dispatchHelpRequest(helpRequestId: $id, volunteerIds: $v) { status dispatchedAt } }";
const ACCEPT: &str =
    "mutation($id: ID!) { acceptHelpOffer(helpRequestId: $id) { status takenByMe details } }";
const SEE: &str = "query($id: ID!) { helpRequest(id: $id) { title status details location { latitude longitude } approximateLocation { latitude longitude } takenByMe myOffer { status } } }";
const NEARBY: &str = "query($id: ID!, $n: Int) { nearbyVolunteers(helpRequestId: $id, first: $n) { volunteer { id } distanceMeters matchedSkills offered } }";

/// Where every request in these tests is (a community in Suzhou).
const HOME: (f64, f64) = (31.3000, 120.6000);

/// Haversine distance in meters with R = 6371 km, written out independently of the server.
fn meters(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

/// A point `north` meters north and `east` meters east of [`HOME`].
fn offset(north: f64, east: f64) -> (f64, f64) {
    let lat = HOME.0 + (north / 6_371_000.0).to_degrees();
    let lng = HOME.1 + (east / (6_371_000.0 * HOME.0.to_radians().cos())).to_degrees();
    (lat, lng)
}

pub fn request_input(org: &str, skills: &[&str]) -> Value {
    json!({ "i": {
        "organizationId": org, "title": "独居老人需要陪同就医", "details": "王奶奶，82岁，电话13912345678，住3栋502",
        "category": "ELDERLY_CARE", "urgency": "HIGH",
        "location": { "latitude": HOME.0, "longitude": HOME.1 }, "neededSkills": skills
    } })
}

async fn report(app: &TestApp, token: &str, org: &str, skills: &[&str]) -> String {
    app.ok(Some(token), CREATE, request_input(org, skills))
        .await["createHelpRequest"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Put `org` at `at`, as its admin would.
async fn locate(app: &TestApp, token: &str, org: &str, at: (f64, f64)) {
    app.ok(
        Some(token),
        "mutation($id: ID!, $i: UpdateOrganizationInput!) { updateOrganization(id: $id, input: $i) { id } }",
        json!({ "id": org, "i": { "latitude": at.0, "longitude": at.1 } }),
    )
    .await;
}

fn account_id(key: i64) -> String {
    api::ids::encode(api::ids::NodeType::Account, key).0
}

#[tokio::test]
async fn nearby_volunteers_rank_by_skills_then_distance_and_skip_the_busy_and_the_far() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let vols = app.bulk_volunteers(9, "1371000").await;
    // (north m, east m, skills, busy on a shift now)
    let setup: [(f64, f64, &[&str], bool); 9] = [
        (500.0, 0.0, &["急救"], false),             // 0: one skill, 500 m
        (900.0, 1_200.0, &["急救", "驾驶"], false), // 1: both skills, 1.5 km
        (-200.0, 0.0, &[], false),                  // 2: no skill, 200 m
        (300.0, 0.0, &["急救", "驾驶"], true),      // 3: both, 300 m, but on a shift
        (20_000.0, 0.0, &["急救", "驾驶"], false),  // 4: both, 20 km: outside 5 km
        (0.0, -800.0, &["驾驶"], false),            // 5: one skill, 800 m
        (0.0, 0.0, &["急救"], false),               // 6: no home location set
        (100.0, 0.0, &["急救", "驾驶"], false),     // 7: both, 100 m, but not available
        (150.0, 0.0, &["急救", "驾驶"], true),      // 8: both, 150 m, checked in on a shift
    ];
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "助餐",
            HOME.0,
            HOME.1,
            1,
            true,
        )
        .await;
    // Starts within the next two hours: volunteer 3 counts as busy for a request without
    // `neededBy`.
    let soon = chrono::Utc::now() + chrono::Duration::minutes(90);
    let shift = app
        .shift_at(&w.organizer.access, &event, soon, 5, false, &[])
        .await;
    for (i, (north, east, skills, busy)) in setup.iter().enumerate() {
        let token = &vols[i].1;
        let mut input = json!({ "skills": skills, "availableForDispatch": i != 7 });
        if i != 6 {
            let (lat, lng) = offset(*north, *east);
            input["homeLocation"] = json!({ "latitude": lat, "longitude": lng });
        }
        app.ok(
            Some(token),
            "mutation($i: UpdateMyProfileInput!) { updateMyProfile(input: $i) { skills } }",
            json!({ "i": input }),
        )
        .await;
        if *busy {
            app.sign_up(token, &shift, format!("busy-{i}")).await;
        }
    }
    // Volunteer 8 is already checked in (a check-in makes the sign-up ATTENDED).
    {
        use entity::signup;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        signup::Entity::update_many()
            .col_expr(signup::Column::Status, Expr::value("ATTENDED"))
            .filter(signup::Column::AccountId.eq(vols[8].0))
            .exec(&app.state.db)
            .await
            .unwrap();
    }
    locate(&app, &w.root.access, &w.station, offset(2_000.0, 0.0)).await;
    let id = report(&app, &w.organizer.access, &w.station, &["急救", "驾驶"]).await;

    let ranked = app
        .ok(
            Some(&w.organizer.access),
            NEARBY,
            json!({ "id": id, "n": 10 }),
        )
        .await["nearbyVolunteers"]
        .as_array()
        .unwrap()
        .clone();
    let order: Vec<String> = ranked
        .iter()
        .map(|c| c["volunteer"]["id"].as_str().unwrap().to_owned())
        .collect();
    // Both skills first; then one skill, nearest first; then none.
    let expected: Vec<String> = [1, 0, 5, 2]
        .iter()
        .map(|&i| account_id(vols[i].0))
        .collect();
    assert_eq!(order, expected, "{ranked:#?}");
    for (c, &i) in ranked.iter().zip([1usize, 0, 5, 2].iter()) {
        let (north, east, _, _) = setup[i];
        let by_hand = (meters(HOME, offset(north, east)) / 100.0).round() * 100.0;
        assert_eq!(
            c["distanceMeters"].as_f64().unwrap(),
            by_hand,
            "volunteer {i}"
        );
        assert_eq!(c["offered"], false);
    }
    assert_eq!(ranked[0]["matchedSkills"], json!(["急救", "驾驶"]));
    assert_eq!(ranked[2]["matchedSkills"], json!(["驾驶"]));
    assert_eq!(ranked[3]["matchedSkills"], json!([]));
    // `first` cuts the ranking.
    let two = app
        .ok(
            Some(&w.organizer.access),
            NEARBY,
            json!({ "id": id, "n": 2 }),
        )
        .await;
    assert_eq!(two["nearbyVolunteers"].as_array().unwrap().len(), 2);

    // Only the organization's staff may look.
    assert_eq!(
        app.err_code(Some(&vols[0].1), NEARBY, json!({ "id": id }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(Some(&w.other_organizer.access), NEARBY, json!({ "id": id }))
            .await,
        "FORBIDDEN"
    );
    // After an offer, the ranking says so.
    app.ok(
        Some(&w.organizer.access),
        DISPATCH,
        json!({ "id": id, "v": [account_id(vols[1].0)] }),
    )
    .await;
    let again = app
        .ok(
            Some(&w.organizer.access),
            NEARBY,
            json!({ "id": id, "n": 1 }),
        )
        .await;
    assert_eq!(again["nearbyVolunteers"][0]["offered"], true);
}

#[tokio::test]
async fn ten_volunteers_accept_at_once_and_one_wins_then_completes_into_a_record() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let vols = app.bulk_volunteers(11, "1372000").await;
    let id = report(&app, &w.organizer.access, &w.station, &[]).await;
    let offered: Vec<String> = vols[..10].iter().map(|(k, _)| account_id(*k)).collect();
    let d = app
        .ok(
            Some(&w.organizer.access),
            DISPATCH,
            json!({ "id": id, "v": offered }),
        )
        .await;
    assert_eq!(d["dispatchHelpRequest"]["status"], "DISPATCHED");

    // An offered volunteer sees the offer, but not yet the personal details.
    let mine = app
        .ok(
            Some(&vols[0].1),
            "{ me { helpOffers(status: OPEN) { edges { node { status helpRequest { id title details location { latitude } } } } } } }",
            json!({}),
        )
        .await;
    let offer = &mine["me"]["helpOffers"]["edges"][0]["node"];
    assert_eq!(offer["status"], "OPEN");
    assert_eq!(offer["helpRequest"]["id"], id);
    assert!(offer["helpRequest"]["details"].is_null());
    assert!(offer["helpRequest"]["location"].is_null());

    // Someone not offered it cannot take it.
    assert_eq!(
        app.err_code(Some(&vols[10].1), ACCEPT, json!({ "id": id }))
            .await,
        "FORBIDDEN"
    );

    let answers = join_all(
        vols[..10]
            .iter()
            .map(|(_, t)| app.post(Some(t), ACCEPT, json!({ "id": id }))),
    )
    .await;
    let winners: Vec<usize> = (0..10)
        .filter(|&i| answers[i].1["errors"].is_null())
        .collect();
    assert_eq!(winners.len(), 1, "{answers:?}");
    for (i, (_, body)) in answers.iter().enumerate() {
        if i != winners[0] {
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "CONFLICT",
                "{body}"
            );
        }
    }
    let winner = &vols[winners[0]].1;
    let loser = &vols[(winners[0] + 1) % 10].1;
    let won = &answers[winners[0]].1["data"]["acceptHelpOffer"];
    assert_eq!(won["status"], "ACCEPTED");
    assert_eq!(won["takenByMe"], true);
    assert!(won["details"].as_str().unwrap().contains("王奶奶"));

    // Personal details: the winner and staff; not the other volunteers, not the public.
    let seen = |token: Option<String>| {
        let app = &app;
        let id = id.clone();
        async move { app.ok(token.as_deref(), SEE, json!({ "id": id })).await["helpRequest"].clone() }
    };
    let by_winner = seen(Some(winner.clone())).await;
    assert!(by_winner["details"].is_string());
    assert_eq!(by_winner["location"]["latitude"], HOME.0);
    // Staff reading the details and the exact location is on the audit log; the volunteer
    // who took it reading their own job is not.
    let audited = |actor: i64| {
        let db = app.state.db.clone();
        async move {
            use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
            let mut actions: Vec<String> = entity::audit_log::Entity::find()
                .filter(entity::audit_log::Column::ActorId.eq(actor))
                .all(&db)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.action)
                .filter(|a| a.starts_with("READ_HELP_"))
                .collect();
            actions.sort();
            actions
        }
    };
    let before = audited(w.organizer.account_key()).await;
    let by_staff = seen(Some(w.organizer.access.clone())).await;
    assert!(by_staff["details"].is_string());
    let mut after = audited(w.organizer.account_key()).await;
    for action in &before {
        let at = after.iter().position(|a| a == action).unwrap();
        after.remove(at);
    }
    assert_eq!(after, ["READ_HELP_DETAILS", "READ_HELP_LOCATION"]);
    assert!(audited(vols[winners[0]].0).await.is_empty());
    let by_loser = seen(Some(loser.clone())).await;
    assert!(by_loser["details"].is_null());
    assert!(by_loser["location"].is_null());
    assert_eq!(by_loser["myOffer"]["status"], "CLOSED");
    assert_eq!(by_loser["takenByMe"], false);
    let by_public = seen(None).await;
    assert!(by_public["details"].is_null());
    assert!(by_public["location"].is_null());
    assert_eq!(by_public["title"], "独居老人需要陪同就医");
    assert_eq!(by_public["approximateLocation"]["latitude"], 31.3);
    let by_other_staff = seen(Some(w.other_organizer.access.clone())).await;
    assert!(by_other_staff["details"].is_null());

    // Staff see every offer: one accepted, nine closed.
    let offers = app
        .ok(
            Some(&w.organizer.access),
            "query($id: ID!) { helpRequest(id: $id) { offers { status } } }",
            json!({ "id": id }),
        )
        .await;
    let statuses: Vec<&str> = offers["helpRequest"]["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.iter().filter(|s| **s == "ACCEPTED").count(), 1);
    assert_eq!(statuses.iter().filter(|s| **s == "CLOSED").count(), 9);

    // Completion: the winner only, with sane minutes; a record waits for approval.
    // A phone retrying its acceptance after a lost answer gets the request, not an error.
    let retried = app.ok(Some(winner), ACCEPT, json!({ "id": id })).await;
    assert_eq!(retried["acceptHelpOffer"]["takenByMe"], true);

    const COMPLETE: &str = "mutation($id: ID!, $m: Int!) { completeHelpRequest(id: $id, note: \"陪同就医完成\", minutesServed: $m) { helpRequest { status minutesServed } serviceRecord { id status minutes } } }";
    // No more time than has passed since it was taken.
    let early = app
        .post(Some(winner), COMPLETE, json!({ "id": id, "m": 45 }))
        .await
        .1;
    assert_eq!(early["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    app.backdate_acceptance(&id, 2).await;
    assert_eq!(
        app.err_code(Some(loser), COMPLETE, json!({ "id": id, "m": 45 }))
            .await,
        "FORBIDDEN"
    );
    let zero = app
        .post(Some(winner), COMPLETE, json!({ "id": id, "m": 0 }))
        .await
        .1;
    assert_eq!(zero["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(zero["errors"][0]["extensions"]["field"], "minutesServed");
    let done = app
        .ok(Some(winner), COMPLETE, json!({ "id": id, "m": 45 }))
        .await["completeHelpRequest"]
        .clone();
    assert_eq!(done["helpRequest"]["status"], "COMPLETED");
    assert_eq!(done["serviceRecord"]["status"], "PENDING");
    assert_eq!(done["serviceRecord"]["minutes"], 45);
    assert_eq!(
        app.err_code(Some(winner), COMPLETE, json!({ "id": id, "m": 45 }))
            .await,
        "CONFLICT"
    );
    // Staff approve it like a shift's record.
    let approved = app
        .ok(
            Some(&w.organizer.access),
            "mutation($id: ID!) { approveServiceRecord(id: $id) { status minutes } }",
            json!({ "id": done["serviceRecord"]["id"] }),
        )
        .await;
    assert_eq!(approved["approveServiceRecord"]["status"], "APPROVED");
    let summary = app
        .ok(Some(winner), "{ me { timeBank { balance } } }", json!({}))
        .await;
    assert!(
        summary["me"]["timeBank"]["balance"].as_i64().unwrap() > 0,
        "{summary}"
    );

    // Every step is on record, in order, with its time.
    let history = app
        .ok(
            Some(&w.organizer.access),
            "query($id: ID!) { helpRequest(id: $id) { responseMinutes history { status at actorId } } }",
            json!({ "id": id }),
        )
        .await;
    let steps = history["helpRequest"]["history"].as_array().unwrap();
    let names: Vec<&str> = steps
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["REPORTED", "DISPATCHED", "ACCEPTED", "COMPLETED"]);
    let times: Vec<chrono::DateTime<chrono::Utc>> = steps
        .iter()
        .map(|s| s["at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|p| p[0] <= p[1]), "{times:?}");
    assert!(steps.iter().all(|s| s["actorId"].is_string()));
    assert_eq!(history["helpRequest"]["responseMinutes"], 0);
    // The public sees the steps but not who took them.
    let public = app
        .ok(
            None,
            "query($id: ID!) { helpRequest(id: $id) { history { status actorId } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        public["helpRequest"]["history"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["actorId"].is_null())
    );

    // The volunteer's data export holds their own steps (accepted, completed) and no one
    // else's: staff's steps may describe the person helped.
    let export = app.ok(Some(winner), "{ exportMyData }", json!({})).await["exportMyData"].clone();
    let mine = export["helpRequestSteps"].as_array().unwrap();
    let winner_key = vols[winners[0]].0;
    assert!(
        mine.iter().any(|s| s["step"] == "ACCEPTED")
            && mine.iter().any(|s| s["step"] == "COMPLETED"),
        "{mine:?}"
    );
    assert!(mine.iter().all(|s| s["actor_id"] == winner_key), "{mine:?}");
}

#[tokio::test]
async fn bad_reports_are_refused_and_only_staff_report_dispatch_and_cancel() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let vol = app.register("13800000077", "小张").await;
    // A volunteer cannot report for an organization.
    assert_eq!(
        app.err_code(Some(&vol.access), CREATE, request_input(&w.station, &[]))
            .await,
        "FORBIDDEN"
    );
    for (patch, field) in [
        (json!({ "title": "" }), "input.title"),
        (
            json!({ "location": { "latitude": 91.0, "longitude": 120.0 } }),
            "input.location.latitude",
        ),
        (json!({ "neededSkills": ["100%"] }), "input.neededSkills"),
        (
            json!({ "neededBy": "2020-01-01T00:00:00Z" }),
            "input.neededBy",
        ),
    ] {
        let mut input = request_input(&w.station, &[]);
        for (k, v) in patch.as_object().unwrap() {
            input["i"][k] = v.clone();
        }
        let body = app.post(Some(&w.organizer.access), CREATE, input).await.1;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let id = report(&app, &w.organizer.access, &w.station, &[]).await;
    let v = account_id(vol.account_key());
    assert_eq!(
        app.err_code(Some(&vol.access), DISPATCH, json!({ "id": id, "v": [v] }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            DISPATCH,
            json!({ "id": id, "v": [] })
        )
        .await,
        "BAD_USER_INPUT"
    );
    app.ok(
        Some(&w.organizer.access),
        DISPATCH,
        json!({ "id": id, "v": [v] }),
    )
    .await;
    // Declining closes the volunteer's offer; cancelling closes the request.
    let declined = app
        .ok(
            Some(&vol.access),
            "mutation($id: ID!) { declineHelpOffer(helpRequestId: $id) { status } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(declined["declineHelpOffer"]["status"], "DECLINED");
    assert_eq!(
        app.err_code(Some(&vol.access), ACCEPT, json!({ "id": id }))
            .await,
        "CONFLICT"
    );
    const CANCEL: &str =
        "mutation($id: ID!) { cancelHelpRequest(id: $id, reason: \"家属已处理\") { status } }";
    assert_eq!(
        app.err_code(Some(&vol.access), CANCEL, json!({ "id": id }))
            .await,
        "FORBIDDEN"
    );
    let c = app
        .ok(Some(&w.organizer.access), CANCEL, json!({ "id": id }))
        .await;
    assert_eq!(c["cancelHelpRequest"]["status"], "CANCELLED");
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            DISPATCH,
            json!({ "id": id, "v": [v] })
        )
        .await,
        "CONFLICT"
    );
    // The district's staff see the station's requests in their subtree.
    let listed = app
        .ok(
            None,
            "query($o: ID!) { helpRequests(filter: {organizationId: $o, status: CANCELLED}) { edges { node { id details } } } }",
            json!({ "o": w.district }),
        )
        .await;
    assert_eq!(listed["helpRequests"]["edges"][0]["node"]["id"], id);
    assert!(listed["helpRequests"]["edges"][0]["node"]["details"].is_null());
}

#[tokio::test]
async fn the_hotline_reports_with_its_scope_and_never_reads_personal_details() {
    use crate::clients_e2e::{CREATE as CREATE_CLIENT, grant};
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut tokens = Vec::new();
    for scopes in [
        json!(["HELP_REQUESTS_WRITE", "PUBLIC_READ"]),
        json!(["PUBLIC_READ"]),
    ] {
        let created = app
            .ok(
                Some(&w.organizer.access),
                CREATE_CLIENT,
                json!({ "i": { "organizationId": w.station, "name": "12345热线", "scopes": scopes } }),
            )
            .await;
        let c = &created["createApiClient"];
        let (status, body) = grant(
            &app,
            c["client"]["clientId"].as_str().unwrap(),
            c["clientSecret"].as_str().unwrap(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        tokens.push(body["access_token"].as_str().unwrap().to_owned());
    }
    let (hotline, reader) = (&tokens[0], &tokens[1]);
    let made = app
        .ok(Some(hotline), CREATE, request_input(&w.station, &["急救"]))
        .await;
    let id = made["createHelpRequest"]["id"].as_str().unwrap().to_owned();
    assert_eq!(made["createHelpRequest"]["status"], "REPORTED");
    assert!(
        made["createHelpRequest"]["details"].is_null(),
        "a client never reads personal details"
    );
    let followed = app
        .ok(
            Some(hotline),
            "query($id: ID!) { helpRequest(id: $id) { status details } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(followed["helpRequest"]["status"], "REPORTED");
    assert!(followed["helpRequest"]["details"].is_null());
    // Without the scope, no reporting; outside its organization, none either.
    let refused = app
        .post(Some(reader), CREATE, request_input(&w.station, &[]))
        .await
        .1;
    assert!(refused["errors"][0]["extensions"]["code"].is_string());
    assert!(refused["data"].is_null() || refused["data"]["createHelpRequest"].is_null());
    assert_eq!(
        app.err_code(Some(hotline), CREATE, request_input(&w.other_station, &[]))
            .await,
        "FORBIDDEN"
    );
    // Statistics are for staff, not for a client that reads the public side.
    let stats = app
        .post(
            Some(reader),
            "query($o: ID!) { organization(id: $o) { stats(from: \"2026-01-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") { approvedMinutes } } }",
            json!({ "o": w.station }),
        )
        .await
        .1;
    assert_eq!(
        stats["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{stats}"
    );
    // The station's staff see who reported it through which channel in the history.
    let staff = app
        .ok(
            Some(&w.organizer.access),
            "query($id: ID!) { helpRequest(id: $id) { details history { status } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(staff["helpRequest"]["details"].is_string());
}

#[tokio::test]
async fn looking_up_who_lives_nearby_has_an_hourly_budget_that_bursts_cannot_overrun() {
    let app = TestApp::spawn_with(|c| c.nearby_lookups_per_hour = 4).await;
    let w = app.world().await;
    locate(&app, &w.root.access, &w.station, HOME).await;
    let id = report(&app, &w.organizer.access, &w.station, &[]).await;
    let answers = futures::future::join_all(
        (0..10).map(|_| app.post(Some(&w.organizer.access), NEARBY, json!({ "id": id }))),
    )
    .await;
    let ok = answers
        .iter()
        .filter(|(_, b)| b["errors"].is_null())
        .count();
    assert_eq!(ok, 4, "{answers:?}");
    let limited = answers
        .iter()
        .find(|(_, b)| !b["errors"].is_null())
        .unwrap();
    assert_eq!(limited.1["errors"][0]["extensions"]["code"], "RATE_LIMITED");
    assert!(
        limited.1["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            > 0
    );
    // Another person's budget is their own.
    let admin = app.register("13900000009", "站长").await;
    app.add_member(&w.root.access, &w.station, "13900000009", "ADMIN")
        .await;
    app.ok(Some(&admin.access), NEARBY, json!({ "id": id }))
        .await;
}

#[tokio::test]
async fn volunteers_are_looked_up_only_inside_the_organizations_area() {
    let app = TestApp::spawn_with(|c| c.dispatch_area_meters = 5_000).await;
    let w = app.world().await;
    let vols = app.bulk_volunteers(1, "1371100").await;
    app.ok(
        Some(&vols[0].1),
        "mutation($i: UpdateMyProfileInput!) { updateMyProfile(input: $i) { skills } }",
        json!({ "i": { "homeLocation": { "latitude": HOME.0, "longitude": HOME.1 }, "availableForDispatch": true } }),
    )
    .await;
    let id = report(&app, &w.organizer.access, &w.station, &[]).await;
    let code = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            app.err_code(Some(&token), NEARBY, json!({ "id": id }))
                .await
        }
    };
    // A station with no location has no area: nobody's home is searched around it.
    assert_eq!(code(w.organizer.access.clone()).await, "FORBIDDEN");
    // A station 20 km away does not make this point its area either.
    locate(&app, &w.root.access, &w.station, offset(20_000.0, 0.0)).await;
    assert_eq!(code(w.organizer.access.clone()).await, "FORBIDDEN");
    // Neither does a located organization elsewhere in the city (the other station).
    locate(&app, &w.root.access, &w.other_station, HOME).await;
    assert_eq!(code(w.organizer.access.clone()).await, "FORBIDDEN");
    // A room of the station 3 km away puts the point inside the station's area.
    let room = app
        .create_org(&w.root.access, "某社区社工室", "ROOM", Some(&w.station))
        .await;
    locate(&app, &w.root.access, &room, offset(0.0, 3_000.0)).await;
    let found = app
        .ok(Some(&w.organizer.access), NEARBY, json!({ "id": id }))
        .await;
    assert_eq!(
        found["nearbyVolunteers"][0]["volunteer"]["id"],
        account_id(vols[0].0)
    );
    // Refused lookups read nobody's home and are not on the audit log; the one that ran is.
    let audited = app
        .ok(
            Some(&w.root.access),
            "query($o: ID!) { auditLog(organizationId: $o, first: 50) { edges { node { action } } } }",
            json!({ "o": w.city }),
        )
        .await;
    let lookups = audited["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["action"] == "NEARBY_VOLUNTEERS")
        .count();
    assert_eq!(lookups, 1, "{audited}");
}
