//! WebSocket limits under attack: do they hold, and do other clients notice?
//!
//! ```sh
//! cargo bench --bench ws_limits                                   # SQLite (temp file)
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench ws_limits
//! ```
//!
//! A bystander — an HTTP client at 127.0.0.2 reading a shift, and a phone at 127.0.0.3
//! subscribed to `shiftUpdated` while volunteers sign up one by one — is measured for
//! `QUIET_SECS`, then again for `ATTACK_SECS` while 300 attacker tasks at 127.0.0.1 hammer the
//! WebSocket endpoint: reconnecting as fast as they can (past 50 sockets per address the
//! upgrade is refused), opening 100 subscriptions on a socket (past 25 it closes), flooding
//! messages (past 20 a second it closes 4429), sending a 1 MiB message (1009), and never
//! sending `connection_init` (closed after the init timeout, shortened to 2 s here).
//!
//! Prints the bystander's latencies in both phases and their ratio, the process's resident
//! memory, the most sockets open at once, and how the attackers' sockets ended. Exits non-zero
//! if a limit did not hold (more sockets open than the limits allow, a flood or an oversized
//! message not closed).

mod common;

use std::{
    collections::BTreeMap,
    net::{IpAddr, SocketAddr},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use api::{AppState, Config, config::Secret, db};
use chrono::Utc;
use common::{BenchDb, CENTER, Station, peak_rss_mib};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const QUIET_SECS: u64 = 5;
const ATTACK_SECS: u64 = 10;
const ATTACKERS: usize = 300;
const PROTOCOL: &str = "graphql-transport-ws";
const SHIFT_UPDATED: &str =
    "subscription($s: ID!) { shiftUpdated(shiftId: $s) { confirmedCount } }";

type Socket = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

fn runtime(name: &str) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .thread_stack_size(8 * 1024 * 1024)
        .enable_all()
        .build()
        .expect("runtime")
}

/// The server and the clients run on runtimes of their own (two worker threads each, as the
/// `tongxing` binary on a 2-core machine): the attackers' tasks compete with the server for
/// the cores, as another process would, but do not queue in front of its tasks.
fn main() {
    let server_rt = runtime("server");
    let client_rt = runtime("clients");
    let setup = server_rt.block_on(setup());
    let app = api::app(setup.state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let listener = setup.listener.take_listener();
    server_rt.spawn(axum::serve(listener, app).into_future());
    let code = client_rt.block_on(run(&setup));
    server_rt.block_on(setup.bench_db.drop_database());
    std::process::exit(code);
}

/// Resident memory now (Linux `VmRSS`), in MiB.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A WebSocket from `from` to the server, or the HTTP status that refused the upgrade.
async fn connect(server: SocketAddr, from: IpAddr) -> Result<Socket, u16> {
    let socket = tokio::net::TcpSocket::new_v4().map_err(|_| 0u16)?;
    socket.bind(SocketAddr::new(from, 0)).map_err(|_| 0u16)?;
    let stream = socket.connect(server).await.map_err(|_| 0u16)?;
    let mut req = format!("ws://{server}/graphql/ws")
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("sec-websocket-protocol", PROTOCOL.parse().expect("header"));
    match tokio_tungstenite::client_async(req, stream).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(_) => Err(0),
    }
}

async fn send(ws: &mut Socket, v: Value) -> bool {
    ws.send(Message::Text(v.to_string().into())).await.is_ok()
}

/// Send `connection_init` (with `token`, if any) and wait for the ack.
async fn init(ws: &mut Socket, token: Option<&str>) -> bool {
    let payload = token.map_or(
        json!({}),
        |t| json!({ "Authorization": format!("Bearer {t}") }),
    );
    if !send(ws, json!({ "type": "connection_init", "payload": payload })).await {
        return false;
    }
    matches!(next(ws).await, Some(v) if v["type"] == "connection_ack")
}

/// The next protocol message; `None` when the socket closed (see [`close_code`]).
async fn next(ws: &mut Socket) -> Option<Value> {
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => {
                let v: Value = serde_json::from_str(&t).ok()?;
                if v["type"] == "ping" {
                    send(ws, json!({ "type": "pong" })).await;
                    continue;
                }
                return Some(v);
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}

/// Read until the server closes; its close code (0 when the connection just broke).
async fn close_code(ws: &mut Socket, within: Duration) -> u16 {
    let read = async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(frame))) => return frame.map_or(0, |f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return 0,
            }
        }
    };
    tokio::time::timeout(within, read).await.unwrap_or(1)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Phase {
    http: Vec<Duration>,
    updates: Vec<Duration>,
    rss_max: f64,
}

/// Measure the bystander for `secs`: HTTP reads from 127.0.0.2 and, for each sign-up, the
/// time until the 127.0.0.3 phone's subscription shows it.
async fn bystander(
    url: &str,
    phone: &mut Socket,
    shift: &str,
    signers: &mut std::vec::IntoIter<String>,
    confirmed: &mut i64,
    secs: u64,
) -> Phase {
    let client = reqwest::Client::builder()
        .local_address("127.0.0.2".parse::<IpAddr>().ok())
        .build()
        .expect("client");
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (client, url, shift, stop) = (
            client.clone(),
            url.to_owned(),
            shift.to_owned(),
            stop.clone(),
        );
        tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let ok = client
                    .post(&url)
                    .json(&json!({ "query": "query($s: ID!) { shift(id: $s) { remainingSlots confirmedCount } }", "variables": { "s": shift } }))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    lat.push(t.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            lat
        })
    };
    let rss = {
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut max: f64 = 0.0;
            while !stop.load(Ordering::Relaxed) {
                max = max.max(rss_mib());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            max
        })
    };
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut updates = Vec::new();
    while Instant::now() < deadline {
        let Some(token) = signers.next() else { break };
        let t = Instant::now();
        client
            .post(url)
            .bearer_auth(&token)
            .json(&json!({ "query": "mutation($s: ID!, $k: String!) { signUpForShift(shiftId: $s, idempotencyKey: $k) { status } }", "variables": { "s": shift, "k": format!("by-{confirmed}") } }))
            .send()
            .await
            .expect("sign up");
        *confirmed += 1;
        let seen = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(v) = next(phone).await {
                if v["payload"]["data"]["shiftUpdated"]["confirmedCount"].as_i64()
                    == Some(*confirmed)
                {
                    return true;
                }
            }
            false
        })
        .await;
        if matches!(seen, Ok(true)) {
            updates.push(t.elapsed());
        } else {
            eprintln!("update {confirmed} did not reach the bystander's phone");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut http = reader.await.expect("reader");
    http.sort();
    updates.sort();
    Phase {
        http,
        updates,
        rss_max: rss.await.expect("rss"),
    }
}

#[derive(Default)]
struct Tally {
    attempts: AtomicUsize,
    subscriptions_refused: AtomicUsize,
    refused: Mutex<BTreeMap<u16, usize>>,
    closed: Mutex<BTreeMap<(&'static str, u16), usize>>,
}

impl Tally {
    fn refused(&self, status: u16) {
        *self
            .refused
            .lock()
            .expect("lock")
            .entry(status)
            .or_default() += 1;
    }
    fn closed(&self, what: &'static str, code: u16) {
        *self
            .closed
            .lock()
            .expect("lock")
            .entry((what, code))
            .or_default() += 1;
    }
}

/// One attacker: until `stop`, connect from 127.0.0.1 and misbehave in its own way.
async fn attacker(
    i: usize,
    server: SocketAddr,
    shift: String,
    token: String,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) {
    let local: IpAddr = "127.0.0.1".parse().expect("ip");
    while !stop.load(Ordering::Relaxed) {
        tally.attempts.fetch_add(1, Ordering::Relaxed);
        let mut ws = match connect(server, local).await {
            Ok(ws) => ws,
            Err(status) => {
                tally.refused(status);
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        match i % 4 {
            // Many subscriptions on one socket.
            0 => {
                if !init(&mut ws, Some(&token)).await {
                    tally.closed(
                        "init refused (per-account limit)",
                        close_code(&mut ws, Duration::from_secs(1)).await,
                    );
                    continue;
                }
                for n in 0..100 {
                    let sub = json!({ "id": format!("s{n}"), "type": "subscribe", "payload": { "query": SHIFT_UPDATED, "variables": { "s": shift } } });
                    if !send(&mut ws, sub).await {
                        break;
                    }
                    // Slow enough not to trip the message rate: this tests the subscription cap.
                    tokio::time::sleep(Duration::from_millis(60)).await;
                }
                // Past the cap each one is answered with an error; the socket stays.
                let mut n = 0;
                let _ = tokio::time::timeout(Duration::from_secs(2), async {
                    while let Some(v) = next(&mut ws).await {
                        // graphql-transport-ws sends a list of errors.
                        if v["type"] == "error"
                            && v["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
                        {
                            n += 1;
                        }
                    }
                })
                .await;
                tally.subscriptions_refused.fetch_add(n, Ordering::Relaxed);
                tally.closed("100 subscriptions, then hang up", 0);
            }
            // A flood of messages.
            1 => {
                init(&mut ws, None).await;
                for _ in 0..2_000 {
                    if !send(&mut ws, json!({ "type": "ping" })).await {
                        break;
                    }
                }
                tally.closed(
                    "message flood",
                    close_code(&mut ws, Duration::from_secs(5)).await,
                );
            }
            // One message far over the size limit.
            2 => {
                init(&mut ws, None).await;
                let big = "x".repeat(1024 * 1024);
                let _ = ws.send(Message::Text(big.into())).await;
                tally.closed(
                    "1 MiB message",
                    close_code(&mut ws, Duration::from_secs(5)).await,
                );
            }
            // Never says who it is.
            _ => {
                tally.closed(
                    "no connection_init",
                    close_code(&mut ws, Duration::from_secs(5)).await,
                );
            }
        }
    }
}

struct Setup {
    bench_db: BenchDb,
    state: AppState,
    listener: Listener,
    server: SocketAddr,
    backend: &'static str,
    per_address: usize,
    shift_id: String,
    phone_token: String,
    attacker_tokens: Vec<String>,
    signers: Vec<String>,
}

/// The bound listener, handed to the server once.
struct Listener(Mutex<Option<tokio::net::TcpListener>>);

impl Listener {
    fn take_listener(&self) -> tokio::net::TcpListener {
        self.0.lock().expect("lock").take().expect("listener")
    }
}

async fn setup() -> Setup {
    let bench_db = BenchDb::create(std::env::var("BENCH_DATABASE_URL").ok()).await;
    let url = bench_db.url.clone();
    let mut config = Config::for_data_dir(bench_db.dir.path());
    config.database_url = Some(url.clone());
    config.jwt_secret = Some(Secret::new("bench-secret-bench-secret-bench-secret!!"));
    config.requests_per_address = u32::MAX / 2;
    config.requests_per_account = u32::MAX / 2;
    config.ws_init_timeout_secs = 2;
    let per_address = config.ws_connections_per_address as usize;
    let conn = db::connect(&url, config.pool_size())
        .await
        .expect("connect");
    db::migrate(&conn).await.expect("migrate");
    let state = AppState::new(conn, config).expect("state");

    let station = Station::create(&state).await;
    let starts = Utc::now() + chrono::Duration::days(1);
    let event = station
        .event(&state, "助老", CENTER, starts, 4, false)
        .await;
    let shift = station
        .shift(
            &state,
            event.id,
            (starts, starts + chrono::Duration::hours(2)),
            10_000,
            false,
        )
        .await;
    let shift_id = api::ids::encode(api::ids::NodeType::Shift, shift.id).0;
    let people = common::volunteers(&state, 400).await;
    let mut tokens = people.into_iter().map(|(_, t)| t);
    let phone_token = tokens.next().expect("a token");
    let attacker_tokens: Vec<String> = tokens.by_ref().take(ATTACKERS / 4 + 1).collect();
    let signers: Vec<String> = tokens.collect();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let server = listener.local_addr().expect("addr");
    Setup {
        backend: bench_db.backend(),
        bench_db,
        state,
        listener: Listener(Mutex::new(Some(listener))),
        server,
        per_address,
        shift_id,
        phone_token,
        attacker_tokens,
        signers,
    }
}

async fn run(setup: &Setup) -> i32 {
    let Setup {
        state,
        server,
        backend,
        per_address,
        shift_id,
        phone_token,
        attacker_tokens,
        ..
    } = setup;
    let (server, backend, per_address) = (*server, *backend, *per_address);
    let mut signers = setup.signers.clone().into_iter();
    let http_url = format!("http://{server}/graphql");

    let mut phone = connect(server, "127.0.0.3".parse().expect("ip"))
        .await
        .expect("the bystander's phone connects");
    assert!(init(&mut phone, Some(phone_token)).await, "bystander init");
    send(&mut phone, json!({ "id": "1", "type": "subscribe", "payload": { "query": SHIFT_UPDATED, "variables": { "s": shift_id } } })).await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut confirmed = 0;
    let rss_before = rss_mib();
    let quiet = bystander(
        &http_url,
        &mut phone,
        shift_id,
        &mut signers,
        &mut confirmed,
        QUIET_SECS,
    )
    .await;

    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let most_open = Arc::new(AtomicUsize::new(0));
    let most_subscriptions = Arc::new(AtomicUsize::new(0));
    let sampler = {
        let (state, stop, most_open, most_subscriptions) = (
            state.clone(),
            stop.clone(),
            most_open.clone(),
            most_subscriptions.clone(),
        );
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (sockets, subscriptions) = state.live.open_counts();
                most_open.fetch_max(sockets, Ordering::Relaxed);
                most_subscriptions.fetch_max(subscriptions, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let attackers: Vec<_> = (0..ATTACKERS)
        .map(|i| {
            tokio::spawn(attacker(
                i,
                server,
                shift_id.clone(),
                attacker_tokens[i / 4 % attacker_tokens.len()].clone(),
                tally.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let attack = bystander(
        &http_url,
        &mut phone,
        shift_id,
        &mut signers,
        &mut confirmed,
        ATTACK_SECS,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        let _ = tokio::time::timeout(Duration::from_secs(10), a).await;
    }
    sampler.await.expect("sampler");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_after = rss_mib();

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("ws_limits on {backend}: {ATTACKERS} attackers at one address for {ATTACK_SECS} s");
    println!(
        "{:<28}{:>10}{:>10}{:>10}",
        "bystander", "quiet", "attack", "ratio"
    );
    for (label, q, a) in [
        (
            "HTTP read p50 (ms)",
            percentile(&quiet.http, 0.5),
            percentile(&attack.http, 0.5),
        ),
        (
            "HTTP read p99 (ms)",
            percentile(&quiet.http, 0.99),
            percentile(&attack.http, 0.99),
        ),
        (
            "live update p50 (ms)",
            percentile(&quiet.updates, 0.5),
            percentile(&attack.updates, 0.5),
        ),
        (
            "live update p99 (ms)",
            percentile(&quiet.updates, 0.99),
            percentile(&attack.updates, 0.99),
        ),
    ] {
        println!(
            "{label:<28}{:>10.1}{:>10.1}{:>10.2}",
            ms(q),
            ms(a),
            ms(a) / ms(q).max(0.001)
        );
    }
    println!(
        "{:<28}{:>10}{:>10}",
        "reads / updates seen",
        format!("{}/{}", quiet.http.len(), quiet.updates.len()),
        format!("{}/{}", attack.http.len(), attack.updates.len())
    );
    println!(
        "resident memory (MiB, client and server): before {rss_before:.0}, quiet max {:.0}, attack max {:.0}, after {rss_after:.0}; peak {:.0}",
        quiet.rss_max,
        attack.rss_max,
        peak_rss_mib().unwrap_or(0.0)
    );
    let most = most_open.load(Ordering::Relaxed);
    println!(
        "connection attempts {}, most sockets open at once {most} (limit {per_address} per address + the bystander's phone)",
        tally.attempts.load(Ordering::Relaxed)
    );
    let most_subscriptions = most_subscriptions.load(Ordering::Relaxed);
    println!(
        "most subscriptions active at once {most_subscriptions} (limit 25 per socket); subscriptions refused past the cap {}",
        tally.subscriptions_refused.load(Ordering::Relaxed)
    );
    println!(
        "upgrades refused by status: {:?}",
        tally.refused.lock().expect("lock")
    );
    println!("attackers' sockets closed by (behaviour, code):");
    let closed = tally.closed.lock().expect("lock").clone();
    for ((what, code), n) in &closed {
        println!("  {what:<34} {code:>5}  x{n}");
    }
    let mut failed = Vec::new();
    if most > per_address + 1 {
        failed.push(format!(
            "{most} sockets open at once, past {per_address} + 1"
        ));
    }
    if most_subscriptions > 25 * (per_address + 1) {
        failed.push(format!(
            "{most_subscriptions} subscriptions at once, past 25 per socket"
        ));
    }
    // A flooding client is still writing when the server closes, so its socket may be reset
    // (0) before it reads the close frame; either way the server ended it.
    let ended_with = |what: &str, codes: &[u16]| {
        closed
            .iter()
            .filter(|((w, _), _)| *w == what)
            .all(|((_, c), _)| codes.contains(c))
    };
    for (what, codes) in [
        ("message flood", &[4429, 0][..]),
        ("1 MiB message", &[1009, 0][..]),
        ("no connection_init", &[4408][..]),
    ] {
        if !ended_with(what, codes) {
            failed.push(format!("{what}: not every socket closed with {codes:?}"));
        }
    }
    if attack.updates.is_empty() || attack.http.is_empty() {
        failed.push("the bystander got nothing through during the attack".to_owned());
    }
    if failed.is_empty() {
        0
    } else {
        eprintln!("limits did not hold: {failed:?}");
        1
    }
}
