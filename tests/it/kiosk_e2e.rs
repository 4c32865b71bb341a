//! Kiosk credentials (issue 16, part 4): a venue's tablet holds a key that shows and rotates
//! the check-in codes of one event's shifts, and reads nothing else.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::harness::TestApp;

const ISSUE_KEY: &str = "mutation($e: ID!) { issueKioskCredential(eventId: $e, label: \"前台\") { key credential { id label expiresAt revokedAt } } }";
const CODE: &str = "mutation($s: ID!) { issueCheckInCode(shiftId: $s) { qrPayload pin } }";
const SHIFT: &str =
    "query($s: ID!) { shift(id: $s) { checkedInCount confirmedCount event { title } } }";

#[tokio::test]
async fn a_kiosk_key_shows_its_events_codes_and_reads_nothing_else() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = w.organizer.access.clone();
    let event = app
        .event_at(&org, &w.station, "社区助餐", 31.38, 120.98, 0, true)
        .await;
    let starts = Utc::now() + Duration::minutes(10);
    let shift = app.shift_at(&org, &event, starts, 5, true, &[]).await;
    let other_event = app
        .event_at(&org, &w.station, "另一个活动", 31.38, 120.98, 1, true)
        .await;
    let other_shift = app.shift_in(&org, &other_event, 5, true, &[]).await;
    let vol = app.register("13800000201", "小李").await;

    // Only the event's staff issue one.
    assert_eq!(
        app.err_code(Some(&vol.access), ISSUE_KEY, json!({ "e": event }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            ISSUE_KEY,
            json!({ "e": event })
        )
        .await,
        "FORBIDDEN"
    );
    let issued =
        app.ok(Some(&org), ISSUE_KEY, json!({ "e": event })).await["issueKioskCredential"].clone();
    let key = issued["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("txk_") && key.len() > 40, "{key}");
    assert!(issued["credential"]["revokedAt"].is_null());
    let expires =
        chrono::DateTime::parse_from_rfc3339(issued["credential"]["expiresAt"].as_str().unwrap())
            .unwrap();
    assert!(expires > Utc::now() + Duration::hours(2));
    // Only a digest of the key is stored.
    let stored: Vec<entity::kiosk_credential::Model> =
        <entity::kiosk_credential::Entity as sea_orm::EntityTrait>::find()
            .all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].key_digest.contains(&key[4..]));

    // It shows the codes of the event's shifts and reads them.
    let code = app.ok(Some(&key), CODE, json!({ "s": shift })).await;
    assert_eq!(code["issueCheckInCode"]["pin"].as_str().unwrap().len(), 6);
    let s = app.ok(Some(&key), SHIFT, json!({ "s": shift })).await;
    assert_eq!(s["shift"]["event"]["title"], "社区助餐");

    // Nothing else: other events' shifts, other queries, mutations, private fields.
    assert_eq!(
        app.err_code(Some(&key), CODE, json!({ "s": other_shift }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.err_code(Some(&key), SHIFT, json!({ "s": other_shift }))
            .await,
        "NOT_FOUND"
    );
    for forbidden in [
        "{ me { id } }",
        "{ events(first: 5) { edges { node { id } } } }",
        "{ organizations(first: 5) { edges { node { id } } } }",
        "{ __typename node(id: \"x\") { id } }",
        "query { ... on QueryRoot { me { id } } }",
        "mutation { logout(refreshToken: \"x\") }",
    ] {
        assert_eq!(
            app.err_code(Some(&key), forbidden, json!({})).await,
            "FORBIDDEN",
            "{forbidden}"
        );
    }
    let (_, body) = app
        .post(
            Some(&key),
            "query($s: ID!) { shift(id: $s) { signups(first: 5) { edges { node { id } } } } }",
            json!({ "s": shift }),
        )
        .await;
    assert!(
        body["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    assert!(
        body["data"]["shift"].is_null() || body["data"]["shift"]["signups"].is_null(),
        "{body}"
    );
    // Nor personal-data routes.
    let export = app
        .client
        .get(app.url(&format!(
            "/exports/service-records.csv?organizationId={}&from=2026-01-01&to=2027-01-01",
            w.station
        )))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status().as_u16(), 401);

    // Staff list and revoke it; a revoked key is refused at once.
    let listed = app
        .ok(
            Some(&org),
            "query($e: ID!) { event(id: $e) { kioskCredentials { id label revokedAt } } }",
            json!({ "e": event }),
        )
        .await;
    assert_eq!(listed["event"]["kioskCredentials"][0]["label"], "前台");
    let id = issued["credential"]["id"].clone();
    assert_eq!(
        app.err_code(
            Some(&vol.access),
            "mutation($id: ID!) { revokeKioskCredential(id: $id) { id } }",
            json!({ "id": id })
        )
        .await,
        "FORBIDDEN"
    );
    let revoked = app
        .ok(
            Some(&org),
            "mutation($id: ID!) { revokeKioskCredential(id: $id) { revokedAt } }",
            json!({ "id": id }),
        )
        .await;
    assert!(revoked["revokeKioskCredential"]["revokedAt"].is_string());
    assert_eq!(
        app.err_code(Some(&key), CODE, json!({ "s": shift })).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        app.err_code(Some("txk_made-up"), CODE, json!({ "s": shift }))
            .await,
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn a_kiosk_key_lapses_with_its_event() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = w.organizer.access.clone();
    let event = app
        .event_at(&org, &w.station, "社区助餐", 31.38, 120.98, 0, true)
        .await;
    let starts = Utc::now() + Duration::minutes(10);
    let shift = app.shift_at(&org, &event, starts, 5, true, &[]).await;
    let key =
        app.ok(Some(&org), ISSUE_KEY, json!({ "e": event })).await["issueKioskCredential"]["key"]
            .as_str()
            .unwrap()
            .to_owned();
    app.ok(Some(&key), CODE, json!({ "s": shift })).await;
    // The event ended more than two hours ago (check-out has closed).
    let event_key = match api::ids::decode_any(event.as_str()) {
        Some((_, k)) => k,
        None => unreachable!(),
    };
    crate::harness::exec(
        &app.state.db,
        "UPDATE charity_event SET starts_at = ?, ends_at = ? WHERE id = ?",
        vec![
            (Utc::now() - Duration::hours(5)).into(),
            (Utc::now() - Duration::hours(3)).into(),
            event_key.into(),
        ],
    )
    .await;
    assert_eq!(
        app.err_code(Some(&key), CODE, json!({ "s": shift })).await,
        "UNAUTHENTICATED"
    );
}
