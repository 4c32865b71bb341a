//! Capacity under a rush, over HTTP, on whichever database the suite runs on.

use std::{
    collections::HashSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use entity::{shift, signup};
use futures::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::json;

use crate::harness::{TestApp, first_code};

#[tokio::test]
async fn two_hundred_volunteers_rush_a_shift_of_ten() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "重阳敬老",
            31.38,
            120.98,
            48,
            true,
        )
        .await;
    let shift_id = app
        .shift_in(&w.organizer.access, &event, 10, true, &[])
        .await;
    let volunteers = app.bulk_volunteers(200, "1370000").await;

    // Everyone at once.
    let bodies = join_all(
        volunteers
            .iter()
            .enumerate()
            .map(|(i, (_, token))| app.sign_up(token, &shift_id, format!("rush-{i}"))),
    )
    .await;
    let mut confirmed = 0;
    let mut positions = Vec::new();
    for body in &bodies {
        assert!(body.get("errors").is_none(), "{body}");
        match body["data"]["signUpForShift"]["status"].as_str().unwrap() {
            "CONFIRMED" => confirmed += 1,
            "WAITLISTED" => positions.push(
                body["data"]["signUpForShift"]["waitlistPosition"]
                    .as_u64()
                    .unwrap(),
            ),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(confirmed, 10);
    positions.sort_unstable();
    assert_eq!(positions, (1..=190).collect::<Vec<u64>>());
    let data = app
        .ok(
            None,
            "query($id: ID!) { shift(id: $id) { capacity confirmedCount remainingSlots waitlistCount } }",
            json!({ "id": shift_id }),
        )
        .await;
    assert_eq!(data["shift"]["confirmedCount"], 10);
    assert_eq!(data["shift"]["remainingSlots"], 0);
    assert_eq!(data["shift"]["waitlistCount"], 190);

    // Twenty cancellations at once: the ten confirmed volunteers, and the first ten of the
    // waitlist as soon as each of them is promoted. Meanwhile a watcher checks capacity.
    let key = shift_key(&shift_id);
    let rows = signup::Entity::find()
        .filter(signup::Column::ShiftId.eq(key))
        .all(&app.state.db)
        .await
        .unwrap();
    let by_account = |id: i64| rows.iter().find(|s| s.account_id == id).unwrap().clone();
    let mut first_confirmed = Vec::new();
    let mut head_of_queue = Vec::new();
    for (id, token) in &volunteers {
        let s = by_account(*id);
        if s.status == entity::signup::SignupStatus::Confirmed {
            first_confirmed.push((s, token.clone()));
        } else if s.waitlist_ticket.unwrap() <= 10 {
            head_of_queue.push((s, token.clone()));
        }
    }
    assert_eq!(first_confirmed.len(), 10);
    assert_eq!(head_of_queue.len(), 10);

    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let db = app.state.db.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut samples = 0;
            while !done.load(Ordering::Relaxed) {
                let s = shift::Entity::find_by_id(key)
                    .one(&db)
                    .await
                    .unwrap()
                    .unwrap();
                let live = signup::Entity::find()
                    .filter(signup::Column::ShiftId.eq(key))
                    .filter(signup::Column::Status.eq("CONFIRMED"))
                    .count(&db)
                    .await
                    .unwrap();
                assert!(s.confirmed_count <= s.capacity);
                assert!(live <= 10, "{live} confirmed at once");
                samples += 1;
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            samples
        })
    };
    let cancel = |signup_id: i64, token: String, wait_for_promotion: bool| {
        let app = &app;
        async move {
            let id = api::ids::encode(api::ids::NodeType::Signup, signup_id);
            if wait_for_promotion {
                loop {
                    let s = signup::Entity::find_by_id(signup_id)
                        .one(&app.state.db)
                        .await
                        .unwrap()
                        .unwrap();
                    if s.status == entity::signup::SignupStatus::Confirmed {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                }
            }
            let (_, body) = app
                .post(
                    Some(&token),
                    "mutation($id: ID!) { cancelSignup(signupId: $id, reason: \"临时有事\") { status } }",
                    json!({ "id": id }),
                )
                .await;
            assert_eq!(
                body["data"]["cancelSignup"]["status"], "CANCELLED",
                "{body}"
            );
        }
    };
    let mut tasks = Vec::new();
    for (s, t) in first_confirmed {
        tasks.push(cancel(s.id, t, false));
    }
    for (s, t) in head_of_queue {
        tasks.push(cancel(s.id, t, true));
    }
    tokio::time::timeout(std::time::Duration::from_secs(60), join_all(tasks))
        .await
        .expect("cancellations finish");
    done.store(true, Ordering::Relaxed);
    assert!(watcher.await.unwrap() > 0);

    // Exactly twenty promotions, tickets 1…20, in ticket order, none twice.
    let mut promoted = signup::Entity::find()
        .filter(signup::Column::ShiftId.eq(key))
        .filter(signup::Column::PromotedAt.is_not_null())
        .order_by_asc(signup::Column::PromotedAt)
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(promoted.len(), 20);
    let ticket_of = |id: i64| {
        rows.iter()
            .find(|s| s.id == id)
            .unwrap()
            .waitlist_ticket
            .unwrap()
    };
    let order: Vec<i64> = promoted.iter().map(|s| ticket_of(s.id)).collect();
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (1..=20).collect::<Vec<i64>>());
    // promoted_at follows ticket order (ties broken by ticket).
    promoted.sort_by_key(|s| (s.promoted_at, ticket_of(s.id)));
    assert_eq!(
        promoted.iter().map(|s| ticket_of(s.id)).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<i64>>()
    );
    let ids: HashSet<i64> = promoted.iter().map(|s| s.id).collect();
    assert_eq!(ids.len(), 20);

    let s = shift::Entity::find_by_id(key)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s.confirmed_count, 10);
    let confirmed_rows = signup::Entity::find()
        .filter(signup::Column::ShiftId.eq(key))
        .filter(signup::Column::Status.eq("CONFIRMED"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(confirmed_rows, 10);
    // The queue closed up: 170 waiting, positions 1…170.
    let data = app
        .ok(
            None,
            "query($id: ID!) { shift(id: $id) { waitlistCount } }",
            json!({ "id": shift_id }),
        )
        .await;
    assert_eq!(data["shift"]["waitlistCount"], 170);
}

fn shift_key(id: &str) -> i64 {
    match api::ids::decode_any(id) {
        Some((api::ids::NodeType::Shift, k)) => k,
        other => panic!("not a shift ID: {other:?}"),
    }
}

#[tokio::test]
async fn retries_with_one_idempotency_key_make_one_signup() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "助餐",
            31.38,
            120.98,
            48,
            true,
        )
        .await;
    let shift_a = app
        .shift_in(&w.organizer.access, &event, 5, true, &[])
        .await;
    let starts_b = chrono::Utc::now() + chrono::Duration::hours(52);
    let shift_b = app
        .shift_at(&w.organizer.access, &event, starts_b, 5, true, &[])
        .await;
    let vols = app.bulk_volunteers(1, "1371000").await;
    let token = &vols[0].1;

    let bodies = join_all((0..5).map(|_| app.sign_up(token, &shift_a, "same-key-1"))).await;
    let ids: HashSet<String> = bodies
        .iter()
        .map(|b| {
            assert!(b.get("errors").is_none(), "{b}");
            b["data"]["signUpForShift"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{bodies:?}");
    let count = signup::Entity::find()
        .filter(signup::Column::AccountId.eq(vols[0].0))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let data = app
        .ok(
            None,
            "query($id: ID!) { shift(id: $id) { confirmedCount } }",
            json!({ "id": shift_a }),
        )
        .await;
    assert_eq!(data["shift"]["confirmedCount"], 1);

    // After the sign-up is cancelled, a late retry still gets the original answer and changes
    // nothing.
    let id = bodies[0]["data"]["signUpForShift"]["id"].clone();
    app.ok(
        Some(token),
        "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
        json!({ "id": id }),
    )
    .await;
    let late = app.sign_up(token, &shift_a, "same-key-1").await;
    assert_eq!(late["data"]["signUpForShift"]["id"], id);
    assert_eq!(late["data"]["signUpForShift"]["status"], "CONFIRMED");
    let count = signup::Entity::find()
        .filter(signup::Column::AccountId.eq(vols[0].0))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(count, 1);

    // The same key for another shift is refused.
    let body = app.sign_up(token, &shift_b, "same-key-1").await;
    assert_eq!(first_code(&body), "IDEMPOTENCY_CONFLICT");
}
