//! Surviving a lost database: PostgreSQL stopped and started again under a stream of sign-ups.
//! The test runs its own PostgreSQL cluster in a temporary directory (`initdb` + `pg_ctl`), so
//! stopping it disturbs nobody else.

use std::{
    path::PathBuf,
    process::Command,
    time::{Duration, Instant},
};

use serde_json::json;

use crate::harness::{TestApp, TestDb};

/// A throw-away PostgreSQL cluster.
struct PgCluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl PgCluster {
    /// `initdb` and start one, or `None` when the PostgreSQL server binaries are not installed
    /// (CI sets `TONGXING_REQUIRE_TOOLS`, which makes that a failure).
    fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .find(|b| b.join("pg_ctl").exists());
        let Some(bin) = bin else {
            assert!(
                std::env::var_os("TONGXING_REQUIRE_TOOLS").is_none(),
                "PostgreSQL server binaries are required here"
            );
            eprintln!("skipping: no pg_ctl under /usr/lib/postgresql");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Self { bin, dir, port };
        // PostgreSQL refuses to run as root: hand the directory to the postgres user.
        if cluster.as_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status()
                .unwrap()
                .success();
            assert!(ok, "chown the cluster directory");
        }
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        cluster.ctl("start");
        Some(cluster)
    }

    fn as_root(&self) -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let path = self.bin.join(tool);
        let mut cmd = if self.as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            Command::new(&path)
        };
        let out = cmd.args(args).output().expect("run a PostgreSQL tool");
        assert!(
            out.status.success(),
            "{tool} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn ctl(&self, action: &str) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        let data = self.data();
        match action {
            "start" => self.run(
                "pg_ctl",
                &["-D", &data, "-o", &opts, "-l", &log, "-w", "start"],
            ),
            _ => self.run("pg_ctl", &["-D", &data, "-m", "fast", "-w", "stop"]),
        }
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = Command::new(self.bin.join("pg_ctl"))
            .args(["-D", &data, "-m", "immediate", "stop"])
            .output();
        if self.as_root() {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", &data, "-m", "immediate", "stop"])
                .output();
        }
    }
}

const SIGN_UP: &str = "mutation($s: ID!, $k: String!) { signUpForShift(shiftId: $s, idempotencyKey: $k) { id status } }";

#[tokio::test]
async fn postgres_restarted_under_load_fails_fast_with_a_retryable_code_and_loses_nothing() {
    let Some(pg) = PgCluster::start() else {
        return;
    };
    let app = TestApp::spawn_on(TestDb::on_postgres(&pg.url()).await, |_| {}).await;
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "重阳节敬老",
            31.38,
            120.98,
            24,
            true,
        )
        .await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 500, false, &[])
        .await;
    let volunteers = app.bulk_volunteers(60, "1374000").await;

    // A stream of volunteers signing up, each as a phone app would: on SERVICE_UNAVAILABLE it
    // waits a moment and sends the same request (same idempotency key) again.
    let refusals = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stream = {
        let refusals = refusals.clone();
        let app_url = app.url("/graphql");
        let client = app.client.clone();
        let shift = shift.clone();
        let volunteers = volunteers.clone();
        tokio::spawn(async move {
            let mut confirmed = Vec::new();
            let mut codes: Vec<String> = Vec::new();
            let mut slowest = Duration::ZERO;
            for (i, (_, token)) in volunteers.iter().enumerate() {
                loop {
                    let started = Instant::now();
                    let body: serde_json::Value = client
                        .post(&app_url)
                        .bearer_auth(token)
                        .json(&json!({ "query": SIGN_UP, "variables": { "s": shift, "k": format!("rush-{i}") } }))
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    slowest = slowest.max(started.elapsed());
                    if let Some(code) = body["errors"][0]["extensions"]["code"].as_str() {
                        codes.push(code.to_owned());
                        refusals.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                    assert_eq!(body["data"]["signUpForShift"]["status"], "CONFIRMED");
                    confirmed.push(
                        body["data"]["signUpForShift"]["id"]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                    );
                    break;
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
            (confirmed, codes, slowest)
        })
    };

    // The database goes away for a while, mid-stream, and comes back.
    tokio::time::sleep(Duration::from_millis(400)).await;
    pg.ctl("stop");
    let down = Instant::now();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503, "not ready without a database");
    let feed = app
        .post(Some(&volunteers[0].1), "{ me { id } }", json!({}))
        .await
        .1;
    assert_eq!(
        feed["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE",
        "{feed}"
    );
    assert!(
        down.elapsed() < Duration::from_secs(10),
        "requests fail fast while the database is down ({:?})",
        down.elapsed()
    );
    // The outage lasts until the stream has met it (on a busy machine a request may sit in the
    // pool's queue for a while before it fails), and at least two seconds.
    while refusals.load(std::sync::atomic::Ordering::SeqCst) == 0
        || down.elapsed() < Duration::from_secs(2)
    {
        assert!(
            down.elapsed() < Duration::from_secs(20),
            "the stream met the outage"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pg.ctl("start");

    // The server recovers by itself.
    let back = Instant::now();
    loop {
        let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
        if ready.status().as_u16() == 200 {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(30), "ready again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (confirmed, codes, slowest) = stream.await.unwrap();

    // Every volunteer got in, every failure said "retry", nothing was lost or doubled.
    assert_eq!(confirmed.len(), 60);
    assert!(!codes.is_empty(), "the stream met the outage");
    assert!(
        codes.iter().all(|c| c == "SERVICE_UNAVAILABLE"),
        "{codes:?}"
    );
    assert!(slowest < Duration::from_secs(10), "{slowest:?}");
    let after = app
        .ok(
            Some(&w.organizer.access),
            "query($s: ID!) { shift(id: $s) { confirmedCount signups(first: 100) { edges { node { id status } } } } }",
            json!({ "s": shift }),
        )
        .await;
    assert_eq!(after["shift"]["confirmedCount"], 60, "{after}");
    let mut stored: Vec<String> = after["shift"]["signups"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["status"] == "CONFIRMED")
        .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    stored.sort();
    let mut confirmed = confirmed;
    confirmed.sort();
    assert_eq!(stored, confirmed, "every confirmed sign-up survived, once");
}
