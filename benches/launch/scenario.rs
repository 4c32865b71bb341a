//! The campaign-launch scenario: volunteers arrive from idle to a peak, each browses the home
//! feed, signs up for one of a few hot shifts, and one in two also signs up for a shift
//! running today and checks in there by location — spread over several replicas, as a load
//! balancer would. Afterwards the database is checked: no shift over capacity, every sign-up a
//! client was told is confirmed still there, every accepted check-in recorded.
//!
//! Shared by the `launch` benchmark (`benches/launch/main.rs`) and its test
//! (`tests/it/launch.rs`), so the script that produces the capacity figures is itself tested.

use std::{
    collections::{BTreeMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use api::{
    AppState,
    ids::{self, NodeType},
};
use chrono::Utc;
use entity::{check_event, shift, signup};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, ExprTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};
use serde_json::{Value, json};

use super::common::{CENTER, FEED_QUERY, Station, volunteers};

/// How big the launch is.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Volunteers active at the peak (each a client looping with think time).
    pub peak_clients: usize,
    /// Time from idle to the peak; clients join evenly over it.
    pub ramp: Duration,
    /// Time at the peak.
    pub hold: Duration,
    /// Hot shifts the campaign publishes for the launch.
    pub hot_shifts: usize,
    /// Places on each hot shift (the rest go to its waitlist).
    pub hot_capacity: i32,
    /// Volunteer accounts available; each volunteer acts once.
    pub volunteers: usize,
    /// Other published events in the feed (two shifts each).
    pub feed_events: usize,
    /// Pause between one volunteer's requests: uniform in `0..=think_max`.
    pub think_max: Duration,
}

/// What [`prepare`] made.
pub struct Launch {
    /// The hot shifts (keys).
    pub hot: Vec<i64>,
    /// The shift running today that volunteers check in to (key).
    pub today: i64,
    /// Volunteers' access tokens, used in order.
    pub tokens: Vec<String>,
}

/// Set the launch up through the services on one replica's state.
pub async fn prepare(state: &AppState, plan: &Plan) -> Launch {
    let station = Station::create(state).await;
    station.feed_events(state, plan.feed_events).await;
    let mut hot = Vec::new();
    for i in 0..plan.hot_shifts {
        // Non-overlapping, so one volunteer could take several (they take one here).
        let starts = Utc::now() + chrono::Duration::hours(48 + 3 * i as i64);
        let e = station
            .event(
                state,
                &format!("慈善同心·志愿同行 {i}"),
                CENTER,
                starts,
                2,
                true,
            )
            .await;
        let s = station
            .shift(
                state,
                e.id,
                (starts, starts + chrono::Duration::hours(2)),
                plan.hot_capacity,
                true,
            )
            .await;
        hot.push(s.id);
    }
    // Sign-ups close when a shift starts and check-in opens 30 minutes before: starting after
    // the run (within 29 minutes), it takes both all along.
    let now = Utc::now();
    let opens_for = (plan.ramp + plan.hold + Duration::from_secs(120))
        .clamp(Duration::from_secs(600), Duration::from_secs(29 * 60));
    let starts = now + chrono::Duration::from_std(opens_for).expect("duration");
    let e = station.event(state, "今日服务", CENTER, now, 4, true).await;
    let today = station
        .shift(
            state,
            e.id,
            (starts, starts + chrono::Duration::hours(3)),
            // Room for everyone up to the largest shift allowed; beyond, a waitlist.
            i32::try_from(plan.volunteers.min(10_000)).unwrap_or(10_000),
            true,
        )
        .await
        .id;
    let tokens = volunteers(state, plan.volunteers)
        .await
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    Launch { hot, today, tokens }
}

/// Which request a sample is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Feed,
    SignUp,
    CheckIn,
}

impl Op {
    const ALL: [Op; 3] = [Op::Feed, Op::SignUp, Op::CheckIn];

    fn name(self) -> &'static str {
        match self {
            Op::Feed => "feed",
            Op::SignUp => "sign-up",
            Op::CheckIn => "check-in",
        }
    }
}

/// One request as the client saw it.
#[derive(Clone, Debug)]
pub struct Sample {
    pub op: Op,
    /// Which replica answered (index into the URLs).
    pub replica: usize,
    /// When it completed, from the start of the run.
    pub done: Duration,
    pub latency: Duration,
    /// `ok`, the first error's `extensions.code`, `HTTP_<status>` or `TRANSPORT`.
    pub outcome: String,
}

/// What the clients saw.
#[derive(Default)]
pub struct Outcome {
    pub samples: Vec<Sample>,
    /// Sign-ups (keys) answered `CONFIRMED`.
    pub confirmed: Vec<i64>,
    /// Sign-ups answered `WAITLISTED`.
    pub waitlisted: Vec<i64>,
    /// Sign-ups (keys) whose check-in was accepted as new.
    pub checked_in: Vec<i64>,
    /// Whether the clients ran out of volunteer accounts before the end.
    pub ran_out: bool,
    pub elapsed: Duration,
}

/// A small deterministic generator for think times and shift choice (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

/// POST one GraphQL request; the answer's data, or the outcome code that failed it.
async fn call(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
) -> Result<Value, String> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|_| "TRANSPORT".to_owned())?;
    let status = response.status();
    let Ok(body) = response.json::<Value>().await else {
        return Err(format!("HTTP_{}", status.as_u16()));
    };
    if let Some(first) = body["errors"].as_array().and_then(|e| e.first()) {
        return Err(first["extensions"]["code"]
            .as_str()
            .unwrap_or("NO_CODE")
            .to_owned());
    }
    if !status.is_success() {
        return Err(format!("HTTP_{}", status.as_u16()));
    }
    Ok(body["data"].clone())
}

/// One volunteer's client: what it saw.
#[derive(Default)]
struct ClientLog {
    samples: Vec<Sample>,
    confirmed: Vec<i64>,
    waitlisted: Vec<i64>,
    checked_in: Vec<i64>,
}

impl ClientLog {
    /// Time `request`, record its outcome, and hand back its data.
    async fn timed(
        &mut self,
        op: Op,
        replica: usize,
        started: Instant,
        request: impl Future<Output = Result<Value, String>>,
    ) -> Option<Value> {
        let t0 = Instant::now();
        let result = request.await;
        self.samples.push(Sample {
            op,
            replica,
            done: started.elapsed(),
            latency: t0.elapsed(),
            outcome: result.as_ref().map_or_else(Clone::clone, |_| "ok".into()),
        });
        result.ok()
    }

    /// Record a sign-up answer; its key when confirmed. An answer that is neither a confirmed
    /// nor a waitlisted sign-up turns its sample into `BAD_ANSWER`.
    fn signed_up(&mut self, data: Option<Value>) -> Option<i64> {
        let data = data?;
        let key = data["signUpForShift"]["id"]
            .as_str()
            .and_then(ids::decode_any)
            .map(|(_, k)| k);
        match (key, data["signUpForShift"]["status"].as_str()) {
            (Some(key), Some("CONFIRMED")) => {
                self.confirmed.push(key);
                Some(key)
            }
            (Some(key), Some("WAITLISTED")) => {
                self.waitlisted.push(key);
                None
            }
            _ => {
                self.bad_answer();
                None
            }
        }
    }

    /// The last request answered something it should not have.
    fn bad_answer(&mut self) {
        if let Some(s) = self.samples.last_mut() {
            s.outcome = "BAD_ANSWER".into();
        }
    }
}

const SIGN_UP: &str = "mutation($s: ID!, $k: String!) { signUpForShift(shiftId: $s, idempotencyKey: $k) { id status } }";
const CHECK_IN: &str = "mutation($i: CheckInput!) { checkIn(input: $i) { duplicate } }";

/// Run the launch against `urls` (one GraphQL endpoint per replica; volunteer `i` goes to
/// replica `i % urls.len()`, as a round-robin balancer would send them).
pub async fn drive(urls: &[String], launch: &Launch, plan: &Plan) -> Outcome {
    api::sms::install_tls_provider();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.peak_clients * 2)
        .build()
        .expect("client");
    let next = Arc::new(AtomicUsize::new(0));
    let ran_out = Arc::new(AtomicBool::new(false));
    let tokens: Arc<Vec<String>> = Arc::new(launch.tokens.clone());
    let hot: Arc<Vec<String>> = Arc::new(
        launch
            .hot
            .iter()
            .map(|k| ids::encode(NodeType::Shift, *k).0)
            .collect(),
    );
    let today = ids::encode(NodeType::Shift, launch.today).0;
    let urls: Arc<Vec<String>> = Arc::new(urls.to_vec());
    let feed = Arc::new(json!({
        "query": FEED_QUERY,
        "variables": { "n": { "latitude": CENTER.0, "longitude": CENTER.1, "radiusMeters": 10000.0 } }
    }));
    let started = Instant::now();
    let end = plan.ramp + plan.hold;
    let peak = plan.peak_clients.max(1);
    let tasks: Vec<_> = (0..peak)
        .map(|k| {
            let (client, next, ran_out, tokens, hot, today, urls, feed, think_max) = (
                client.clone(),
                next.clone(),
                ran_out.clone(),
                tokens.clone(),
                hot.clone(),
                today.clone(),
                urls.clone(),
                feed.clone(),
                plan.think_max.as_millis() as u64,
            );
            let joins = plan.ramp.mul_f64(k as f64 / peak as f64);
            tokio::spawn(async move {
                tokio::time::sleep_until((started + joins).into()).await;
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (k as u64 + 1));
                let mut log = ClientLog::default();
                let think = |rng: &mut Rng| {
                    tokio::time::sleep(Duration::from_millis(rng.below(think_max + 1)))
                };
                while started.elapsed() < end {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(token) = tokens.get(i) else {
                        ran_out.store(true, Ordering::Relaxed);
                        break;
                    };
                    let replica = i % urls.len();
                    let url = &urls[replica];
                    log.timed(Op::Feed, replica, started, call(&client, url, token, &feed))
                        .await;
                    think(&mut rng).await;
                    let shift = &hot[rng.below(hot.len() as u64) as usize];
                    let body = json!({ "query": SIGN_UP, "variables": { "s": shift, "k": format!("launch-{i}-hot") } });
                    let data = log
                        .timed(Op::SignUp, replica, started, call(&client, url, token, &body))
                        .await;
                    log.signed_up(data);
                    think(&mut rng).await;
                    if rng.below(2) == 0 {
                        let body = json!({ "query": SIGN_UP, "variables": { "s": today, "k": format!("launch-{i}-today") } });
                        let data = log
                            .timed(Op::SignUp, replica, started, call(&client, url, token, &body))
                            .await;
                        if let Some(key) = log.signed_up(data) {
                            let body = json!({ "query": CHECK_IN, "variables": { "i": {
                                "shiftId": today, "method": "GEO", "clientEventId": format!("launch-{i}"),
                                "location": { "latitude": CENTER.0 + 0.0003, "longitude": CENTER.1, "accuracyMeters": 15.0 }
                            } } });
                            let data = log
                                .timed(Op::CheckIn, replica, started, call(&client, url, token, &body))
                                .await;
                            match data.map(|d| d["checkIn"]["duplicate"].as_bool()) {
                                Some(Some(false)) => log.checked_in.push(key),
                                Some(_) => log.bad_answer(),
                                None => {}
                            }
                        }
                        think(&mut rng).await;
                    }
                }
                log
            })
        })
        .collect();
    let mut outcome = Outcome::default();
    for t in tasks {
        let log = t.await.expect("client task");
        outcome.samples.extend(log.samples);
        outcome.confirmed.extend(log.confirmed);
        outcome.waitlisted.extend(log.waitlisted);
        outcome.checked_in.extend(log.checked_in);
    }
    outcome.elapsed = started.elapsed();
    outcome.ran_out = ran_out.load(Ordering::Relaxed);
    outcome
}

/// Whether no GraphQL answer came back (so no server counted it as a GraphQL request).
fn unanswered(outcome: &str) -> bool {
    outcome == "TRANSPORT" || outcome.starts_with("HTTP_")
}

/// Whether a failed request may nevertheless have taken effect: the connection or the server
/// gave up without saying what happened. A refusal by the rules (`SHIFT_FULL`, …) did not.
fn in_doubt(outcome: &str) -> bool {
    unanswered(outcome)
        || matches!(
            outcome,
            "TIMEOUT" | "SERVICE_UNAVAILABLE" | "INTERNAL" | "NO_CODE"
        )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    // Nearest rank: the smallest sample with at least p of all at or below it.
    let rank = (sorted.len() as f64 * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl Outcome {
    /// Requests that did not succeed, by outcome code.
    pub fn errors(&self) -> BTreeMap<String, usize> {
        let mut by_code = BTreeMap::new();
        for s in self.samples.iter().filter(|s| s.outcome != "ok") {
            *by_code.entry(s.outcome.clone()).or_insert(0) += 1;
        }
        by_code
    }

    /// GraphQL requests each replica answered (those that never got a GraphQL answer —
    /// connection failures, refusals before GraphQL — are not in its `/metrics`).
    pub fn per_replica(&self, replicas: usize) -> Vec<usize> {
        let mut n = vec![0; replicas];
        for s in self.samples.iter().filter(|s| !unanswered(&s.outcome)) {
            n[s.replica] += 1;
        }
        n
    }

    /// Failed requests of kind `op` whose effect is unknown: they may have committed.
    fn in_doubt(&self, op: Op) -> usize {
        self.samples
            .iter()
            .filter(|s| s.op == op && in_doubt(&s.outcome))
            .count()
    }

    /// The report: throughput and latency by phase and kind, a timeline, errors by code.
    pub fn report(&self, plan: &Plan, label: &str) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let phases = [
            ("ramp", Duration::ZERO, plan.ramp),
            ("peak", plan.ramp, plan.ramp + plan.hold),
            (
                "whole run",
                Duration::ZERO,
                self.elapsed.max(Duration::from_millis(1)),
            ),
        ];
        let _ = writeln!(
            out,
            "[{label}] campaign launch: 0 → {} volunteers over {:.0} s, {:.0} s at the peak, think time 0–{} ms",
            plan.peak_clients,
            plan.ramp.as_secs_f64(),
            plan.hold.as_secs_f64(),
            plan.think_max.as_millis()
        );
        let heads: Vec<String> = Op::ALL
            .iter()
            .map(|op| format!("{} p50/p99 ms", op.name()))
            .collect();
        let _ = writeln!(
            out,
            "  {:<10} {:>9} {:>11} {:>11} | {:>19} {:>19} {:>19}",
            "phase", "req/s", "sign-ups/s", "check-ins/s", heads[0], heads[1], heads[2]
        );
        for (name, from, to) in phases {
            let secs = (to - from).as_secs_f64().max(0.001);
            let within: Vec<&Sample> = self
                .samples
                .iter()
                .filter(|s| s.done >= from && s.done < to)
                .collect();
            let ok = |op: Op| {
                within
                    .iter()
                    .filter(|s| s.op == op && s.outcome == "ok")
                    .count() as f64
                    / secs
            };
            let mut cols = Vec::new();
            for op in Op::ALL {
                let mut l: Vec<Duration> = within
                    .iter()
                    .filter(|s| s.op == op)
                    .map(|s| s.latency)
                    .collect();
                l.sort_unstable();
                cols.push(format!(
                    "{:.1} / {:.1}",
                    ms(percentile(&l, 0.50)),
                    ms(percentile(&l, 0.99))
                ));
            }
            let _ = writeln!(
                out,
                "  {:<10} {:>9.0} {:>11.0} {:>11.0} | {:>19} {:>19} {:>19}",
                name,
                within.len() as f64 / secs,
                ok(Op::SignUp),
                ok(Op::CheckIn),
                cols[0],
                cols[1],
                cols[2]
            );
        }
        // Throughput as volunteers join: where it stops growing is the knee.
        let step = Duration::from_secs(5).min(plan.ramp + plan.hold);
        let _ = writeln!(out, "  timeline ({} s steps):", step.as_secs_f64());
        let mut from = Duration::ZERO;
        while from < plan.ramp + plan.hold {
            let to = (from + step).min(self.elapsed.max(from + Duration::from_millis(1)));
            // Clients joined by the end of the step (client k joins at ramp·k/peak).
            let active = if plan.ramp.is_zero() || to >= plan.ramp {
                plan.peak_clients
            } else {
                ((plan.peak_clients as f64 * to.as_secs_f64() / plan.ramp.as_secs_f64()).ceil()
                    as usize)
                    .min(plan.peak_clients)
            };
            let mut l: Vec<Duration> = self
                .samples
                .iter()
                .filter(|s| s.done >= from && s.done < to)
                .map(|s| s.latency)
                .collect();
            l.sort_unstable();
            let _ = writeln!(
                out,
                "    {:>5.0}–{:<5.0} s  ≤{:>5} volunteers  {:>6.0} req/s  p99 {:>7.1} ms",
                from.as_secs_f64(),
                to.as_secs_f64(),
                active,
                l.len() as f64 / (to - from).as_secs_f64(),
                ms(percentile(&l, 0.99))
            );
            from = to;
        }
        let errors = self.errors();
        let failed: usize = errors.values().sum();
        let _ = writeln!(
            out,
            "  errors: {failed} of {} requests ({:.3} %){}",
            self.samples.len(),
            100.0 * failed as f64 / self.samples.len().max(1) as f64,
            if errors.is_empty() {
                String::new()
            } else {
                format!(" by code: {errors:?}")
            }
        );
        let _ = writeln!(
            out,
            "  answers: {} confirmed, {} waitlisted, {} check-ins{}",
            self.confirmed.len(),
            self.waitlisted.len(),
            self.checked_in.len(),
            if self.ran_out {
                " — ran out of volunteer accounts before the end (raise LAUNCH_VOLUNTEERS)"
            } else {
                ""
            }
        );
        out
    }
}

/// What the database says after the run, checked against what the clients were told.
pub struct Verified {
    /// Confirmed (or attended) sign-ups per hot shift.
    pub hot_confirmed: Vec<i64>,
    /// Sign-up rows on the launch's shifts.
    pub signup_rows: usize,
    /// Check-in events on today's shift.
    pub check_ins: usize,
}

/// Check the database after [`drive`]: no shift anywhere over capacity and every counter equal
/// to its rows; every sign-up a client was told is confirmed still confirmed (or attended);
/// every accepted check-in stored once with its sign-up attended; and no sign-up nobody was
/// told about beyond the requests that failed in a way that leaves them in doubt.
pub async fn verify(
    db: &DatabaseConnection,
    launch: &Launch,
    outcome: &Outcome,
) -> Result<Verified, String> {
    let held = ["CONFIRMED", "ATTENDED"];
    let counts: BTreeMap<i64, i64> = signup::Entity::find()
        .select_only()
        .column(signup::Column::ShiftId)
        .column_as(Expr::col(signup::Column::Id).count(), "n")
        .filter(signup::Column::Status.is_in(held))
        .group_by(signup::Column::ShiftId)
        .into_tuple::<(i64, i64)>()
        .all(db)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    for s in shift::Entity::find()
        .all(db)
        .await
        .map_err(|e| e.to_string())?
    {
        let n = counts.get(&s.id).copied().unwrap_or(0);
        if n > i64::from(s.capacity) {
            return Err(format!(
                "shift {} holds {n} sign-ups over its {} places",
                s.id, s.capacity
            ));
        }
        if n != i64::from(s.confirmed_count) {
            return Err(format!(
                "shift {} counts {} but holds {n}",
                s.id, s.confirmed_count
            ));
        }
    }

    let unique: HashSet<i64> = outcome.confirmed.iter().copied().collect();
    if unique.len() != outcome.confirmed.len() {
        return Err("one sign-up was answered as confirmed twice".into());
    }
    let mut survived = 0;
    for chunk in outcome.confirmed.chunks(500) {
        survived += signup::Entity::find()
            .filter(signup::Column::Id.is_in(chunk.iter().copied()))
            .filter(signup::Column::Status.is_in(held))
            .all(db)
            .await
            .map_err(|e| e.to_string())?
            .len();
    }
    if survived != outcome.confirmed.len() {
        return Err(format!(
            "{} sign-ups were confirmed to a client, {survived} are still held",
            outcome.confirmed.len()
        ));
    }
    for chunk in outcome.checked_in.chunks(500) {
        let attended = signup::Entity::find()
            .filter(signup::Column::Id.is_in(chunk.iter().copied()))
            .filter(signup::Column::Status.eq("ATTENDED"))
            .all(db)
            .await
            .map_err(|e| e.to_string())?
            .len();
        if attended != chunk.len() {
            return Err(format!(
                "{} check-ins accepted, {attended} sign-ups attended",
                chunk.len()
            ));
        }
    }
    let check_ins = check_event::Entity::find()
        .filter(check_event::Column::ShiftId.eq(launch.today))
        .filter(check_event::Column::Kind.eq("CHECK_IN"))
        .all(db)
        .await
        .map_err(|e| e.to_string())?
        .len();
    let doubtful = outcome.in_doubt(Op::CheckIn);
    if check_ins < outcome.checked_in.len() || check_ins > outcome.checked_in.len() + doubtful {
        return Err(format!(
            "{} check-ins accepted ({doubtful} more in doubt), {check_ins} stored",
            outcome.checked_in.len()
        ));
    }

    let launch_shifts: Vec<i64> = launch.hot.iter().copied().chain([launch.today]).collect();
    let rows = signup::Entity::find()
        .filter(signup::Column::ShiftId.is_in(launch_shifts))
        .all(db)
        .await
        .map_err(|e| e.to_string())?;
    let answered = outcome.confirmed.len() + outcome.waitlisted.len();
    let doubtful = outcome.in_doubt(Op::SignUp);
    if rows.len() < answered || rows.len() > answered + doubtful {
        return Err(format!(
            "{answered} sign-ups answered ({doubtful} more in doubt), {} stored",
            rows.len()
        ));
    }
    let hot_confirmed = launch
        .hot
        .iter()
        .map(|h| counts.get(h).copied().unwrap_or(0))
        .collect();
    Ok(Verified {
        hot_confirmed,
        signup_rows: rows.len(),
        check_ins,
    })
}

/// GraphQL requests each replica counted in `tongxing_graphql_requests_total` (from
/// `/metrics`, parsed as Prometheus would).
pub async fn counted_requests(bases: &[String]) -> Vec<f64> {
    let client = {
        api::sms::install_tls_provider();
        reqwest::Client::new()
    };
    let mut counted = Vec::new();
    for base in bases {
        let text = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body");
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned())))
            .expect("Prometheus text");
        counted.push(
            scrape
                .samples
                .iter()
                .filter(|s| s.metric == "tongxing_graphql_requests_total")
                .map(|s| match s.value {
                    prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
                    _ => 0.0,
                })
                .sum(),
        );
    }
    counted
}
