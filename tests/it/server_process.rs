//! The real `tongxing serve` process: zero-setup start, logs free of personal data, and a clean
//! exit on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::{Value, json};

struct Server {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    fn start(dir: &std::path::Path) -> Self {
        Self::start_with(dir, &[])
    }

    /// Start with more environment variables.
    fn start_with(dir: &std::path::Path, env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tongxing"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TONGXING_DATA_DIR", dir)
            .env("TONGXING_LISTEN", "127.0.0.1:0")
            .env("TONGXING_LOG_FORMAT", "json")
            .env("TONGXING_SHUTDOWN_DELAY_SECS", "1")
            // One test account makes the load of a crowd: the budgets get their own tests.
            .env("TONGXING_REQUESTS_PER_ACCOUNT", "1000000")
            .env("TONGXING_REQUESTS_PER_ADDRESS", "1000000")
            .env("RUST_LOG", "debug")
            // The caller's, last: they override the defaults above.
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let log = log.clone();
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Ok(v) = serde_json::from_str::<Value>(&line)
                        && let Some(addr) = v["addr"].as_str()
                    {
                        let _ = tx.send(addr.to_owned());
                    }
                    log.lock().unwrap().push_str(&line);
                    log.lock().unwrap().push('\n');
                }
            });
        }
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("server did not start: {}", log.lock().unwrap()));
        Self { child, addr, log }
    }

    fn signal_term(&self) {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        self.signal_term();
        self.wait()
    }

    fn wait(&mut self) -> (std::process::ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "server did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().clone();
        (status, log)
    }
}

async fn gql(
    client: &reqwest::Client,
    addr: &str,
    token: Option<&str>,
    query: &str,
    vars: Value,
) -> Value {
    let mut req = client
        .post(format!("http://{addr}/graphql"))
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn serve_starts_with_no_setup_logs_no_personal_data_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path());
    assert!(dir.path().join("tongxing.db").exists());
    assert!(dir.path().join("jwt.key").exists());

    let client = {
        api::sms::install_tls_provider();
        reqwest::Client::new()
    };
    let phone = "13812345678";
    let password = "secret-password-xyz";
    let reg = register(&client, &server.addr, dir.path(), phone, password, "王小明").await;
    let token = reg["data"]["register"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = gql(
        &client,
        &server.addr,
        None,
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        json!({ "i": { "phone": phone, "password": "wrong-password-abc" } }),
    )
    .await;
    assert_eq!(wrong["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let me = gql(
        &client,
        &server.addr,
        Some(&token),
        "query Me { me { phone } }",
        json!({}),
    )
    .await;
    assert_eq!(me["data"]["me"]["phone"], phone);
    let id_number = "11010519491231002X";
    let identity = gql(
        &client,
        &server.addr,
        Some(&token),
        "mutation($i: SetMyIdentityInput!) { setMyIdentity(input: $i) { idNumberMasked } }",
        json!({ "i": { "legalName": "王小明", "idType": "MAINLAND_ID", "idNumber": id_number } }),
    )
    .await;
    assert_eq!(
        identity["data"]["setMyIdentity"]["idNumberMasked"],
        "110***********002X"
    );
    // The identity key was generated beside the JWT key on first use.
    assert!(dir.path().join("identity.key").exists());
    // The calendar feed's address names the port actually bound (the server listens on port
    // 0 here), and the address, its credential, stays out of the log.
    let feed = gql(
        &client,
        &server.addr,
        Some(&token),
        "{ me { calendarFeed { url } } }",
        json!({}),
    )
    .await;
    let feed_url = feed["data"]["me"]["calendarFeed"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        feed_url.starts_with(&format!("http://{}/calendar/", server.addr)),
        "{feed_url}"
    );
    let got = client.get(&feed_url).send().await.unwrap();
    assert_eq!(got.status(), 200);
    let feed_token = feed_url
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_owned();

    let (status, log) = server.terminate();
    assert!(status.success(), "exit status {status:?}\n{log}");
    // The request log names operations and outcomes …
    assert!(log.contains("\"operation\":\"Me\""), "{log}");
    assert!(log.contains("UNAUTHENTICATED"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    assert!(log.contains("/calendar/[feed].ics"), "{log}");
    // … and never the phone, the passwords, the token or the ID number, even at debug level.
    for secret in [
        phone,
        password,
        "wrong-password-abc",
        token.as_str(),
        id_number,
        "110105",
        feed_token.as_str(),
    ] {
        assert!(!log.contains(secret), "log contains {secret}:\n{log}");
    }

    // A restart keeps the generated signing key: the token issued before still works.
    let server = Server::start(dir.path());
    let me = gql(
        &client,
        &server.addr,
        Some(&token),
        "{ me { phone } }",
        json!({}),
    )
    .await;
    assert_eq!(me["data"]["me"]["phone"], phone);
    let (status, _) = server.terminate();
    assert!(status.success());
}

#[tokio::test]
async fn in_flight_requests_finish_after_shutdown_is_signalled() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (state, _db) = crate::harness::test_state().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(api::web::serve(
        listener,
        api::app(state),
        async {
            let _ = rx.await;
        },
        Duration::from_secs(10),
    ));

    // Send the headers of a request, signal shutdown, then send its body.
    let body = r#"{"query":"{ organizations { edges { cursor } } }"}"#;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    tx.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"organizations\""), "{response}");

    // And then the server stops, well before its grace period.
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stopped")
        .unwrap()
        .unwrap();
    // New connections are refused.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn sigterm_under_load_turns_readiness_off_first_and_fails_no_request() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path());
    let client = {
        api::sms::install_tls_provider();
        reqwest::Client::new()
    };
    let reg = register(
        &client,
        &server.addr,
        dir.path(),
        "13812345679",
        "secret-password-xyz",
        "李四",
    )
    .await;
    let token = reg["data"]["register"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();

    // Sixteen clients keep requests going, as a load balancer's traffic would, until the
    // balancer sees the replica is not ready.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut load = Vec::new();
    for _ in 0..16 {
        let (client, addr, token) = (client.clone(), server.addr.clone(), token.clone());
        let (stop, sent, failed) = (stop.clone(), sent.clone(), failed.clone());
        load.push(tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                sent.fetch_add(1, Ordering::SeqCst);
                let res = client
                    .post(format!("http://{addr}/graphql"))
                    .bearer_auth(&token)
                    .json(&json!({ "query": "{ me { id displayName } organizations { edges { cursor } } }" }))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        let body: Value = r.json().await.unwrap_or_default();
                        if !body["errors"].is_null() {
                            failed.lock().unwrap().push(body.to_string());
                        }
                    }
                    Ok(r) => failed.lock().unwrap().push(format!("status {}", r.status())),
                    Err(e) => failed.lock().unwrap().push(e.to_string()),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    server.signal_term();
    // Readiness turns false first, while requests are still served.
    let started = Instant::now();
    loop {
        let ready = client
            .get(format!("http://{}/readyz", server.addr))
            .send()
            .await
            .expect("still listening while draining");
        if ready.status().as_u16() == 503 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(2), "readiness off");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    for t in load {
        t.await.unwrap();
    }
    let (status, log) = server.wait();
    assert!(status.success(), "exit status {status:?}\n{log}");
    assert!(sent.load(Ordering::SeqCst) > 16, "load ran");
    let failed = failed.lock().unwrap();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
    assert!(log.contains("draining"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_go_to_an_otlp_collector_when_the_standard_variables_ask() {
    // A collector that keeps what each OTLP/HTTP export brought.
    let received: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let keep = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let keep = keep.clone();
            async move {
                let kind = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                keep.lock().unwrap().push((kind, body));
                "{}"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, collector).into_future());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let server = tokio::task::spawn_blocking(move || {
        Server::start_with(
            &path,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
                ("OTEL_SERVICE_NAME", "tongxing-ci"),
                ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ],
        )
    })
    .await
    .unwrap();

    // A phone's request inside a trace its app started.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let parent = "00f067aa0ba902b7";
    let client = {
        api::sms::install_tls_provider();
        reqwest::Client::new()
    };
    let answer: Value = client
        .post(format!("http://{}/graphql", server.addr))
        .header("traceparent", format!("00-{trace}-{parent}-01"))
        .json(&json!({ "query": "query Hello { __typename }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer["data"]["__typename"].is_string(), "{answer}");
    // And one carrying personal data, which must not travel with the spans.
    let phone = "13812345678";
    gql(
        &client,
        &server.addr,
        None,
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        json!({ "i": { "phone": phone, "password": "wrong-password-abc" } }),
    )
    .await;

    let spans_of_trace = |received: &[(String, String)]| -> (Vec<Value>, Vec<Value>) {
        let mut spans = Vec::new();
        let mut resources = Vec::new();
        for (_, body) in received {
            let export: Value = serde_json::from_str(body).expect("OTLP JSON");
            for rs in export["resourceSpans"].as_array().into_iter().flatten() {
                resources.push(rs["resource"].clone());
                for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                    spans.extend(
                        ss["spans"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter(|s| s["traceId"] == trace)
                            .cloned(),
                    );
                }
            }
        }
        (spans, resources)
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let (spans, resources) = loop {
        let got = received.lock().unwrap().clone();
        let (spans, resources) = spans_of_trace(&got);
        let has = |name: &str| spans.iter().any(|s| s["name"] == name);
        if (has("graphql") && has("POST /graphql")) || Instant::now() > deadline {
            break (spans, resources);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let attr = |span: &Value, key: &str| -> Value {
        span["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
            .unwrap_or(Value::Null)
    };
    let http = spans
        .iter()
        .find(|s| s["name"] == "POST /graphql")
        .unwrap_or_else(|| panic!("no request span in the caller's trace: {spans:#?}"));
    assert_eq!(http["parentSpanId"], parent, "{http:#}");
    let status = attr(http, "status");
    assert!(
        [&status["intValue"], &status["stringValue"]]
            .iter()
            .any(|v| v.as_str() == Some("200") || v.as_i64() == Some(200)),
        "{http:#}"
    );
    let op = spans
        .iter()
        .find(|s| s["name"] == "graphql")
        .unwrap_or_else(|| panic!("no graphql span: {spans:#?}"));
    assert_eq!(op["parentSpanId"], http["spanId"], "{op:#}");
    assert_eq!(attr(op, "operation")["stringValue"], "Hello", "{op:#}");
    assert!(
        resources
            .iter()
            .any(|r| attr(r, "service.name")["stringValue"] == "tongxing-ci"),
        "{resources:#?}"
    );

    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    let got = received.lock().unwrap().clone();
    assert!(
        got.iter()
            .all(|(kind, _)| kind.starts_with("application/json"))
    );
    for (_, body) in &got {
        assert!(!body.contains(phone), "a span carries the phone: {body}");
        assert!(!body.contains("wrong-password-abc"));
    }
}

#[tokio::test]
async fn a_second_sigterm_stops_the_server_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let server = tokio::task::spawn_blocking(move || {
        Server::start_with(&path, &[("TONGXING_SHUTDOWN_DELAY_SECS", "60")])
    })
    .await
    .unwrap();
    // Serving (so the signal handlers are in place) …
    let client = {
        api::sms::install_tls_provider();
        // A fresh connection per request: a draining server closes idle keep-alive
        // connections, and a pooled one it closed would read as a reset, not as an answer.
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    };
    let ready = client
        .get(format!("http://{}/readyz", server.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    server.signal_term();
    // … then draining: still serving, not ready.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ready = client
            .get(format!("http://{}/readyz", server.addr))
            .send()
            .await
            .unwrap()
            .status();
        if ready == 503 {
            break;
        }
        assert!(Instant::now() < deadline, "never drained");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The operator insists: no 60-second wait.
    let started = Instant::now();
    server.signal_term();
    let (status, log) = tokio::task::spawn_blocking(move || {
        let mut server = server;
        server.wait()
    })
    .await
    .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10), "{log}");
    assert!(!status.success(), "{log}");
    assert!(log.contains("second shutdown signal"), "{log}");
}

/// Register through the API as a phone would: ask for a code, read it from the server's SMS
/// outbox (the development file sender in its data directory), register with it.
async fn register(
    client: &reqwest::Client,
    addr: &str,
    data_dir: &std::path::Path,
    phone: &str,
    password: &str,
    name: &str,
) -> serde_json::Value {
    gql(
        client,
        addr,
        None,
        "mutation($p: String!) { requestPhoneCode(phone: $p, purpose: REGISTER) { expiresAt } }",
        json!({ "p": phone }),
    )
    .await;
    let outbox = std::fs::read_to_string(data_dir.join("sms-outbox.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(outbox.lines().last().unwrap()).unwrap();
    let code: String = last["text"]
        .as_str()
        .unwrap()
        .chars()
        .filter(char::is_ascii_digit)
        .take(6)
        .collect();
    gql(
        client,
        addr,
        None,
        "mutation($i: RegisterInput!) { register(input: $i) { accessToken } }",
        json!({ "i": { "phone": phone, "password": password, "displayName": name, "smsCode": code } }),
    )
    .await
}
