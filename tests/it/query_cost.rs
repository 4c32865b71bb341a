//! The cost of a request in SQL statements: the volunteer home feed must not grow with its
//! page size (no N+1), counted with the same per-request counter the server logs.

use std::sync::Arc;

use serde_json::json;

use crate::harness::TestApp;

const FEED: &str = "query($n: NearInput!, $first: Int!) { shifts(first: $first, filter: {hasOpenSlots: true, near: $n}) { edges { node { id remainingSlots mySignup { status } event { title organization { name } campaign { title } } } } } }";

#[tokio::test]
async fn home_feed_costs_the_same_statements_for_5_and_50_shifts() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
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
    // Ten events at two stations, half of them in the campaign; five shifts each.
    let starts = chrono::Utc::now() + chrono::Duration::hours(1);
    let mut shifts = Vec::new();
    for i in 0..10 {
        let (token, org) = if i % 2 == 0 {
            (&w.organizer.access, &w.station)
        } else {
            (&w.other_organizer.access, &w.other_station)
        };
        let mut input = json!({
            "organizationId": org, "title": format!("活动{i}"), "category": "ELDERLY_CARE",
            "address": "前进西路86号", "latitude": 31.38, "longitude": 120.98,
            "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::Duration::hours(8)).to_rfc3339()
        });
        if i < 5 {
            input["campaignId"] = campaign.clone();
        }
        let event = app
            .ok(
                Some(token),
                "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
                json!({ "i": input }),
            )
            .await["createEvent"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        app.ok(
            Some(token),
            "mutation($id: ID!) { publishEvent(id: $id) { id } }",
            json!({ "id": event }),
        )
        .await;
        for k in 0..5 {
            let at = starts + chrono::Duration::minutes(i * 5 + k);
            shifts.push(app.shift_at(token, &event, at, 3, true, &[]).await);
        }
    }
    let vol = app.register("13800000001", "小李").await;
    for (n, s) in shifts.iter().step_by(7).enumerate() {
        app.sign_up(&vol.access, s, &format!("k{n}")).await;
    }

    let schema = api::build_schema(app.state.clone());
    let feed = |first: usize| {
        // A fresh viewer per request, as the HTTP handler makes (it caches the account).
        let viewer = Arc::new(api::auth::Viewer::account(vol.account_key(), None));
        let request = async_graphql::Request::new(FEED)
            .variables(async_graphql::Variables::from_json(json!({
                "n": { "latitude": 31.38, "longitude": 120.98, "radiusMeters": 5000.0 },
                "first": first,
            })))
            .data(viewer);
        api::db::count_statements(schema.execute(request))
    };
    let (small, small_statements) = feed(5).await;
    let (large, large_statements) = feed(50).await;
    for r in [&small, &large] {
        assert!(r.errors.is_empty(), "{:?}", r.errors);
    }
    let large = large.data.into_json().unwrap();
    let edges = large["shifts"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 50);
    assert_eq!(
        small.data.into_json().unwrap()["shifts"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    // The page really carries every relation the feed asks for.
    assert!(edges.iter().any(|e| !e["node"]["mySignup"].is_null()));
    assert!(
        edges
            .iter()
            .any(|e| e["node"]["event"]["campaign"]["title"] == "慈善同心·志愿同行")
    );
    assert!(
        edges
            .iter()
            .any(|e| e["node"]["event"]["campaign"].is_null())
    );
    assert!(
        edges
            .iter()
            .any(|e| e["node"]["event"]["organization"]["name"] == "周市社工站")
    );
    // The viewer; the page joined with its events, organizations and campaigns; the caller's
    // sign-ups.
    assert_eq!(small_statements, large_statements, "N+1 somewhere");
    assert_eq!(large_statements, 3, "{large_statements} statements");
}

#[tokio::test]
async fn a_shifts_sign_up_list_costs_the_same_for_3_and_20_volunteers() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "助餐",
            31.38,
            120.98,
            1,
            true,
        )
        .await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 30, true, &[])
        .await;
    for i in 0..20 {
        let v = app
            .register(&format!("138000001{i:02}"), &format!("志愿者{i}"))
            .await;
        app.sign_up(&v.access, &shift, "k").await;
    }
    let schema = api::build_schema(app.state.clone());
    let list = |first: usize| {
        let viewer = Arc::new(api::auth::Viewer::account(w.organizer.account_key(), None));
        let request = async_graphql::Request::new(
            "query($s: ID!, $n: Int) { shift(id: $s) { signups(first: $n) { edges { node { status volunteer { displayName phone } } } } } }",
        )
        .variables(async_graphql::Variables::from_json(
            json!({ "s": shift, "n": first }),
        ))
        .data(viewer);
        api::db::count_statements(schema.execute(request))
    };
    let (small, small_n) = list(3).await;
    let (large, large_n) = list(20).await;
    assert!(
        small.errors.is_empty() && large.errors.is_empty(),
        "{:?}",
        large.errors
    );
    let large = large.data.into_json().unwrap();
    let edges = large["shift"]["signups"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 20);
    // The organizer does not administer the volunteers' organizations: phones stay masked.
    assert!(edges.iter().all(|e| {
        e["node"]["volunteer"]["phone"]
            .as_str()
            .unwrap()
            .contains("****")
    }));
    assert_eq!(small_n, large_n, "N+1 in the sign-up list");
}

/// PostgreSQL keeps one generic plan per prepared statement instead of planning the statement
/// again on every execution (planning was most of the database's CPU on the feed), unless the
/// URL chooses a `plan_cache_mode` itself.
#[tokio::test]
async fn postgres_connections_keep_generic_plans_unless_the_url_says_otherwise() {
    use sea_orm::{ConnectionTrait, Statement};
    let db = crate::harness::TestDb::new().await;
    if !db.is_postgres() {
        return; // SQLite has no planner cache to choose
    }
    let mode = |conn: sea_orm::DatabaseConnection| async move {
        let row = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                "SHOW plan_cache_mode",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<String>(0).unwrap()
    };
    assert_eq!(mode(db.conn.clone()).await, "force_generic_plan");
    let sep = if db.url.contains('?') { '&' } else { '?' };
    let own = format!("{}{sep}options=-c%20plan_cache_mode%3Dauto", db.url);
    let conn = api::db::connect(&own, 1).await.unwrap();
    assert_eq!(mode(conn).await, "auto");
}
