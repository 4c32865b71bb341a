//! `/metrics`: parses as Prometheus text and counts a known sequence of requests.

use serde_json::json;

use crate::harness::TestApp;

/// Scrape `/metrics` and parse it as Prometheus does.
async fn scrape(app: &TestApp, token: Option<&str>) -> (u16, Option<prometheus_parse::Scrape>) {
    let mut req = app.client.get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    if status != 200 {
        return (status, None);
    }
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    (
        status,
        Some(prometheus_parse::Scrape::parse(lines).expect("Prometheus text")),
    )
}

/// The value of a sample with these labels (0 when absent).
fn value(s: &prometheus_parse::Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    s.samples
        .iter()
        .filter(|x| x.metric == metric)
        .filter(|x| labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .map(|x| match x.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(ref h) => {
                h.last().map(|b| b.count).unwrap_or_default()
            }
            _ => 0.0,
        })
        .sum()
}

#[tokio::test]
async fn metrics_count_a_known_sequence_of_requests() {
    let app = TestApp::spawn_with(|c| {
        c.metrics_token = Some(api::config::Secret::new("scrape-token-0123456789"))
    })
    .await;
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "助老",
            31.38,
            120.98,
            24,
            true,
        )
        .await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 1, true, &[])
        .await;
    let a = app.register("13800000001", "甲").await;
    let b = app.register("13800000002", "乙").await;

    // The token guards the scrape.
    assert_eq!(scrape(&app, None).await.0, 401);
    assert_eq!(scrape(&app, Some("wrong")).await.0, 401);
    let (_, before) = scrape(&app, Some("scrape-token-0123456789")).await;
    let before = before.unwrap();

    for _ in 0..3 {
        app.ok(Some(&a.access), "query HomeFeed { me { id } }", json!({}))
            .await;
    }
    app.post(
        Some(&a.access),
        "query Lookup($id: ID!) { node(id: $id) { id } }",
        json!({ "id": "not-an-id" }),
    )
    .await;
    app.post(Some(&a.access), "query Broken { me { nope } }", json!({}))
        .await;
    const SIGN_UP: &str = "mutation SignUp($s: ID!, $k: String!) { signUpForShift(shiftId: $s, idempotencyKey: $k) { id status } }";
    let a_signup = app
        .ok(Some(&a.access), SIGN_UP, json!({ "s": shift, "k": "a" }))
        .await;
    app.ok(Some(&b.access), SIGN_UP, json!({ "s": shift, "k": "b" }))
        .await;

    let (status, after) = scrape(&app, Some("scrape-token-0123456789")).await;
    assert_eq!(status, 200);
    let after = after.unwrap();
    let delta = |metric: &str, labels: &[(&str, &str)]| {
        value(&after, metric, labels) - value(&before, metric, labels)
    };
    let requests = "tongxing_graphql_requests_total";
    assert_eq!(
        delta(requests, &[("operation", "HomeFeed"), ("outcome", "ok")]),
        3.0
    );
    assert_eq!(
        delta(
            requests,
            &[("operation", "Lookup"), ("outcome", "BAD_USER_INPUT")]
        ),
        1.0
    );
    assert_eq!(
        delta(
            requests,
            &[
                ("operation", "refused_document"),
                ("outcome", "BAD_USER_INPUT")
            ]
        ),
        1.0
    );
    assert_eq!(
        delta(requests, &[("operation", "SignUp"), ("outcome", "ok")]),
        2.0
    );
    assert_eq!(
        delta("tongxing_signups_total", &[("status", "CONFIRMED")]),
        1.0
    );
    assert_eq!(
        delta("tongxing_signups_total", &[("status", "WAITLISTED")]),
        1.0
    );
    // Every operation's duration is in the histogram.
    assert_eq!(
        delta(
            "tongxing_graphql_request_duration_seconds",
            &[("operation", "HomeFeed")]
        ),
        3.0
    );
    // Gauges read at scrape time.
    assert!(value(&after, "tongxing_db_pool_max_connections", &[]) > 0.0);
    assert!(
        value(&after, "tongxing_db_pool_connections", &[("state", "idle")])
            + value(
                &after,
                "tongxing_db_pool_connections",
                &[("state", "in_use")]
            )
            >= 1.0
    );
    assert_eq!(value(&after, "tongxing_subscriptions_active", &[]), 0.0);

    // Results sent to a subscriber are counted as subscription events, not as requests.
    use crate::live_e2e::{TRANSPORT_WS, Ws};
    let (mut ws, _) = Ws::connect(&app, TRANSPORT_WS, Some(&a.access)).await;
    ws.subscribe(
        "1",
        "subscription Watch($s: ID!) { shiftUpdated(shiftId: $s) { confirmedCount } }",
        json!({ "s": shift }),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // A gives up the place: B moves up, the subscriber hears of it.
    app.ok(
        Some(&a.access),
        "mutation Cancel($s: ID!) { cancelSignup(signupId: $s) { status } }",
        json!({ "s": a_signup["signUpForShift"]["id"] }),
    )
    .await;
    ws.data_until("1", |d| d["data"]["shiftUpdated"]["confirmedCount"] == 1)
        .await;
    let (_, later) = scrape(&app, Some("scrape-token-0123456789")).await;
    let later = later.unwrap();
    let since = |metric: &str, labels: &[(&str, &str)]| {
        value(&later, metric, labels) - value(&after, metric, labels)
    };
    assert_eq!(since(requests, &[("operation", "Watch")]), 0.0);
    assert!(since("tongxing_subscription_events_total", &[("outcome", "ok")]) >= 1.0);
}

#[tokio::test]
async fn rate_limit_refusals_name_the_limit_that_refused() {
    let app = TestApp::spawn_with(|c| c.registrations_per_address = 1).await;
    let (_, before) = scrape(&app, None).await;
    app.register("13800000001", "甲").await;
    let refused = app
        .err_code(
            None,
            // An alias cannot choose the label.
            "mutation($i: RegisterInput!) { login: register(input: $i) { accessToken } }",
            json!({ "i": { "phone": "13800000002", "password": crate::harness::TEST_PASSWORD, "displayName": "乙", "smsCode": "000000" } }),
        )
        .await;
    assert_eq!(refused, "RATE_LIMITED");
    let (_, after) = scrape(&app, None).await;
    let (before, after) = (before.unwrap(), after.unwrap());
    let delta = |limit: &str| {
        value(&after, "tongxing_rate_limited_total", &[("limit", limit)])
            - value(&before, "tongxing_rate_limited_total", &[("limit", limit)])
    };
    assert_eq!(delta("registration"), 1.0);
    assert_eq!(delta("login"), 0.0);
}

#[tokio::test]
async fn request_budget_refusals_say_whose_budget_ran_out() {
    let app = TestApp::spawn_with(|c| c.requests_per_account = 3).await;
    let me = app.register("13800000001", "甲").await;
    let (_, before) = scrape(&app, None).await;
    let mut refused = 0;
    for _ in 0..6 {
        let (status, _) = app.post(Some(&me.access), "{ me { id } }", json!({})).await;
        if status == 429 {
            refused += 1;
        }
    }
    assert!(refused > 0);
    let (_, after) = scrape(&app, None).await;
    let (before, after) = (before.unwrap(), after.unwrap());
    let delta = |limit: &str| {
        value(&after, "tongxing_rate_limited_total", &[("limit", limit)])
            - value(&before, "tongxing_rate_limited_total", &[("limit", limit)])
    };
    assert_eq!(delta("account"), f64::from(refused));
    assert_eq!(delta("address"), 0.0);
}
