//! Account and session services on a fresh migrated database.

use api::{
    accounts::{
        domain::{DisplayName, Password, Phone},
        service::{self, CreateAdminOutcome},
    },
    error::AppError,
};
use entity::refresh_token;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::harness::test_state;

async fn register(
    state: &api::AppState,
    phone: Phone,
    password: Password,
    name: DisplayName,
) -> api::error::AppResult<service::Session> {
    // The phone's owner asks for a code and reads it (a registered number gets none: any code
    // will do to reach the conflict).
    let sent = api::accounts::codes::send(
        state,
        &phone,
        entity::phone_code::CodePurpose::Register,
        None,
        true,
    )
    .await;
    let code = match sent {
        Ok(_) => crate::harness::last_sms_code(state, phone.as_str()),
        Err(_) => "000000".to_owned(),
    };
    service::register(state, phone, &code, password, name, None, None).await
}

fn phone(p: &str) -> Phone {
    Phone::parse(p, "phone").unwrap()
}
fn password(p: &str) -> Password {
    Password::parse(p, "password").unwrap()
}
fn name(n: &str) -> DisplayName {
    DisplayName::parse(n, "name").unwrap()
}

#[tokio::test]
async fn registering_a_phone_twice_is_a_conflict() {
    let (state, _db) = test_state().await;
    register(
        &state,
        phone("13800000001"),
        password("password-1"),
        name("甲"),
    )
    .await
    .unwrap();
    // The same number written differently is the same phone.
    let err = register(
        &state,
        phone("+86 138 0000 0001"),
        password("password-2"),
        name("乙"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "CONFLICT");
}

#[tokio::test]
async fn passwords_are_stored_as_argon2id_hashes() {
    let (state, _db) = test_state().await;
    let s = register(
        &state,
        phone("13800000002"),
        password("password-1"),
        name("甲"),
    )
    .await
    .unwrap();
    assert!(s.account.password_hash.starts_with("$argon2id$"));
    assert!(!s.account.password_hash.contains("password-1"));
}

#[tokio::test]
async fn login_checks_the_password() {
    let (state, _db) = test_state().await;
    register(
        &state,
        phone("13800000003"),
        password("password-1"),
        name("甲"),
    )
    .await
    .unwrap();
    let ok = service::login(
        &state,
        phone("13800000003"),
        password("password-1"),
        None,
        None,
        None,
    )
    .await;
    assert!(ok.is_ok());
    let wrong = service::login(
        &state,
        phone("13800000003"),
        password("password-2"),
        None,
        None,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(wrong.code(), "UNAUTHENTICATED");
    let unknown = service::login(
        &state,
        phone("13800000009"),
        password("password-1"),
        None,
        None,
        None,
    )
    .await
    .unwrap_err();
    // Same answer for an unknown phone: nothing tells which numbers are registered.
    assert_eq!(unknown.to_string(), wrong.to_string());
}

#[tokio::test]
async fn refresh_tokens_are_stored_only_as_hashes() {
    let (state, _db) = test_state().await;
    let s = register(
        &state,
        phone("13800000004"),
        password("password-1"),
        name("甲"),
    )
    .await
    .unwrap();
    let rows = refresh_token::Entity::find().all(&state.db).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].token_hash, s.refresh_token);
    assert_eq!(
        rows[0].token_hash,
        api::auth::refresh::digest(&s.refresh_token)
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let (state, _db) = test_state().await;
    let first = register(
        &state,
        phone("13800000005"),
        password("password-1"),
        name("甲"),
    )
    .await
    .unwrap();
    let second = service::refresh(&state, &first.refresh_token)
        .await
        .unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    let third = service::refresh(&state, &second.refresh_token)
        .await
        .unwrap();

    // The first token again: reuse. It fails, and so does the newest token of its family.
    let reuse = service::refresh(&state, &first.refresh_token)
        .await
        .unwrap_err();
    assert_eq!(reuse.code(), "UNAUTHENTICATED");
    let after = service::refresh(&state, &third.refresh_token)
        .await
        .unwrap_err();
    assert_eq!(after.code(), "UNAUTHENTICATED");

    let family = refresh_token::Entity::find()
        .filter(refresh_token::Column::AccountId.eq(first.account.id))
        .all(&state.db)
        .await
        .unwrap();
    assert_eq!(family.len(), 3);
    assert!(family.iter().all(|t| t.revoked_at.is_some()));
}

#[tokio::test]
async fn reuse_in_one_family_leaves_other_sessions_alone() {
    let (state, _db) = test_state().await;
    let phone_a = "13800000006";
    let laptop = register(&state, phone(phone_a), password("password-1"), name("甲"))
        .await
        .unwrap();
    let mobile = service::login(
        &state,
        phone(phone_a),
        password("password-1"),
        None,
        None,
        None,
    )
    .await
    .unwrap();
    service::refresh(&state, &laptop.refresh_token)
        .await
        .unwrap();
    service::refresh(&state, &laptop.refresh_token)
        .await
        .unwrap_err();
    assert!(
        service::refresh(&state, &mobile.refresh_token)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_never_both_succeed() {
    let (state, _db) = test_state().await;
    let s = register(
        &state,
        phone("13800000007"),
        password("password-1"),
        name("甲"),
    )
    .await
    .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let state = state.clone();
            let token = s.refresh_token.clone();
            tokio::spawn(async move { service::refresh(&state, &token).await })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.code(), "UNAUTHENTICATED", "{e:?}"),
        }
    }
    assert!(ok <= 1, "{ok} refreshes of one token succeeded");
    assert!(ok == 1, "the first refresh must succeed");
}

#[tokio::test]
async fn logout_revokes_the_session_and_is_idempotent() {
    let (state, _db) = test_state().await;
    let s = register(
        &state,
        phone("13800000008"),
        password("password-1"),
        name("甲"),
    )
    .await
    .unwrap();
    service::logout(&state, &s.refresh_token).await.unwrap();
    service::logout(&state, &s.refresh_token).await.unwrap();
    service::logout(&state, "never-issued").await.unwrap();
    let err = service::refresh(&state, &s.refresh_token)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Unauthenticated(_)));
}

#[tokio::test]
async fn create_admin_is_idempotent_per_phone() {
    let (state, _db) = test_state().await;
    let first = service::create_admin(
        &state,
        phone("13900000001"),
        password("password-1"),
        name("管理员"),
    )
    .await
    .unwrap();
    let CreateAdminOutcome::Created(id) = first else {
        panic!("expected a new account, got {first:?}");
    };
    let again = service::create_admin(
        &state,
        phone("13900000001"),
        password("password-1"),
        name("别名"),
    )
    .await
    .unwrap();
    assert_eq!(again, CreateAdminOutcome::AlreadyExisted(id));
    let acc = service::get(&state.db, id).await.unwrap().unwrap();
    assert!(acc.is_system_admin);
    assert_eq!(acc.display_name, "管理员");
}

#[tokio::test]
async fn create_admin_does_not_promote_an_account_without_its_password() {
    let (state, _db) = test_state().await;
    let s = register(
        &state,
        phone("13900000003"),
        password("password-1"),
        name("抢注者"),
    )
    .await
    .unwrap();
    let err = service::create_admin(
        &state,
        phone("13900000003"),
        password("the-real-admins-password"),
        name("管理员"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), "FORBIDDEN");
    assert!(
        !service::get(&state.db, s.account.id)
            .await
            .unwrap()
            .unwrap()
            .is_system_admin
    );
}

#[tokio::test]
async fn create_admin_promotes_an_existing_account() {
    let (state, _db) = test_state().await;
    let s = register(
        &state,
        phone("13900000002"),
        password("password-1"),
        name("甲"),
    )
    .await
    .unwrap();
    assert!(!s.account.is_system_admin);
    let out = service::create_admin(
        &state,
        phone("13900000002"),
        password("password-1"),
        name("甲"),
    )
    .await
    .unwrap();
    assert_eq!(out, CreateAdminOutcome::AlreadyExisted(s.account.id));
    assert!(
        service::get(&state.db, s.account.id)
            .await
            .unwrap()
            .unwrap()
            .is_system_admin
    );
}
