//! Limits that keep one client or one query from knocking the server over: aliases, depth,
//! complexity, batch size, body size, per-address and per-account budgets, the production
//! switches, and response compression.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::harness::{TestApp, first_code};

/// Run a document straight through the schema, counting the SQL statements it causes.
async fn statements_for(app: &TestApp, query: &str) -> (async_graphql::Response, u32) {
    let schema = api::build_schema(app.state.clone());
    let request =
        async_graphql::Request::new(query).data(Arc::new(api::auth::Viewer::anonymous(None)));
    api::db::count_statements(schema.execute(request)).await
}

#[tokio::test]
async fn expensive_documents_are_refused_before_any_resolver_runs() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let _ = w;
    // 1,000 aliases of a list field.
    let aliases: String = (0..1000)
        .map(|i| format!("a{i}: organizations(first: 1) {{ edges {{ cursor }} }} "))
        .collect();
    let too_deep = format!(
        "{{ organizations {{ edges {{ node {}id{} }} }} }}",
        "parent { ".repeat(14),
        " }".repeat(14)
    );
    let too_complex = "{ organizations(first: 100) { edges { node { children(first: 100) { edges { node { id name } } } } } } }";
    // The same shape at a small page size is fine: cost follows `first`.
    let cheap = "{ organizations(first: 3) { edges { node { children(first: 3) { edges { node { id name } } } } } } }";
    let (ok, n) = statements_for(&app, cheap).await;
    assert!(ok.errors.is_empty(), "{:?}", ok.errors);
    assert!(n > 0, "the counter sees a real query");

    for (doc, reason) in [
        (format!("{{ {aliases} }}"), "TOO_MANY_ALIASES"),
        (too_deep, "GRAPHQL_VALIDATION_FAILED"),
        (too_complex.to_owned(), "GRAPHQL_VALIDATION_FAILED"),
    ] {
        let (resp, statements) = statements_for(&app, &doc).await;
        assert_eq!(statements, 0, "refused before touching the database");
        assert!(resp.data == async_graphql::Value::Null);
        let body = serde_json::to_value(&resp).unwrap();
        assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["reason"], reason, "{body}");
        // Over HTTP the same answer, as a 400 to clients that accept graphql-response+json.
        let resp = app
            .client
            .post(app.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": doc }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
    }
}

#[tokio::test]
async fn batches_and_bodies_have_a_size_limit() {
    let app = TestApp::spawn_with(|c| c.max_batch_size = 3).await;
    let op = json!({ "query": "{ organizations { edges { cursor } } }" });
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([op, op, op]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([op, op, op, op]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(first_code(&body), "BAD_REQUEST");

    let huge = format!("{{ me {{ id }} }} # {}", "x".repeat(300 * 1024));
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": huge }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn each_address_and_account_has_a_budget_and_batches_spend_it_per_operation() {
    let app = TestApp::spawn_with(|c| {
        c.requests_per_address = 8;
        c.requests_per_account = 1_000_000;
    })
    .await;
    let q = json!({ "query": "{ organizations { edges { cursor } } }" });
    // A batch of 6 spends 6 of the 8; the next batch of 3 does not fit.
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([q, q, q, q, q, q]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([q, q, q]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    let body: Value = resp.json().await.unwrap();
    assert_eq!(first_code(&body), "RATE_LIMITED");
    assert_eq!(body["errors"][0]["extensions"]["retryAfter"], retry);

    // Per account: one signed-in client cannot spend more than its own budget.
    let app = TestApp::spawn_with(|c| {
        c.requests_per_address = 1_000_000;
        c.requests_per_account = 5;
    })
    .await;
    let a = app.register("13800000001", "小李").await;
    let b = app.register("13800000002", "小王").await;
    for _ in 0..5 {
        app.ok(Some(&a.access), "{ me { id } }", json!({})).await;
    }
    let (status, body) = app.post(Some(&a.access), "{ me { id } }", json!({})).await;
    assert_eq!(status, 429);
    assert_eq!(first_code(&body), "RATE_LIMITED");
    // Another account is not affected.
    app.ok(Some(&b.access), "{ me { id } }", json!({})).await;
}

#[tokio::test]
async fn a_login_brute_force_through_a_batch_is_still_throttled() {
    let app = TestApp::spawn().await;
    app.register("13800000001", "小李").await;
    let attempt = |pw: &str| {
        json!({ "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                "variables": { "i": { "phone": "13800000001", "password": pw } } })
    };
    let batch: Vec<Value> = (0..10)
        .map(|i| attempt(&format!("long-enough-guess-{i}")))
        .collect();
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(&batch)
        .send()
        .await
        .unwrap();
    let items: Vec<Value> = resp.json().await.unwrap();
    let codes: Vec<String> = items.iter().map(first_code).collect();
    // The test budget is 5 failures per phone: the rest of the batch is refused unchecked.
    assert_eq!(
        codes.iter().filter(|c| *c == "UNAUTHENTICATED").count(),
        5,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|c| *c == "RATE_LIMITED").count(),
        5,
        "{codes:?}"
    );
    // Even the right password waits now.
    let (_, body) = app
        .post(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "phone": "13800000001", "password": "correct horse battery" } }),
        )
        .await;
    assert_eq!(first_code(&body), "RATE_LIMITED");
}

/// A server in production mode.
async fn production_app() -> TestApp {
    TestApp::spawn_with(|c| {
        c.environment = api::config::Environment::Production;
        // Production sends texts through a provider (the file sender is refused there).
        c.sms_sender = Some("aliyun".into());
        c.sms_endpoint = "http://127.0.0.1:9/".into();
        c.sms_access_key_id = Some("test-id".into());
        c.sms_access_key_secret = Some(api::config::Secret::new("test-secret"));
        c.sms_sign_name = Some("同行".into());
        c.sms_template_code = Some("SMS_1".into());
    })
    .await
}

#[tokio::test]
async fn production_hides_introspection_suggestions_and_graphiql() {
    let dev = TestApp::spawn().await;
    let resp = dev.client.get(dev.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200, "GraphiQL in development");
    dev.ok(None, "{ __schema { queryType { name } } }", json!({}))
        .await;

    let prod = production_app().await;
    let resp = prod.client.get(prod.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let (_, body) = prod
        .post(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
    let (_, dev_body) = dev
        .post(None, "{ organisations { edges { cursor } } }", json!({}))
        .await;
    let (_, prod_body) = prod
        .post(None, "{ organisations { edges { cursor } } }", json!({}))
        .await;
    let message = |b: &Value| b["errors"][0]["message"].as_str().unwrap().to_owned();
    assert!(message(&dev_body).contains("Did you mean"), "{dev_body}");
    assert!(!message(&prod_body).contains("Did you mean"), "{prod_body}");
}

#[tokio::test]
async fn responses_are_compressed_when_the_client_accepts_it() {
    let app = TestApp::spawn().await;
    let query = json!({ "query": "{ __schema { types { name description } } }" });
    for encoding in ["gzip", "br"] {
        let resp = app
            .client
            .post(app.url("/graphql"))
            .header("accept-encoding", encoding)
            .json(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-encoding"], encoding);
        let compressed = resp.bytes().await.unwrap().len();
        let plain = app
            .client
            .post(app.url("/graphql"))
            .json(&query)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len();
        assert!(
            compressed * 3 < plain,
            "{encoding}: {compressed} vs {plain}"
        );
    }
}

/// `n` offline events for a shift that does not exist (each is answered `REJECTED`).
fn junk_events(n: usize) -> serde_json::Value {
    let events: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({ "kind": "CHECK_IN", "event": { "shiftId": "bm90LWFuLWlk", "method": "GEO",
                "location": { "latitude": 31.38, "longitude": 120.98 }, "clientEventId": format!("j{i}") } })
        })
        .collect();
    serde_json::json!({ "e": events })
}

#[tokio::test]
async fn every_offline_event_counts_against_the_request_budget_and_the_complexity() {
    let app = crate::harness::TestApp::spawn_with(|c| c.requests_per_account = 30).await;
    let vol = app.register("13800000001", "小李").await;
    let sync = "mutation($e: [SyncCheckEventInput!]!) { syncCheckEvents(events: $e) { status } }";
    let data = app.ok(Some(&vol.access), sync, junk_events(10)).await;
    assert_eq!(data["syncCheckEvents"].as_array().unwrap().len(), 10);
    // Ten spent; forty more do not fit in a budget of thirty a minute.
    let (_, body) = app.post(Some(&vol.access), sync, junk_events(40)).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{body}"
    );
    assert!(body["data"].is_null() || body["data"]["syncCheckEvents"].is_null());

    // A full batch fits the complexity limit once; the same batch under three aliases does not.
    let other = crate::harness::TestApp::spawn().await;
    let vol = other.register("13800000002", "小王").await;
    other.ok(Some(&vol.access), sync, junk_events(100)).await;
    let aliased = "mutation($e: [SyncCheckEventInput!]!) {
        a: syncCheckEvents(events: $e) { status }
        b: syncCheckEvents(events: $e) { status }
        c: syncCheckEvents(events: $e) { status } }";
    let (_, body) = other
        .post(Some(&vol.access), aliased, junk_events(100))
        .await;
    assert_eq!(
        body["errors"][0]["message"], "Query is too complex.",
        "{body}"
    );
}

#[tokio::test]
async fn every_mutation_field_counts_against_the_request_budget_before_any_runs() {
    let app = crate::harness::TestApp::spawn_with(|c| c.requests_per_account = 6).await;
    let vol = app.register("13800000001", "小李").await;
    let set = |n: usize| {
        let fields: String = (0..n)
            .map(|i| {
                format!("m{i}: updateMyProfile(input: {{skills: [\"技能{i}\"]}}) {{ skills }} ")
            })
            .collect();
        format!("mutation {{ {fields} }}")
    };
    // Four fields through aliases and a fragment: four of the six units.
    let data = app
        .ok(
            Some(&vol.access),
            &format!(
                "{} fragment F on MutationRoot {{ f: updateMyProfile(input: {{skills: [\"片段\"]}}) {{ skills }} }}",
                set(3).replacen("mutation {", "mutation { ...F", 1)
            ),
            json!({}),
        )
        .await;
    assert_eq!(data["f"]["skills"], json!(["片段"]));
    // Three more do not fit in the two left: refused whole, nothing written.
    let (_, body) = app.post(Some(&vol.access), &set(3), json!({})).await;
    assert_eq!(first_code(&body), "RATE_LIMITED", "{body}");
    assert!(body["data"].is_null(), "{body}");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
    let me = app
        .ok(
            Some(&vol.access),
            "{ me { volunteerProfile { skills } } }",
            json!({}),
        )
        .await;
    // As the first document left it (its fields ran in order, the fragment's first).
    assert_eq!(me["me"]["volunteerProfile"]["skills"], json!(["技能2"]));
}

/// graphql-js's `getIntrospectionQuery()` with every option, as GraphiQL, GraphQL Codegen,
/// Altair, Postman and Insomnia send it.
const STANDARD_INTROSPECTION: &str = include_str!("../fixtures/introspection.graphql");

#[tokio::test]
async fn the_standard_introspection_query_loads_the_schema_in_development_only() {
    let dev = TestApp::spawn().await;
    let data = dev.ok(None, STANDARD_INTROSPECTION, json!({})).await;
    let types = data["__schema"]["types"]
        .as_array()
        .unwrap_or_else(|| panic!("{data}"));
    assert!(types.iter().any(|t| t["name"] == "QueryRoot"), "{data}");
    // The depth limit still holds for everything else: twelve levels of nesting, then refused.
    let deep = format!(
        "{{ organizations(first: 1) {{ nodes {{ {}id{} }} }} }}",
        "parent { ".repeat(11),
        " }".repeat(11)
    );
    let (_, body) = dev.post(None, &deep, json!({})).await;
    assert_eq!(
        body["errors"][0]["message"], "Query is nested too deep.",
        "{body}"
    );
    assert_eq!(first_code(&body), "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    // Nor is introspection a way around it: what is below `__type` is the schema's, but a
    // document's own fields count as ever.
    let (_, body) = dev
        .post(
            None,
            &format!("{{ __typename {} }}", &deep[1..deep.len() - 1]),
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["message"], "Query is nested too deep.",
        "{body}"
    );

    let prod = production_app().await;
    let (_, body) = prod.post(None, STANDARD_INTROSPECTION, json!({})).await;
    assert!(body["data"]["__schema"].is_null(), "{body}");
}
