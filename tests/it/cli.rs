//! The `tongxing` binary's subcommands.

use std::{io::Write, process::Command, process::Stdio};

fn tongxing(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tongxing"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TONGXING_DATA_DIR", dir);
    cmd
}

#[test]
fn export_schema_writes_the_sdl_without_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("schema.graphql");
    let status = tongxing(dir.path())
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .args(["export-schema", out.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(std::fs::read_to_string(out).unwrap(), api::sdl());
}

fn create_admin(dir: &std::path::Path, password: &str) -> std::process::Output {
    let mut child = tongxing(dir)
        .args([
            "create-admin",
            "--phone",
            "13900000001",
            "--name",
            "管理员",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn create_admin_is_idempotent_and_never_echoes_the_password() {
    let dir = tempfile::tempdir().unwrap();
    let first = create_admin(dir.path(), "admin-password-1");
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let second = create_admin(dir.path(), "admin-password-1");
    assert!(second.status.success());
    let said = format!(
        "{}{}{}{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr),
        String::from_utf8_lossy(&second.stdout),
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(said.contains("created system administrator"), "{said}");
    assert!(said.contains("already existed"), "{said}");
    assert!(!said.contains("admin-password-1"));
    assert!(
        !said.contains("13900000001"),
        "the phone must not be printed: {said}"
    );
    // One account, one admin: the database file was created in the data dir.
    assert!(dir.path().join("tongxing.db").exists());
}

#[test]
fn create_admin_does_not_take_over_an_account_with_another_password() {
    let dir = tempfile::tempdir().unwrap();
    assert!(
        create_admin(dir.path(), "admin-password-1")
            .status
            .success()
    );
    let other = create_admin(dir.path(), "somebody-elses-password");
    assert!(!other.status.success());
    assert!(String::from_utf8_lossy(&other.stderr).contains("already registered"));
}

#[test]
fn create_admin_rejects_a_short_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = create_admin(dir.path(), "short");
    assert!(!out.status.success());
}

#[test]
fn migrate_creates_the_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let status = tongxing(dir.path()).arg("migrate").status().unwrap();
    assert!(status.success());
    assert!(dir.path().join("tongxing.db").exists());
}

#[test]
fn a_development_server_refuses_a_public_address_unless_told_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = tongxing(dir.path())
        .arg("serve")
        .env("TONGXING_LISTEN", "0.0.0.0:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TONGXING_ENV=production"), "{err}");
}
