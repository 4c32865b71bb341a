//! Personal-data rights: the export holds the caller's data and nobody else's; deletion erases
//! phone and names everywhere while ledgers and statistics stay whole; old check-in locations
//! are dropped; staff access to personal data is in the audit log.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait, QueryFilter,
    Statement,
};
use serde_json::{Value, json};

use crate::harness::TestApp;

/// Tables and text columns holding `needle`, on either backend.
async fn find_everywhere(db: &DatabaseConnection, needle: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    let columns: Vec<(String, String)> = match backend {
        DatabaseBackend::Postgres => db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')",
            ))
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    r.try_get_by_index(0).unwrap(),
                    r.try_get_by_index(1).unwrap(),
                )
            })
            .collect(),
        _ => {
            let tables: Vec<String> = db
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                ))
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.try_get_by_index(0).unwrap())
                .collect();
            let mut out = Vec::new();
            for t in tables {
                for r in db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name, type FROM pragma_table_info('{t}')"),
                    ))
                    .await
                    .unwrap()
                {
                    let (name, ty): (String, String) = (
                        r.try_get_by_index(0).unwrap(),
                        r.try_get_by_index(1).unwrap(),
                    );
                    let ty = ty.to_lowercase();
                    if ty.contains("text") || ty.contains("char") {
                        out.push((t.clone(), name));
                    }
                }
            }
            out
        }
    };
    let mut hits = Vec::new();
    for (t, c) in columns {
        let n = db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT COUNT(*) FROM \"{t}\" WHERE \"{c}\" LIKE {}",
                    if backend == DatabaseBackend::Postgres {
                        "$1"
                    } else {
                        "?"
                    }
                ),
                [format!("%{needle}%").into()],
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap();
        if n > 0 {
            hits.push(format!("{t}.{c}"));
        }
    }
    hits
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap()
}

const STATS: &str = "query($o: ID!) { organization(id: $o) { stats(from: \"2020-01-01T00:00:00Z\", to: \"2030-01-01T00:00:00Z\") { volunteerCount activeVolunteerCount approvedMinutes donationsFen } timeBank { balance } } }";

#[tokio::test]
async fn export_holds_only_my_data_and_deletion_erases_me_but_keeps_the_books() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "助老",
            31.38,
            120.98,
            24,
            true,
        )
        .await;
    let mine = app.register("13800000001", "李小红").await;
    let other = app.register("13800000002", "张三丰").await;
    app.ok(
        Some(&mine.access),
        "mutation($i: SetMyIdentityInput!) { setMyIdentity(input: $i) { idNumberMasked } }",
        json!({ "i": { "legalName": "李小红", "idType": "MAINLAND_ID", "idNumber": "11010519491231002X" } }),
    )
    .await;
    app.ok(
        Some(&mine.access),
        "mutation { updateMyProfile(input: {skills: [\"急救\"], bio: \"退休护士李小红\", homeLocation: {latitude: 31.381, longitude: 120.981}}) { bio } }",
        json!({}),
    )
    .await;
    // Each serves an hour on a shift (GEO check-in and check-out), approved with coins.
    for (i, who) in [&mine, &other].into_iter().enumerate() {
        let shift = app
            .shift_in(&w.organizer.access, &event, 5, false, &[])
            .await;
        app.sign_up(&who.access, &shift, format!("s{i}")).await;
        let record = app.serve_an_hour(&who.access, &shift).await;
        app.ok(
            Some(&w.organizer.access),
            "mutation($id: ID!) { approveServiceRecord(id: $id) { status } }",
            json!({ "id": api::ids::encode(api::ids::NodeType::ServiceRecord, record.id) }),
        )
        .await;
    }
    let fund = app
        .ok(
            Some(&w.organizer.access),
            "mutation($i: CreateCharityFundInput!) { createCharityFund(input: $i) { id } }",
            json!({ "i": { "organizationId": w.station, "name": "社区基金", "purpose": "助老" } }),
        )
        .await["createCharityFund"]["id"]
        .clone();
    app.donate_paid(
        &mine.access,
        json!({ "fundId": fund, "amountFen": 2_000, "message": "李小红的一点心意", "idempotencyKey": "d" }),
    )
    .await;

    // The export: all of mine, none of theirs.
    let exported = app
        .ok(Some(&mine.access), "{ exportMyData }", json!({}))
        .await["exportMyData"]
        .clone();
    assert_eq!(exported["account"]["phone"], "13800000001");
    assert_eq!(exported["identity"]["id_masked"], "110***********002X");
    assert_eq!(exported["volunteerProfile"]["bio"], "退休护士李小红");
    let checks = exported["checkEvents"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert!(
        checks.iter().all(|c| c["latitude"].is_number()),
        "{checks:?}"
    );
    assert_eq!(exported["serviceRecords"].as_array().unwrap().len(), 1);
    assert_eq!(exported["donations"].as_array().unwrap().len(), 1);
    assert!(
        !exported["timeBank"]["entries"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(exported["signups"].as_array().unwrap().len(), 1);
    // Who approved my record, and the coin transfers behind my entries — mine only.
    let my_record = exported["serviceRecords"][0]["id"].clone();
    let changes = exported["serviceRecordChanges"].as_array().unwrap();
    assert!(!changes.is_empty());
    assert!(
        changes.iter().all(|c| c["record_id"] == my_record),
        "{changes:?}"
    );
    let wallets: Vec<Value> = exported["timeBank"]["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].clone())
        .collect();
    let transfers = exported["timeBank"]["transfers"].as_array().unwrap();
    assert!(!transfers.is_empty());
    assert!(
        transfers
            .iter()
            .all(|t| wallets.contains(&t["from_account_id"])
                || wallets.contains(&t["to_account_id"])),
        "{transfers:?}"
    );
    // The access log: the export above is on it by the time of the next one.
    let again = app
        .ok(Some(&mine.access), "{ exportMyData }", json!({}))
        .await["exportMyData"]
        .clone();
    let log = again["accessLog"].as_array().unwrap();
    assert!(
        log.iter().any(|e| e["action"] == "EXPORT_MY_DATA"),
        "{log:?}"
    );
    assert!(again["helpRequestSteps"].is_array());
    let text = exported.to_string();
    for theirs in ["13800000002", "张三丰"] {
        assert!(!text.contains(theirs), "the export holds {theirs}");
    }
    assert!(!text.contains("password"), "no password hash");

    // A place on a shift still to come, with someone waiting behind it.
    let later = app
        .shift_in(&w.organizer.access, &event, 1, true, &[])
        .await;
    app.sign_up(&mine.access, &later, "later").await;
    let waiting = app.sign_up(&other.access, &later, "later").await;
    assert_eq!(
        waiting["data"]["signUpForShift"]["status"], "WAITLISTED",
        "{waiting}"
    );

    let before = app
        .ok(Some(&w.root.access), STATS, json!({ "o": w.station }))
        .await;

    // Deletion: the password is asked (a wrong one is the caller's input, not a lost
    // session), then the person is gone everywhere.
    let wrong = app
        .post(
            Some(&mine.access),
            "mutation { deleteMyAccount(password: \"not-my-password\") }",
            json!({}),
        )
        .await
        .1;
    assert_eq!(
        wrong["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{wrong}"
    );
    assert_eq!(
        wrong["errors"][0]["extensions"]["field"], "password",
        "{wrong}"
    );
    let deleted = app
        .ok(
            Some(&mine.access),
            "mutation($p: String!) { deleteMyAccount(password: $p) }",
            json!({ "p": crate::harness::TEST_PASSWORD }),
        )
        .await;
    assert_eq!(deleted["deleteMyAccount"], true);
    // The tokens still held stop working at once.
    assert_eq!(
        app.err_code(Some(&mine.access), "{ me { id } }", json!({}))
            .await,
        "UNAUTHENTICATED"
    );
    // The place was given back: the waiting volunteer has it.
    let promoted = app
        .ok(
            Some(&other.access),
            "{ me { signups { edges { node { status shift { id } } } } } }",
            json!({}),
        )
        .await;
    assert!(
        promoted["me"]["signups"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["node"]["shift"]["id"] == later && e["node"]["status"] == "CONFIRMED"),
        "{promoted}"
    );
    assert_eq!(
        app.err_code(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "phone": "13800000001", "password": crate::harness::TEST_PASSWORD } })
        )
        .await,
        "UNAUTHENTICATED"
    );
    let db = &app.state.db;
    for gone in ["13800000001", "李小红", "110***********002X", "退休护士"] {
        assert_eq!(
            find_everywhere(db, gone).await,
            Vec::<String>::new(),
            "{gone} is still stored"
        );
    }
    // The other person is untouched.
    assert!(!find_everywhere(db, "张三丰").await.is_empty());
    // My check-ins keep their times but not their places.
    let key = mine.account_key();
    assert_eq!(
        scalar(
            db,
            &format!(
                "SELECT COUNT(*) FROM check_event WHERE account_id = {key} AND latitude IS NOT NULL"
            )
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            db,
            &format!("SELECT COUNT(*) FROM check_event WHERE account_id = {key}")
        )
        .await,
        2
    );

    // The books: statistics and the organization's time bank are unchanged, every ledger
    // balance is still the sum of its entries, and the entries still sum to zero.
    let after = app
        .ok(Some(&w.root.access), STATS, json!({ "o": w.station }))
        .await;
    assert_eq!(before, after);
    assert_eq!(
        scalar(
            db,
            "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM timebank_entry"
        )
        .await,
        0
    );
    assert_eq!(
        scalar(
            db,
            "SELECT COUNT(*) FROM timebank_account a WHERE a.balance <> \
             (SELECT COALESCE(SUM(e.amount), 0) FROM timebank_entry e WHERE e.account_id = a.id)"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn old_check_in_locations_are_dropped_and_staff_access_is_audited() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "助老",
            31.38,
            120.98,
            24,
            true,
        )
        .await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 5, false, &[])
        .await;
    let vol = app.register("13800000003", "王五").await;
    app.sign_up(&vol.access, &shift, "k").await;
    app.serve_an_hour(&vol.access, &shift).await;
    let db = &app.state.db;
    let key = vol.account_key();
    // The check-in happened 100 days ago (retention: 90); the check-out is recent.
    db.execute_unprepared(&format!(
        "UPDATE check_event SET occurred_at = occurred_at - INTERVAL_PLACEHOLDER WHERE account_id = {key} AND kind = 'CHECK_IN'"
    ).replace(
        "occurred_at - INTERVAL_PLACEHOLDER",
        &match db.get_database_backend() {
            DatabaseBackend::Postgres => "occurred_at - INTERVAL '100 days'".to_owned(),
            _ => format!("'{}'", (chrono::Utc::now() - chrono::Duration::days(100)).format("%Y-%m-%d %H:%M:%S%.6f+00:00")),
        },
    ))
    .await
    .unwrap();
    api::housekeeping::run_once(&app.state).await;
    let located = |kind: &'static str| {
        let sql = format!(
            "SELECT COUNT(*) FROM check_event WHERE account_id = {key} AND kind = '{kind}' AND latitude IS NOT NULL"
        );
        async move { scalar(db, &sql).await }
    };
    assert_eq!(located("CHECK_IN").await, 0, "past retention: dropped");
    assert_eq!(located("CHECK_OUT").await, 1, "recent: kept");

    // An export by staff is on record, for the organization's administrators to read.
    let (from, to) = (
        (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339(),
        (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339(),
    );
    let status = app
        .client
        .get(app.url("/exports/service-records.csv"))
        .query(&[
            ("organizationId", w.station.as_str()),
            ("from", &from),
            ("to", &to),
        ])
        .bearer_auth(&w.organizer.access)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 200);
    const LOG: &str = "query($o: ID!) { auditLog(organizationId: $o) { edges { node { action actorId detail } } } }";
    let log: Value = app
        .ok(Some(&w.root.access), LOG, json!({ "o": w.district }))
        .await;
    let entries = log["auditLog"]["edges"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["node"]["action"] == "EXPORT_SERVICE_RECORDS"
                && e["node"]["actorId"]
                    == api::ids::encode(api::ids::NodeType::Account, w.organizer.account_key()).0),
        "{log}"
    );
    // The organizer (not an administrator) may not read the log.
    assert_eq!(
        app.err_code(Some(&w.organizer.access), LOG, json!({ "o": w.station }))
            .await,
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn guessing_the_password_through_account_deletion_is_throttled_like_login() {
    let app = TestApp::spawn().await;
    let me = app.register("13800000009", "小赵").await;
    const DELETE: &str = "mutation { deleteMyAccount(password: \"a-wrong-guess-123\") }";
    let mut codes = Vec::new();
    for _ in 0..8 {
        codes.push(app.err_code(Some(&me.access), DELETE, json!({})).await);
    }
    assert_eq!(codes[0], "BAD_USER_INPUT");
    assert_eq!(codes.last().unwrap(), "RATE_LIMITED", "{codes:?}");
    // The budget is the login's: the phone cannot be tried there either for now.
    let login = app
        .err_code(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "phone": "13800000009", "password": crate::harness::TEST_PASSWORD } }),
        )
        .await;
    assert_eq!(login, "RATE_LIMITED");
    // And the account is still there.
    let still = app
        .ok(Some(&me.access), "{ me { displayName } }", json!({}))
        .await;
    assert_eq!(still["me"]["displayName"], "小赵");
}

#[tokio::test]
async fn an_account_is_deleted_once_even_when_asked_twice_in_one_request() {
    let app = TestApp::spawn().await;
    let me = app.register("13800000008", "小钱").await;
    let (_, body) = app
        .post(
            Some(&me.access),
            "mutation($p: String!) { a: deleteMyAccount(password: $p) b: deleteMyAccount(password: $p) }",
            json!({ "p": crate::harness::TEST_PASSWORD }),
        )
        .await;
    assert_eq!(body["data"]["a"], true, "{body}");
    assert_eq!(body["errors"][0]["path"][0], "b", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    let rows = entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::Action.eq("DELETE_ACCOUNT"))
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}
