//! Check-in codes over HTTP (issue 4, first part).

use serde_json::json;

use crate::harness::TestApp;

const ISSUE: &str =
    "mutation($s: ID!) { issueCheckInCode(shiftId: $s) { qrPayload pin refreshAt expiresAt } }";

#[tokio::test]
async fn staff_get_a_rotating_code_bound_to_the_shift_and_others_do_not() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app
        .event_at(org, &w.station, "助餐", 31.38, 120.98, 1, true)
        .await;
    let shift = app.shift_in(org, &event, 5, true, &[]).await;

    let data = app.ok(Some(org), ISSUE, json!({ "s": shift })).await;
    let code = &data["issueCheckInCode"];
    assert!(code["qrPayload"].as_str().unwrap().starts_with("TX1."));
    assert_eq!(code["pin"].as_str().unwrap().len(), 6);
    let refresh: chrono::DateTime<chrono::Utc> =
        code["refreshAt"].as_str().unwrap().parse().unwrap();
    let expires: chrono::DateTime<chrono::Utc> =
        code["expiresAt"].as_str().unwrap().parse().unwrap();
    assert_eq!((expires - refresh).num_seconds(), 30);
    assert!(expires <= chrono::Utc::now() + chrono::Duration::seconds(61));

    // The code the server issued verifies for this shift and not for another.
    let key = |id: &str| match api::ids::decode_any(id) {
        Some((_, k)) => k,
        None => unreachable!(),
    };
    let other = app
        .shift_at(
            org,
            &event,
            chrono::Utc::now() + chrono::Duration::hours(3),
            5,
            true,
            &[],
        )
        .await;
    let codes = &app.state.checkin_codes;
    let qr = code["qrPayload"].as_str().unwrap();
    assert!(codes.verify_qr(key(&shift), qr, chrono::Utc::now()).is_ok());
    assert!(
        codes
            .verify_qr(key(&other), qr, chrono::Utc::now())
            .is_err()
    );

    // A volunteer signed up for the shift, and another station's organizer, may not.
    let vol = app.register("13800000001", "小李").await;
    app.sign_up(&vol.access, &shift, "k").await;
    assert_eq!(
        app.err_code(Some(&vol.access), ISSUE, json!({ "s": shift }))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            ISSUE,
            json!({ "s": shift })
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(None, ISSUE, json!({ "s": shift })).await,
        "UNAUTHENTICATED"
    );
}
