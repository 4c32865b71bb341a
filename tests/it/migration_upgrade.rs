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
    a_served_signup(&db.conn, now, starts).await;
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

#[tokio::test]
async fn check_events_recorded_before_evidence_keep_what_their_method_proved() {
    let db = TestDb::migrated_to(Some(14)).await;
    let now = Utc::now();
    a_served_signup(&db.conn, now, now - Duration::days(3)).await;
    exec(
        &db.conn,
        "INSERT INTO signup (id, shift_id, account_id, status, created_at, updated_at) \
         VALUES (10, 5, 1, 'ATTENDED', ?, ?)",
        vec![now.into(), now.into()],
    )
    .await;
    for (id, signup, account, kind, method) in [
        (1, 9, 2, "CHECK_IN", "QR"),
        (2, 9, 2, "CHECK_OUT", "GEO"),
        (3, 10, 1, "CHECK_IN", "MANUAL"),
    ] {
        exec(
            &db.conn,
            "INSERT INTO check_event (id, signup_id, shift_id, account_id, kind, method, client_event_id, \
             occurred_at, received_at, recorded_by) VALUES (?, ?, 5, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                id.into(),
                signup.into(),
                account.into(),
                kind.into(),
                method.into(),
                format!("e{id}").into(),
                now.into(),
                now.into(),
                account.into(),
            ],
        )
        .await;
    }
    api::db::migrate(&db.conn).await.expect("migrate the rest");
    let mut rows = entity::check_event::Entity::find()
        .all(&db.conn)
        .await
        .unwrap();
    rows.sort_by_key(|r| r.id);
    use entity::check_event::Evidence;
    let got: Vec<Evidence> = rows.iter().map(|r| r.evidence).collect();
    assert_eq!(got, [Evidence::Code, Evidence::Location, Evidence::Staff]);
    assert!(rows.iter().all(|r| r.distance_meters.is_none()));
}

/// Two accounts, a station, its event 3 with shift 5 three days ago, and sign-up 9 of account 2
/// on it, written as rows of the schema of migration 11.
async fn a_served_signup(
    db: &sea_orm::DatabaseConnection,
    now: chrono::DateTime<Utc>,
    starts: chrono::DateTime<Utc>,
) {
    exec(
        db,
        "INSERT INTO account (id, phone, password_hash, display_name, is_system_admin, created_at, updated_at) \
         VALUES (1, '+8613800000001', 'x', '王芳', false, ?, ?), (2, '+8613800000002', 'x', '李明', false, ?, ?)",
        vec![now.into(), now.into(), now.into(), now.into()],
    )
    .await;
    exec(
        db,
        "INSERT INTO organization (id, name, kind, created_at, updated_at) VALUES (7, '城关社工站', 'STATION', ?, ?)",
        vec![now.into(), now.into()],
    )
    .await;
    exec(
        db,
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
        db,
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
        db,
        "INSERT INTO signup (id, shift_id, account_id, status, created_at, updated_at) \
         VALUES (9, 5, 2, 'ATTENDED', ?, ?)",
        vec![now.into(), now.into()],
    )
    .await;
}

#[tokio::test]
async fn donations_made_before_payments_were_verified_stay_counted_and_marked() {
    let db = TestDb::migrated_to(Some(18)).await;
    let now = Utc::now();
    a_served_signup(&db.conn, now, now - Duration::days(3)).await;
    exec(
        &db.conn,
        "INSERT INTO charity_fund (id, organization_id, name, purpose, balance_fen, donated_fen, \
         disbursed_fen, created_by, created_at) VALUES (4, 7, '基金', '', 700, 1000, 300, 1, ?)",
        vec![now.into()],
    )
    .await;
    exec(
        &db.conn,
        "INSERT INTO donation (id, receipt_number, fund_id, account_id, amount_fen, donor_name, \
         anonymous, message, created_at) VALUES (11, 'TXR-2026-A', 4, 1, 600, '王芳', false, '', ?), \
         (12, 'TXR-2026-B', 4, 2, 400, '李明', true, '', ?)",
        vec![now.into(), now.into()],
    )
    .await;
    api::db::migrate(&db.conn).await.expect("migrate the rest");
    let mut rows = entity::donation::Entity::find()
        .all(&db.conn)
        .await
        .unwrap();
    rows.sort_by_key(|r| r.id);
    use entity::donation::{DonationChannel, DonationStatus};
    assert_eq!(rows.len(), 2);
    for r in &rows {
        assert_eq!(r.status, DonationStatus::Confirmed);
        assert_eq!(r.channel, DonationChannel::Unverified);
        assert_eq!(
            r.confirmed_at.map(|t| t.timestamp()),
            Some(r.created_at.timestamp())
        );
    }
    assert_eq!(rows[0].account_id, Some(1));
    assert_eq!(rows[1].receipt_number, "TXR-2026-B");
    // The new rules hold: an offline gift needs a reference and who recorded it, and only it
    // may lack a donor account.
    for bad in [
        "INSERT INTO donation (receipt_number, fund_id, amount_fen, donor_name, anonymous, message, \
         created_at, status, channel, confirmed_at) VALUES ('TXR-X1', 4, 1, 'x', false, '', ?, 'CONFIRMED', 'UNVERIFIED', ?)",
        "INSERT INTO donation (receipt_number, fund_id, amount_fen, donor_name, anonymous, message, \
         created_at, status, channel, confirmed_at) VALUES ('TXR-X2', 4, 1, 'x', false, '', ?, 'CONFIRMED', 'CASH', ?)",
    ] {
        let stmt = sea_orm::Statement::from_sql_and_values(
            db.conn.get_database_backend(),
            if db.is_postgres() {
                bad.replacen('?', "$1", 1).replacen('?', "$2", 1)
            } else {
                bad.to_owned()
            },
            vec![now.into(), now.into()],
        );
        assert!(db.conn.execute_raw(stmt).await.is_err(), "{bad}");
    }
    exec(
        &db.conn,
        "INSERT INTO donation (receipt_number, fund_id, amount_fen, donor_name, anonymous, message, \
         created_at, status, channel, reference, recorded_by, confirmed_at) \
         VALUES ('TXR-X3', 4, 1, 'x', false, '', ?, 'CONFIRMED', 'CASH', 'R-1', 1, ?)",
        vec![now.into(), now.into()],
    )
    .await;
}
