//! Notifications (issue 19, first step): each change to a sign-up tells its volunteer once,
//! written with the change; only the volunteer reads them and marks them read.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::harness::TestApp;

const MINE: &str = "query($unread: Boolean) { me { notifications(unreadOnly: $unread) {
    totalCount edges { node { id kind title readAt shift { id } signup { id status } } } } } }";

/// The kinds of `token`'s notifications, oldest first.
async fn kinds(app: &TestApp, token: &str) -> Vec<String> {
    let data = app.ok(Some(token), MINE, json!({})).await;
    let list = &data["me"]["notifications"];
    let kinds: Vec<String> = list["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(list["totalCount"], kinds.len());
    kinds
}

#[tokio::test]
async fn each_change_to_a_sign_up_tells_its_volunteer_once() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app.station_event(&w, "助餐").await;
    let shift = app.shift_in(org, &event, 1, true, &[]).await;
    let a = app.register("13800000001", "小李").await;
    let b = app.register("13800000002", "老王").await;

    // A signs up, and the phone retries the same request: one sign-up, one notification.
    let first = app.sign_up(&a.access, &shift, "a-1").await;
    let again = app.sign_up(&a.access, &shift, "a-1").await;
    assert_eq!(
        first["data"]["signUpForShift"]["id"],
        again["data"]["signUpForShift"]["id"]
    );
    assert_eq!(kinds(&app, &a.access).await, ["SIGNED_UP"]);
    let data = app.ok(Some(&a.access), MINE, json!({})).await;
    let node = &data["me"]["notifications"]["edges"][0]["node"];
    assert_eq!(node["shift"]["id"], shift.as_str());
    assert_eq!(node["title"], "You have a place on the shift");
    assert!(node["readAt"].is_null());

    // B waits; A leaves (their own doing: nothing to tell A); B gets the place.
    let b_signup =
        app.sign_up(&b.access, &shift, "b-1").await["data"]["signUpForShift"]["id"].clone();
    app.ok(
        Some(&a.access),
        "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
        json!({ "id": first["data"]["signUpForShift"]["id"] }),
    )
    .await;
    assert_eq!(kinds(&app, &a.access).await, ["SIGNED_UP"]);
    assert_eq!(kinds(&app, &b.access).await, ["WAITLISTED", "PROMOTED"]);

    // The organizers cancel B's sign-up: B is told.
    app.ok(
        Some(org),
        "mutation($id: ID!) { cancelSignup(signupId: $id, reason: \"名额调整\") { status } }",
        json!({ "id": b_signup }),
    )
    .await;
    assert_eq!(
        kinds(&app, &b.access).await,
        ["WAITLISTED", "PROMOTED", "SIGNUP_CANCELLED"]
    );

    // A shift with two volunteers is called off: each is told, once.
    let other = app.shift_in(org, &event, 5, false, &[]).await;
    app.sign_up(&a.access, &other, "a-2").await;
    app.sign_up(&b.access, &other, "b-2").await;
    app.ok(
        Some(org),
        "mutation($id: ID!) { cancelShift(id: $id, reason: \"下雨\") { id } }",
        json!({ "id": other }),
    )
    .await;
    assert_eq!(
        kinds(&app, &a.access).await,
        ["SIGNED_UP", "SIGNED_UP", "SHIFT_CANCELLED"]
    );
    assert_eq!(
        kinds(&app, &b.access).await,
        [
            "WAITLISTED",
            "PROMOTED",
            "SIGNUP_CANCELLED",
            "SIGNED_UP",
            "SHIFT_CANCELLED"
        ]
    );
}

#[tokio::test]
async fn concurrent_retries_write_one_notification_per_sign_up() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let event = app.station_event(&w, "助餐").await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 5, true, &[])
        .await;
    let vols = app.bulk_volunteers(12, "1371000").await;
    // Every volunteer sends the same sign-up three times at once.
    let (app_ref, shift_ref) = (&app, shift.as_str());
    let requests: Vec<_> = vols
        .iter()
        .flat_map(|(id, token)| std::iter::repeat_n((id, token), 3))
        .map(|(id, token)| app_ref.sign_up(token, shift_ref, format!("k-{id}")))
        .collect();
    let bodies = join_all(requests).await;
    let ok = bodies
        .iter()
        .filter(|b| b["data"]["signUpForShift"]["id"].is_string())
        .count();
    assert!(ok >= 12, "every volunteer got an answer: {ok}");
    let mut confirmed = 0;
    for (_, token) in &vols {
        let k = kinds(&app, token).await;
        assert_eq!(k.len(), 1, "one notification each: {k:?}");
        confirmed += usize::from(k[0] == "SIGNED_UP");
    }
    assert_eq!(confirmed, 5, "five places, seven on the waitlist");
}

#[tokio::test]
async fn only_the_volunteer_reads_and_marks_their_notifications() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app.station_event(&w, "助餐").await;
    let a = app.register("13800000001", "小李").await;
    for i in 0..3 {
        let starts = chrono::Utc::now() + chrono::Duration::minutes(61 + 150 * i);
        let shift = app.shift_at(org, &event, starts, 5, false, &[]).await;
        app.sign_up(&a.access, &shift, format!("s{i}")).await;
    }
    let data = app.ok(Some(&a.access), MINE, json!({})).await;
    let ids: Vec<Value> = data["me"]["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].clone())
        .collect();
    assert_eq!(ids.len(), 3);

    // Someone else can neither read them nor mark them.
    let stranger = app.register("13800000009", "路人").await;
    let theirs =
        "query($id: ID!) { node(id: $id) { ... on Account { notifications { totalCount } } } }";
    let account = api::ids::encode(api::ids::NodeType::Account, a.account_key());
    let seen = app
        .ok(Some(&stranger.access), theirs, json!({ "id": account }))
        .await;
    assert!(seen["node"].is_null(), "{seen}");
    // Not even the system administrator, who may see the account itself.
    assert_eq!(
        app.err_code(Some(&w.root.access), theirs, json!({ "id": account }))
            .await,
        "FORBIDDEN"
    );
    let mark = "mutation($ids: [ID!]) { markNotificationsRead(ids: $ids) }";
    let n = app
        .ok(Some(&stranger.access), mark, json!({ "ids": ids }))
        .await;
    assert_eq!(n["markNotificationsRead"], 0);
    let unread = |token: String| {
        let app = &app;
        async move {
            app.ok(Some(&token), MINE, json!({ "unread": true })).await["me"]["notifications"]
                ["totalCount"]
                .clone()
        }
    };
    assert_eq!(unread(a.access.clone()).await, 3);

    // The volunteer marks one, then the rest; marking again changes nothing.
    let n = app
        .ok(Some(&a.access), mark, json!({ "ids": [ids[0]] }))
        .await;
    assert_eq!(n["markNotificationsRead"], 1);
    assert_eq!(unread(a.access.clone()).await, 2);
    let n = app.ok(Some(&a.access), mark, json!({})).await;
    assert_eq!(n["markNotificationsRead"], 2);
    assert_eq!(unread(a.access.clone()).await, 0);
    let n = app.ok(Some(&a.access), mark, json!({})).await;
    assert_eq!(n["markNotificationsRead"], 0);
    // An ID of another type is refused with its field.
    let body = app
        .post(Some(&a.access), mark, json!({ "ids": [account] }))
        .await
        .1;
    assert_eq!(crate::harness::first_code(&body), "BAD_USER_INPUT");
}
