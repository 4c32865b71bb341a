//! Third-party API clients: registration, the client-credentials grant, scopes, confinement to
//! the organization, revocation and secret roll-over.

use serde_json::{Value, json};

use crate::harness::{TestApp, first_code};

pub const CREATE: &str = "mutation($i: CreateApiClientInput!) { createApiClient(input: $i) { clientSecret client { clientId scopes } } }";

async fn token(app: &TestApp, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = app
        .client
        .post(app.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

pub async fn grant(app: &TestApp, id: &str, secret: &str) -> (u16, Value) {
    token(
        app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ],
    )
    .await
}

fn event_input(org: &str) -> Value {
    let starts = chrono::Utc::now() + chrono::Duration::days(1);
    json!({ "i": {
        "organizationId": org, "title": "区平台同步的活动", "category": "HEALTH",
        "address": "x", "latitude": 31.38, "longitude": 120.98,
        "startsAt": starts.to_rfc3339(), "endsAt": (starts + chrono::Duration::hours(2)).to_rfc3339()
    } })
}

const CREATE_EVENT: &str =
    "mutation($i: CreateEventInput!) { createEvent(input: $i) { id title } }";

#[tokio::test]
async fn a_client_acts_within_its_scopes_and_organization() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    // Volunteers cannot register clients; the station's organizer can.
    let vol = app.register("13800000001", "小李").await;
    let input = json!({ "i": { "organizationId": w.station, "name": "区志愿平台", "scopes": ["EVENTS_WRITE", "PUBLIC_READ"] } });
    assert_eq!(
        app.err_code(Some(&vol.access), CREATE, input.clone()).await,
        "FORBIDDEN"
    );
    let created = app.ok(Some(&w.organizer.access), CREATE, input).await;
    let id = created["createApiClient"]["client"]["clientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = created["createApiClient"]["clientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    // Only a digest is kept.
    let rows = <entity::api_client_secret::Entity as sea_orm::EntityTrait>::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r.secret_hash != secret));

    // The grant: wrong secret, unknown grant type, a scope not granted.
    let (status, body) = grant(&app, &id, "txs_wrong").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = token(&app, &[("grant_type", "password"), ("client_id", &id)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unsupported_grant_type"))
    );
    let (status, body) = token(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("scope", "org:read"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // HTTP Basic works too.
    let resp = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (status, body) = grant(&app, &id, &secret).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "events:write public:read");
    assert!(body["expires_in"].as_u64().unwrap() <= 300);
    let bearer = body["access_token"].as_str().unwrap().to_owned();

    // In scope and in its organization: works.
    let data = app
        .ok(Some(&bearer), CREATE_EVENT, event_input(&w.station))
        .await;
    assert_eq!(data["createEvent"]["title"], "区平台同步的活动");
    // Public reads are in scope.
    app.ok(
        Some(&bearer),
        "{ organizations { edges { cursor } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        app.err_code(Some(&bearer), CREATE_EVENT, event_input(&w.other_station))
            .await,
        "FORBIDDEN"
    );
    // Confined to its organization even when whoever registered it may act everywhere: the
    // system administrator registers one for the station.
    let by_admin = app
        .ok(
            Some(&w.root.access),
            CREATE,
            json!({ "i": { "organizationId": w.station, "name": "市平台", "scopes": ["EVENTS_WRITE"] } }),
        )
        .await;
    let (_, body) = grant(
        &app,
        by_admin["createApiClient"]["client"]["clientId"]
            .as_str()
            .unwrap(),
        by_admin["createApiClient"]["clientSecret"]
            .as_str()
            .unwrap(),
    )
    .await;
    let admin_bearer = body["access_token"].as_str().unwrap().to_owned();
    app.ok(Some(&admin_bearer), CREATE_EVENT, event_input(&w.station))
        .await;
    assert_eq!(
        app.err_code(
            Some(&admin_bearer),
            CREATE_EVENT,
            event_input(&w.other_station)
        )
        .await,
        "FORBIDDEN"
    );
    // Missing scope, and fields not open to clients at all.
    let list =
        "query($o: ID!) { serviceRecords(filter: {organizationId: $o}) { edges { cursor } } }";
    assert_eq!(
        app.err_code(Some(&bearer), list, json!({ "o": w.station }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(Some(&bearer), "{ me { id } }", json!({}))
            .await,
        "FORBIDDEN"
    );
    // Hiding a closed field under nested fragments does not get it through.
    let nested = format!(
        "{{ {}me {{ id }}{} }}",
        "... { ".repeat(10),
        " }".repeat(10)
    );
    assert_eq!(
        app.err_code(Some(&bearer), &nested, json!({})).await,
        "FORBIDDEN"
    );
    // Acting with its registrar's authority is not being that person: the registrar's own
    // account is not reachable through `node`, and nothing private opens.
    let data = app
        .ok(
            Some(&bearer),
            "query($id: ID!) { node(id: $id) { ... on Account { displayName } } }",
            json!({ "id": w.organizer.account_id }),
        )
        .await;
    assert!(data["node"].is_null(), "{data}");

    // Revoked: no new tokens, and the one it holds stops working.
    app.ok(
        Some(&w.organizer.access),
        "mutation($c: String!) { revokeApiClient(clientId: $c) { revokedAt } }",
        json!({ "c": id }),
    )
    .await;
    let (status, body) = grant(&app, &id, &secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(
        app.err_code(Some(&bearer), CREATE_EVENT, event_input(&w.station))
            .await,
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn secrets_roll_over_without_downtime() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let created = app
        .ok(
            Some(&w.organizer.access),
            CREATE,
            json!({ "i": { "organizationId": w.station, "name": "热线系统", "scopes": ["PUBLIC_READ"] } }),
        )
        .await;
    let id = created["createApiClient"]["client"]["clientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = created["createApiClient"]["clientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let rotate = "mutation($c: String!, $m: Int) { rotateApiClientSecret(clientId: $c, overlapMinutes: $m) { clientSecret } }";
    let second = app
        .ok(
            Some(&w.organizer.access),
            rotate,
            json!({ "c": id, "m": 60 }),
        )
        .await["rotateApiClientSecret"]["clientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    // During the roll-over both work.
    assert_eq!(grant(&app, &id, &first).await.0, 200);
    assert_eq!(grant(&app, &id, &second).await.0, 200);
    // Rolling over again with no overlap ends both older secrets at once.
    let third = app
        .ok(
            Some(&w.organizer.access),
            rotate,
            json!({ "c": id, "m": 0 }),
        )
        .await["rotateApiClientSecret"]["clientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(grant(&app, &id, &first).await.0, 401);
    assert_eq!(grant(&app, &id, &second).await.0, 401);
    assert_eq!(grant(&app, &id, &third).await.0, 200);
    // Another organization's organizer cannot touch it.
    let (_, body) = app
        .post(
            Some(&w.other_organizer.access),
            rotate,
            json!({ "c": id, "m": 0 }),
        )
        .await;
    assert_eq!(first_code(&body), "NOT_FOUND");
}

#[tokio::test]
async fn an_organizations_clients_are_listed_for_its_managers_only() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut made = Vec::new();
    for name in ["区志愿服务平台", "旧的对接系统"] {
        let data = app
            .ok(
                Some(&w.organizer.access),
                CREATE,
                json!({ "i": { "organizationId": w.station, "name": name, "scopes": ["ORG_READ"] } }),
            )
            .await;
        made.push((
            data["createApiClient"]["client"]["clientId"]
                .as_str()
                .unwrap()
                .to_owned(),
            data["createApiClient"]["clientSecret"]
                .as_str()
                .unwrap()
                .to_owned(),
        ));
    }
    app.ok(
        Some(&w.organizer.access),
        "mutation($c: String!) { revokeApiClient(clientId: $c) { revokedAt } }",
        json!({ "c": made[1].0 }),
    )
    .await;
    let list =
        "query($o: ID!, $r: Boolean) { organization(id: $o) { apiClients(includeRevoked: $r) {
        edges { node { clientId name revokedAt registeredBy { displayName } } } } } }";
    let ids = |data: &Value| -> Vec<String> {
        data["organization"]["apiClients"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["clientId"].as_str().unwrap().to_owned())
            .collect()
    };
    // The station's organizer, and the city's administrator above it.
    for token in [&w.organizer.access, &w.root.access] {
        let active = app.ok(Some(token), list, json!({ "o": w.station })).await;
        assert_eq!(ids(&active), [made[0].0.clone()]);
        assert_eq!(
            active["organization"]["apiClients"]["edges"][0]["node"]["registeredBy"]["displayName"],
            "组织者"
        );
        let all = app
            .ok(Some(token), list, json!({ "o": w.station, "r": true }))
            .await;
        assert_eq!(ids(&all), [made[0].0.clone(), made[1].0.clone()]);
    }
    // The other station's organizer and a volunteer may not; nor may a client itself.
    let vol = app.register("13800000001", "小李").await;
    for token in [&w.other_organizer.access, &vol.access] {
        assert_eq!(
            app.err_code(Some(token), list, json!({ "o": w.station }))
                .await,
            "FORBIDDEN"
        );
    }
    let (_, body) = grant(&app, &made[0].0, &made[0].1).await;
    let bearer = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.err_code(Some(&bearer), list, json!({ "o": w.station }))
            .await,
        "FORBIDDEN"
    );
}
