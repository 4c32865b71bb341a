//! Automatic persisted queries (Apollo's protocol, POST and GET) and trusted-documents mode.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::harness::{TestApp, first_code};

fn sha(q: &str) -> String {
    Sha256::digest(q.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn ext(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

async fn post(app: &TestApp, body: Value) -> Value {
    app.client
        .post(app.url("/graphql"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn get(app: &TestApp, params: &[(&str, String)]) -> (u16, Value) {
    let resp = app
        .client
        .get(app.url("/graphql"))
        .query(params)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

const FEED: &str = "query Feed { organizations(first: 5) { edges { node { name } } } }";

#[tokio::test]
async fn a_phone_registers_a_query_once_then_sends_only_its_hash() {
    let app = TestApp::spawn().await;
    app.world().await;
    let hash = sha(FEED);
    // Unknown hash: the client is told to send the query.
    let body = post(&app, json!({ "extensions": ext(&hash) })).await;
    assert_eq!(first_code(&body), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");
    // Hash and query: runs and registers.
    let body = post(&app, json!({ "query": FEED, "extensions": ext(&hash) })).await;
    assert_eq!(
        body["data"]["organizations"]["edges"][0]["node"]["name"],
        "苏州市"
    );
    // From now on the hash alone, over POST or as a short GET URL.
    let body = post(&app, json!({ "extensions": ext(&hash) })).await;
    assert_eq!(
        body["data"]["organizations"]["edges"][0]["node"]["name"],
        "苏州市"
    );
    let (status, body) = get(&app, &[("extensions", ext(&hash).to_string())]).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["organizations"]["edges"][0]["node"]["name"],
        "苏州市"
    );
    // A wrong hash for a query is refused, not stored.
    let body = post(
        &app,
        json!({ "query": FEED, "extensions": ext(&"ab".repeat(32)) }),
    )
    .await;
    assert_eq!(first_code(&body), "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["reason"],
        "PERSISTED_QUERY_HASH_MISMATCH"
    );
    // A persisted mutation still may not run over GET.
    let logout = "mutation Out { logout(refreshToken: \"x\") }";
    post(
        &app,
        json!({ "query": logout, "extensions": ext(&sha(logout)) }),
    )
    .await;
    let (status, _) = get(&app, &[("extensions", ext(&sha(logout)).to_string())]).await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn trusted_documents_mode_runs_only_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("trusted.json");
    std::fs::write(
        &manifest,
        json!({
            "format": "apollo-persisted-query-manifest", "version": 1,
            "operations": [{ "id": sha(FEED), "name": "Feed", "type": "query", "body": FEED }]
        })
        .to_string(),
    )
    .unwrap();
    let path = manifest.clone();
    let app = TestApp::spawn_with(move |c| c.trusted_documents = Some(path)).await;
    // By hash and by its exact text: runs.
    let body = post(&app, json!({ "extensions": ext(&sha(FEED)) })).await;
    assert!(body["data"]["organizations"]["edges"].is_array(), "{body}");
    let body = post(&app, json!({ "query": FEED })).await;
    assert!(body["data"]["organizations"]["edges"].is_array(), "{body}");
    // Anything else, even well-formed and hashed: refused.
    let other = "{ organizations { edges { cursor } } }";
    for body in [
        post(&app, json!({ "query": other })).await,
        post(
            &app,
            json!({ "query": other, "extensions": ext(&sha(other)) }),
        )
        .await,
        get(&app, &[("query", other.to_owned())]).await.1,
    ] {
        assert_eq!(first_code(&body), "PERSISTED_QUERY_NOT_IN_LIST", "{body}");
        assert!(body.get("data").is_none_or(Value::is_null));
    }
}
