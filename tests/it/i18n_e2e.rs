//! Messages in the caller's language, over HTTP and WebSocket as phones send them: Chinese
//! without `Accept-Language` (or with one naming neither language), English when the header
//! prefers it; `extensions.code` and the other extensions are the same in both. These clients
//! are the tests' own: the harness's sends `Accept-Language: en`.

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::harness::{TestApp, first_code};

const LOGIN: &str = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";

/// An HTTP answer: status, headers, JSON body.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Answer {
    fn message(&self) -> &str {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message in {}", self.body))
    }

    fn extension(&self, name: &str) -> &Value {
        &self.body["errors"][0]["extensions"][name]
    }
}

/// Send `req` with `Accept-Language: accept_language` (none: no such header at all).
async fn send(req: reqwest::RequestBuilder, accept_language: Option<&str>) -> Answer {
    let req = match accept_language {
        Some(l) => req.header("accept-language", l),
        None => req,
    };
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json::<Value>().await.expect("JSON body");
    Answer {
        status,
        headers,
        body,
    }
}

/// POST a GraphQL operation.
async fn post(
    app: &TestApp,
    accept_language: Option<&str>,
    query: &str,
    variables: Value,
) -> Answer {
    let req = reqwest::Client::new()
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    send(req, accept_language).await
}

#[tokio::test]
async fn a_wrong_password_is_answered_in_the_callers_language() {
    let app = TestApp::spawn().await;
    app.register("13800001111", "李阿姨").await;
    let wrong = json!({ "i": { "phone": "13800001111", "password": "not the password" } });
    // Four tries: under the five a phone may fail from one address in a minute.
    for (accept_language, message) in [
        (None, "手机号或密码错误"),
        (Some("en-US,en;q=0.9"), "invalid phone number or password"),
        (Some("zh-CN"), "手机号或密码错误"),
        (Some("fr-FR,en;q=0.5"), "invalid phone number or password"),
    ] {
        let a = post(&app, accept_language, LOGIN, wrong.clone()).await;
        assert_eq!(a.status, 200);
        assert_eq!(a.message(), message, "{accept_language:?}");
        assert_eq!(
            first_code(&a.body),
            "UNAUTHENTICATED",
            "the code never changes"
        );
        assert!(
            a.headers
                .get_all("vary")
                .iter()
                .any(|v| v.to_str().unwrap().contains("accept-language")),
            "a cache must keep the languages apart: {:?}",
            a.headers
        );
    }
}

#[tokio::test]
async fn invalid_input_names_its_field_in_either_language() {
    let app = TestApp::spawn().await;
    let bad_phone = json!({ "i": { "phone": "12345", "password": "correct horse battery", "displayName": "王", "smsCode": "000000" } });
    let register = "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }";
    let zh = post(&app, None, register, bad_phone.clone()).await;
    let en = post(&app, Some("en"), register, bad_phone).await;
    for a in [&zh, &en] {
        assert_eq!(first_code(&a.body), "BAD_USER_INPUT", "{}", a.body);
        assert_eq!(a.extension("field"), "input.phone", "{}", a.body);
    }
    assert_eq!(
        zh.message(),
        "请输入中国大陆手机号：以 1 开头的 11 位数字，可带 +86"
    );
    assert_eq!(
        en.message(),
        "must be a mainland mobile number: 11 digits starting with 1, optionally +86"
    );
}

#[tokio::test]
async fn query_limits_refuse_in_the_callers_language() {
    let app = TestApp::spawn_with(|c| {
        c.max_aliases = 2;
        c.max_query_depth = 3;
    })
    .await;
    let aliases = "{ a: me { id } b: me { id } c: me { id } }";
    let zh = post(&app, None, aliases, json!({})).await;
    let en = post(&app, Some("en-GB"), aliases, json!({})).await;
    assert_eq!(zh.message(), "查询使用了 3 个别名，最多允许 2 个");
    assert_eq!(
        en.message(),
        "the document uses 3 aliases; at most 2 are allowed"
    );
    for a in [&zh, &en] {
        assert_eq!(first_code(&a.body), "BAD_USER_INPUT");
        assert_eq!(a.extension("reason"), "TOO_MANY_ALIASES");
    }

    let deep = "{ organizations { edges { node { parent { id } } } } }";
    let zh = post(&app, Some("zh-TW"), deep, json!({})).await;
    let en = post(&app, Some("en"), deep, json!({})).await;
    assert_eq!(zh.message(), "查询嵌套层数过多（最多 3 层）");
    assert_eq!(en.message(), "Query is nested too deep.");
    for a in [&zh, &en] {
        assert_eq!(first_code(&a.body), "BAD_USER_INPUT");
        assert_eq!(a.extension("reason"), "GRAPHQL_VALIDATION_FAILED");
    }

    // async-graphql's own complexity check, reworded as ours.
    let app = TestApp::spawn_with(|c| c.max_query_complexity = 10).await;
    let complex = "{ organizations(first: 50) { edges { node { id name } } } }";
    let zh = post(&app, None, complex, json!({})).await;
    let en = post(&app, Some("en"), complex, json!({})).await;
    assert_eq!(zh.message(), "查询过于复杂，请减少字段或每页条数");
    assert_eq!(en.message(), "Query is too complex.");
    assert_eq!(zh.extension("reason"), en.extension("reason"));

    // Messages async-graphql writes about a malformed document stay English, for the
    // client's developers; the code and reason are there for the app.
    let unknown = post(&app, None, "{ nope }", json!({})).await;
    assert!(
        unknown.message().contains("Unknown field"),
        "{}",
        unknown.body
    );
    assert_eq!(first_code(&unknown.body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn request_budgets_refuse_in_the_callers_language() {
    let app = TestApp::spawn_with(|c| c.requests_per_address = 1).await;
    let me = "{ me { id } }";
    assert_eq!(post(&app, None, me, json!({})).await.status, 200);
    let zh = post(&app, None, me, json!({})).await;
    let en = post(&app, Some("en"), me, json!({})).await;
    for a in [&zh, &en] {
        assert_eq!(a.status, 429);
        assert_eq!(first_code(&a.body), "RATE_LIMITED");
        assert!(a.extension("retryAfter").as_u64().unwrap() >= 1);
    }
    let wait = zh.extension("retryAfter").as_u64().unwrap();
    assert_eq!(zh.message(), format!("操作过于频繁，请 {wait} 秒后再试"));
    assert!(
        en.message().starts_with("too many attempts, retry in"),
        "{}",
        en.body
    );
}

#[tokio::test]
async fn http_refusals_are_in_the_callers_language() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    // A mutation over GET.
    let get = |l| {
        send(
            client
                .get(app.url("/graphql"))
                .query(&[("query", "mutation { logout(refreshToken: \"x\") }")]),
            l,
        )
    };
    let (zh, en) = (get(None).await, get(Some("en")).await);
    assert_eq!((zh.status, en.status), (405, 405));
    assert_eq!(zh.message(), "变更操作（mutation）须用 POST 发送");
    assert_eq!(en.message(), "mutations must be sent with POST");
    assert_eq!(first_code(&zh.body), first_code(&en.body));
    // Not JSON.
    let plain = |l| {
        send(
            client
                .post(app.url("/graphql"))
                .header("content-type", "text/plain")
                .body("{ me { id } }"),
            l,
        )
    };
    let (zh, en) = (plain(None).await, plain(Some("en")).await);
    assert_eq!((zh.status, en.status), (415, 415));
    assert_eq!(zh.message(), "请以 application/json 格式发送请求");
    assert_eq!(en.message(), "send the request as application/json");
    assert_eq!(first_code(&zh.body), "BAD_REQUEST");
    // A persisted query of a version we do not know, over GET (refused before it runs).
    let persisted = |l| {
        send(
            client.get(app.url("/graphql")).query(&[(
                "extensions",
                r#"{"persistedQuery":{"version":2,"sha256Hash":"00"}}"#,
            )]),
            l,
        )
    };
    let (zh, en) = (persisted(None).await, persisted(Some("en")).await);
    assert_eq!(zh.message(), "只支持第 1 版持久化查询");
    assert_eq!(
        en.message(),
        "only version 1 of persisted queries is supported"
    );
    assert_eq!(first_code(&zh.body), "PERSISTED_QUERY_NOT_SUPPORTED");
    // Apollo's clients compare this one: a protocol word, the same in every language.
    let unknown = send(
        client.get(app.url("/graphql")).query(&[(
            "extensions",
            format!(
                r#"{{"persistedQuery":{{"version":1,"sha256Hash":"{}"}}}}"#,
                "0".repeat(64)
            ),
        )]),
        None,
    )
    .await;
    assert_eq!(unknown.message(), "PersistedQueryNotFound");
}

#[tokio::test]
async fn a_batch_answers_each_operation_in_the_callers_language() {
    let app = TestApp::spawn().await;
    let wrong = json!({ "i": { "phone": "13800002222", "password": "not the password" } });
    let batch = json!([
        { "query": LOGIN, "variables": wrong },
        { "query": "{ node(id: \"nope\") { id } }" },
    ]);
    let a = send(
        reqwest::Client::new()
            .post(app.url("/graphql"))
            .json(&batch),
        None,
    )
    .await;
    assert_eq!(a.body[0]["errors"][0]["message"], "手机号或密码错误");
    assert_eq!(a.body[1]["errors"][0]["message"], "ID 无效");
    assert_eq!(a.body[1]["errors"][0]["extensions"]["field"], "id");
}

/// Open `/graphql/ws` with `accept_language` on the upgrade request, send `connection_init`
/// with `payload`, and return the socket and the server's first answer (a message as JSON,
/// or `{"close": code, "reason": …}`).
async fn ws_connect(
    app: &TestApp,
    accept_language: Option<&str>,
    payload: Value,
) -> (
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Value,
) {
    let mut req = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    if let Some(l) = accept_language {
        req.headers_mut()
            .insert("accept-language", l.parse().unwrap());
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    socket
        .send(Message::Text(
            json!({ "type": "connection_init", "payload": payload })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let first = ws_next(&mut socket).await;
    (socket, first)
}

async fn ws_next(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), socket.next())
            .await
            .expect("an answer within 10 s")
            .expect("the socket is open")
            .expect("a frame");
        match msg {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["type"] != "ping" && v["type"] != "pong" {
                    return v;
                }
            }
            Message::Close(frame) => {
                let frame = frame.expect("a close frame with a reason");
                return json!({ "close": u16::from(frame.code), "reason": frame.reason.as_str() });
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn websocket_messages_follow_the_upgrade_requests_language() {
    let app = TestApp::spawn().await;
    // A refused token: closed with 4403 and the reason in the upgrade request's language.
    let bad = json!({ "Authorization": "Bearer not-a-token" });
    let (_, zh) = ws_connect(&app, None, bad.clone()).await;
    let (_, en) = ws_connect(&app, Some("en-US,en;q=0.9"), bad).await;
    assert_eq!(zh["close"], 4403, "{zh}");
    assert_eq!(zh["reason"], "登录凭证无效或已过期，请重新登录");
    assert_eq!(en["close"], 4403, "{en}");
    assert_eq!(en["reason"], "invalid or expired access token");

    // An error for an operation: a query sent over the socket (only subscriptions run there).
    let error_of = |accept_language: Option<&'static str>, payload: Value| {
        let app = &app;
        async move {
            let (mut socket, ack) = ws_connect(app, accept_language, payload).await;
            assert_eq!(ack["type"], "connection_ack", "{ack}");
            socket
                .send(Message::Text(
                    json!({ "id": "1", "type": "subscribe", "payload": { "query": "{ me { id } }" } })
                        .to_string()
                        .into(),
                ))
                .await
                .unwrap();
            let answer = ws_next(&mut socket).await;
            assert_eq!(answer["type"], "next", "{answer}");
            let error = &answer["payload"]["errors"][0];
            assert_eq!(error["extensions"]["code"], "BAD_REQUEST", "{answer}");
            error["message"].as_str().unwrap().to_owned()
        }
    };
    let zh = "WebSocket 只用于订阅；查询和变更请通过 HTTP 发送";
    let en = "only subscriptions run over the WebSocket; send queries and mutations over HTTP";
    assert_eq!(error_of(None, json!({})).await, zh);
    assert_eq!(error_of(Some("en"), json!({})).await, en);
    // A client that cannot set headers says it in `connection_init`.
    assert_eq!(error_of(None, json!({ "language": "en" })).await, en);
    assert_eq!(
        error_of(Some("en"), json!({ "language": "zh-CN" })).await,
        zh
    );
}
