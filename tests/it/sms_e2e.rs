//! Verified phones (issue 16, part 2): registration and password reset need the one-time code
//! sent to the number; codes are limited; the Alibaba Cloud adapter signs its requests.

use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::harness::{TEST_PASSWORD, TestApp, last_sms_code};

const REGISTER: &str =
    "mutation($i: RegisterInput!) { register(input: $i) { accessToken refreshToken } }";
const ASK: &str = "mutation($p: String!) { requestPhoneCode(phone: $p, purpose: REGISTER) { expiresAt resendAfter } }";

fn input(phone: &str, code: &str) -> serde_json::Value {
    json!({ "i": { "phone": phone, "password": TEST_PASSWORD, "displayName": "小王", "smsCode": code } })
}

#[tokio::test]
async fn registering_needs_the_code_sent_to_the_number() {
    let app = TestApp::spawn().await;
    let phone = "13800000301";
    // No code asked for: no account, no token.
    let (_, body) = app.post(None, REGISTER, input(phone, "123456")).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body}"
    );
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.smsCode");
    assert!(body["data"].is_null() || body["data"]["register"].is_null());

    let sent = app.ok(None, ASK, json!({ "p": phone })).await;
    assert!(sent["requestPhoneCode"]["expiresAt"].is_string());
    let code = last_sms_code(&app.state, phone);
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    // Asking again at once is refused.
    assert_eq!(
        app.err_code(None, ASK, json!({ "p": phone })).await,
        "RATE_LIMITED"
    );
    // Four wrong tries leave the code working; the right one registers and spends it.
    for _ in 0..4 {
        assert_eq!(
            app.err_code(None, REGISTER, input(phone, &wrong)).await,
            "BAD_USER_INPUT"
        );
    }
    let ok = app.ok(None, REGISTER, input(phone, &code)).await;
    assert!(ok["register"]["accessToken"].is_string());
    // Someone else cannot reuse it for the number (already registered) or another number.
    assert_eq!(
        app.err_code(None, REGISTER, input(phone, &code)).await,
        "CONFLICT"
    );
    assert_eq!(
        app.err_code(None, REGISTER, input("13800000302", &code))
            .await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn five_wrong_codes_spend_the_code() {
    let app = TestApp::spawn().await;
    let phone = "13800000311";
    app.ok(None, ASK, json!({ "p": phone })).await;
    let code = last_sms_code(&app.state, phone);
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 7) % 1_000_000);
    for _ in 0..5 {
        app.err_code(None, REGISTER, input(phone, &wrong)).await;
    }
    assert_eq!(
        app.err_code(None, REGISTER, input(phone, &code)).await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn a_password_is_reset_with_the_code_and_every_session_ends() {
    let app = TestApp::spawn().await;
    let phone = "13800000321";
    let me = app.register(phone, "小王").await;
    // A minute later (one text a minute per number, whatever it is for).
    crate::harness::exec(
        &app.state.db,
        "UPDATE phone_code SET created_at = ?",
        vec![(chrono::Utc::now() - chrono::Duration::minutes(2)).into()],
    )
    .await;
    let reset = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }";
    // Unregistered numbers get the same answer, and nothing is sent.
    let ask = "mutation($p: String!) { requestPasswordReset(phone: $p) { expiresAt } }";
    app.ok(None, ask, json!({ "p": "13800000329" })).await;
    app.ok(None, ask, json!({ "p": phone })).await;
    let code = last_sms_code(&app.state, phone);
    let outbox = std::fs::read_to_string(crate::harness::sms_outbox(&app.state)).unwrap();
    assert!(!outbox.contains("13800000329"));
    // Wrong code: nothing changes.
    assert_eq!(
        app.err_code(
            None,
            reset,
            json!({ "i": { "phone": phone, "smsCode": "000000", "newPassword": "a brand new password" } })
        )
        .await,
        "BAD_USER_INPUT"
    );
    app.ok(
        None,
        reset,
        json!({ "i": { "phone": phone, "smsCode": code, "newPassword": "a brand new password" } }),
    )
    .await;
    assert_eq!(
        app.login_code(phone, TEST_PASSWORD).await.as_deref(),
        Some("UNAUTHENTICATED")
    );
    assert_eq!(app.login_code(phone, "a brand new password").await, None);
    // The old session's refresh token no longer works.
    assert_eq!(
        app.err_code(
            None,
            "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken } }",
            json!({ "t": me.refresh })
        )
        .await,
        "UNAUTHENTICATED"
    );
}

#[test]
fn production_refuses_the_file_sender() {
    let mut c = api::config::Config::for_data_dir("/tmp/tx-sms");
    c.environment = api::config::Environment::Production;
    assert!(api::sms::Sender::from_config(&c).is_err());
    c.sms_sender = Some("file:/tmp/tx-sms/out.jsonl".into());
    assert!(api::sms::Sender::from_config(&c).is_err());
    c.environment = api::config::Environment::Development;
    assert!(api::sms::Sender::from_config(&c).is_ok());
    c.sms_sender = Some("aliyun".into());
    assert!(
        api::sms::Sender::from_config(&c).is_err(),
        "aliyun needs its keys"
    );
}

/// A local stand-in for Alibaba Cloud's SMS endpoint: it checks the signature the way the
/// service does and keeps what it accepted.
async fn fake_provider(secret: &'static str) -> (String, Arc<Mutex<Vec<Vec<(String, String)>>>>) {
    use axum::{Form, Json, Router, routing::post};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let app = Router::new().route(
        "/",
        post(move |Form(form): Form<Vec<(String, String)>>| {
            let kept = kept.clone();
            async move {
                let given = form
                    .iter()
                    .find(|(k, _)| k == "Signature")
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let rest: Vec<(String, String)> = form
                    .iter()
                    .filter(|(k, _)| k != "Signature")
                    .cloned()
                    .collect();
                if api::sms::aliyun::sign("POST", &rest, secret) != given {
                    return Json(
                        json!({ "Code": "SignatureDoesNotMatch", "Message": "bad signature" }),
                    );
                }
                kept.lock().unwrap().push(rest);
                Json(json!({ "Code": "OK", "Message": "OK", "BizId": "1" }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/"), seen)
}

#[tokio::test]
async fn the_aliyun_adapter_sends_signed_requests_with_the_configured_template() {
    let (endpoint, seen) = fake_provider("right-secret").await;
    let aliyun = |secret: &str| {
        let mut c = api::config::Config::for_data_dir("/tmp/tx-sms");
        c.sms_sender = Some("aliyun".into());
        c.sms_endpoint = endpoint.clone();
        c.sms_access_key_id = Some("LTAI-test".into());
        c.sms_access_key_secret = Some(api::config::Secret::new(secret));
        c.sms_sign_name = Some("同行志愿".into());
        c.sms_template_code = Some("SMS_123".into());
        api::sms::Sender::from_config(&c).unwrap()
    };
    aliyun("right-secret")
        .send_code("13800000331", "654321")
        .await
        .unwrap();
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let field = |k: &str| got[0].iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(field("PhoneNumbers").as_deref(), Some("13800000331"));
    assert_eq!(field("SignName").as_deref(), Some("同行志愿"));
    assert_eq!(field("TemplateCode").as_deref(), Some("SMS_123"));
    assert_eq!(
        field("TemplateParam").as_deref(),
        Some("{\"code\":\"654321\"}")
    );
    assert_eq!(field("AccessKeyId").as_deref(), Some("LTAI-test"));
    // A wrong secret: the provider refuses, and the caller is told to retry, not what failed.
    let err = aliyun("wrong-secret")
        .send_code("13800000331", "111111")
        .await
        .unwrap_err();
    assert_eq!(err.code(), "SERVICE_UNAVAILABLE");
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_code_that_could_not_be_sent_neither_works_nor_counts() {
    // The provider is unreachable.
    let app = TestApp::spawn_with(|c| {
        c.sms_sender = Some("aliyun".into());
        c.sms_endpoint = "http://127.0.0.1:9/".into();
        c.sms_access_key_id = Some("id".into());
        c.sms_access_key_secret = Some(api::config::Secret::new("s"));
        c.sms_sign_name = Some("同行".into());
        c.sms_template_code = Some("SMS_1".into());
    })
    .await;
    let phone = "13800000341";
    assert_eq!(
        app.err_code(None, ASK, json!({ "p": phone })).await,
        "SERVICE_UNAVAILABLE"
    );
    // Not counted against the number: asking again is not throttled, it fails the same way.
    assert_eq!(
        app.err_code(None, ASK, json!({ "p": phone })).await,
        "SERVICE_UNAVAILABLE"
    );
}

#[tokio::test]
async fn a_phone_number_is_changed_with_a_code_sent_to_the_new_one() {
    let app = TestApp::spawn().await;
    let me = app.register("13800000351", "小王").await;
    app.register("13800000353", "别人").await;
    let ask = "mutation($p: String!) { requestPhoneCode(phone: $p, purpose: CHANGE_PHONE) { expiresAt } }";
    // Only for the signed in.
    assert_eq!(
        app.err_code(None, ask, json!({ "p": "13800000352" })).await,
        "UNAUTHENTICATED"
    );
    app.ok(Some(&me.access), ask, json!({ "p": "13800000352" }))
        .await;
    let code = last_sms_code(&app.state, "13800000352");
    let change = "mutation($i: ChangePhoneInput!) { changePhone(input: $i) { phone } }";
    let with = |phone: &str, code: &str, password: &str| json!({ "i": { "newPhone": phone, "smsCode": code, "password": password } });
    // Wrong password, wrong code, a taken number: nothing changes.
    assert_eq!(
        app.err_code(
            Some(&me.access),
            change,
            with("13800000352", &code, "not my password")
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.err_code(
            Some(&me.access),
            change,
            with("13800000352", "000000", TEST_PASSWORD)
        )
        .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.err_code(
            Some(&me.access),
            change,
            with("13800000353", &code, TEST_PASSWORD)
        )
        .await,
        "CONFLICT"
    );
    let changed = app
        .ok(
            Some(&me.access),
            change,
            with("13800000352", &code, TEST_PASSWORD),
        )
        .await;
    assert!(
        changed["changePhone"]["phone"]
            .as_str()
            .unwrap()
            .contains("13800000352")
    );
    assert_eq!(app.login_code("13800000352", TEST_PASSWORD).await, None);
    assert_eq!(
        app.login_code("13800000351", TEST_PASSWORD)
            .await
            .as_deref(),
        Some("UNAUTHENTICATED")
    );
}

#[tokio::test]
async fn wrong_reset_codes_stay_counted_and_parallel_guesses_get_five_tries() {
    let app = TestApp::spawn().await;
    let phone = "13800000361";
    app.register(phone, "小王").await;
    crate::harness::exec(
        &app.state.db,
        "UPDATE phone_code SET created_at = ?",
        vec![(chrono::Utc::now() - chrono::Duration::minutes(2)).into()],
    )
    .await;
    app.ok(
        None,
        "mutation($p: String!) { requestPasswordReset(phone: $p) { expiresAt } }",
        json!({ "p": phone }),
    )
    .await;
    let code = last_sms_code(&app.state, phone);
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 3) % 1_000_000);
    let reset = "mutation($i: ResetPasswordInput!) { resetPassword(input: $i) }";
    let with = |c: &str| json!({ "i": { "phone": phone, "smsCode": c, "newPassword": "another new password" } });
    // Twenty wrong guesses at once: five tries are all a code takes, so the right one after
    // them finds the code spent.
    let guesses = (0..20).map(|_| app.post(None, reset, with(&wrong)));
    for (_, body) in futures::future::join_all(guesses).await {
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
    }
    assert_eq!(
        app.err_code(None, reset, with(&code)).await,
        "BAD_USER_INPUT"
    );
    let tries: Vec<i32> = <entity::phone_code::Entity as sea_orm::EntityTrait>::find()
        .all(&app.state.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.purpose == entity::phone_code::CodePurpose::ResetPassword)
        .map(|c| c.attempts)
        .collect();
    assert_eq!(tries, vec![5]);
}
