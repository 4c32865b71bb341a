//! The time-bank ledger: invariants under concurrency and over random sequences.

use api::timebank::service::{self as tb, Owner, TransferSpec};
use entity::{timebank_account, timebank_entry};
use futures::future::join_all;
use sea_orm::{EntityTrait, TransactionTrait};
use serde_json::json;

use crate::harness::{TestApp, first_code, test_state};

/// Every transfer's entries sum to zero, each balance equals the sum of its entries, and no
/// person's balance is negative.
async fn assert_ledger_invariants(db: &sea_orm::DatabaseConnection) {
    let entries = timebank_entry::Entity::find().all(db).await.unwrap();
    assert_eq!(
        entries.iter().map(|e| e.amount).sum::<i64>(),
        0,
        "entries must sum to zero"
    );
    let mut by_transfer = std::collections::HashMap::<i64, i64>::new();
    for e in &entries {
        *by_transfer.entry(e.transfer_id).or_default() += e.amount;
    }
    assert!(
        by_transfer.values().all(|s| *s == 0),
        "each transfer balances"
    );
    for a in timebank_account::Entity::find().all(db).await.unwrap() {
        let sum: i64 = entries
            .iter()
            .filter(|e| e.account_id == a.id)
            .map(|e| e.amount)
            .sum();
        assert_eq!(
            a.balance, sum,
            "balance of account {} equals its entries",
            a.id
        );
        if !a.allow_negative {
            assert!(a.balance >= 0, "a person's balance went negative");
        }
    }
}

pub(crate) async fn fund(db: &sea_orm::DatabaseConnection, org: i64, person: i64, amount: i64) {
    let from = tb::account_of(db, Owner::Organization(org)).await.unwrap();
    let to = tb::account_of(db, Owner::Person(person)).await.unwrap();
    let txn = db.begin().await.unwrap();
    tb::post(
        &txn,
        &TransferSpec {
            from: from.id,
            to: to.id,
            amount,
            kind: entity::timebank_transfer::TransferKind::Service,
            memo: "seed".into(),
            service_record_id: None,
            by: person,
        },
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
}

#[tokio::test]
async fn fifty_concurrent_transfers_from_an_account_covering_twenty() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let city = match api::ids::decode_any(&w.city) {
        Some((_, k)) => k,
        None => unreachable!(),
    };
    let vols = app.bulk_volunteers(2, "1372000").await;
    let (giver, giver_token) = (vols[0].0, vols[0].1.clone());
    fund(&app.state.db, city, giver, 2_000).await;

    let bodies = join_all((0..50).map(|i| {
        app.post(
            Some(&giver_token),
            "mutation($i: TransferTimeCoinsInput!) { transferTimeCoins(input: $i) { amount } }",
            json!({ "i": { "toPhone": "13720000001", "amount": 100, "memo": "给奶奶", "idempotencyKey": format!("gift-{i}") } }),
        )
    }))
    .await;
    let ok = bodies
        .iter()
        .filter(|(_, b)| b["data"]["transferTimeCoins"]["amount"] == 100)
        .count();
    assert_eq!(ok, 20);
    for (_, b) in bodies.iter().filter(|(_, b)| b.get("errors").is_some()) {
        assert_eq!(first_code(b), "CONFLICT");
    }
    let me = app
        .ok(
            Some(&giver_token),
            "{ me { timeBank { balance entries(first: 100) { edges { node { amount } } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["timeBank"]["balance"], 0);
    assert_eq!(
        me["me"]["timeBank"]["entries"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        21
    );
    assert_ledger_invariants(&app.state.db).await;

    // A retry with the key of a transfer that went through moves nothing more. (A refused
    // transfer left its key free: retrying that one would run afresh.)
    let done_key = bodies
        .iter()
        .position(|(_, b)| b["data"]["transferTimeCoins"]["amount"] == 100)
        .map(|i| format!("gift-{i}"))
        .unwrap();
    fund(&app.state.db, city, giver, 500).await;
    let (_, body) = app
        .post(
            Some(&giver_token),
            "mutation($i: TransferTimeCoinsInput!) { transferTimeCoins(input: $i) { amount } }",
            json!({ "i": { "toPhone": "13720000001", "amount": 100, "memo": "给奶奶", "idempotencyKey": done_key } }),
        )
        .await;
    assert_eq!(body["data"]["transferTimeCoins"]["amount"], 100);
    let me = app
        .ok(
            Some(&giver_token),
            "{ me { timeBank { balance } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["timeBank"]["balance"], 500);

    // Spending coins on an organization's service: refused beyond the balance, else moved.
    let redeem =
        "mutation($i: RedeemTimeCoinsInput!) { redeemTimeCoins(input: $i) { amount kind } }";
    let (_, body) = app
        .post(Some(&giver_token), redeem, json!({ "i": { "organizationId": w.city, "amount": 600, "memo": "助浴服务", "idempotencyKey": "r1" } }))
        .await;
    assert_eq!(first_code(&body), "CONFLICT");
    let data = app
        .ok(Some(&giver_token), redeem, json!({ "i": { "organizationId": w.city, "amount": 200, "memo": "助浴服务", "idempotencyKey": "r2" } }))
        .await;
    assert_eq!(data["redeemTimeCoins"]["kind"], "REDEEM");
    let me = app
        .ok(
            Some(&giver_token),
            "{ me { timeBank { balance } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["timeBank"]["balance"], 300);
    assert_ledger_invariants(&app.state.db).await;
}

#[tokio::test]
async fn random_transfer_sequences_keep_the_ledger_consistent() {
    let (state, _db) = test_state().await;
    let db = &state.db;
    // Five people funded from one issuing organization account.
    use sea_orm::{ActiveModelTrait, Set};
    let now = chrono::Utc::now();
    let mut people = Vec::new();
    for i in 0..5 {
        let a = entity::account::ActiveModel {
            phone: Set(format!("1373000000{i}")),
            password_hash: Set("x".into()),
            display_name: Set(format!("p{i}")),
            is_system_admin: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db)
        .await
        .unwrap();
        people.push(tb::account_of(db, Owner::Person(a.id)).await.unwrap().id);
    }
    let org = tb::account_of(db, Owner::Organization(1)).await.unwrap().id;
    // A fixed-seed generator: the same sequence every run.
    let mut seed: u64 = 0x5eed_1234;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let (mut accepted, mut refused) = (0, 0);
    for step in 0..300 {
        let from = if next(5) == 0 {
            org
        } else {
            people[next(5) as usize]
        };
        let to = people[next(5) as usize];
        let amount = 1 + next(400) as i64;
        let txn = db.begin().await.unwrap();
        let res = tb::post(
            &txn,
            &TransferSpec {
                from,
                to,
                amount,
                kind: entity::timebank_transfer::TransferKind::Gift,
                memo: format!("step {step}"),
                service_record_id: None,
                by: 1,
            },
        )
        .await;
        match res {
            Ok(_) => {
                txn.commit().await.unwrap();
                accepted += 1;
            }
            Err(e) => {
                assert!(matches!(e.code(), "CONFLICT" | "BAD_USER_INPUT"), "{e:?}");
                refused += 1;
            }
        }
        if step % 50 == 49 {
            assert_ledger_invariants(db).await;
        }
    }
    assert!(
        accepted > 50 && refused > 0,
        "the sequence exercised both paths: {accepted}/{refused}"
    );
    assert_ledger_invariants(db).await;
}
