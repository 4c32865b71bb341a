//! Sign-up rush and browse benchmark, over HTTP against the real router on loopback.
//!
//! ```sh
//! cargo bench --bench signups                                    # SQLite (temp file)
//! BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench --bench signups
//! ```
//!
//! Phase 1: 100 concurrent clients sign 4,000 volunteers up for one hot shift (1,000 places,
//! the rest waitlisted); prints sign-ups per second and checks nobody went over capacity.
//! Phase 2: 32 concurrent clients browse the volunteer home feed — `shifts(first: 50, filter:
//! {hasOpenSlots: true, near})` with each shift's event and organization — for 10 s; prints
//! requests per second, p50 and p99. Client and server share this host, as in production
//! load tests on one machine.
//!
//! To load the same server with `wrk` instead of the in-process client (less client CPU on the
//! same cores): `BENCH_LISTEN=127.0.0.1:8089 BENCH_HOLD_SECS=60 cargo bench --bench signups`
//! and, once it says "serving", `wrk -t2 -c32 -d20s --latency -s benches/feed.lua
//! http://127.0.0.1:8089/graphql`. `BENCH_POOL=N` sets the pool size (default 16).

mod common;

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use api::{AppState, Config, config::Secret, db};
use chrono::Utc;
use common::{BenchDb, CENTER, FEED_QUERY, Station, peak_rss_mib};
use entity::account;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

// The allocator the `tongxing` binary uses, so the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const VOLUNTEERS: usize = 4_000;
const HOT_CAPACITY: i32 = 1_000;
const SIGNUP_CLIENTS: usize = 100;
const BROWSE_CLIENTS: usize = 32;
const BROWSE_SECONDS: u64 = 10;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let bench_db = BenchDb::create(std::env::var("BENCH_DATABASE_URL").ok()).await;
    let backend = bench_db.backend();
    let url = bench_db.url.clone();
    let mut config = Config::for_data_dir(bench_db.dir.path());
    config.database_url = Some(url.clone());
    config.jwt_secret = Some(Secret::new("bench-secret-bench-secret-bench-secret!!"));
    // The server's own default unless BENCH_POOL says otherwise.
    config.db_max_connections = std::env::var("BENCH_POOL")
        .ok()
        .and_then(|v| v.parse().ok());
    // The load generator is one address (loopback): do not throttle it.
    config.requests_per_address = u32::MAX / 2;
    config.requests_per_account = u32::MAX / 2;
    let conn = db::connect(&url, config.pool_size())
        .await
        .expect("connect");
    db::migrate(&conn).await.expect("migrate");
    let state = AppState::new(conn, config).expect("state");

    let (station, hot_shift, volunteers) = setup(&state).await;
    let listen = std::env::var("BENCH_LISTEN").unwrap_or_else(|_| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(listen.as_str())
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(
        axum::serve(
            listener,
            api::app(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .into_future(),
    );
    let url = format!("http://{addr}/graphql");
    api::sms::install_tls_provider();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");

    // Phase 1: the rush.
    let next = Arc::new(AtomicUsize::new(0));
    let volunteers: Arc<Vec<String>> = Arc::new(volunteers.into_iter().map(|(_, t)| t).collect());
    let started = Instant::now();
    let tasks: Vec<_> = (0..SIGNUP_CLIENTS)
        .map(|_| {
            let (client, url, next, volunteers, shift) = (
                client.clone(),
                url.clone(),
                next.clone(),
                volunteers.clone(),
                hot_shift.clone(),
            );
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(token) = volunteers.get(i) else { break };
                    let body: Value = client
                        .post(&url)
                        .bearer_auth(token)
                        .json(&json!({
                            "query": "mutation($s: ID!, $k: String!) { signUpForShift(shiftId: $s, idempotencyKey: $k) { status } }",
                            "variables": { "s": shift, "k": format!("bench-{i}") }
                        }))
                        .send()
                        .await
                        .expect("send")
                        .json()
                        .await
                        .expect("json");
                    statuses.push(
                        body["data"]["signUpForShift"]["status"]
                            .as_str()
                            .unwrap_or("ERROR")
                            .to_owned(),
                    );
                }
                statuses
            })
        })
        .collect();
    let mut confirmed = 0;
    let mut waitlisted = 0;
    let mut errors = 0;
    for t in tasks {
        for s in t.await.expect("task") {
            match s.as_str() {
                "CONFIRMED" => confirmed += 1,
                "WAITLISTED" => waitlisted += 1,
                _ => errors += 1,
            }
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(confirmed, HOT_CAPACITY as usize, "capacity must hold");
    assert_eq!(errors, 0, "no sign-up may fail");
    println!(
        "[{backend}] sign-up rush: {} sign-ups by {SIGNUP_CLIENTS} clients in {:.2} s = {:.0} sign-ups/s ({confirmed} confirmed, {waitlisted} waitlisted, {errors} errors)",
        VOLUNTEERS,
        elapsed.as_secs_f64(),
        VOLUNTEERS as f64 / elapsed.as_secs_f64()
    );

    // Phase 2: the home feed, as a signed-in volunteer sees it (issue 5's shape): 50 open
    // shifts near a point with event, organization, campaign, remaining places and mySignup.
    let query = json!({
        "query": FEED_QUERY,
        "variables": { "n": { "latitude": CENTER.0, "longitude": CENTER.1, "radiusMeters": 10000.0 } }
    });
    let reader = volunteers[0].clone();
    let deadline = Instant::now() + Duration::from_secs(BROWSE_SECONDS);
    let tasks: Vec<_> = (0..BROWSE_CLIENTS)
        .map(|_| {
            let (client, url, query, reader) =
                (client.clone(), url.clone(), query.clone(), reader.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let body: Value = client
                        .post(&url)
                        .bearer_auth(&reader)
                        .json(&query)
                        .send()
                        .await
                        .expect("send")
                        .json()
                        .await
                        .expect("json");
                    assert!(body.get("errors").is_none(), "{body}");
                    assert_eq!(
                        body["data"]["shifts"]["edges"].as_array().map(Vec::len),
                        Some(50)
                    );
                    latencies.push(t0.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort_unstable();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "[{backend}] home feed: {} requests by {BROWSE_CLIENTS} clients in {BROWSE_SECONDS} s = {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms",
        all.len(),
        all.len() as f64 / BROWSE_SECONDS as f64,
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0
    );
    if let Some(mib) = peak_rss_mib() {
        println!("[{backend}] peak RSS so far: {mib:.0} MiB (server and in-process client)");
    }

    // Phase 3: a burst of QR check-ins on one event, one per volunteer.
    check_in_burst(&state, &station, &client, &url, &volunteers, backend).await;

    // Phase 4: the time bank with 10,000 ledger entries — first and last page cost alike.
    time_bank_pages(&state, &client, &url, &volunteers, backend).await;

    // Optionally keep serving, for an external load tool (see benches/feed.lua).
    if let Some(secs) = std::env::var("BENCH_HOLD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        println!("[{backend}] serving {url} for {secs} s; TOKEN={reader}");
        tokio::time::sleep(Duration::from_secs(secs)).await;
        if let Some(mib) = peak_rss_mib() {
            println!("[{backend}] peak RSS: {mib:.0} MiB");
        }
    }

    state.db.clone().close().await.ok();
    bench_db.drop_database().await;
}

/// An organizer's station with 100 published events (2 open shifts each) around the center,
/// one hot shift, and `VOLUNTEERS` accounts with tokens.
async fn setup(state: &AppState) -> (Station, String, Vec<(i64, String)>) {
    let station = Station::create(state).await;
    station.feed_events(state, 100).await;
    let starts = Utc::now() + chrono::Duration::hours(24);
    let e = station
        .event(state, "社区服务热门", CENTER, starts, 6, true)
        .await;
    let hot = station
        .shift(
            state,
            e.id,
            (starts, starts + chrono::Duration::hours(2)),
            HOT_CAPACITY,
            true,
        )
        .await;
    let hot = api::ids::encode(api::ids::NodeType::Shift, hot.id).0;
    (station, hot, common::volunteers(state, VOLUNTEERS).await)
}

const CHECK_INS: usize = 2_000;
const LEDGER_ENTRIES: usize = 10_000;

/// Sign `CHECK_INS` volunteers up for a shift that starts in ten minutes (check-in open), then
/// let 100 clients check them all in with the kiosk's current QR code.
async fn check_in_burst(
    state: &AppState,
    station: &Station,
    client: &reqwest::Client,
    url: &str,
    tokens: &[String],
    backend: &str,
) {
    let db = &state.db;
    let now = Utc::now();
    let e = station
        .event(state, "签到压测", CENTER, now, 4, false)
        .await;
    let s = station
        .shift(
            state,
            e.id,
            (
                now + chrono::Duration::minutes(10),
                now + chrono::Duration::hours(2),
            ),
            CHECK_INS as i32,
            false,
        )
        .await;
    let ids: Vec<i64> = account::Entity::find()
        .filter(account::Column::Phone.starts_with("137"))
        .order_by_asc(account::Column::Id)
        .all(db)
        .await
        .expect("query")
        .into_iter()
        .map(|a| a.id)
        .take(CHECK_INS)
        .collect();
    for id in &ids {
        let v = account::Entity::find_by_id(*id)
            .one(db)
            .await
            .expect("q")
            .expect("row");
        api::signups::service::sign_up(db, &v, s.id, &format!("ci-{id}"))
            .await
            .expect("sign-up");
    }
    let shift_id = api::ids::encode(api::ids::NodeType::Shift, s.id).0;
    let code = state.checkin_codes.issue(s.id, Utc::now()).qr_payload;
    let next = Arc::new(AtomicUsize::new(0));
    let tokens: Arc<Vec<String>> = Arc::new(tokens[..CHECK_INS].to_vec());
    let started = Instant::now();
    let tasks: Vec<_> = (0..SIGNUP_CLIENTS)
        .map(|_| {
            let (client, url, next, tokens, shift_id, code) = (
                client.clone(),
                url.to_owned(),
                next.clone(),
                tokens.clone(),
                shift_id.clone(),
                code.clone(),
            );
            tokio::spawn(async move {
                let mut ok = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(token) = tokens.get(i) else { break };
                    let body: Value = client
                        .post(&url)
                        .bearer_auth(token)
                        .json(&json!({
                            "query": "mutation($i: CheckInput!) { checkIn(input: $i) { duplicate } }",
                            "variables": { "i": { "shiftId": shift_id, "method": "QR", "code": code, "clientEventId": format!("bench-{i}") } }
                        }))
                        .send()
                        .await
                        .expect("send")
                        .json()
                        .await
                        .expect("json");
                    if body["data"]["checkIn"]["duplicate"] == false {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        ok += t.await.expect("task");
    }
    let elapsed = started.elapsed();
    assert_eq!(ok, CHECK_INS, "every check-in must be accepted");
    println!(
        "[{backend}] check-in burst: {CHECK_INS} QR check-ins by {SIGNUP_CLIENTS} clients in {:.2} s = {:.0} check-ins/s",
        elapsed.as_secs_f64(),
        CHECK_INS as f64 / elapsed.as_secs_f64()
    );
}

/// Give one volunteer `LEDGER_ENTRIES` entries, then time reading the first and the last page
/// of `me.timeBank.entries`.
async fn time_bank_pages(
    state: &AppState,
    client: &reqwest::Client,
    url: &str,
    tokens: &[String],
    backend: &str,
) {
    use api::timebank::service::{self as tb, Owner, TransferSpec};
    use sea_orm::TransactionTrait;
    let db = &state.db;
    let v = account::Entity::find()
        .filter(account::Column::Phone.starts_with("137"))
        .order_by_asc(account::Column::Id)
        .one(db)
        .await
        .expect("query")
        .expect("volunteer");
    let org = tb::account_of(db, Owner::Organization(1))
        .await
        .expect("org account");
    let me = tb::account_of(db, Owner::Person(v.id))
        .await
        .expect("account");
    for chunk in 0..(LEDGER_ENTRIES / 100) {
        let txn = db.begin().await.expect("begin");
        for i in 0..100 {
            tb::post(
                &txn,
                &TransferSpec {
                    from: org.id,
                    to: me.id,
                    amount: 1,
                    kind: entity::timebank_transfer::TransferKind::Service,
                    memo: format!("{chunk}-{i}"),
                    service_record_id: None,
                    by: v.id,
                },
            )
            .await
            .expect("transfer");
        }
        txn.commit().await.expect("commit");
    }
    // The token of the same volunteer: tokens are in phone order, as are the accounts.
    let token = &tokens[0];
    let page = |after: Option<String>| {
        json!({
            "query": "query($a: String) { me { timeBank { balance entries(first: 20, after: $a) { edges { cursor node { amount } } pageInfo { hasNextPage endCursor } } } } }",
            "variables": { "a": after }
        })
    };
    // The cursor before the last 20 entries of this account: the last page.
    let ids: Vec<i64> = entity::timebank_entry::Entity::find()
        .filter(entity::timebank_entry::Column::AccountId.eq(me.id))
        .all(db)
        .await
        .expect("entries")
        .into_iter()
        .map(|e| e.id)
        .collect();
    let last_cursor = api::ids::encode_cursor(ids[ids.len() - 21]);
    let mut timings = Vec::new();
    for after in [None, Some(last_cursor)] {
        let mut samples = Vec::new();
        for _ in 0..200 {
            let t0 = Instant::now();
            let body: Value = client
                .post(url)
                .bearer_auth(token)
                .json(&page(after.clone()))
                .send()
                .await
                .expect("send")
                .json()
                .await
                .expect("json");
            assert!(body.get("errors").is_none(), "{body}");
            samples.push(t0.elapsed());
        }
        samples.sort_unstable();
        timings.push(samples[samples.len() / 2]);
    }
    println!(
        "[{backend}] time bank with {LEDGER_ENTRIES} entries: first page p50 {:.2} ms, last page p50 {:.2} ms",
        timings[0].as_secs_f64() * 1000.0,
        timings[1].as_secs_f64() * 1000.0
    );
}
