//! Authorization per field: every field has a rule (`api::access`), and an API client is held
//! to it at every depth, through `node`, inline fragments and named fragments.

use serde_json::{Value, json};

use crate::harness::{TestApp, World};

/// A client of the station registered by `by` with `scopes`; its bearer token.
async fn client(app: &TestApp, by: &str, org: &str, scopes: &[&str]) -> String {
    let created = app
        .ok(
            Some(by),
            crate::clients_e2e::CREATE,
            json!({ "i": { "organizationId": org, "name": "区平台", "scopes": scopes } }),
        )
        .await;
    let c = &created["createApiClient"];
    let (status, body) = crate::clients_e2e::grant(
        app,
        c["client"]["clientId"].as_str().unwrap(),
        c["clientSecret"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

/// A published event of the station with a shift a volunteer served an hour on, and a draft.
struct Scene {
    w: World,
    vol: String,
    shift: String,
    record: String,
    draft: String,
}

async fn scene(app: &TestApp) -> Scene {
    let w = app.world().await;
    let vol = app.register("13800000001", "王小明").await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "敬老",
            31.38,
            120.98,
            24,
            true,
        )
        .await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 10, false, &[])
        .await;
    app.sign_up(&vol.access, &shift, "s1").await;
    let record = app.serve_an_hour(&vol.access, &shift).await;
    let draft = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "筹备中",
            31.38,
            120.98,
            48,
            false,
        )
        .await;
    Scene {
        vol: vol.access,
        shift,
        record: api::ids::encode(api::ids::NodeType::ServiceRecord, record.id).0,
        draft,
        w,
    }
}

#[tokio::test]
async fn every_field_of_the_schema_has_a_rule() {
    let app = TestApp::spawn().await;
    let data = app
        .ok(
            None,
            "{ __schema { types { name kind fields(includeDeprecated: true) { name } } } }",
            json!({}),
        )
        .await;
    let mut missing = Vec::new();
    let mut checked = 0;
    for t in data["__schema"]["types"].as_array().unwrap() {
        let name = t["name"].as_str().unwrap();
        if name.starts_with("__") || !matches!(t["kind"].as_str(), Some("OBJECT" | "INTERFACE")) {
            continue;
        }
        for f in t["fields"].as_array().unwrap() {
            let field = f["name"].as_str().unwrap();
            checked += 1;
            if api::access::rule(name, field).is_none() {
                missing.push(format!("{name}.{field}"));
            }
        }
    }
    assert!(checked > 400, "the walk saw the schema ({checked} fields)");
    assert!(
        missing.is_empty(),
        "fields without an access rule in api/src/access.rs: {missing:?}"
    );
}

#[tokio::test]
async fn a_public_read_client_reads_only_what_the_public_reads_at_every_depth() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let w = &s.w;
    // Registered by the system administrator, who may see everything the client asks for.
    let bearer = client(&app, &w.root.access, &w.station, &["PUBLIC_READ"]).await;
    let refused: [(&str, Value); 9] = [
        (
            "query($o: ID!) { organization(id: $o) { members { edges { node { account { phone } } } } } }",
            json!({ "o": w.station }),
        ),
        (
            "query($o: ID!) { organization(id: $o) { timeBank { balance } } }",
            json!({ "o": w.station }),
        ),
        (
            "query($s: ID!) { shift(id: $s) { signups { edges { node { volunteer { displayName } } } } } }",
            json!({ "s": s.shift }),
        ),
        (
            "query($s: ID!) { shift(id: $s) { mySignup { id } } }",
            json!({ "s": s.shift }),
        ),
        (
            "query($id: ID!) { node(id: $id) { ... on ServiceRecord { history { action } } } }",
            json!({ "id": s.record }),
        ),
        (
            "query($id: ID!) { node(id: $id) { ...R } } fragment R on ServiceRecord { minutes }",
            json!({ "id": s.record }),
        ),
        (
            "query($id: ID!) { node(id: $id) { ... on Node { ... on Account { volunteerProfile { bio } } } } }",
            json!({ "id": w.organizer.account_id }),
        ),
        (
            "query($s: ID!) { shift(id: $s) { ...S } } fragment S on Shift { event { shifts { ...T } } } fragment T on Shift { signups { edges { cursor } } }",
            json!({ "s": s.shift }),
        ),
        (
            "query($o: ID!) { organization(id: $o) { stats(from: \"2026-01-01T00:00:00Z\", to: \"2027-01-01T00:00:00Z\") { donationsFen } } }",
            json!({ "o": w.station }),
        ),
    ];
    for (query, vars) in refused {
        let (_, body) = app.post(Some(&bearer), query, vars).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{query}: {body}"
        );
        assert!(body["data"].is_null(), "refused whole, nothing ran: {body}");
    }
    // What the public reads, it reads.
    let data = app
        .ok(
            Some(&bearer),
            "query($s: ID!) { shift(id: $s) { title remainingSlots event { title organization { name funds { balanceFen } } } } }",
            json!({ "s": s.shift }),
        )
        .await;
    assert_eq!(data["shift"]["event"]["title"], "敬老");
    // And no more than the public: the draft its registrar sees is not there for it.
    let draft = "query($e: ID!) { event(id: $e) { title } }";
    assert_eq!(
        app.ok(Some(&w.organizer.access), draft, json!({ "e": s.draft }))
            .await["event"]["title"],
        "筹备中"
    );
    for token in [Some(bearer.as_str()), None] {
        assert_eq!(
            app.err_code(token, draft, json!({ "e": s.draft })).await,
            "NOT_FOUND"
        );
    }
}

#[tokio::test]
async fn an_org_read_client_sees_its_records_with_phones_always_masked() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let w = &s.w;
    let bearer = client(
        &app,
        &w.root.access,
        &w.station,
        &["PUBLIC_READ", "ORG_READ"],
    )
    .await;
    // The system administrator sees whole numbers; its client does not.
    let members = "query($o: ID!) { organization(id: $o) { members { edges { node { role account { phone } } } } } }";
    let whole = app
        .ok(Some(&w.root.access), members, json!({ "o": w.station }))
        .await;
    assert_eq!(
        whole["organization"]["members"]["edges"][0]["node"]["account"]["phone"],
        "13900000001"
    );
    let masked = app
        .ok(Some(&bearer), members, json!({ "o": w.station }))
        .await;
    assert_eq!(
        masked["organization"]["members"]["edges"][0]["node"]["account"]["phone"],
        "139****0001"
    );
    let signups = "query($s: ID!) { shift(id: $s) { signups { edges { node { status volunteer { phone } } } } } }";
    let data = app
        .ok(Some(&bearer), signups, json!({ "s": s.shift }))
        .await;
    let phone = data["shift"]["signups"]["edges"][0]["node"]["volunteer"]["phone"]
        .as_str()
        .unwrap();
    assert!(phone.contains("****"), "{phone}");
    let history =
        "query($id: ID!) { node(id: $id) { ... on ServiceRecord { minutes history { action } } } }";
    app.ok(Some(&bearer), history, json!({ "id": s.record }))
        .await;
    // A person's own business stays theirs, whatever the scopes.
    for query in [
        "query($s: ID!) { shift(id: $s) { signups { edges { node { volunteer { volunteerProfile { bio } } } } } } }",
        "query($s: ID!) { shift(id: $s) { signups { edges { node { volunteer { timeBank { balance } } } } } } }",
        "query($s: ID!) { shift(id: $s) { signups { edges { node { volunteer { signups { edges { cursor } } } } } } } }",
    ] {
        assert_eq!(
            app.err_code(Some(&bearer), query, json!({ "s": s.shift }))
                .await,
            "FORBIDDEN",
            "{query}"
        );
    }
    // The volunteer still reads their own.
    app.ok(
        Some(&s.vol),
        "{ me { volunteerProfile { bio } signups { edges { cursor } } } }",
        json!({}),
    )
    .await;
}
