//! A campaign launch on several replicas over one database, over HTTP on loopback.
//!
//! ```sh
//! cargo bench --bench launch                      # 2 replicas on the local PostgreSQL
//! BENCH_DATABASE_URL=postgres://user@host:5432/postgres cargo bench --bench launch
//! BENCH_DATABASE_URL= cargo bench --bench launch  # 2 replicas on one SQLite file
//! ```
//!
//! Volunteers join evenly from idle to `LAUNCH_PEAK` (400) over `LAUNCH_RAMP_SECS` (15), stay
//! at the peak for `LAUNCH_HOLD_SECS` (30), each with a think time of 0–`LAUNCH_THINK_MS` (200)
//! ms between requests: browse the home feed, sign up for one of `LAUNCH_HOT_SHIFTS` (5) hot
//! shifts of `LAUNCH_HOT_CAPACITY` (1,000) places, and one in two also signs up for a shift
//! running today and checks in there by location. Volunteer `i` goes to replica
//! `i % BENCH_REPLICAS` (2), each replica with its own pool of `BENCH_POOL` (16) connections,
//! as behind a load balancer. Prints throughput, p50/p99 by kind and phase, a timeline and
//! errors by code; then checks the database (no shift over capacity, every confirmed sign-up
//! and accepted check-in there) and that the replicas' `/metrics` counted every request.
//! Exits non-zero when a check fails. The client, the replicas and the database share this
//! host; the CPU time each side used during the run is printed too (this process — replicas
//! and client together — and PostgreSQL's processes when it runs here), per request and per
//! sign-up, which is what the capacity note in `deploy/README.md` scales from.
//!
//! With `LAUNCH_NOTIFICATIONS=1` (the default) every replica also runs the notification worker
//! (issue 19), every volunteer has a linked mini-program user with consents for the sign-up
//! messages and no quiet hours, and a local fake WeChat API takes the messages: each sign-up's
//! notification is planned and sent while the launch runs. After the burst the run waits for
//! the outbox to drain (nothing unplanned, nothing pending) and prints how long that took; more
//! than a minute fails the run. `LAUNCH_NOTIFICATIONS=0` runs the same launch with no worker,
//! for the throughput comparison.

#[path = "../common/mod.rs"]
mod common;
mod scenario;

use std::time::Duration;

use api::{AppState, Config, config::Secret, db};
use common::{BenchDb, peak_rss_mib};
use scenario::Plan;

// The allocator the `tongxing` binary uses, so the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The local PostgreSQL the project's tests use.
const DEFAULT_DATABASE: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds (user + system) used so far by this process and by the `postgres` processes on
/// this host, from `/proc` (Linux; zeros elsewhere).
fn cpu_seconds() -> (f64, f64) {
    // utime and stime, in clock ticks (USER_HZ, 100 on Linux), fields 14 and 15 of `stat`.
    fn read(pid: &str) -> Option<(String, f64)> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (head, rest) = stat.rsplit_once(')')?;
        let comm = head.split_once('(')?.1.to_owned();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        Some((comm, ticks / 100.0))
    }
    let own = read("self").map_or(0.0, |(_, s)| s);
    let pg = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| read(e.file_name().to_str()?))
        .filter(|(comm, _)| comm == "postgres")
        .map(|(_, s)| s)
        .sum();
    (own, pg)
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    std::process::exit(rt.block_on(run()));
}

async fn run() -> i32 {
    let plan = Plan {
        peak_clients: env_or("LAUNCH_PEAK", 400),
        ramp: Duration::from_secs(env_or("LAUNCH_RAMP_SECS", 15)),
        hold: Duration::from_secs(env_or("LAUNCH_HOLD_SECS", 30)),
        hot_shifts: env_or("LAUNCH_HOT_SHIFTS", 5),
        hot_capacity: env_or("LAUNCH_HOT_CAPACITY", 1_000),
        volunteers: env_or("LAUNCH_VOLUNTEERS", 30_000),
        feed_events: 100,
        think_max: Duration::from_millis(env_or("LAUNCH_THINK_MS", 200)),
    };
    let replicas: usize = env_or("BENCH_REPLICAS", 2usize).max(1);
    let database = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE.into());
    let bench_db = BenchDb::create(Some(database)).await;
    let label = format!("{}, {replicas} replicas", bench_db.backend());

    let mut config = Config::for_data_dir(bench_db.dir.path());
    config.database_url = Some(bench_db.url.clone());
    config.jwt_secret = Some(Secret::new("bench-secret-bench-secret-bench-secret!!"));
    config.db_max_connections = Some(env_or("BENCH_POOL", 16));
    // The load generator is one address (loopback): do not throttle it.
    config.requests_per_address = u32::MAX / 2;
    config.requests_per_account = u32::MAX / 2;

    let notify = env_or("LAUNCH_NOTIFICATIONS", 1u8) == 1;
    let wechat = if notify {
        let w = fake_wechat().await;
        config.wechat_appid = Some("wx-bench".into());
        config.wechat_secret = Some(Secret::new("bench"));
        config.wechat_endpoint = w.0.clone();
        config.wechat_templates =
            Some("SIGNED_UP=tmpl-signed-up,WAITLISTED=tmpl-waitlisted".into());
        Some(w)
    } else {
        None
    };
    let label = format!(
        "{label}, notifications {}",
        if notify { "on" } else { "off" }
    );

    let mut states: Vec<AppState> = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..replicas {
        let conn = db::connect(&bench_db.url, config.pool_size())
            .await
            .expect("connect");
        db::migrate(&conn).await.expect("migrate");
        let state = AppState::new(conn, config.clone()).expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        bases.push(format!("http://{}", listener.local_addr().expect("addr")));
        tokio::spawn(
            axum::serve(
                listener,
                api::app(state.clone())
                    .into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .into_future(),
        );
        states.push(state);
    }

    let launch = scenario::prepare(&states[0], &plan).await;
    if notify {
        subscribe_everyone(&states[0]).await;
        for s in &states {
            api::notifications::worker::spawn(s.clone());
        }
    }
    let urls: Vec<String> = bases.iter().map(|b| format!("{b}/graphql")).collect();
    let cpu_before = cpu_seconds();
    let outcome = scenario::drive(&urls, &launch, &plan).await;
    let cpu_after = cpu_seconds();
    print!("{}", outcome.report(&plan, &label));
    let requests = outcome.samples.len().max(1) as f64;
    let sign_ups = (outcome.confirmed.len() + outcome.waitlisted.len()).max(1) as f64;
    let own = cpu_after.0 - cpu_before.0;
    let pg = cpu_after.1 - cpu_before.1;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "  CPU during the run ({cores} cores × {:.1} s): replicas + client {own:.1} s = {:.2} ms/request, {:.2} ms/sign-up; PostgreSQL {pg:.1} s = {:.2} ms/request, {:.2} ms/sign-up{}",
        outcome.elapsed.as_secs_f64(),
        own * 1000.0 / requests,
        own * 1000.0 / sign_ups,
        pg * 1000.0 / requests,
        pg * 1000.0 / sign_ups,
        if pg == 0.0 { " (not on this host)" } else { "" }
    );

    let mut failed = false;
    match scenario::verify(&states[0].db, &launch, &outcome).await {
        Ok(v) => println!(
            "  verified: no shift over capacity, every counter equal to its rows (hot shifts hold {:?} of {} places); all {} confirmed sign-ups held; {} sign-up rows for {} answers; {} check-ins stored for {} accepted",
            v.hot_confirmed,
            plan.hot_capacity,
            outcome.confirmed.len(),
            v.signup_rows,
            outcome.confirmed.len() + outcome.waitlisted.len(),
            v.check_ins,
            outcome.checked_in.len()
        ),
        Err(e) => {
            println!("  VERIFICATION FAILED: {e}");
            failed = true;
        }
    }
    if let Some((_, sent)) = &wechat {
        let burst_over = std::time::Instant::now();
        let drained = loop {
            let left = outbox_left(&states[0]).await;
            if left == 0 {
                break Some(burst_over.elapsed());
            }
            if burst_over.elapsed() > Duration::from_secs(120) {
                println!("  OUTBOX NOT DRAINED after 120 s: {left} left");
                break None;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let messages = sent.load(std::sync::atomic::Ordering::SeqCst);
        match drained {
            Some(d) => println!(
                "  notifications: outbox drained {:.1} s after the burst; {messages} mini-program messages sent",
                d.as_secs_f64()
            ),
            None => failed = true,
        }
        if drained.is_some_and(|d| d > Duration::from_secs(60)) {
            println!("  OUTBOX TOOK OVER A MINUTE TO DRAIN");
            failed = true;
        }
    }
    let counted = scenario::counted_requests(&bases).await;
    let sent = outcome.per_replica(replicas);
    println!("  per replica: answered {sent:?}, /metrics counted {counted:?}");
    if sent.iter().zip(&counted).any(|(s, c)| *s as f64 != *c) {
        println!("  METRICS DISAGREE with the requests sent");
        failed = true;
    }
    if let Some(mib) = peak_rss_mib() {
        println!("  peak RSS: {mib:.0} MiB (all replicas and the client in this process)");
    }

    for s in &states {
        s.live.begin_shutdown();
        s.db.clone().close().await.ok();
    }
    bench_db.drop_database().await;
    i32::from(failed)
}

/// A local stand-in for the WeChat API: hands out a token and accepts every subscribe
/// message, counting them. Returns its address and the count.
async fn fake_wechat() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::{Json, Router, routing::post};
    use std::sync::{Arc, atomic::AtomicUsize};
    let sent = Arc::new(AtomicUsize::new(0));
    let counted = sent.clone();
    let app = Router::new()
        .route(
            "/cgi-bin/stable_token",
            post(|| async {
                Json(serde_json::json!({ "access_token": "bench-token", "expires_in": 7200 }))
            }),
        )
        .route(
            "/cgi-bin/message/subscribe/send",
            post(move || {
                let counted = counted.clone();
                async move {
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    Json(serde_json::json!({ "errcode": 0, "errmsg": "ok" }))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(axum::serve(listener, app).into_future());
    (url, sent)
}

/// Every account gets a linked mini-program user, consents for the sign-up messages and no
/// quiet hours (the run may fall in the night).
async fn subscribe_everyone(state: &AppState) {
    use sea_orm::ConnectionTrait;
    for sql in [
        "INSERT INTO wechat_link (account_id, openid, linked_at) \
         SELECT id, 'bench-' || id, created_at FROM account",
        "INSERT INTO wechat_consent (account_id, template_id, remaining, updated_at) \
         SELECT id, 'tmpl-signed-up', 5, created_at FROM account",
        "INSERT INTO wechat_consent (account_id, template_id, remaining, updated_at) \
         SELECT id, 'tmpl-waitlisted', 5, created_at FROM account",
        "INSERT INTO notification_setting \
         (account_id, quiet_from_minute, quiet_until_minute, unsubscribed, updated_at) \
         SELECT id, NULL, NULL, FALSE, created_at FROM account",
    ] {
        state.db.execute_unprepared(sql).await.expect("subscribe");
    }
}

/// Notifications not yet planned plus deliveries not yet done.
async fn outbox_left(state: &AppState) -> u64 {
    use entity::{notification, notification_delivery as delivery};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let unplanned = notification::Entity::find()
        .filter(notification::Column::PlannedAt.is_null())
        .count(&state.db)
        .await
        .unwrap_or(u64::MAX / 2);
    let pending = delivery::Entity::find()
        .filter(delivery::Column::Status.eq(delivery::DeliveryStatus::Pending))
        .count(&state.db)
        .await
        .unwrap_or(u64::MAX / 2);
    unplanned + pending
}
