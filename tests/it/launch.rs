//! The campaign-launch load script (`cargo bench --bench launch`) run small against two real
//! replicas on one database: the script that produces the capacity figures must itself be
//! right — its checks must pass on a correct server and its counts must match what the
//! replicas counted.

#[path = "../../benches/common/mod.rs"]
mod common;
#[path = "../../benches/launch/scenario.rs"]
mod scenario;

use std::time::Duration;

use crate::harness::{TestApp, exec};
use scenario::{Op, Plan};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_small_launch_on_two_replicas_keeps_capacity_and_every_confirmed_sign_up() {
    let one = TestApp::spawn().await;
    let two = one.spawn_replica().await;
    let plan = Plan {
        peak_clients: 12,
        ramp: Duration::from_millis(600),
        hold: Duration::from_millis(1_800),
        hot_shifts: 2,
        hot_capacity: 5,
        volunteers: 400,
        feed_events: 4,
        think_max: Duration::from_millis(10),
    };
    let launch = scenario::prepare(&one.state, &plan).await;
    let bases = [one.url(""), two.url("")];
    let urls: Vec<String> = bases.iter().map(|b| format!("{b}/graphql")).collect();
    let outcome = scenario::drive(&urls, &launch, &plan).await;
    let report = outcome.report(&plan, "test");

    assert!(outcome.errors().is_empty(), "{report}");
    // Only hot shifts have waitlists: demand went beyond their places, so capacity was
    // actually contested.
    assert!(!outcome.waitlisted.is_empty(), "too little load:\n{report}");
    assert!(outcome.samples.iter().any(|s| s.op == Op::Feed));
    assert!(!outcome.checked_in.is_empty(), "{report}");
    // Both replicas served.
    let sent = outcome.per_replica(2);
    assert!(sent.iter().all(|n| *n > 0), "{sent:?}");

    let verified = scenario::verify(&one.state.db, &launch, &outcome)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{report}"));
    assert_eq!(verified.hot_confirmed, vec![5, 5], "{report}");
    assert_eq!(verified.check_ins, outcome.checked_in.len());
    assert_eq!(
        verified.signup_rows,
        outcome.confirmed.len() + outcome.waitlisted.len()
    );

    // Each replica's /metrics counted exactly the requests sent to it.
    let counted = scenario::counted_requests(&bases).await;
    assert_eq!(
        counted,
        sent.iter().map(|n| *n as f64).collect::<Vec<_>>(),
        "{report}"
    );
    // The checks are not vacuous: a confirmed sign-up lost behind the clients' backs (its
    // shift's counter kept consistent) is caught.
    let lost = *outcome
        .confirmed
        .iter()
        .find(|k| !outcome.checked_in.contains(k))
        .expect("a confirmed sign-up without a check-in");
    exec(
        &one.state.db,
        "UPDATE shift SET confirmed_count = confirmed_count - 1 WHERE id = (SELECT shift_id FROM signup WHERE id = ?)",
        vec![lost.into()],
    )
    .await;
    exec(
        &one.state.db,
        "UPDATE signup SET status = 'CANCELLED' WHERE id = ?",
        vec![lost.into()],
    )
    .await;
    let caught = scenario::verify(&one.state.db, &launch, &outcome)
        .await
        .err()
        .expect("a lost sign-up is caught");
    assert!(caught.contains("still held"), "{caught}");

    // The report names every phase.
    for needle in ["ramp", "peak", "whole run", "errors: 0 of"] {
        assert!(report.contains(needle), "{needle}: {report}");
    }
}
