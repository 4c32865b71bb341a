//! Accounts and tokens over HTTP, as a phone app uses them.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::harness::{JWT_SECRET, Session, TestApp, first_code};

const ME: &str = "{ me { id displayName phone } }";
const REFRESH: &str = "mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken account { id } } }";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn forge(key: &str, aud: &str, exp: u64, sub: &str) -> String {
    let claims =
        json!({ "iss": "tongxing", "aud": aud, "sub": sub, "exp": exp, "iat": now() - 10 });
    sign(Algorithm::HS256, key, &claims)
}

fn sign(alg: Algorithm, key: &str, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(key.as_bytes()).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn register_then_login_then_me() {
    let app = TestApp::spawn().await;
    let registered = app.register("+86 139 1234 5678", "张阿姨").await;
    let data = app
        .ok(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken tokenType account { id } } }",
            json!({ "i": { "phone": "13912345678", "password": "correct horse battery" } }),
        )
        .await;
    assert_eq!(data["login"]["tokenType"], "Bearer");
    let session = Session::from(&data["login"]);
    assert_eq!(session.account_id, registered.account_id);

    let me = app.ok(Some(&session.access), ME, json!({})).await;
    assert_eq!(me["me"]["id"], registered.account_id.as_str());
    assert_eq!(me["me"]["displayName"], "张阿姨");
    // The owner sees the whole, normalized number.
    assert_eq!(me["me"]["phone"], "13912345678");
}

#[tokio::test]
async fn me_is_null_without_credentials() {
    let app = TestApp::spawn().await;
    let data = app.ok(None, ME, json!({})).await;
    assert!(data["me"].is_null());
}

#[tokio::test]
async fn wrong_password_is_unauthenticated() {
    let app = TestApp::spawn().await;
    app.register("13912345678", "张阿姨").await;
    let code = app
        .err_code(
            None,
            "mutation { login(input: {phone: \"13912345678\", password: \"wrong password\"}) { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
}

#[tokio::test]
async fn invalid_registration_input_names_the_field() {
    let app = TestApp::spawn().await;
    for (phone, password, field) in [
        ("12345", "correct horse battery", "input.phone"),
        ("13912345678", "short", "input.password"),
    ] {
        let (_, body) = app
            .post(
                None,
                "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
                json!({ "i": { "phone": phone, "password": password, "displayName": "x", "smsCode": "000000" } }),
            )
            .await;
        assert_eq!(first_code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
    }
}

#[tokio::test]
async fn refresh_rotates_and_reuse_is_detected() {
    let app = TestApp::spawn().await;
    let first = app.register("13912345678", "张阿姨").await;
    let data = app.ok(None, REFRESH, json!({ "t": first.refresh })).await;
    let second = Session::from(&data["refreshToken"]);
    assert_ne!(second.refresh, first.refresh);
    // The new access token works.
    let me = app.ok(Some(&second.access), ME, json!({})).await;
    assert_eq!(me["me"]["id"], first.account_id.as_str());

    // Replaying the first refresh token is refused and ends the session: the second refresh
    // token (never used) no longer works either.
    let code = app
        .err_code(None, REFRESH, json!({ "t": first.refresh }))
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
    let code = app
        .err_code(None, REFRESH, json!({ "t": second.refresh }))
        .await;
    assert_eq!(code, "UNAUTHENTICATED");
}

#[tokio::test]
async fn refresh_works_while_sending_an_expired_access_token() {
    let app = TestApp::spawn().await;
    let s = app.register("13912345678", "张阿姨").await;
    let expired = forge(
        JWT_SECRET,
        "tongxing-api",
        now() - 3600,
        &s.account_key().to_string(),
    );
    let data = app
        .ok(Some(&expired), REFRESH, json!({ "t": s.refresh }))
        .await;
    assert!(data["refreshToken"]["accessToken"].is_string());
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = TestApp::spawn().await;
    let s = app.register("13912345678", "张阿姨").await;
    let data = app
        .ok(
            None,
            "mutation($t: String!) { logout(refreshToken: $t) }",
            json!({ "t": s.refresh }),
        )
        .await;
    assert_eq!(data["logout"], true);
    let code = app.err_code(None, REFRESH, json!({ "t": s.refresh })).await;
    assert_eq!(code, "UNAUTHENTICATED");
}

#[tokio::test]
async fn bad_access_tokens_are_unauthenticated() {
    let app = TestApp::spawn().await;
    let s = app.register("13912345678", "张阿姨").await;
    let sub = s.account_key().to_string();
    let in_an_hour = now() + 3600;
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(
            json!({ "iss": "tongxing", "aud": "tongxing-api", "sub": sub, "exp": in_an_hour, "iat": now() })
                .to_string()
        )
    );
    let cases = [
        (
            "expired",
            forge(JWT_SECRET, "tongxing-api", now() - 120, &sub),
        ),
        (
            "wrong key",
            forge(
                "another-secret-another-secret-another!!",
                "tongxing-api",
                in_an_hour,
                &sub,
            ),
        ),
        (
            "wrong audience",
            forge(JWT_SECRET, "someone-else", in_an_hour, &sub),
        ),
        ("alg none", alg_none),
        (
            "wrong issuer",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                &json!({ "iss": "someone", "aud": "tongxing-api", "sub": sub, "exp": in_an_hour, "iat": now() }),
            ),
        ),
        (
            "other algorithm, right key",
            sign(
                Algorithm::HS512,
                JWT_SECRET,
                &json!({ "iss": "tongxing", "aud": "tongxing-api", "sub": sub, "exp": in_an_hour, "iat": now() }),
            ),
        ),
        (
            "no expiry",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                &json!({ "iss": "tongxing", "aud": "tongxing-api", "sub": sub, "iat": now() }),
            ),
        ),
        ("garbage", "not-a-jwt".to_owned()),
    ];
    // Sanity: the same forging with the right key and audience is accepted.
    let good = forge(JWT_SECRET, "tongxing-api", in_an_hour, &sub);
    let me = app.ok(Some(&good), ME, json!({})).await;
    assert_eq!(me["me"]["id"], s.account_id.as_str());
    for (what, token) in cases {
        let (status, body) = app.post(Some(&token), ME, json!({})).await;
        assert_eq!(status, 200, "{what}");
        assert_eq!(first_code(&body), "UNAUTHENTICATED", "{what}: {body}");
        assert!(body["data"]["me"].is_null(), "{what}");
    }
}

#[tokio::test]
async fn repeated_failed_logins_are_rate_limited() {
    let app = TestApp::spawn().await;
    app.register("13912345678", "张阿姨").await;
    let attempt = |password: &'static str| {
        let app = &app;
        async move {
            app.post(
                None,
                "mutation($p: String!) { login(input: {phone: \"13912345678\", password: $p}) { accessToken } }",
                json!({ "p": password }),
            )
            .await
            .1
        }
    };
    for _ in 0..5 {
        assert_eq!(
            first_code(&attempt("wrong password").await),
            "UNAUTHENTICATED"
        );
    }
    let body = attempt("wrong password").await;
    assert_eq!(first_code(&body), "RATE_LIMITED");
    assert!(
        body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .unwrap()
            >= 1
    );
    // Even the right password waits: the budget protects against guessing.
    assert_eq!(
        first_code(&attempt("correct horse battery").await),
        "RATE_LIMITED"
    );
}

#[tokio::test]
async fn registrations_from_one_address_are_rate_limited() {
    let app = TestApp::spawn_with(|c| c.registrations_per_address = 2).await;
    app.register("13800000001", "甲").await;
    app.register("13800000002", "乙").await;
    let code = app
        .err_code(
            None,
            "mutation { register(input: {phone: \"13800000003\", password: \"correct horse\", displayName: \"丙\", smsCode: \"000000\"}) { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "RATE_LIMITED");
}

#[tokio::test]
async fn successful_logins_do_not_spend_the_budget() {
    let app = TestApp::spawn_with(|c| c.login_attempts_per_phone = 2).await;
    app.register("13912345678", "张阿姨").await;
    for _ in 0..4 {
        app.ok(
            None,
            "mutation { login(input: {phone: \"13912345678\", password: \"correct horse battery\"}) { accessToken } }",
            json!({}),
        )
        .await;
    }
}

#[tokio::test]
async fn failed_logins_from_one_address_are_rate_limited_across_phones() {
    let app = TestApp::spawn_with(|c| c.login_attempts_per_address = 3).await;
    for i in 0..3 {
        let code = app
            .err_code(
                None,
                &format!(
                    "mutation {{ login(input: {{phone: \"1380000000{i}\", password: \"wrong password\"}}) {{ accessToken }} }}"
                ),
                json!({}),
            )
            .await;
        assert_eq!(code, "UNAUTHENTICATED");
    }
    let code = app
        .err_code(
            None,
            "mutation { login(input: {phone: \"13800000009\", password: \"wrong password\"}) { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "RATE_LIMITED");
}

/// A login as from `address` (the server trusts `X-Forwarded-For` in this test).
async fn login_from(app: &TestApp, address: &str, password: &str, code: Option<&str>) -> Value {
    let resp = app
        .client
        .post(app.url("/graphql"))
        .header("x-forwarded-for", address)
        .json(&json!({
            "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            "variables": { "i": { "phone": "13912345678", "password": password, "smsCode": code } },
        }))
        .send()
        .await
        .unwrap();
    resp.json().await.unwrap()
}

/// A minute after the last text (one a minute per number), ask for a LOGIN code.
async fn a_minute_later_a_login_code(app: &TestApp) -> String {
    crate::harness::exec(
        &app.state.db,
        "UPDATE phone_code SET created_at = ?",
        vec![(chrono::Utc::now() - chrono::Duration::minutes(2)).into()],
    )
    .await;
    app.sms_code("13912345678", "LOGIN").await
}

#[tokio::test]
async fn guessing_cannot_lock_the_owner_out() {
    let app = TestApp::spawn_with(|c| {
        c.trust_forwarded_for = true;
        c.login_attempts_per_phone = 3;
        c.login_attempts_per_phone_per_hour = 8;
    })
    .await;
    app.register("13912345678", "张阿姨").await;
    // One attacker address spends its own budget on the number …
    for _ in 0..3 {
        let body = login_from(&app, "9.9.9.1", "wrong password", None).await;
        assert_eq!(first_code(&body), "UNAUTHENTICATED");
    }
    let body = login_from(&app, "9.9.9.1", "correct horse battery", None).await;
    assert_eq!(first_code(&body), "RATE_LIMITED");
    assert!(body["errors"][0]["extensions"]["smsCodeAccepted"].is_null());
    // … and the owner, at home, signs in all the same.
    let body = login_from(&app, "10.1.1.1", "correct horse battery", None).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");

    // Guesses spread over many addresses spend the number's hourly budget: a password alone
    // is refused everywhere now, the owner's too …
    for i in 2..=6 {
        let body = login_from(&app, &format!("9.9.9.{i}"), "wrong password", None).await;
        assert_eq!(first_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = login_from(&app, "10.1.1.1", "correct horse battery", None).await;
    assert_eq!(first_code(&body), "RATE_LIMITED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["smsCodeAccepted"], true);
    // … but a code sent to the number signs its owner in. A wrong code is refused on its
    // field, and the code is not a key on its own: the password is still checked.
    let body = login_from(&app, "10.1.1.1", "correct horse battery", Some("000000")).await;
    assert_eq!(first_code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.smsCode");
    let code = a_minute_later_a_login_code(&app).await;
    let body = login_from(&app, "10.1.1.1", "wrong password", Some(&code)).await;
    assert_eq!(first_code(&body), "UNAUTHENTICATED");
    let code = a_minute_later_a_login_code(&app).await;
    let body = login_from(&app, "10.1.1.1", "correct horse battery", Some(&code)).await;
    assert!(body["data"]["login"]["accessToken"].is_string(), "{body}");
    // The code works once.
    let body = login_from(&app, "10.1.1.1", "correct horse battery", Some(&code)).await;
    assert_eq!(first_code(&body), "BAD_USER_INPUT");
    // An attacker with a code of their own number gets nothing from it here.
    let body = login_from(&app, "9.9.9.1", "correct horse battery", Some(&code)).await;
    assert_eq!(first_code(&body), "RATE_LIMITED");
}
