//! Upgrading a database that already holds service records: migration 12 makes a record's
//! sign-up optional (help requests have none) and copies where, what and when from the shift's
//! event — on SQLite by rebuilding the table, which must keep every row and every reference.

use chrono::{Duration, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};

use crate::harness::{TestDb, exec};

#[tokio::test]
async fn records_keep_their_rows_and_references_and_gain_where_what_and_when() {
    let db = TestDb::migrated_to(Some(11)).await;
    let now = Utc::now();
    let starts = now - Duration::days(3);
    exec(
        &db.conn,
        "INSERT INTO account (id, phone, password_hash, display_name, is_system_admin, created_at, updated_at) \
         VALUES (1, '+8613800000001', 'x', '王芳', false, ?, ?), (2, '+8613800000002', 'x', '李明', false, ?, ?)",
        vec![now.into(), now.into(), now.into(), now.into()],
    )
    .await;
    exec(
        &db.conn,
        "INSERT INTO organization (id, name, kind, created_at, updated_at) VALUES (7, '城关社工站', 'STATION', ?, ?)",
        vec![now.into(), now.into()],
    )
    .await;
    exec(
        &db.conn,
        "INSERT INTO charity_event (id, organization_id, title, description, category, address, latitude, longitude, \
         starts_at, ends_at, status, created_by, created_at, updated_at, auto_approve_verified) \
         VALUES (3, 7, '敬老', '', 'ELDERLY_CARE', '', 31.3, 120.6, ?, ?, 'PUBLISHED', 1, ?, ?, false)",
        vec![
            starts.into(),
            (starts + Duration::hours(4)).into(),
            now.into(),
            now.into(),
        ],
    )
    .await;
    exec(
        &db.conn,
        "INSERT INTO shift (id, event_id, title, description, starts_at, ends_at, capacity, confirmed_count, \
         waitlist_enabled, waitlist_seq, required_skills, check_in_radius_meters, status, created_at, updated_at, \
         check_in_opens_minutes) VALUES (5, 3, '上午', '', ?, ?, 10, 1, false, 0, '[]', 200, 'OPEN', ?, ?, 30)",
        vec![
            starts.into(),
            (starts + Duration::hours(2)).into(),
            now.into(),
            now.into(),
        ],
    )
    .await;
    exec(
        &db.conn,
        "INSERT INTO signup (id, shift_id, account_id, status, created_at, updated_at) \
         VALUES (9, 5, 2, 'ATTENDED', ?, ?)",
        vec![now.into(), now.into()],
    )
    .await;
    exec(
        &db.conn,
        "INSERT INTO service_record (id, signup_id, account_id, shift_id, minutes, status, verified, flagged, \
         created_at, updated_at, coin_cents_per_hour) VALUES (11, 9, 2, 5, 95, 'APPROVED', true, false, ?, ?, 100)",
        vec![now.into(), now.into()],
    )
    .await;
    exec(
        &db.conn,
        "INSERT INTO service_record_change (record_id, actor_id, action, status_before, status_after, \
         minutes_before, minutes_after, at) VALUES (11, 1, 'APPROVE', 'PENDING', 'APPROVED', 95, 95, ?)",
        vec![now.into()],
    )
    .await;

    api::db::migrate(&db.conn).await.expect("migrate the rest");

    let r = entity::service_record::Entity::find_by_id(11)
        .one(&db.conn)
        .await
        .unwrap()
        .expect("the record survived");
    assert_eq!(
        (r.signup_id, r.shift_id, r.help_request_id),
        (Some(9), Some(5), None)
    );
    assert_eq!(
        (r.organization_id, r.category, r.minutes),
        (7, entity::charity_event::EventCategory::ElderlyCare, 95)
    );
    assert_eq!(r.served_at.timestamp(), starts.timestamp());
    assert_eq!(r.coin_cents_per_hour, Some(100));
    assert_eq!(r.status, entity::service_record::RecordStatus::Approved);

    // References into the rebuilt table still hold: the audit row's foreign key points at it…
    let orphan = db
        .conn
        .execute_unprepared(
            "INSERT INTO service_record_change (record_id, actor_id, action, status_before, status_after, \
             minutes_before, minutes_after, at) VALUES (999, 1, 'APPROVE', 'PENDING', 'APPROVED', 1, 1, '2026-01-01 00:00:00+00:00')",
        )
        .await;
    assert!(orphan.is_err(), "a change of a missing record is refused");
    // …and a record needs exactly one origin.
    let neither = db
        .conn
        .execute_unprepared(
            "INSERT INTO service_record (account_id, organization_id, category, served_at, minutes, status, \
             verified, flagged, created_at, updated_at) VALUES (2, 7, 'ELDERLY_CARE', '2026-01-01 00:00:00+00:00', \
             10, 'PENDING', false, false, '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00')",
        )
        .await;
    assert!(neither.is_err(), "a record from nowhere is refused");
}

#[tokio::test]
async fn replicas_starting_together_migrate_one_after_the_other() {
    let db = TestDb::migrated_to(Some(0)).await;
    if !db.is_postgres() {
        // One process owns an SQLite file; replicas are a PostgreSQL matter.
        return;
    }
    // Pools of one, as `tongxing migrate` uses: the lock must not need a second pooled one.
    let (a, b) = (
        api::db::connect(&db.url, 1).await.unwrap(),
        api::db::connect(&db.url, 1).await.unwrap(),
    );
    let (ra, rb) = tokio::join!(api::db::migrate(&a), api::db::migrate(&b));
    ra.expect("first replica migrates");
    rb.expect("second replica finds the work done");
    let tables = db
        .conn
        .query_one_raw(sea_orm::Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT COUNT(*) FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    let expected =
        i64::try_from(<migration::Migrator as migration::MigratorTrait>::migrations().len())
            .unwrap();
    assert_eq!(tables, expected, "every migration recorded once");
}
