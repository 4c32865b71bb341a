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
//! http://127.0.0.1:8089/graphql`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use api::{
    AppState, Config,
    accounts::{
        domain::{DisplayName, Password, Phone},
        service as accounts,
    },
    config::Secret,
    db,
    events::service::{self as events, EventCategory, NewEvent},
    geo::GeoPoint,
    organizations::{
        domain::{MemberRole, OrganizationKind},
        service::{self as orgs, NewOrganization},
    },
    shifts::service::{self as shifts, ShiftSpec},
};
use chrono::Utc;
use entity::account;
use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};

// The allocator the `tongxing` binary uses, so the figures are the server's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const VOLUNTEERS: usize = 4_000;
const HOT_CAPACITY: i32 = 1_000;
const SIGNUP_CLIENTS: usize = 100;
const BROWSE_CLIENTS: usize = 32;
const BROWSE_SECONDS: u64 = 10;
const CENTER: (f64, f64) = (31.3800, 120.9800);

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn database() -> (String, Option<(String, String)>, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    match std::env::var("BENCH_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("tongxing_bench_{}", uuid::Uuid::new_v4().simple());
            let conn = Database::connect(admin.as_str()).await.expect("connect");
            conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create database");
            let (scheme, rest) = admin.split_once("://").expect("url");
            let authority = rest.split('/').next().unwrap_or(rest);
            (
                format!("{scheme}://{authority}/{name}"),
                Some((admin, name)),
                dir,
            )
        }
        _ => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("bench.db").display()
            ),
            None,
            dir,
        ),
    }
}

async fn run() {
    let (url, pg, dir) = database().await;
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let mut config = Config::for_data_dir(dir.path());
    config.database_url = Some(url.clone());
    config.jwt_secret = Some(Secret::new("bench-secret-bench-secret-bench-secret!!"));
    config.db_max_connections = 16;
    let conn = db::connect(&url, config.db_max_connections)
        .await
        .expect("connect");
    db::migrate(&conn).await.expect("migrate");
    let state = AppState::new(conn, config).expect("state");

    let (hot_shift, volunteers) = setup(&state).await;
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
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .expect("client");

    // Phase 1: the rush.
    let next = Arc::new(AtomicUsize::new(0));
    let volunteers = Arc::new(volunteers);
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

    // Phase 2: the home feed.
    let query = json!({
        "query": "query($n: NearInput!) { shifts(first: 50, filter: {hasOpenSlots: true, near: $n}) { edges { node { id title startsAt remainingSlots event { title address organization { name } } } } } }",
        "variables": { "n": { "latitude": CENTER.0, "longitude": CENTER.1, "radiusMeters": 10000.0 } }
    });
    let deadline = Instant::now() + Duration::from_secs(BROWSE_SECONDS);
    let tasks: Vec<_> = (0..BROWSE_CLIENTS)
        .map(|_| {
            let (client, url, query) = (client.clone(), url.clone(), query.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let body: Value = client
                        .post(&url)
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

    // Optionally keep serving, for an external load tool (see benches/feed.lua).
    if let Some(secs) = std::env::var("BENCH_HOLD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        println!("[{backend}] serving {url} for {secs} s");
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }

    if let Some((admin, name)) = pg {
        state.db.clone().close().await.ok();
        if let Ok(conn) = Database::connect(admin.as_str()).await {
            let _ = conn
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
        }
    }
}

/// An organizer's station with 100 published events (2 open shifts each) around the center,
/// one hot shift, and `VOLUNTEERS` accounts with tokens.
async fn setup(state: &AppState) -> (String, Vec<String>) {
    let db = &state.db;
    let pw = || Password::parse("bench-password", "p").expect("password");
    accounts::create_admin(
        state,
        Phone::parse("13900000000", "p").expect("phone"),
        pw(),
        DisplayName::parse("管理员", "n").expect("name"),
    )
    .await
    .expect("admin");
    let admin = account::Entity::find()
        .filter(account::Column::Phone.eq("13900000000"))
        .one(db)
        .await
        .expect("query")
        .expect("admin row");
    let org = |name: &str, kind, parent| NewOrganization {
        name: name.into(),
        kind,
        parent_id: parent,
        region_code: None,
        address: None,
        latitude: None,
        longitude: None,
    };
    let city = orgs::create(
        db,
        &admin,
        org("苏州市", OrganizationKind::CityCenter, None),
    )
    .await
    .expect("city");
    let district = orgs::create(
        db,
        &admin,
        org("昆山市", OrganizationKind::DistrictCenter, Some(city.id)),
    )
    .await
    .expect("district");
    let station = orgs::create(
        db,
        &admin,
        org("亭林社工站", OrganizationKind::Station, Some(district.id)),
    )
    .await
    .expect("station");
    orgs::add_member(db, &admin, station.id, "13900000000", MemberRole::Organizer)
        .await
        .expect("member");

    let mut hot = None;
    for i in 0..100 {
        let starts = Utc::now() + chrono::Duration::hours(24 + i);
        let location = GeoPoint::new(
            CENTER.0 + (i as f64 % 10.0) * 0.004,
            CENTER.1 + (i as f64 / 10.0).floor() * 0.004,
            "p",
        )
        .expect("point");
        let e = events::create(
            db,
            &admin,
            NewEvent {
                organization_id: station.id,
                campaign_id: None,
                title: format!("社区服务{i}"),
                description: String::new(),
                category: EventCategory::ElderlyCare,
                address: "前进西路86号".into(),
                location,
                starts_at: starts,
                ends_at: starts + chrono::Duration::hours(6),
                auto_approve_verified: false,
            },
        )
        .await
        .expect("event");
        events::transition(
            db,
            &admin,
            e.id,
            &[events::EventStatus::Draft],
            events::EventStatus::Published,
        )
        .await
        .expect("publish");
        for j in 0..2 {
            let s = shifts::create(
                db,
                &admin,
                e.id,
                ShiftSpec {
                    title: format!("班次{j}"),
                    description: String::new(),
                    starts_at: starts + chrono::Duration::hours(2 * j),
                    ends_at: starts + chrono::Duration::hours(2 * j + 2),
                    capacity: if i == 0 && j == 0 { HOT_CAPACITY } else { 20 },
                    waitlist_enabled: true,
                    required_skills: vec![],
                    check_in_radius_meters: 200,
                },
            )
            .await
            .expect("shift");
            if hot.is_none() {
                hot = Some(api::ids::encode(api::ids::NodeType::Shift, s.id).0);
            }
        }
    }

    let now = Utc::now();
    let rows: Vec<account::ActiveModel> = (0..VOLUNTEERS)
        .map(|i| account::ActiveModel {
            phone: Set(format!("137{i:08}")),
            password_hash: Set("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$unused".into()),
            display_name: Set(format!("志愿者{i}")),
            is_system_admin: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(500) {
        account::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await
            .expect("volunteers");
    }
    let ids: Vec<i64> = account::Entity::find()
        .filter(account::Column::Phone.starts_with("137"))
        .all(db)
        .await
        .expect("query")
        .into_iter()
        .map(|a| a.id)
        .collect();
    let tokens = ids
        .into_iter()
        .map(|id| state.jwt.issue(id).expect("token").0)
        .collect();
    (hot.expect("hot shift"), tokens)
}
