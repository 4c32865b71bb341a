//! What a phone's list screens need: `totalCount` on connections (counted only when asked,
//! with the list's own visibility) and `updatedSince` to refresh a cache with what changed.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::harness::TestApp;

/// Run `query` as `account` through the schema and count its SQL statements.
async fn statements(app: &TestApp, account: Option<i64>, query: &str) -> (Value, u32) {
    let schema = api::build_schema(app.state.clone());
    let mut request = async_graphql::Request::new(query);
    if let Some(a) = account {
        request = request.data(Arc::new(api::auth::Viewer::account(a, None)));
    }
    let (response, n) = api::db::count_statements(schema.execute(request)).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    (response.data.into_json().unwrap(), n)
}

#[tokio::test]
async fn total_count_follows_the_lists_visibility_and_costs_one_count_when_asked() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    // Three published events with 1, 2 and 3 shifts, and a draft with 4.
    for (i, publish) in [(1, true), (2, true), (3, true), (4, false)] {
        let event = app
            .event_at(
                org,
                &w.station,
                &format!("活动{i}"),
                31.38,
                120.98,
                1,
                publish,
            )
            .await;
        for _ in 0..i {
            app.shift_in(org, &event, 5, false, &[]).await;
        }
    }
    let totals =
        "{ events(first: 1) { totalCount edges { node { id } } } shifts(first: 2) { totalCount } }";
    // The public sees the published events; their organizer sees the draft too.
    let public = app.ok(None, totals, json!({})).await;
    assert_eq!(public["events"]["totalCount"], 3);
    assert_eq!(public["shifts"]["totalCount"], 6);
    assert_eq!(public["events"]["edges"].as_array().unwrap().len(), 1);
    let own = app.ok(Some(org), totals, json!({})).await;
    assert_eq!(own["events"]["totalCount"], 4);
    assert_eq!(own["shifts"]["totalCount"], 10);
    // A filter narrows the count as it narrows the pages.
    let other = app
        .ok(
            None,
            "query($o: ID!) { events(filter: {organizationId: $o}) { totalCount } }",
            json!({ "o": w.other_station }),
        )
        .await;
    assert_eq!(other["events"]["totalCount"], 0);

    // Nested under a list, every event's count comes from one GROUP BY.
    let nested = |count: bool| {
        format!(
            "{{ events(first: 10) {{ edges {{ node {{ title shifts(first: 1) {{ {} edges {{ node {{ id }} }} }} }} }} }} }}",
            if count { "totalCount" } else { "" }
        )
    };
    let organizer = Some(w.organizer.account_key());
    let (plain, without) = statements(&app, organizer, &nested(false)).await;
    let (counted, with) = statements(&app, organizer, &nested(true)).await;
    assert_eq!(with, without + 1, "one COUNT for every event's shifts");
    let edges = counted["events"]["edges"].as_array().unwrap();
    let mut counts: Vec<(String, i64)> = edges
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["title"].as_str().unwrap().to_owned(),
                n["shifts"]["totalCount"].as_i64().unwrap(),
            )
        })
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        [("活动1", 1), ("活动2", 2), ("活动3", 3), ("活动4", 4)].map(|(t, n)| (t.to_owned(), n))
    );
    assert_eq!(
        plain["events"]["edges"].as_array().unwrap().len(),
        edges.len()
    );
    // Not asked, not counted: the root list costs the same with `pageInfo` as without.
    let (_, bare) = statements(&app, organizer, "{ events { edges { node { id } } } }").await;
    let (_, total) = statements(
        &app,
        organizer,
        "{ events { totalCount edges { node { id } } } }",
    )
    .await;
    assert_eq!(total, bare + 1);
    // `first: 0` asks for the count alone.
    let only = app
        .ok(
            None,
            "{ events(first: 0) { totalCount edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(only["events"]["totalCount"], 3);
    assert_eq!(only["events"]["edges"], json!([]));
}

#[tokio::test]
async fn total_count_of_a_staff_list_needs_the_staff() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let event = app.station_event(&w, "助餐").await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 1, true, &[])
        .await;
    for (i, phone) in ["13800000011", "13800000012", "13800000013"]
        .iter()
        .enumerate()
    {
        let v = app.register(phone, "志愿者").await;
        app.sign_up(&v.access, &shift, format!("k{i}")).await;
    }
    let q = "query($s: ID!) { shift(id: $s) { all: signups { totalCount } waiting: signups(status: WAITLISTED) { totalCount } } }";
    let data = app
        .ok(Some(&w.organizer.access), q, json!({ "s": shift }))
        .await;
    assert_eq!(data["shift"]["all"]["totalCount"], 3);
    assert_eq!(data["shift"]["waiting"]["totalCount"], 2);
    // Someone else's staff learn nothing, not even how many.
    assert_eq!(
        app.err_code(Some(&w.other_organizer.access), q, json!({ "s": shift }))
            .await,
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn a_phone_refreshes_its_cache_with_what_changed_since_its_last_sync() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app.station_event(&w, "助餐").await;
    let starts = chrono::Utc::now() + chrono::Duration::minutes(61);
    let mut shifts = Vec::new();
    // The first three do not overlap: the volunteer signs up for each.
    for offset in [0, 120, 240, 300] {
        let at = starts + chrono::Duration::minutes(offset);
        shifts.push(app.shift_at(org, &event, at, 5, false, &[]).await);
    }
    let vol = app.register("13800000001", "小李").await;
    let mut signups = Vec::new();
    for (i, s) in shifts.iter().take(3).enumerate() {
        let body = app.sign_up(&vol.access, s, format!("k{i}")).await;
        signups.push(
            body["data"]["signUpForShift"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let synced = a_sync().await;

    // Since the sync: the volunteer cancels their sign-up on shift 0, another volunteer takes
    // a place on shift 1, the organizer renames shift 2 and cancels shift 3.
    app.ok(
        Some(&vol.access),
        "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
        json!({ "id": signups[0] }),
    )
    .await;
    let other = app.register("13800000002", "老王").await;
    app.sign_up(&other.access, &shifts[1], "o1").await;
    app.ok(
        Some(org),
        "mutation($id: ID!) { updateShift(id: $id, input: {title: \"送餐\"}) { id } }",
        json!({ "id": shifts[2] }),
    )
    .await;
    app.ok(
        Some(org),
        "mutation($id: ID!) { cancelShift(id: $id, reason: \"下雨\") { id } }",
        json!({ "id": shifts[3] }),
    )
    .await;

    // My sign-ups: the cancelled one only (sign-up 3 was on shift 2, which was renamed, but
    // the sign-up itself did not change).
    let mine = "query($t: DateTime!, $after: String) { me { signups(first: 1, after: $after, filter: {updatedSince: $t}) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id status updatedAt } } } } }";
    let data = app
        .ok(Some(&vol.access), mine, json!({ "t": synced.to_rfc3339() }))
        .await;
    let page = &data["me"]["signups"];
    assert_eq!(page["totalCount"], 1);
    assert_eq!(page["edges"][0]["node"]["id"], signups[0].as_str());
    assert_eq!(page["edges"][0]["node"]["status"], "CANCELLED");
    assert_eq!(page["pageInfo"]["hasNextPage"], false);

    // The event's shifts: the two whose places changed, the renamed one and the cancelled
    // one, oldest change first, page by page.
    let changed = "query($e: ID!, $t: DateTime!, $after: String) { event(id: $e) { shifts(first: 2, after: $after, updatedSince: $t) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { id title status confirmedCount updatedAt } } } } }";
    let vars = json!({ "e": event, "t": synced.to_rfc3339() });
    let first = app.ok(None, changed, vars.clone()).await["event"]["shifts"].clone();
    assert_eq!(
        first["totalCount"], 4,
        "shift 0 lost a sign-up, 1 gained one, 2 renamed, 3 cancelled"
    );
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let mut vars2 = vars.clone();
    vars2["after"] = first["pageInfo"]["endCursor"].clone();
    let second = app.ok(None, changed, vars2).await["event"]["shifts"].clone();
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    let nodes: Vec<Value> = first["edges"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["edges"].as_array().unwrap())
        .map(|e| e["node"].clone())
        .collect();
    let ids: Vec<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids, shifts.iter().map(String::as_str).collect::<Vec<_>>());
    let stamps: Vec<chrono::DateTime<chrono::Utc>> = nodes
        .iter()
        .map(|n| n["updatedAt"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        stamps.windows(2).all(|p| p[0] <= p[1]),
        "oldest change first"
    );
    assert!(stamps.iter().all(|t| *t >= synced));
    assert_eq!(nodes[0]["confirmedCount"], 0);
    assert_eq!(nodes[1]["confirmedCount"], 2);
    assert_eq!(nodes[2]["title"], "送餐");
    assert_eq!(nodes[3]["status"], "CANCELLED");
    // Nothing changed after the last change: an empty page.
    let later = app
        .ok(
            None,
            changed,
            json!({ "e": event, "t": (*stamps.last().unwrap() + chrono::Duration::seconds(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(later["event"]["shifts"]["totalCount"], 0);
}

#[tokio::test]
async fn a_phone_sees_its_records_reviewed_since_its_last_sync() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app
        .event_at(org, &w.station, "助餐", 31.38, 120.98, 0, true)
        .await;
    let starts = chrono::Utc::now() + chrono::Duration::minutes(10);
    let shift = app.shift_at(org, &event, starts, 5, false, &[]).await;
    let vol = app.register("13800000001", "小李").await;
    app.sign_up(&vol.access, &shift, "s1").await;
    let record = app.serve_an_hour(&vol.access, &shift).await;
    let q = "query($t: DateTime!) { me { serviceRecords(updatedSince: $t) { totalCount edges { node { id status updatedAt } } } } }";
    let synced = a_sync().await;
    let none = app
        .ok(Some(&vol.access), q, json!({ "t": synced.to_rfc3339() }))
        .await;
    assert_eq!(none["me"]["serviceRecords"]["totalCount"], 0);
    let id = api::ids::encode(api::ids::NodeType::ServiceRecord, record.id);
    app.ok(
        Some(org),
        "mutation($id: ID!) { approveServiceRecord(id: $id) { status } }",
        json!({ "id": id }),
    )
    .await;
    let data = app
        .ok(Some(&vol.access), q, json!({ "t": synced.to_rfc3339() }))
        .await;
    let list = &data["me"]["serviceRecords"];
    assert_eq!(list["totalCount"], 1);
    assert_eq!(list["edges"][0]["node"]["id"], id.as_str());
    assert_eq!(list["edges"][0]["node"]["status"], "APPROVED");
    // A cursor of the plain list is not a cursor of the changes (and the reverse).
    let plain_cursor = api::ids::encode_cursor(record.id);
    let body = app
        .post(
            Some(&vol.access),
            "query($t: DateTime!, $a: String) { me { serviceRecords(updatedSince: $t, after: $a) { totalCount } } }",
            json!({ "t": synced.to_rfc3339(), "a": plain_cursor }),
        )
        .await
        .1;
    assert_eq!(
        crate::harness::first_code(&body),
        "BAD_USER_INPUT",
        "{body}"
    );
}

/// The IDs `list` (`events` or `shifts`) finds for `text`, sorted; its `totalCount` agrees.
async fn found(app: &TestApp, list: &str, text: &str) -> Vec<String> {
    let query = format!(
        "query($s: String!) {{ {list}(filter: {{search: $s}}) {{ totalCount edges {{ node {{ id }} }} }} }}"
    );
    let data = app.ok(None, &query, json!({ "s": text })).await;
    let mut ids: Vec<String> = data[list]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    assert_eq!(data[list]["totalCount"], ids.len(), "{list}: {text}");
    ids
}

#[tokio::test]
async fn search_finds_chinese_text_in_titles_addresses_and_organization_names() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let station = app.station_event(&w, "重阳节敬老助餐").await;
    let other = app
        .event_at(
            &w.other_organizer.access,
            &w.other_station,
            "社区环保日 Clean-Up",
            31.38,
            120.98,
            1,
            true,
        )
        .await;
    let draft = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "敬老院探访（草稿）",
            31.38,
            120.98,
            1,
            false,
        )
        .await;
    let shift = app
        .shift_in(&w.organizer.access, &station, 5, false, &[])
        .await;
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { updateShift(id: $id, input: {title: \"理发义剪\"}) { id } }",
        json!({ "id": shift }),
    )
    .await;
    let other_shift = app
        .shift_in(&w.other_organizer.access, &other, 5, false, &[])
        .await;
    let events = |text: &'static str| found(&app, "events", text);
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };
    // Three characters or more: the trigram index. The draft stays hidden from the public.
    assert_eq!(events("敬老助").await, vec![station.clone()]);
    assert_eq!(events("敬老助餐").await, vec![station.clone()]);
    // One or two characters, and Latin text in any case.
    assert_eq!(events("敬老").await, vec![station.clone()]);
    assert_eq!(events("餐").await, vec![station.clone()]);
    assert_eq!(events("clean-up").await, vec![other.clone()]);
    // The address (both events are at 前进西路86号) and the organization's name.
    assert_eq!(events("前进西路").await, sorted(vec![&station, &other]));
    assert_eq!(events("周市社工").await, vec![other.clone()]);
    assert_eq!(events("社工站").await, sorted(vec![&station, &other]));
    // Control characters are refused (they would end an FTS5 phrase early).
    let body = app
        .post(
            None,
            "query($s: String!) { events(filter: {search: $s}) { totalCount } }",
            json!({ "s": "敬老\u{0}助餐" }),
        )
        .await
        .1;
    assert_eq!(
        crate::harness::first_code(&body),
        "BAD_USER_INPUT",
        "{body}"
    );
    // Wildcards are text, not patterns; nothing found is an empty page.
    assert_eq!(events("%").await, Vec::<String>::new());
    assert_eq!(events("敬_老").await, Vec::<String>::new());
    assert_eq!(events("\"敬老\"").await, Vec::<String>::new());
    assert_eq!(events("不存在的活动").await, Vec::<String>::new());
    // The draft's organizer finds it.
    let own = app
        .ok(
            Some(&w.organizer.access),
            "{ events(filter: {search: \"敬老院\"}) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(own["events"]["edges"][0]["node"]["id"], draft.as_str());
    // The search is updated with the row: a renamed event is found by its new title only.
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { updateEvent(id: $id, input: {title: \"中秋慰问\"}) { id } }",
        json!({ "id": station }),
    )
    .await;
    assert_eq!(events("中秋慰问").await, vec![station.clone()]);
    assert_eq!(events("敬老助餐").await, Vec::<String>::new());

    // Shifts: by their own title, or by their event's title, address or organization.
    let shifts = |text: &'static str| found(&app, "shifts", text);
    assert_eq!(shifts("理发义剪").await, vec![shift.clone()]);
    assert_eq!(shifts("义剪").await, vec![shift.clone()]);
    assert_eq!(shifts("中秋慰问").await, vec![shift.clone()]);
    assert_eq!(shifts("周市社工站").await, vec![other_shift.clone()]);
    assert_eq!(
        shifts("前进西路86号").await,
        sorted(vec![&shift, &other_shift])
    );

    // Too long is refused with the field named.
    let body = app
        .post(
            None,
            "query($s: String!) { shifts(filter: {search: $s}) { totalCount } }",
            json!({ "s": "长".repeat(51) }),
        )
        .await
        .1;
    assert_eq!(crate::harness::first_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "filter.search");
}

#[tokio::test]
async fn shifts_filter_by_category_organization_subtree_and_campaign() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let campaign = app
        .ok(
            Some(&w.root.access),
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }",
            json!({ "i": { "organizationId": w.city, "title": "慈善同心·志愿同行", "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z" } }),
        )
        .await["createCampaign"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(&w.root.access),
        "mutation($id: ID!) { publishCampaign(id: $id) { id } }",
        json!({ "id": campaign }),
    )
    .await;
    let starts = chrono::Utc::now() + chrono::Duration::hours(1);
    let make = |token: String, org: String, category: &'static str, in_campaign: bool| {
        let app = &app;
        let campaign = campaign.clone();
        async move {
            let mut input = json!({
                "organizationId": org, "title": "活动", "category": category,
                "address": "前进西路86号", "latitude": 31.38, "longitude": 120.98,
                "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::Duration::hours(8)).to_rfc3339()
            });
            if in_campaign {
                input["campaignId"] = json!(campaign);
            }
            let event = app
                .ok(
                    Some(&token),
                    "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
                    json!({ "i": input }),
                )
                .await["createEvent"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            app.ok(
                Some(&token),
                "mutation($id: ID!) { publishEvent(id: $id) { id } }",
                json!({ "id": event }),
            )
            .await;
            app.shift_in(&token, &event, 5, false, &[]).await
        }
    };
    let a = make(
        w.organizer.access.clone(),
        w.station.clone(),
        "ELDERLY_CARE",
        true,
    )
    .await;
    let b = make(
        w.organizer.access.clone(),
        w.station.clone(),
        "ENVIRONMENT",
        false,
    )
    .await;
    let c = make(
        w.other_organizer.access.clone(),
        w.other_station.clone(),
        "ELDERLY_CARE",
        false,
    )
    .await;
    let ids = |data: &Value| {
        let mut v: Vec<String> = data["shifts"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let q =
        "query($f: ShiftFilterInput) { shifts(filter: $f) { totalCount edges { node { id } } } }";
    let run = |f: Value| {
        let app = &app;
        async move { app.ok(None, q, json!({ "f": f })).await }
    };
    let mut ac = vec![a.clone(), c.clone()];
    ac.sort();
    assert_eq!(ids(&run(json!({ "category": "ELDERLY_CARE" })).await), ac);
    let mut ab = vec![a.clone(), b.clone()];
    ab.sort();
    assert_eq!(ids(&run(json!({ "organizationId": w.station })).await), ab);
    // The district holds both stations.
    assert_eq!(
        run(json!({ "organizationId": w.district })).await["shifts"]["totalCount"],
        3
    );
    assert_eq!(
        ids(&run(json!({ "campaignId": campaign })).await),
        vec![a.clone()]
    );
    assert_eq!(
        ids(&run(json!({ "category": "ELDERLY_CARE", "organizationId": w.other_station })).await),
        vec![c.clone()]
    );
    // An ID of the wrong type is refused with its field.
    let body = app
        .post(None, q, json!({ "f": { "campaignId": w.station } }))
        .await
        .1;
    assert_eq!(crate::harness::first_code(&body), "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "filter.campaignId"
    );
}

/// A phone's sync time, a moment apart from the writes before and after it.
async fn a_sync() -> chrono::DateTime<chrono::Utc> {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let t = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    t
}

#[tokio::test]
async fn a_waitlist_that_moves_marks_the_shift_changed() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app.station_event(&w, "助餐").await;
    let shift = app.shift_in(org, &event, 1, true, &[]).await;
    let first = app.register("13800000001", "小李").await;
    app.sign_up(&first.access, &shift, "a").await;
    let changed = "query($e: ID!, $t: DateTime!) { event(id: $e) { shifts(updatedSince: $t) { edges { node { id waitlistCount } } } } }";
    // Joining the waitlist changes no place, only the queue: the shift still counts as changed.
    let t0 = a_sync().await;
    let second = app.register("13800000002", "老王").await;
    let body = app.sign_up(&second.access, &shift, "b").await;
    assert_eq!(body["data"]["signUpForShift"]["status"], "WAITLISTED");
    let data = app
        .ok(None, changed, json!({ "e": event, "t": t0.to_rfc3339() }))
        .await;
    assert_eq!(
        data["event"]["shifts"]["edges"][0]["node"]["id"],
        shift.as_str()
    );
    assert_eq!(
        data["event"]["shifts"]["edges"][0]["node"]["waitlistCount"],
        1
    );
    // Leaving it again changes the shift again.
    let t1 = a_sync().await;
    app.ok(
        Some(&second.access),
        "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
        json!({ "id": body["data"]["signUpForShift"]["id"] }),
    )
    .await;
    let data = app
        .ok(None, changed, json!({ "e": event, "t": t1.to_rfc3339() }))
        .await;
    assert_eq!(
        data["event"]["shifts"]["edges"][0]["node"]["waitlistCount"],
        0
    );
}
