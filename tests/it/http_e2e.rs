//! GraphQL over HTTP: bodies, methods, media types, health endpoints.

use serde_json::{Value, json};

use crate::harness::{TestApp, first_code};

#[tokio::test]
async fn malformed_json_is_a_graphql_error_not_a_500() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body("{\"query\": \"{ me { id } }\"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(first_code(&body), "BAD_REQUEST");
    assert!(body["errors"][0]["message"].is_string());
}

#[tokio::test]
async fn unknown_field_is_a_validation_error() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(None, "{ me { id favouriteColour } }", json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(first_code(&body), "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "favouriteColour");
    assert!(body["data"].is_null());
}

#[tokio::test]
async fn unknown_input_field_is_an_error_with_a_code() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(
            None,
            "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
            json!({ "i": { "phone": "13800000001", "password": "correct horse", "displayName": "x", "isSystemAdmin": true } }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["extensions"]["field"].is_string(),
        "{body}"
    );
    assert!(body["data"].is_null());
    // Nothing was written: the phone is still free.
    app.register("13800000001", "x").await;
}

#[tokio::test]
async fn syntax_errors_are_parse_failures_and_400_for_graphql_response_json() {
    let app = TestApp::spawn().await;
    let (status, body) = app.post(None, "{ me { id ", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(first_code(&body), "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "GRAPHQL_PARSE_FAILED"
    );

    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .json(&json!({ "query": "{ me { id " }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.headers()["content-type"],
        "application/graphql-response+json"
    );
    // A request error has no `data` entry at all (parse or validation failure, in a batch
    // too); an error raised while executing sits beside `data`.
    let body: Value = resp.json().await.unwrap();
    assert!(body.get("data").is_none(), "{body}");
    let (_, body) = app.post(None, "{ noSuchField }", json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    assert!(body.get("data").is_none(), "{body}");
    let batch: Value = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([{ "query": "{ me { id " }, { "query": "{ __typename }" }]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(batch[0].get("data").is_none(), "{batch}");
    assert_eq!(batch[1]["data"]["__typename"], "QueryRoot");
    let (_, body) = app
        .post(
            None,
            "{ myDonations(first: 1) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(first_code(&body), "UNAUTHENTICATED");
    assert!(body.get("data").is_some(), "{body}");
}

#[tokio::test]
async fn non_json_bodies_are_unsupported_media_type() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "text/plain")
        .body("{ me { id } }")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(first_code(&body), "BAD_REQUEST");
}

#[tokio::test]
async fn queries_work_over_get_but_mutations_do_not() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ organizations { edges { cursor } } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert!(body["data"]["organizations"]["edges"].is_array(), "{body}");

    let resp = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { logout(refreshToken: \"x\") }")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    assert_eq!(resp.headers()["allow"], "POST");
    // A named mutation (run without operationName, being the only one) is a mutation too.
    let resp = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "mutation Out { logout(refreshToken: \"x\") }")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
}

#[tokio::test]
async fn batched_requests_answer_in_order() {
    let app = TestApp::spawn().await;
    let resp = app
        .client
        .post(app.url("/graphql"))
        .json(&json!([
            { "query": "{ me { id } }" },
            { "query": "{ organizations { edges { cursor } } }" }
        ]))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let items = body.as_array().expect("an array answer");
    assert_eq!(items.len(), 2);
    assert!(items[0]["data"]["me"].is_null());
    assert!(items[1]["data"]["organizations"].is_object());
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    let graphiql = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(graphiql.status().as_u16(), 200);
    assert!(graphiql.text().await.unwrap().contains("graphiql"));
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone() {
    let app = TestApp::spawn().await;
    app.state.db.clone().close().await.unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
}

#[tokio::test]
async fn internal_errors_do_not_leak_sql() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let root = app.register_admin("13900000000").await;
    let city = app
        .create_org(&root.access, "苏州市", "CITY_CENTER", None)
        .await;
    // Take a table away under the running server: the failure is internal, and generic.
    app.state
        .db
        .execute_unprepared("DROP TABLE organization_closure")
        .await
        .unwrap();
    let (status, body) = app
        .post(
            None,
            "query($id: ID!) { organizations(filter: {ancestorId: $id}) { edges { cursor } } }",
            json!({ "id": city }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(first_code(&body), "INTERNAL");
    assert_eq!(body["errors"][0]["message"], "internal error");
    let text = body.to_string();
    for leak in [
        "organization_closure",
        "SELECT",
        "no such table",
        "does not exist",
    ] {
        assert!(!text.contains(leak), "response leaks {leak}: {text}");
    }
}

#[tokio::test]
async fn forwarded_for_is_read_from_the_right_when_trusted() {
    let app = TestApp::spawn_with(|c| {
        c.trust_forwarded_for = true;
        c.login_attempts_per_address = 2;
    })
    .await;
    let login = |phone: &'static str, forwarded: &'static str| {
        let app = &app;
        async move {
            let query = format!(
                "mutation {{ login(input: {{phone: \"{phone}\", password: \"wrong password\"}}) {{ accessToken }} }}"
            );
            let resp = app
                .client
                .post(app.url("/graphql"))
                .header("x-forwarded-for", forwarded)
                .json(&json!({ "query": query }))
                .send()
                .await
                .unwrap();
            first_code(&resp.json::<Value>().await.unwrap())
        }
    };
    assert_eq!(
        login("13800000001", "9.9.9.9, 10.0.0.1").await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        login("13800000002", "9.9.9.8, 10.0.0.1").await,
        "UNAUTHENTICATED"
    );
    // Changing the client-written left part does not buy new attempts …
    assert_eq!(
        login("13800000003", "1.1.1.1, 10.0.0.1").await,
        "RATE_LIMITED"
    );
    // … while another proxied client is unaffected.
    assert_eq!(login("13800000004", "10.0.0.2").await, "UNAUTHENTICATED");
}
