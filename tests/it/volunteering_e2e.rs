//! Campaigns, events, shifts and sign-ups over HTTP: the rules and every error code.

use serde_json::json;

use crate::harness::{TestApp, first_code};

const SIGNUP_STATUS: &str = "query($id: ID!) { node(id: $id) { ... on Signup { status cancelReason waitlistPosition promotedAt } } }";

#[tokio::test]
async fn campaign_lifecycle_and_draft_visibility() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let stranger = app.register("13800000009", "路人").await;
    let data = app
        .ok(
            Some(&w.organizer.access),
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id status } }",
            json!({ "i": {
                "organizationId": w.station, "title": "慈善同心·志愿同行",
                "startsAt": "2026-12-01T00:00:00+08:00", "endsAt": "2027-03-01T00:00:00+08:00",
                "volunteerHoursGoal": 5000, "fundraisingGoalFen": 10000000
            } }),
        )
        .await;
    let campaign = data["createCampaign"]["id"].as_str().unwrap().to_owned();
    assert_eq!(data["createCampaign"]["status"], "DRAFT");
    let q = "query($id: ID!) { campaign(id: $id) { title status } }";

    // A draft: the organizer and the district's admin chain see it, a stranger does not.
    assert_eq!(
        app.err_code(Some(&stranger.access), q, json!({ "id": campaign }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.err_code(None, q, json!({ "id": campaign })).await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            q,
            json!({ "id": campaign })
        )
        .await,
        "NOT_FOUND"
    );
    app.ok(Some(&w.root.access), q, json!({ "id": campaign }))
        .await;
    let list = app
        .ok(None, "{ campaigns { edges { node { id } } } }", json!({}))
        .await;
    assert_eq!(list["campaigns"]["edges"].as_array().unwrap().len(), 0);

    // Another station's organizer cannot publish it.
    let publish = "mutation($id: ID!) { publishCampaign(id: $id) { status publishedAt } }";
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            publish,
            json!({ "id": campaign })
        )
        .await,
        "NOT_FOUND"
    );
    let data = app
        .ok(
            Some(&w.organizer.access),
            publish,
            json!({ "id": campaign }),
        )
        .await;
    assert_eq!(data["publishCampaign"]["status"], "PUBLISHED");
    assert_eq!(
        app.ok(None, q, json!({ "id": campaign })).await["campaign"]["status"],
        "PUBLISHED"
    );
    // Publishing twice is a conflict; closing works once.
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            publish,
            json!({ "id": campaign })
        )
        .await,
        "CONFLICT"
    );
    let data = app
        .ok(
            Some(&w.organizer.access),
            "mutation($id: ID!) { closeCampaign(id: $id) { status } }",
            json!({ "id": campaign }),
        )
        .await;
    assert_eq!(data["closeCampaign"]["status"], "CLOSED");

    // Filters: by organization subtree, and active time.
    let data = app
        .ok(
            None,
            "query($o: ID!) { campaigns(filter: {organizationId: $o, activeAt: \"2027-01-15T00:00:00Z\", search: \"志愿\"}) { edges { node { id } } } }",
            json!({ "o": w.city }),
        )
        .await;
    assert_eq!(
        data["campaigns"]["edges"][0]["node"]["id"],
        campaign.as_str()
    );
}

#[tokio::test]
async fn unpublished_events_are_hidden_and_other_stations_cannot_edit() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let stranger = app.register("13800000009", "路人").await;
    let draft = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "草稿活动",
            31.38,
            120.98,
            48,
            false,
        )
        .await;
    let q = "query($id: ID!) { event(id: $id) { title status } }";
    assert_eq!(
        app.err_code(Some(&stranger.access), q, json!({ "id": draft }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.ok(Some(&w.organizer.access), q, json!({ "id": draft }))
            .await["event"]["status"],
        "DRAFT"
    );

    let published = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "公开活动",
            31.38,
            120.98,
            48,
            true,
        )
        .await;
    app.ok(Some(&stranger.access), q, json!({ "id": published }))
        .await;
    let code = app
        .err_code(
            Some(&w.other_organizer.access),
            "mutation($id: ID!) { updateEvent(id: $id, input: {title: \"改掉\"}) { id } }",
            json!({ "id": published }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let code = app
        .err_code(
            Some(&w.other_organizer.access),
            "mutation($i: CreateShiftInput!) { createShift(input: $i) { id } }",
            json!({ "i": { "eventId": published, "title": "x", "startsAt": "2030-01-01T00:00:00Z", "endsAt": "2030-01-01T01:00:00Z", "capacity": 1 } }),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    // The district's organizer chain: the root (system admin) may edit.
    app.ok(
        Some(&w.root.access),
        "mutation($id: ID!) { updateEvent(id: $id, input: {title: \"管理员改名\"}) { title } }",
        json!({ "id": published }),
    )
    .await;
}

#[tokio::test]
async fn signups_list_is_for_staff_with_masked_phones() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "助餐",
            31.38,
            120.98,
            48,
            true,
        )
        .await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 5, true, &[])
        .await;
    let vol = app.register("13812341234", "小王").await;
    let body = app.sign_up(&vol.access, &shift, "k1").await;
    assert_eq!(body["data"]["signUpForShift"]["status"], "CONFIRMED");

    let q = "query($id: ID!) { shift(id: $id) { signups { edges { node { status volunteer { displayName phone } } } } } }";
    let stranger = app.register("13800000009", "路人").await;
    assert_eq!(
        app.err_code(Some(&stranger.access), q, json!({ "id": shift }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(Some(&vol.access), q, json!({ "id": shift }))
            .await,
        "FORBIDDEN"
    );
    let data = app
        .ok(Some(&w.organizer.access), q, json!({ "id": shift }))
        .await;
    let node = &data["shift"]["signups"]["edges"][0]["node"];
    assert_eq!(node["volunteer"]["displayName"], "小王");
    assert_eq!(node["volunteer"]["phone"], "138****1234");
}

#[tokio::test]
async fn every_signup_error_has_its_code() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app
        .event_at(org, &w.station, "助餐", 31.38, 120.98, 48, true)
        .await;
    let starts = chrono::Utc::now() + chrono::Duration::hours(48);
    let tiny = app.shift_at(org, &event, starts, 1, false, &[]).await;
    let overlapping = app
        .shift_at(
            org,
            &event,
            starts + chrono::Duration::hours(1),
            5,
            true,
            &[],
        )
        .await;
    let skilled = app
        .shift_at(
            org,
            &event,
            starts + chrono::Duration::hours(4),
            5,
            true,
            &["急救", "driving"],
        )
        .await;
    let a = app.register("13800000001", "甲").await;
    let b = app.register("13800000002", "乙").await;

    assert_eq!(
        app.sign_up(&a.access, &tiny, "a1").await["data"]["signUpForShift"]["status"],
        "CONFIRMED"
    );
    // Full, no waitlist.
    assert_eq!(
        first_code(&app.sign_up(&b.access, &tiny, "b1").await),
        "SHIFT_FULL"
    );
    // Again with another key.
    assert_eq!(
        first_code(&app.sign_up(&a.access, &tiny, "a2").await),
        "ALREADY_SIGNED_UP"
    );
    // Overlapping in time with the active sign-up.
    assert_eq!(
        first_code(&app.sign_up(&a.access, &overlapping, "a3").await),
        "CONFLICT"
    );
    // Missing skills, listed.
    let body = app.sign_up(&a.access, &skilled, "a4").await;
    assert_eq!(first_code(&body), "FORBIDDEN");
    let mut missing: Vec<String> =
        serde_json::from_value(body["errors"][0]["extensions"]["missingSkills"].clone()).unwrap();
    missing.sort();
    assert_eq!(missing, vec!["driving", "急救"]);
    app.ok(
        Some(&a.access),
        "mutation { updateMyProfile(input: {skills: [\"Driving\", \"急救\"]}) { skills } }",
        json!({}),
    )
    .await;
    assert_eq!(
        app.sign_up(&a.access, &skilled, "a5").await["data"]["signUpForShift"]["status"],
        "CONFIRMED"
    );

    // A cancelled shift.
    app.ok(
        Some(org),
        "mutation($id: ID!) { cancelShift(id: $id, reason: \"天气\") { status } }",
        json!({ "id": overlapping }),
    )
    .await;
    assert_eq!(
        first_code(&app.sign_up(&b.access, &overlapping, "b2").await),
        "BAD_USER_INPUT"
    );

    // A started shift (an event that began an hour ago).
    let running = app
        .event_at(org, &w.station, "进行中", 31.38, 120.98, -1, true)
        .await;
    let started = app.shift_in(org, &running, 5, true, &[]).await;
    assert_eq!(
        first_code(&app.sign_up(&b.access, &started, "b3").await),
        "BAD_USER_INPUT"
    );

    // An unpublished event: invisible to volunteers, and not open to its organizers either.
    let draft = app
        .event_at(org, &w.station, "草稿", 31.38, 120.98, 72, false)
        .await;
    let draft_shift = app.shift_in(org, &draft, 5, true, &[]).await;
    assert_eq!(
        first_code(&app.sign_up(&b.access, &draft_shift, "b4").await),
        "NOT_FOUND"
    );
    assert_eq!(
        first_code(&app.sign_up(org, &draft_shift, "o1").await),
        "BAD_USER_INPUT"
    );

    // Not logged in.
    let (_, body) = app
        .post(
            None,
            "mutation($s: ID!) { signUpForShift(shiftId: $s, idempotencyKey: \"x\") { id } }",
            json!({ "s": tiny }),
        )
        .await;
    assert_eq!(first_code(&body), "UNAUTHENTICATED");
    // A bad key.
    assert_eq!(
        first_code(&app.sign_up(&b.access, &tiny, "has spaces").await),
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn cancelling_promotes_the_waitlist_head_and_capacity_rules_hold() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app
        .event_at(org, &w.station, "助餐", 31.38, 120.98, 48, true)
        .await;
    let shift = app.shift_in(org, &event, 1, true, &[]).await;
    let a = app.register("13800000001", "甲").await;
    let b = app.register("13800000002", "乙").await;
    let c = app.register("13800000003", "丙").await;
    let sa = app.sign_up(&a.access, &shift, "a").await["data"]["signUpForShift"].clone();
    let sb = app.sign_up(&b.access, &shift, "b").await["data"]["signUpForShift"].clone();
    let sc = app.sign_up(&c.access, &shift, "c").await["data"]["signUpForShift"].clone();
    assert_eq!(sb["waitlistPosition"], 1);
    assert_eq!(sc["waitlistPosition"], 2);

    app.ok(
        Some(&a.access),
        "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
        json!({ "id": sa["id"] }),
    )
    .await;
    let b_now = app
        .ok(Some(&b.access), SIGNUP_STATUS, json!({ "id": sb["id"] }))
        .await;
    assert_eq!(b_now["node"]["status"], "CONFIRMED");
    assert!(b_now["node"]["promotedAt"].is_string());
    let c_now = app
        .ok(Some(&c.access), SIGNUP_STATUS, json!({ "id": sc["id"] }))
        .await;
    assert_eq!(c_now["node"]["waitlistPosition"], 1);

    // Capacity cannot drop below the confirmed count …
    let code = app
        .err_code(
            Some(org),
            "mutation($id: ID!) { updateShift(id: $id, input: {capacity: 0}) { id } }",
            json!({ "id": shift }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    // … and raising it hands the new place to the waitlist.
    let data = app
        .ok(
            Some(org),
            "mutation($id: ID!) { updateShift(id: $id, input: {capacity: 2}) { confirmedCount waitlistCount } }",
            json!({ "id": shift }),
        )
        .await;
    assert_eq!(data["updateShift"]["confirmedCount"], 2);
    assert_eq!(data["updateShift"]["waitlistCount"], 0);
    let code = app
        .err_code(
            Some(org),
            "mutation($id: ID!) { updateShift(id: $id, input: {capacity: 1}) { id } }",
            json!({ "id": shift }),
        )
        .await;
    assert_eq!(code, "CONFLICT");

    // Staff cancel with a reason the volunteer reads; the volunteer's own list shows it.
    app.ok(
        Some(org),
        "mutation($id: ID!) { cancelSignup(signupId: $id, reason: \"名额调整\") { status } }",
        json!({ "id": sc["id"] }),
    )
    .await;
    let mine = app
        .ok(
            Some(&c.access),
            "{ me { signups { edges { node { status cancelReason shift { title } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["me"]["signups"]["edges"][0]["node"]["cancelReason"],
        "名额调整"
    );
    // Cancelling twice is a conflict; a stranger cannot cancel at all.
    let again = app
        .err_code(
            Some(&c.access),
            "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
            json!({ "id": sc["id"] }),
        )
        .await;
    assert_eq!(again, "CONFLICT");
    let stranger = app
        .err_code(
            Some(&a.access),
            "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
            json!({ "id": sb["id"] }),
        )
        .await;
    assert_eq!(stranger, "NOT_FOUND");
}

#[tokio::test]
async fn cancelling_an_event_cancels_its_shifts_and_signups_with_the_reason() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app
        .event_at(org, &w.station, "助餐", 31.38, 120.98, 48, true)
        .await;
    let shift = app.shift_in(org, &event, 1, true, &[]).await;
    let a = app.register("13800000001", "甲").await;
    let b = app.register("13800000002", "乙").await;
    let sa = app.sign_up(&a.access, &shift, "a").await["data"]["signUpForShift"]["id"].clone();
    let sb = app.sign_up(&b.access, &shift, "b").await["data"]["signUpForShift"]["id"].clone();
    let data = app
        .ok(
            Some(org),
            "mutation($id: ID!) { cancelEvent(id: $id, reason: \"台风预警，活动取消\") { status cancelReason shifts { edges { node { status remainingSlots } } } } }",
            json!({ "id": event }),
        )
        .await;
    assert_eq!(data["cancelEvent"]["status"], "CANCELLED");
    assert_eq!(
        data["cancelEvent"]["shifts"]["edges"][0]["node"]["status"],
        "CANCELLED"
    );
    assert_eq!(
        data["cancelEvent"]["shifts"]["edges"][0]["node"]["remainingSlots"],
        0
    );
    for (who, id) in [(&a, &sa), (&b, &sb)] {
        let s = app
            .ok(Some(&who.access), SIGNUP_STATUS, json!({ "id": id }))
            .await;
        assert_eq!(s["node"]["status"], "CANCELLED");
        assert_eq!(s["node"]["cancelReason"], "台风预警，活动取消");
    }
}

#[tokio::test]
async fn near_filters_and_distance_order_match_hand_computed_distances() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    // Around Kunshan: the center, ~1.1 km north, ~5.6 km east, ~30 km away.
    let center: (f64, f64) = (31.3800, 120.9800);
    let places = [
        ("近", 31.3900, 120.9800),
        ("中", 31.3800, 121.0390),
        ("远", 31.6500, 120.9800),
    ];
    for (name, lat, lng) in places {
        let e = app
            .event_at(org, &w.station, name, lat, lng, 48, true)
            .await;
        app.shift_in(org, &e, 3, true, &[]).await;
    }
    let hand = |lat: f64, lng: f64| {
        let (la1, lo1, la2, lo2) = (
            center.0.to_radians(),
            center.1.to_radians(),
            lat.to_radians(),
            lng.to_radians(),
        );
        let a = ((la2 - la1) / 2.0).sin().powi(2)
            + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
        2.0 * 6_371_000.0 * a.sqrt().asin()
    };
    let data = app
        .ok(
            None,
            "query($n: NearInput!) { events(filter: {near: $n}, orderBy: DISTANCE) { edges { node { title distanceMeters } } } }",
            json!({ "n": { "latitude": center.0, "longitude": center.1, "radiusMeters": 10000.0 } }),
        )
        .await;
    let edges = data["events"]["edges"].as_array().unwrap();
    let titles: Vec<&str> = edges
        .iter()
        .map(|e| e["node"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["近", "中"]);
    for (edge, (_, lat, lng)) in edges.iter().zip(places) {
        let got = edge["node"]["distanceMeters"].as_f64().unwrap();
        let want = hand(lat, lng);
        assert!((got - want).abs() < 1.0, "{got} vs {want}");
    }
    assert!((hand(31.39, 120.98) - 1112.0).abs() < 2.0);

    // The volunteer home feed: open shifts near me.
    let data = app
        .ok(
            None,
            "query($n: NearInput!) { shifts(first: 50, filter: {hasOpenSlots: true, near: $n}) { edges { node { remainingSlots event { title organization { name } } } } } }",
            json!({ "n": { "latitude": center.0, "longitude": center.1, "radiusMeters": 2000.0 } }),
        )
        .await;
    let edges = data["shifts"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["event"]["title"], "近");
    assert_eq!(
        edges[0]["node"]["event"]["organization"]["name"],
        "亭林社工站"
    );
    assert_eq!(edges[0]["node"]["remainingSlots"], 3);
    // DISTANCE order needs a point.
    let code = app
        .err_code(
            None,
            "{ events(orderBy: DISTANCE) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_series_requested_twice_is_created_once() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let starts = chrono::Utc::now() + chrono::Duration::hours(24);
    let data = app
        .ok(
            Some(org),
            "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": {
                "organizationId": w.station, "title": "每周助餐", "category": "ELDERLY_CARE",
                "address": "采莲社区", "latitude": 31.38, "longitude": 120.98,
                "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::Duration::days(60)).to_rfc3339()
            } }),
        )
        .await;
    let event = data["createEvent"]["id"].as_str().unwrap().to_owned();
    let series = json!({ "i": {
        "eventId": event,
        "template": { "title": "助餐", "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::Duration::hours(2)).to_rfc3339(), "capacity": 4 },
        "recurrence": { "frequency": "DAILY", "count": 5 }
    } });
    let q =
        "mutation($i: CreateShiftSeriesInput!) { createShiftSeries(input: $i) { id startsAt } }";
    let first = app.ok(Some(org), q, series.clone()).await;
    let again = app.ok(Some(org), q, series).await;
    assert_eq!(first["createShiftSeries"].as_array().unwrap().len(), 5);
    assert_eq!(first, again);
    let all = app
        .ok(
            Some(org),
            "query($id: ID!) { event(id: $id) { shifts(first: 100) { edges { node { id } } } } }",
            json!({ "id": event }),
        )
        .await;
    assert_eq!(all["event"]["shifts"]["edges"].as_array().unwrap().len(), 5);
}

#[tokio::test]
async fn events_join_only_published_campaigns_from_above() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    // A campaign of the district (above the station), published by the root.
    let data = app
        .ok(
            Some(&w.root.access),
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }",
            json!({ "i": { "organizationId": w.district, "title": "区级活动", "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z" } }),
        )
        .await;
    let campaign = data["createCampaign"]["id"].as_str().unwrap().to_owned();
    let create = |campaign: String| {
        let app = &app;
        let org = w.organizer.access.clone();
        let station = w.station.clone();
        async move {
            app.post(
                Some(&org),
                "mutation($i: CreateEventInput!) { createEvent(input: $i) { id campaign { id } } }",
                json!({ "i": {
                    "organizationId": station, "campaignId": campaign, "title": "参加", "category": "ENVIRONMENT",
                    "address": "x", "latitude": 31.0, "longitude": 120.0,
                    "startsAt": "2029-01-01T00:00:00Z", "endsAt": "2029-01-01T04:00:00Z"
                } }),
            )
            .await
            .1
        }
    };
    // Still a draft: refused.
    assert_eq!(
        first_code(&create(campaign.clone()).await),
        "BAD_USER_INPUT"
    );
    app.ok(
        Some(&w.root.access),
        "mutation($id: ID!) { publishCampaign(id: $id) { id } }",
        json!({ "id": campaign }),
    )
    .await;
    let body = create(campaign.clone()).await;
    assert_eq!(
        body["data"]["createEvent"]["campaign"]["id"],
        campaign.as_str(),
        "{body}"
    );
    let event = body["data"]["createEvent"]["id"].clone();

    // The campaign lists its events (once published, for everyone).
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { publishEvent(id: $id) { id } }",
        json!({ "id": event }),
    )
    .await;
    let data = app
        .ok(
            None,
            "query($id: ID!) { campaign(id: $id) { events { edges { node { id } } } } }",
            json!({ "id": campaign }),
        )
        .await;
    assert_eq!(data["campaign"]["events"]["edges"][0]["node"]["id"], event);

    // A shift must lie inside its event's window.
    let code = app
        .err_code(
            Some(&w.organizer.access),
            "mutation($i: CreateShiftInput!) { createShift(input: $i) { id } }",
            json!({ "i": { "eventId": event, "title": "太晚", "startsAt": "2029-01-01T03:00:00Z", "endsAt": "2029-01-01T05:00:00Z", "capacity": 2 } }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_volunteers_path_profile_my_signup_my_list_and_no_show() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app
        .event_at(org, &w.station, "助餐", 31.38, 120.98, 48, true)
        .await;
    let plain = app.shift_in(org, &event, 3, true, &[]).await;
    let later = chrono::Utc::now() + chrono::Duration::hours(52);
    let first_aid = app.shift_at(org, &event, later, 3, true, &["急救"]).await;
    let vol = app.register("13800000001", "小李").await;

    // Profile: empty at first, then updated; the home location is the volunteer's own.
    let me = app
        .ok(
            Some(&vol.access),
            "{ me { volunteerProfile { volunteerNumber skills homeLocation { latitude } } } }",
            json!({}),
        )
        .await;
    assert!(
        me["me"]["volunteerProfile"]["volunteerNumber"]
            .as_str()
            .unwrap()
            .starts_with("TX")
    );
    assert_eq!(me["me"]["volunteerProfile"]["skills"], json!([]));
    let data = app
        .ok(
            Some(&vol.access),
            "mutation { updateMyProfile(input: {skills: [\"急救\"], bio: \"退休护士\", homeLocation: {latitude: 31.381, longitude: 120.981}}) { skills bio homeLocation { latitude longitude } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["updateMyProfile"]["skills"], json!(["急救"]));
    assert_eq!(data["updateMyProfile"]["homeLocation"]["latitude"], 31.381);

    // Find shifts asking for my skill, sign up, see it as mySignup and in me.signups.
    let data = app
        .ok(
            None,
            "{ shifts(filter: {skill: \"急救\"}) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(data["shifts"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(data["shifts"]["edges"][0]["node"]["id"], first_aid.as_str());
    app.sign_up(&vol.access, &first_aid, "p1").await;
    let s = app.sign_up(&vol.access, &plain, "p2").await;
    let plain_signup = s["data"]["signUpForShift"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = app
        .ok(
            Some(&vol.access),
            "query($id: ID!) { shift(id: $id) { mySignup { status } } }",
            json!({ "id": plain }),
        )
        .await;
    assert_eq!(data["shift"]["mySignup"]["status"], "CONFIRMED");
    let data = app
        .ok(
            None,
            "query($id: ID!) { shift(id: $id) { mySignup { status } } }",
            json!({ "id": plain }),
        )
        .await;
    assert!(data["shift"]["mySignup"].is_null());
    let mine = app
        .ok(
            Some(&vol.access),
            "{ me { signups(filter: {status: CONFIRMED, upcoming: true}) { edges { node { shift { id } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(mine["me"]["signups"]["edges"].as_array().unwrap().len(), 2);
    let past = app
        .ok(
            Some(&vol.access),
            "{ me { signups(filter: {upcoming: false}) { edges { cursor } } } }",
            json!({}),
        )
        .await;
    assert_eq!(past["me"]["signups"]["edges"].as_array().unwrap().len(), 0);

    // Another volunteer cannot even see my sign-up; staff see it but not my profile.
    let other = app.register("13800000002", "小张").await;
    let q = "query($id: ID!) { node(id: $id) { ... on Signup { volunteer { volunteerProfile { bio } } } } }";
    let data = app
        .ok(Some(&other.access), q, json!({ "id": plain_signup }))
        .await;
    assert!(data["node"].is_null());
    assert_eq!(
        app.err_code(Some(org), q, json!({ "id": plain_signup }))
            .await,
        "FORBIDDEN"
    );

    // The shift starts; the volunteer does not come; staff mark the no-show.
    let no_show = "mutation($id: ID!) { markNoShow(signupId: $id) { status } }";
    assert_eq!(
        app.err_code(Some(org), no_show, json!({ "id": plain_signup }))
            .await,
        "BAD_USER_INPUT"
    );
    let key = match api::ids::decode_any(&plain) {
        Some((_, k)) => k,
        None => unreachable!(),
    };
    entity::shift::Entity::update_many()
        .col_expr(
            entity::shift::Column::StartsAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::minutes(5)),
        )
        .filter(entity::shift::Column::Id.eq(key))
        .exec(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        app.err_code(Some(&vol.access), no_show, json!({ "id": plain_signup }))
            .await,
        "NOT_FOUND"
    );
    let data = app
        .ok(Some(org), no_show, json!({ "id": plain_signup }))
        .await;
    assert_eq!(data["markNoShow"]["status"], "NO_SHOW");
    // And the volunteer can no longer cancel a started shift.
    let code = app
        .err_code(
            Some(&vol.access),
            "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
            json!({ "id": plain_signup }),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}
