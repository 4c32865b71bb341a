//! The read path's promise, over a corpus of query shapes a phone, a mini-program or a
//! third-party system sends: a request costs at most one SQL statement per relation it asks
//! for (plus authentication; the hottest shapes less, their to-one relations joined into the
//! list's statement), whatever its page size or shape — `nodes` or
//! `edges { node }`, fragments, aliases, `node(id:)`, nested connections. And the batched path
//! answers exactly what plain per-field resolution answers (differential check).
//!
//! The data is the demo city (`seed-demo`) with a second campaign, so every nested list has
//! several parents with several children each: a relation resolved row by row would cost
//! more statements at `first: 50` than at `first: 1`, and the test would fail.

use std::sync::Arc;

use chrono::TimeZone;

use serde_json::{Value, json};

use crate::harness::{TestDb, test_config};

/// Who sends a shape.
#[derive(Clone, Copy, Debug)]
enum Caller {
    Anonymous,
    /// The demo volunteer 13800000001 (has sign-ups).
    Volunteer,
    /// The demo system administrator (staff everywhere).
    Admin,
}

/// One shape: its name, caller, document (`$n` is the page size) and the most statements it
/// may cost — one per relation it asks for, plus one to authenticate a caller.
struct Shape {
    name: &'static str,
    caller: Caller,
    query: &'static str,
    max_statements: u32,
}

fn corpus() -> Vec<Shape> {
    vec![
        Shape {
            name: "home feed through edges { node }",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { shifts(first: $n, filter: {hasOpenSlots: true}) { edges { cursor node { id title startsAt capacity confirmedCount remainingSlots event { title address latitude longitude organization { name } campaign { title } } } } pageInfo { hasNextPage endCursor } } }",
            max_statements: 1,
        },
        Shape {
            name: "home feed through nodes",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { shifts(first: $n, filter: {hasOpenSlots: true}) { nodes { id title startsAt capacity confirmedCount event { title address organization { name } campaign { title } } } } }",
            max_statements: 1,
        },
        Shape {
            name: "home feed through named and inline fragments",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { shifts(first: $n) { nodes { ...S } } }
                    fragment S on Shift { id title ... on Shift { event { ...E } } }
                    fragment E on CharityEvent { title organization { name parent { name } } ... on CharityEvent { campaign { title organization { name } } } }",
            // page (with event, organization, campaign); parent and campaign.organization
            max_statements: 2,
        },
        Shape {
            name: "a volunteer's home feed with their sign-ups and waitlists",
            caller: Caller::Volunteer,
            query: "query($n: Int!) { shifts(first: $n) { nodes { id waitlistCount mySignup { status waitlistPosition } event { title } } } }",
            // viewer; page; waitlist counts and sign-ups
            max_statements: 4,
        },
        Shape {
            name: "shifts with the training they require",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { shifts(first: $n) { nodes { id requiredSkills requiredTraining } } }",
            // page; every shift's courses in one statement
            max_statements: 2,
        },
        Shape {
            // What `crate::direct` writes without resolvers: every plain column of the four
            // listed types, under aliases, asked twice (merged), through interface and named
            // fragments, with `__typename` and `@skip`/`@include`.
            name: "every plain column, aliased, repeated and through fragments",
            caller: Caller::Anonymous,
            query: "query($n: Int!) {
                      shifts(first: $n) { nodes { __typename key: id ... on Node { id } title t: title description startsAt endsAt capacity confirmedCount remainingSlots waitlistEnabled requiredSkills checkInRadiusMeters status cancelReason createdAt
                        event { __typename id title description @skip(if: true) category }
                        event { ...E organization { __typename id name kind regionCode address latitude longitude createdAt updatedAt } campaign { ...C } } } }
                      organizations(first: $n) { edges { node { ... on Node { id } name kind regionCode address @include(if: false) latitude longitude createdAt updatedAt } } }
                      campaigns(first: $n) { nodes { ...C } }
                    }
                    fragment E on CharityEvent { address latitude longitude distanceMeters startsAt endsAt status cancelReason publishedAt autoApproveVerified place: address }
                    fragment C on Campaign { __typename id title description status startsAt endsAt volunteerHoursGoal fundraisingGoalFen coverImageUrl publishedAt createdAt updatedAt }",
            max_statements: 3,
        },
        Shape {
            name: "one field twice under aliases with different arguments",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { soon: shifts(first: $n) { nodes { event { organization { name } } } } open: shifts(first: $n, filter: {hasOpenSlots: true}) { edges { node { event { campaign { title } } } } } }",
            max_statements: 2,
        },
        Shape {
            name: "events with organization (+ parent), campaign (+ its organization) and shifts",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { events(first: $n) { nodes { title organization { name parent { name } } campaign { title organization { name } } shifts(first: 4) { nodes { title startsAt remainingSlots } } } } }",
            // events joined with organization and campaign; shifts; parents and organizations
            max_statements: 3,
        },
        Shape {
            name: "events with two pages of shifts under aliases",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { events(first: $n) { edges { node { title first: shifts(first: 1) { nodes { title } } more: shifts(first: 3) { edges { cursor node { title event { title } } } pageInfo { hasNextPage } } } } } }",
            max_statements: 3,
        },
        Shape {
            name: "campaigns with organization, progress and events with their organization",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { campaigns(first: $n) { nodes { title organization { name } progress { volunteerMinutes volunteerCount eventCount shiftsFilled raisedFen } events(first: 5) { nodes { title organization { name } shifts(first: 2) { nodes { title } } } } } } }",
            // campaigns; organization, progress, events; their organizations and shifts
            max_statements: 6,
        },
        Shape {
            name: "stations with parent and children",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { organizations(first: $n, filter: {kind: STATION}) { nodes { name parent { name } children(first: 20) { nodes { name parent { name } } pageInfo { hasNextPage } } } } }",
            max_statements: 4,
        },
        Shape {
            name: "the organization tree three levels down",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { organizations(first: $n) { edges { node { name children(first: $n) { nodes { name children(first: $n) { nodes { name parent { name } } } } } } } } }",
            max_statements: 4,
        },
        Shape {
            name: "a volunteer's sign-ups with shift, event and organization",
            caller: Caller::Volunteer,
            query: "query($n: Int!) { me { displayName signups(first: $n) { nodes { status shift { title mySignup { status } event { title organization { name } campaign { title } } } volunteer { displayName phone } } } } }",
            // viewer; sign-ups; shifts, volunteers; events, my sign-ups, phone checks;
            // organizations, campaigns — one statement for each of the eight relations
            max_statements: 9,
        },
        Shape {
            name: "a staff member's view of sign-ups with volunteers and phones",
            caller: Caller::Admin,
            query: "query($n: Int!) { shifts(first: $n) { nodes { title signups(first: 10) { nodes { status volunteer { displayName phone } } } } } }",
            // viewer; page; staff checks and sign-up pages; volunteers; phone checks
            max_statements: 6,
        },
        Shape {
            name: "micro-wishes with organization and claimant (staff)",
            caller: Caller::Admin,
            query: "query($n: Int!) { microWishes(first: $n) { nodes { title status organization { name parent { name } } claimantName } } }",
            max_statements: 6,
        },
        Shape {
            name: "help requests with organization and private fields (staff)",
            caller: Caller::Admin,
            query: "query($n: Int!) { helpRequests(first: $n) { nodes { title details location { latitude } organization { name } assignee { displayName } } } }",
            // viewer; page; staff checks and organizations; audit of the reads; assignee
            max_statements: 6,
        },
        Shape {
            name: "node(id:) of an event with its shifts",
            caller: Caller::Anonymous,
            query: "query($n: Int!, $event: ID!) { node(id: $event) { id ... on CharityEvent { title organization { name } shifts(first: $n) { nodes { title waitlistCount event { title } } } } } }",
            // the node; organization and shifts; waitlist counts
            max_statements: 4,
        },
        Shape {
            name: "help requests with offers, steps and the caller's offer (staff)",
            caller: Caller::Admin,
            query: "query($n: Int!) { helpRequests(first: $n) { nodes { title myOffer { status } offers { status volunteer { displayName phone } helpRequest { title } } history { status at actorId note } } } }",
            // viewer; page; staff checks, offers, steps, my offers; volunteers and requests; phones
            max_statements: 9,
        },
        Shape {
            name: "organizations with funds, their donations and who administers them",
            caller: Caller::Admin,
            query: "query($n: Int!) { organizations(first: $n) { nodes { name viewerCanAdminister funds { name balanceFen organization { name } donations(first: 5) { nodes { amountFen } } } } } }",
            // viewer; page; administers checks and funds; organizations, manager checks and donations
            max_statements: 7,
        },
        Shape {
            name: "organizations with their members (staff)",
            caller: Caller::Admin,
            query: "query($n: Int!) { organizations(first: $n) { nodes { name members(first: 5) { nodes { role account { displayName phone } organization { name } } } } } }",
            // viewer; page; staff checks, administers checks, members; accounts, organizations
            max_statements: 7,
        },
        Shape {
            name: "donations to the campaign with fund and campaign",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { campaigns(first: $n) { nodes { title donations(first: 10) { nodes { amountFen fund { name } campaign { title } } } } } }",
            max_statements: 4,
        },
        Shape {
            name: "events with their service project's progress and deliverables",
            caller: Caller::Anonymous,
            query: "query($n: Int!) { events(first: $n) { nodes { title project { title operator { name } progress { minutesServed eventsHeld disbursedFen deliverablesMet } deliverables { title status overdue } } } } }",
            // page; projects; their operators; progress; deliverables
            max_statements: 5,
        },
    ]
}

/// A demo account's key by phone.
async fn account_key(db: &sea_orm::DatabaseConnection, phone: &str) -> i64 {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::account::Entity::find()
        .filter(entity::account::Column::Phone.eq(phone))
        .one(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("demo account {phone}"))
        .id
}

/// How many objects a response holds (to show that the large page really is larger).
fn objects(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(objects).sum::<usize>(),
        Value::Array(a) => a.iter().map(objects).sum(),
        _ => 0,
    }
}

#[tokio::test]
async fn every_shape_costs_one_statement_per_relation_level_and_answers_as_per_field_does() {
    let db = TestDb::new().await;
    let mut config = test_config(&db);
    // The cost limit is not what this test is about: nested pages of 50 may exceed it.
    config.max_query_complexity = 1_000_000;
    let state = api::AppState::new(db.conn.clone(), config).expect("state");
    api::seed::seed_demo(&state).await.expect("demo city");
    let admin = account_key(&db.conn, "13900000000").await;
    let volunteer = account_key(&db.conn, "13800000001").await;
    let schema = api::build_schema(state.clone());

    let run = |caller: Caller, query: &'static str, n: i64, per_field: bool, event: Value| {
        let viewer = Arc::new(match caller {
            Caller::Anonymous => api::auth::Viewer::anonymous(None),
            Caller::Volunteer => api::auth::Viewer::account(volunteer, None),
            Caller::Admin => api::auth::Viewer::account(admin, None),
        });
        let mut request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(
                json!({ "n": n, "event": event }),
            ))
            .data(viewer);
        if per_field {
            request = request.data(api::batch::PerField);
        }
        let schema = schema.clone();
        async move {
            let (response, statements) = api::db::count_statements(schema.execute(request)).await;
            assert!(response.errors.is_empty(), "{query}: {:?}", response.errors);
            (response.data.into_json().unwrap(), statements)
        }
    };

    // A second campaign, so lists of campaigns have several parents.
    let admin_run = |query: &'static str, vars: Value| {
        let request = async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(vars))
            .data(Arc::new(api::auth::Viewer::account(admin, None)));
        let schema = schema.clone();
        async move {
            let r = schema.execute(request).await;
            assert!(r.errors.is_empty(), "{query}: {:?}", r.errors);
            r.data.into_json().unwrap()
        }
    };
    let city =
        admin_run("{ organizations(first: 1) { nodes { id } } }", json!({})).await["organizations"]
            ["nodes"][0]["id"]
            .clone();
    let campaign = admin_run(
        "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }",
        json!({ "i": { "organizationId": city, "title": "邻里守望", "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z" } }),
    )
    .await["createCampaign"]["id"]
        .clone();
    admin_run(
        "mutation($id: ID!) { publishCampaign(id: $id) { id } }",
        json!({ "id": campaign }),
    )
    .await;
    // The demo's service projects, so the events below belong to them.
    let projects: Vec<Value> = admin_run(
        "{ organizations(first: 50) { nodes { serviceProjects(role: OPERATED) { id } } } }",
        json!({}),
    )
    .await["organizations"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| o["serviceProjects"].as_array().unwrap().clone())
        .map(|p| p["id"].clone())
        .collect();
    assert!(projects.len() >= 2, "the demo has projects");
    let starts = chrono::Utc::now() + chrono::Duration::days(3);
    for i in 0..3 {
        let event = admin_run(
            "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": { "organizationId": city, "campaignId": campaign, "projectId": projects[i % projects.len()], "title": format!("守望{i}"), "category": "ELDERLY_CARE",
                "address": "人民路1号", "latitude": 31.3, "longitude": 120.6,
                "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::Duration::hours(4)).to_rfc3339() } }),
        )
        .await["createEvent"]["id"]
            .clone();
        admin_run(
            "mutation($id: ID!) { publishEvent(id: $id) { id } }",
            json!({ "id": event }),
        )
        .await;
        for k in 0..2 {
            let at = starts + chrono::Duration::minutes(30 * k);
            admin_run(
                "mutation($i: CreateShiftInput!) { createShift(input: $i) { id } }",
                json!({ "i": { "eventId": event, "title": format!("第{k}班"), "startsAt": at.to_rfc3339(),
                    "endsAt": (at + chrono::Duration::hours(1)).to_rfc3339(), "capacity": 5 } }),
            )
            .await;
        }
    }

    // An event of a project listed first (moved to the start of the century), so the smallest
    // page of events already reaches a project.
    let first_event = admin_run(
        "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
        json!({ "i": { "organizationId": city, "campaignId": campaign, "projectId": projects[0], "title": "项目启动会", "category": "ELDERLY_CARE",
            "address": "人民路1号", "latitude": 31.3, "longitude": 120.6,
            "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::Duration::hours(2)).to_rfc3339() } }),
    )
    .await["createEvent"]["id"]
        .clone();
    admin_run(
        "mutation($id: ID!) { publishEvent(id: $id) { id } }",
        json!({ "id": first_event }),
    )
    .await;
    for k in 0..3 {
        let at = starts + chrono::Duration::minutes(20 * k);
        admin_run(
            "mutation($i: CreateShiftInput!) { createShift(input: $i) { id } }",
            json!({ "i": { "eventId": first_event, "title": format!("签到{k}"), "startsAt": at.to_rfc3339(),
                "endsAt": (at + chrono::Duration::hours(1)).to_rfc3339(), "capacity": 5 } }),
        )
        .await;
    }
    crate::harness::exec(
        &db.conn,
        "UPDATE charity_event SET starts_at = ?, ends_at = ? WHERE id = ?",
        vec![
            chrono::Utc
                .with_ymd_and_hms(2001, 1, 1, 1, 0, 0)
                .unwrap()
                .into(),
            chrono::Utc
                .with_ymd_and_hms(2001, 1, 1, 3, 0, 0)
                .unwrap()
                .into(),
            api::ids::decode_any(first_event.as_str().unwrap())
                .unwrap()
                .1
                .into(),
        ],
    )
    .await;

    // A fund at the top, so the first organization listed has one too.
    admin_run(
        "mutation($i: CreateCharityFundInput!) { createCharityFund(input: $i) { id } }",
        json!({ "i": { "organizationId": city, "name": "市级慈善基金" } }),
    )
    .await;
    // A member at the top, so the first organization listed has members too: invited, and
    // the number's owner accepts.
    let invited = admin_run(
        "mutation($o: ID!, $p: String!, $r: MemberRole!) { addMember(organizationId: $o, phone: $p, role: $r) { id } }",
        json!({ "o": city, "p": "13800000002", "r": "SOCIAL_WORKER" }),
    )
    .await;
    let invitation = match api::ids::decode_any(invited["addMember"]["id"].as_str().unwrap()) {
        Some((api::ids::NodeType::Invitation, k)) => k,
        other => panic!("not an invitation: {other:?}"),
    };
    let owner = <entity::account::Entity as sea_orm::EntityTrait>::find_by_id(
        account_key(&db.conn, "13800000002").await,
    )
    .one(&db.conn)
    .await
    .unwrap()
    .unwrap();
    api::organizations::service::accept_invitation(&state.db, &owner, invitation)
        .await
        .unwrap();
    // Every micro-wish claimed, so the first one already has a claimant to show.
    let wishes = admin_run(
        "{ microWishes(first: 50) { nodes { id status } } }",
        json!({}),
    )
    .await;
    for w in wishes["microWishes"]["nodes"].as_array().unwrap() {
        if w["status"] == "OPEN" {
            let request = async_graphql::Request::new(
                "mutation($id: ID!) { claimMicroWish(id: $id) { id } }",
            )
            .variables(async_graphql::Variables::from_json(
                json!({ "id": w["id"] }),
            ))
            .data(Arc::new(api::auth::Viewer::account(volunteer, None)));
            let r = schema.execute(request).await;
            assert!(r.errors.is_empty(), "{:?}", r.errors);
        }
    }

    let event = admin_run("{ events(first: 1) { nodes { id } } }", json!({})).await["events"]
        ["nodes"][0]["id"]
        .clone();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for shape in corpus() {
        let (small, small_n) = run(shape.caller, shape.query, 1, false, event.clone()).await;
        let (large, large_n) = run(shape.caller, shape.query, 50, false, event.clone()).await;
        let (plain, plain_n) = run(shape.caller, shape.query, 50, true, event.clone()).await;
        report.push(format!(
            "{}: {small_n} at first 1, {large_n} at first 50, {plain_n} per field",
            shape.name
        ));
        let mut check = |ok: bool, what: String| {
            if !ok {
                failures.push(format!("{}: {what}", shape.name));
            }
        };
        check(
            objects(&large) > objects(&small),
            "the data must make first: 50 larger than first: 1".into(),
        );
        check(
            large == plain,
            "batched and per-field answers differ".into(),
        );
        check(
            small_n == large_n,
            format!("statements grow with the page size ({small_n} → {large_n})"),
        );
        check(
            large_n <= shape.max_statements,
            format!(
                "{large_n} statements, at most {} expected",
                shape.max_statements
            ),
        );
        check(
            plain_n > large_n,
            format!(
                "the per-field path should cost more ({plain_n} vs {large_n}), or the shape proves nothing"
            ),
        );
    }
    println!("{}", report.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A field that fails inside a node written by `api::direct` (a staff-only count asked for by
/// an anonymous caller, beside plain columns and joined relations) fails exactly as it does on
/// async-graphql's own path: the same data, the same errors with the same paths and codes.
#[tokio::test]
async fn a_failing_field_inside_a_fast_node_answers_as_per_field_does() {
    let db = TestDb::new().await;
    let state = api::AppState::new(db.conn.clone(), test_config(&db)).expect("state");
    api::seed::seed_demo(&state).await.expect("demo city");
    let schema = api::build_schema(state);
    let query = "{ shifts(first: 5) { nodes { title checkedInCount event { title organization { name viewerCanAdminister } shifts(first: 2) { nodes { checkedInCount startsAt } } } } } }";
    let run = |per_field: bool| {
        let mut request =
            async_graphql::Request::new(query).data(Arc::new(api::auth::Viewer::anonymous(None)));
        if per_field {
            request = request.data(api::batch::PerField);
        }
        let schema = schema.clone();
        async move { serde_json::to_value(schema.execute(request).await).unwrap() }
    };
    // Errors come in the order their fields finished, which neither path promises.
    let sorted = |mut v: Value| {
        if let Some(errors) = v["errors"].as_array_mut() {
            errors.sort_by_key(|e| e["path"].to_string());
        }
        v
    };
    let fast = sorted(run(false).await);
    let plain = sorted(run(true).await);
    let errors = fast["errors"].as_array().expect("errors");
    assert!(errors.len() >= 5, "{fast}");
    assert!(
        errors.iter().any(|e| e["path"]
            == json!([
                "shifts",
                "nodes",
                0,
                "event",
                "shifts",
                "nodes",
                1,
                "checkedInCount"
            ])),
        "{fast}"
    );
    assert_eq!(fast, plain);
}
