//! The reusable idempotency mechanism, on a fresh database.

use api::{
    accounts::{
        domain::{DisplayName, Password, Phone},
        service as accounts,
    },
    error::AppError,
    idempotency::{self, Claim, IdempotentRequest},
};
use entity::idempotency_key;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, Set, TransactionTrait};

use crate::harness::test_state;

async fn account(state: &api::AppState) -> i64 {
    accounts::register_proven(
        state,
        Phone::parse("13800000001", "p").unwrap(),
        Password::parse("password-1", "p").unwrap(),
        DisplayName::parse("甲", "n").unwrap(),
    )
    .await
    .unwrap()
    .account
    .id
}

#[tokio::test]
async fn first_use_runs_replay_returns_the_stored_result_other_arguments_conflict() {
    let (state, _db) = test_state().await;
    let who = account(&state).await;
    let req = IdempotentRequest::new(who, "key-1", "donate", &("fund", 7, 500)).unwrap();

    let txn = state.db.begin().await.unwrap();
    assert!(matches!(
        idempotency::claim::<_, String>(&txn, &req).await.unwrap(),
        Claim::New
    ));
    idempotency::complete(&txn, &req, &"receipt-42".to_owned())
        .await
        .unwrap();
    txn.commit().await.unwrap();

    let txn = state.db.begin().await.unwrap();
    match idempotency::claim::<_, String>(&txn, &req).await.unwrap() {
        Claim::Replay(r) => assert_eq!(r, "receipt-42"),
        Claim::New => panic!("a used key must replay"),
    }
    drop(txn);

    let other = IdempotentRequest::new(who, "key-1", "donate", &("fund", 7, 900)).unwrap();
    let txn = state.db.begin().await.unwrap();
    let err = idempotency::claim::<_, String>(&txn, &other)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, AppError::IdempotencyConflict));
    // Another operation under the same key conflicts too.
    let op = IdempotentRequest::new(who, "key-1", "transfer", &("fund", 7, 500)).unwrap();
    assert!(matches!(
        idempotency::claim::<_, String>(&txn, &op)
            .await
            .err()
            .unwrap(),
        AppError::IdempotencyConflict
    ));
}

#[tokio::test]
async fn a_rolled_back_first_attempt_leaves_the_key_free() {
    let (state, _db) = test_state().await;
    let who = account(&state).await;
    let req = IdempotentRequest::new(who, "key-2", "signUpForShift", &1).unwrap();
    let txn = state.db.begin().await.unwrap();
    assert!(matches!(
        idempotency::claim::<_, i64>(&txn, &req).await.unwrap(),
        Claim::New
    ));
    txn.rollback().await.unwrap();
    let txn = state.db.begin().await.unwrap();
    assert!(matches!(
        idempotency::claim::<_, i64>(&txn, &req).await.unwrap(),
        Claim::New
    ));
}

#[tokio::test]
async fn keys_are_purged_after_their_retention_only() {
    let (state, _db) = test_state().await;
    let who = account(&state).await;
    for (key, age_hours) in [("old", 49), ("recent", 23)] {
        idempotency_key::ActiveModel {
            account_id: Set(who),
            key: Set(key.into()),
            operation: Set("op".into()),
            request_hash: Set("0".repeat(64)),
            response: Set(Some("1".into())),
            created_at: Set(chrono::Utc::now() - chrono::Duration::hours(age_hours)),
        }
        .insert(&state.db)
        .await
        .unwrap();
    }
    api::housekeeping::run_once(&state).await;
    let left = idempotency_key::Entity::find()
        .all(&state.db)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key, "recent");
    assert_eq!(
        idempotency_key::Entity::find()
            .count(&state.db)
            .await
            .unwrap(),
        1
    );
}
