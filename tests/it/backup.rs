//! Backups of the embedded SQLite database: taken while sign-ups are being written, restored
//! with the CLI, compared with the original.

use std::{path::Path, process::Command};

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use serde_json::json;

use crate::harness::{TestApp, TestDb};

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

/// Row counts of every table.
async fn counts(db: &DatabaseConnection) -> Vec<(String, i64)> {
    let tables: Vec<String> = db
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        ))
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.try_get_by_index::<String>(0).unwrap())
        .collect();
    let mut out = Vec::new();
    for t in tables {
        let n = scalar(db, &format!("SELECT COUNT(*) FROM \"{t}\"")).await;
        out.push((t, n));
    }
    out
}

fn cli(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tongxing"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn url_of(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

#[tokio::test]
async fn a_backup_taken_while_writing_restores_to_a_consistent_copy() {
    let app = TestApp::spawn_on(TestDb::sqlite().await, |_| {}).await;
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "冬衣募集",
            31.38,
            120.98,
            24,
            true,
        )
        .await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 1_000, false, &[])
        .await;
    const N: usize = 300;
    let volunteers = app.bulk_volunteers(N, "1375000").await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let dir = tempfile::tempdir().unwrap();

    // Sign-ups keep arriving while the backup is taken.
    let writer = {
        let (client, url, shift) = (app.client.clone(), app.url("/graphql"), shift.clone());
        let volunteers = volunteers.clone();
        let done = done.clone();
        tokio::spawn(async move {
            for (i, (_, token)) in volunteers.iter().enumerate() {
                let body: serde_json::Value = client
                    .post(&url)
                    .bearer_auth(token)
                    .json(&json!({ "query": "mutation($s: ID!, $k: String!) { signUpForShift(shiftId: $s, idempotencyKey: $k) { status } }",
                                   "variables": { "s": shift, "k": format!("b{i}") } }))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert_eq!(
                    body["data"]["signUpForShift"]["status"], "CONFIRMED",
                    "{body}"
                );
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        })
    };
    while done.load(std::sync::atomic::Ordering::SeqCst) < 30 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let during = dir.path().join("during.db");
    api::backup::backup_sqlite(&app.state.db, &during)
        .await
        .expect("backup while writing");
    writer.await.unwrap();

    // The copy is one moment of the database: the shift's count matches its sign-ups there.
    let restored = dir.path().join("restored").join("tongxing.db");
    std::fs::create_dir_all(restored.parent().unwrap()).unwrap();
    let kept = api::backup::restore_sqlite(&during, &restored, false)
        .await
        .unwrap();
    assert!(kept.is_none());
    let copy = api::db::connect(&url_of(&restored), 1).await.unwrap();
    let signed = scalar(
        &copy,
        "SELECT COUNT(*) FROM signup WHERE status = 'CONFIRMED'",
    )
    .await;
    let counted = scalar(&copy, "SELECT confirmed_count FROM shift").await;
    assert_eq!(signed, counted, "a consistent snapshot");
    assert!(
        (30..N as i64).contains(&signed),
        "taken mid-stream ({signed})"
    );
    copy.close().await.unwrap();

    // With the writes over, the CLI backs up the running server's database, refuses to
    // overwrite, and restores into a new data directory: every table has every row.
    let live_url = app.state.config.database_url();
    // A file name with characters a URL would misread.
    let after = dir.path().join("after 100%?mode=memory.db");
    let after_s = after.to_str().unwrap();
    let (ok, out) = cli(&["backup", after_s], &[("DATABASE_URL", &live_url)]);
    assert!(ok, "{out}");
    let (ok, out) = cli(&["backup", after_s], &[("DATABASE_URL", &live_url)]);
    assert!(!ok && out.contains("never overwrites"), "{out}");
    let data = dir.path().join("data");
    let (ok, out) = cli(
        &["restore", after_s],
        &[("TONGXING_DATA_DIR", data.to_str().unwrap())],
    );
    assert!(ok, "{out}");
    let copy = api::db::connect(&url_of(&data.join("tongxing.db")), 1)
        .await
        .unwrap();
    assert_eq!(counts(&copy).await, counts(&app.state.db).await);
    assert_eq!(
        scalar(
            &copy,
            "SELECT COUNT(*) FROM signup WHERE status = 'CONFIRMED'"
        )
        .await,
        N as i64
    );
    copy.close().await.unwrap();

    // Restoring over the database of a running server is refused.
    let (ok, out) = cli(&["restore", after_s], &[("DATABASE_URL", &live_url)]);
    assert!(!ok && out.contains("Stop the server"), "{out}");
    // And a file that is not a Tongxing database is refused before anything moves.
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").unwrap();
    assert!(
        api::backup::restore_sqlite(&junk, &restored, false)
            .await
            .is_err()
    );
    assert!(restored.exists());
}
