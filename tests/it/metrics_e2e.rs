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
    const SIGN_UP: &str = "mutation SignUp($s: ID!, $k: String!) { signUpForShift(shiftId: $s, idempotencyKey: $k) { status } }";
    app.ok(Some(&a.access), SIGN_UP, json!({ "s": shift, "k": "a" }))
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
}
