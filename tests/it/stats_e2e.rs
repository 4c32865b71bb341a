//! Statistics up the hierarchy: figures for a station, its district and the city agree with
//! sums computed by hand over seeded rows; a seeded city of 2,000 rooms and 100,000 service
//! records costs the same, small number of statements as one room.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::harness::{TestApp, TestDb, exec};

const STATS: &str = "query($o: ID!, $from: DateTime!, $to: DateTime!) { organization(id: $o) { stats(from: $from, to: $to) { volunteerCount activeVolunteerCount approvedMinutes eventCount shiftsFilled donationsFen disbursedFen helpRequestsResolved medianResponseMinutes } } }";

fn key(id: &str) -> i64 {
    api::ids::decode_any(&async_graphql::ID(id.to_owned()))
        .expect("an ID")
        .1
}

/// A seeded help request: (organization, accepted at, volunteer, response seconds, completed
/// at).
type Help = (i64, DateTime<Utc>, i64, i64, Option<DateTime<Utc>>);

/// What was seeded, row by row, so the expected figures can be summed by hand.
#[derive(Default)]
struct Expected {
    /// (organization, starts, status)
    events: Vec<(i64, DateTime<Utc>, &'static str)>,
    /// (organization, starts, full, cancelled)
    shifts: Vec<(i64, DateTime<Utc>, bool, bool)>,
    /// (organization, starts, volunteer, status)
    signups: Vec<(i64, DateTime<Utc>, i64, &'static str)>,
    /// (organization, served at, volunteer, minutes, approved)
    records: Vec<(i64, DateTime<Utc>, i64, i64, bool)>,
    help: Vec<Help>,
    /// (organization, at, fen)
    donations: Vec<(i64, DateTime<Utc>, i64)>,
    /// (organization, at, fen)
    disbursements: Vec<(i64, DateTime<Utc>, i64)>,
}

impl Expected {
    fn figures(&self, orgs: &[i64], from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
        let inside = |o: &i64, t: &DateTime<Utc>| orgs.contains(o) && *t >= from && *t < to;
        let mut people: Vec<i64> = self
            .signups
            .iter()
            .filter(|s| inside(&s.0, &s.1) && ["CONFIRMED", "ATTENDED"].contains(&s.3))
            .map(|s| s.2)
            .chain(self.help.iter().filter(|h| inside(&h.0, &h.1)).map(|h| h.2))
            .collect();
        people.sort_unstable();
        people.dedup();
        let approved: Vec<_> = self
            .records
            .iter()
            .filter(|r| r.4 && inside(&r.0, &r.1))
            .collect();
        let mut active: Vec<i64> = approved.iter().map(|r| r.2).collect();
        active.sort_unstable();
        active.dedup();
        let mut responses: Vec<i64> = self
            .help
            .iter()
            .filter(|h| inside(&h.0, &h.1))
            .map(|h| h.3)
            .collect();
        responses.sort_unstable();
        let median = match responses.len() {
            0 => Value::Null,
            n if n % 2 == 1 => json!(responses[n / 2] as f64 / 60.0),
            n => json!((responses[n / 2 - 1] + responses[n / 2]) as f64 / 120.0),
        };
        json!({
            "volunteerCount": people.len(),
            "activeVolunteerCount": active.len(),
            "approvedMinutes": approved.iter().map(|r| r.3).sum::<i64>(),
            "eventCount": self.events.iter().filter(|e| inside(&e.0, &e.1) && ["PUBLISHED", "COMPLETED"].contains(&e.2)).count(),
            "shiftsFilled": self.shifts.iter().filter(|s| inside(&s.0, &s.1) && s.2 && !s.3).count(),
            "donationsFen": self.donations.iter().filter(|d| inside(&d.0, &d.1)).map(|d| d.2).sum::<i64>(),
            "disbursedFen": self.disbursements.iter().filter(|d| inside(&d.0, &d.1)).map(|d| d.2).sum::<i64>(),
            "helpRequestsResolved": self.help.iter().filter(|h| h.4.is_some_and(|c| orgs.contains(&h.0) && c >= from && c < to)).count(),
            "medianResponseMinutes": median,
        })
    }
}

#[tokio::test]
async fn station_district_and_city_figures_equal_hand_sums() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let d2 = app
        .create_org(&w.root.access, "太仓市", "DISTRICT_CENTER", Some(&w.city))
        .await;
    let s3 = app
        .create_org(&w.root.access, "城厢社工站", "STATION", Some(&d2))
        .await;
    let (city, district, station, other, d2, s3) = (
        key(&w.city),
        key(&w.district),
        key(&w.station),
        key(&w.other_station),
        key(&d2),
        key(&s3),
    );
    let vols: Vec<i64> = app
        .bulk_volunteers(8, "1373000")
        .await
        .into_iter()
        .map(|v| v.0)
        .collect();
    let creator = w.root.account_key();
    let db = &app.state.db;
    let now = Utc::now();
    let day = |d: i64| now + Duration::days(d) + Duration::minutes(d * 7);
    let offsets = [-20, -10, -1, 5, 20];
    let mut x = Expected::default();
    let mut next_id = 1_000_i64;
    let mut id = || {
        next_id += 1;
        next_id
    };

    for (j, &org) in [city, district, station, other, d2, s3].iter().enumerate() {
        for k in 0..6usize {
            let starts = day(offsets[(j + k) % 5]);
            let status = [
                "PUBLISHED",
                "COMPLETED",
                "DRAFT",
                "CANCELLED",
                "PUBLISHED",
                "PUBLISHED",
            ][k];
            let (event, shift) = (id(), id());
            exec(db, "INSERT INTO charity_event (id, organization_id, title, description, category, address, latitude, longitude, starts_at, ends_at, status, created_by, created_at, updated_at, auto_approve_verified) VALUES (?, ?, 'e', '', 'ELDERLY_CARE', '', 31.3, 120.6, ?, ?, ?, ?, ?, ?, false)",
                vec![event.into(), org.into(), starts.into(), (starts + Duration::hours(8)).into(), status.into(), creator.into(), now.into(), now.into()]).await;
            x.events.push((org, starts, status));
            let capacity = 2 + (k % 3) as i32;
            let full = (j + k) % 2 == 0;
            let cancelled = k % 5 == 4;
            exec(db, "INSERT INTO shift (id, event_id, title, description, starts_at, ends_at, capacity, confirmed_count, waitlist_enabled, waitlist_seq, required_skills, check_in_radius_meters, check_in_opens_minutes, status, created_at, updated_at) VALUES (?, ?, 's', '', ?, ?, ?, ?, false, 0, '[]', 200, 30, ?, ?, ?)",
                vec![shift.into(), event.into(), starts.into(), (starts + Duration::hours(2)).into(), capacity.into(), (if full { capacity } else { 1 }).into(), (if cancelled { "CANCELLED" } else { "OPEN" }).into(), now.into(), now.into()]).await;
            x.shifts.push((org, starts, full, cancelled));
            let attended = vols[(j * 3 + k) % 8];
            let second = vols[(j * 3 + k + 1) % 8];
            let second_status = ["CONFIRMED", "CANCELLED"][k % 2];
            let signup = id();
            for (sid, who, st) in [
                (signup, attended, "ATTENDED"),
                (id(), second, second_status),
            ] {
                exec(db, "INSERT INTO signup (id, shift_id, account_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    vec![sid.into(), shift.into(), who.into(), st.into(), now.into(), now.into()]).await;
                x.signups.push((org, starts, who, st));
            }
            let approved = k % 3 != 1;
            let minutes = 30 + 7 * k as i64 + j as i64;
            exec(db, "INSERT INTO service_record (signup_id, account_id, shift_id, organization_id, category, served_at, minutes, status, verified, flagged, created_at, updated_at) VALUES (?, ?, ?, ?, 'ELDERLY_CARE', ?, ?, ?, true, false, ?, ?)",
                vec![signup.into(), attended.into(), shift.into(), org.into(), starts.into(), minutes.into(), (if approved { "APPROVED" } else { "PENDING" }).into(), now.into(), now.into()]).await;
            x.records.push((org, starts, attended, minutes, approved));

            if k < 3 {
                let accepted = day(offsets[(j + 2 * k) % 5]);
                let response = 60 * (5 + 3 * j as i64 + 11 * k as i64);
                let completed = match k {
                    0 => Some(accepted + Duration::hours(1)),
                    2 => Some(accepted + Duration::days(12)),
                    _ => None,
                };
                let helper = vols[(j + k) % 8];
                let (request, served) = (id(), minutes + 5);
                exec(db, "INSERT INTO help_request (id, organization_id, title, details, category, urgency, latitude, longitude, needed_skills, status, reported_by, assignee_id, reported_at, dispatched_at, accepted_at, response_seconds, completed_at, updated_at) VALUES (?, ?, 'h', '', 'ELDERLY_CARE', 'NORMAL', 31.3, 120.6, '[]', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    vec![request.into(), org.into(), (if completed.is_some() { "COMPLETED" } else { "ACCEPTED" }).into(), creator.into(), helper.into(), (accepted - Duration::seconds(response)).into(), accepted.into(), accepted.into(), response.into(), completed.into(), now.into()]).await;
                x.help.push((org, accepted, helper, response, completed));
                if completed.is_some() {
                    // Its approved record counts like a shift's.
                    exec(db, "INSERT INTO service_record (help_request_id, account_id, organization_id, category, served_at, minutes, status, verified, flagged, created_at, updated_at) VALUES (?, ?, ?, 'ELDERLY_CARE', ?, ?, 'APPROVED', false, false, ?, ?)",
                        vec![request.into(), helper.into(), org.into(), accepted.into(), served.into(), now.into(), now.into()]).await;
                    x.records.push((org, accepted, helper, served, true));
                }
            }
        }
        // A fund and a campaign, with money moving at various times.
        let (fund, campaign) = (id(), id());
        exec(db, "INSERT INTO charity_fund (id, organization_id, name, purpose, balance_fen, donated_fen, disbursed_fen, created_by, created_at) VALUES (?, ?, 'f', '', 0, 0, 0, ?, ?)",
            vec![fund.into(), org.into(), creator.into(), now.into()]).await;
        exec(db, "INSERT INTO campaign (id, organization_id, title, description, status, starts_at, ends_at, created_by, created_at, updated_at, raised_fen) VALUES (?, ?, 'c', '', 'PUBLISHED', ?, ?, ?, ?, ?, 0)",
            vec![campaign.into(), org.into(), day(-30).into(), day(30).into(), creator.into(), now.into(), now.into()]).await;
        for (k, &off) in offsets.iter().enumerate() {
            let at = day(off);
            let fen = 100 * (j as i64 + 1) + k as i64;
            let (to_fund, to_campaign) = if k % 2 == 0 {
                (Some(fund), None)
            } else {
                (None, Some(campaign))
            };
            exec(db, "INSERT INTO donation (receipt_number, fund_id, campaign_id, account_id, amount_fen, donor_name, anonymous, message, created_at, status, channel, confirmed_at) VALUES (?, ?, ?, ?, ?, 'd', false, '', ?, 'CONFIRMED', 'UNVERIFIED', ?)",
                vec![format!("TXR-T-{}", id()).into(), to_fund.into(), to_campaign.into(), vols[0].into(), fen.into(), at.into(), at.into()]).await;
            x.donations.push((org, at, fen));
            // The same gift started online and never paid: no money, in no figure.
            exec(db, "INSERT INTO donation (receipt_number, fund_id, campaign_id, account_id, amount_fen, donor_name, anonymous, message, created_at, status, channel, out_trade_no) VALUES (?, ?, ?, ?, ?, 'd', false, '', ?, 'PENDING', 'WECHAT_PAY', ?)",
                vec![format!("TXR-P-{}", id()).into(), to_fund.into(), to_campaign.into(), vols[0].into(), fen.into(), at.into(), format!("TXO-P-{}", id()).into()]).await;
            exec(db, "INSERT INTO disbursement (fund_id, amount_fen, purpose, project_ref, created_by, created_at) VALUES (?, ?, 'p', '', ?, ?)",
                vec![fund.into(), (fen / 2).into(), creator.into(), at.into()]).await;
            x.disbursements.push((org, at, fen / 2));
        }
    }

    let (from, to) = (now - Duration::days(15), now + Duration::days(15));
    for (name, id, subtree) in [
        ("station", &w.station, vec![station]),
        ("district", &w.district, vec![district, station, other]),
        (
            "city",
            &w.city,
            vec![city, district, station, other, d2, s3],
        ),
    ] {
        let got = app
            .ok(
                Some(&w.root.access),
                STATS,
                json!({ "o": id, "from": from.to_rfc3339(), "to": to.to_rfc3339() }),
            )
            .await["organization"]["stats"]
            .clone();
        let want = x.figures(&subtree, from, to);
        assert_eq!(got, want, "{name}");
        assert!(
            want["approvedMinutes"].as_i64().unwrap() > 0,
            "{name}: seed something"
        );
    }
    // The whole past and future: every row counts.
    let all = app
        .ok(
            Some(&w.root.access),
            STATS,
            json!({ "o": w.city, "from": day(-60).to_rfc3339(), "to": day(60).to_rfc3339() }),
        )
        .await["organization"]["stats"]
        .clone();
    assert_eq!(
        all,
        x.figures(&[city, district, station, other, d2, s3], day(-60), day(60))
    );

    // The station's organizer reads the station, not the district; volunteers nothing.
    let period = json!({ "from": from.to_rfc3339(), "to": to.to_rfc3339() });
    let with = |o: &str| {
        let mut v = period.clone();
        v["o"] = json!(o);
        v
    };
    app.ok(Some(&w.organizer.access), STATS, with(&w.station))
        .await;
    assert_eq!(
        app.err_code(Some(&w.organizer.access), STATS, with(&w.district))
            .await,
        "FORBIDDEN"
    );
    let vol = app.register("13800000099", "小孙").await;
    assert_eq!(
        app.err_code(Some(&vol.access), STATS, with(&w.station))
            .await,
        "FORBIDDEN"
    );
    // A backwards period is refused.
    let mut backwards = with(&w.station);
    backwards["from"] = json!(to.to_rfc3339());
    backwards["to"] = json!(from.to_rfc3339());
    assert_eq!(
        app.err_code(Some(&w.organizer.access), STATS, backwards)
            .await,
        "BAD_USER_INPUT"
    );
}

/// City 1 → districts 2–11 → stations 12–111 → rooms 112–2111; 1,000 volunteers; one event
/// and shift per room; 100,000 attended sign-ups with an approved hour each: sign-up `i` is in
/// room `i % 2000` by volunteer `(i % 1000 + i / 2000) % 1000`, so a room has 50 volunteers, a
/// station's 20 neighbouring rooms 69, the city all 1,000.
async fn seed_city(db: &TestDb) {
    let now = Utc::now();
    let starts = now - Duration::days(2);
    let c = &db.conn;
    exec(c, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2111) \
        INSERT INTO organization (id, name, kind, parent_id, created_at, updated_at) \
        SELECT i, 'org', CASE WHEN i = 1 THEN 'CITY_CENTER' WHEN i <= 11 THEN 'DISTRICT_CENTER' WHEN i <= 111 THEN 'STATION' ELSE 'ROOM' END, \
        CASE WHEN i = 1 THEN NULL WHEN i <= 11 THEN 1 WHEN i <= 111 THEN 2 + (i - 12) / 10 ELSE 12 + (i - 112) / 20 END, ?, ? FROM n",
        vec![now.into(), now.into()]).await;
    exec(c, "INSERT INTO organization_closure (ancestor_id, descendant_id, depth) SELECT id, id, 0 FROM organization", vec![]).await;
    for depth in 1..=3 {
        // Walk `depth` parents up from every organization.
        let mut joins = String::new();
        for d in 1..=depth {
            joins.push_str(&format!(
                " JOIN organization p{d} ON p{d}.id = {}.parent_id",
                if d == 1 {
                    "o".to_owned()
                } else {
                    format!("p{}", d - 1)
                }
            ));
        }
        exec(c, &format!("INSERT INTO organization_closure (ancestor_id, descendant_id, depth) SELECT p{depth}.id, o.id, {depth} FROM organization o{joins}"), vec![]).await;
    }
    exec(c, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) \
        INSERT INTO account (id, phone, password_hash, display_name, is_system_admin, created_at, updated_at) \
        SELECT 10000 + i, '+86170' || CAST(10000000 + i AS VARCHAR(12)), 'x', 'v', false, ?, ? FROM n",
        vec![now.into(), now.into()]).await;
    exec(c, "INSERT INTO charity_event (id, organization_id, title, description, category, address, latitude, longitude, starts_at, ends_at, status, created_by, created_at, updated_at, auto_approve_verified) \
        SELECT id, id, 'e', '', 'ELDERLY_CARE', '', 31.3, 120.6, ?, ?, 'COMPLETED', 10001, ?, ?, false FROM organization WHERE kind = 'ROOM'",
        vec![starts.into(), (starts + Duration::hours(8)).into(), now.into(), now.into()]).await;
    exec(c, "INSERT INTO shift (id, event_id, title, description, starts_at, ends_at, capacity, confirmed_count, waitlist_enabled, waitlist_seq, required_skills, check_in_radius_meters, check_in_opens_minutes, status, created_at, updated_at) \
        SELECT id, id, 's', '', ?, ?, 50, 50, false, 0, '[]', 200, 30, 'OPEN', ?, ? FROM charity_event",
        vec![starts.into(), (starts + Duration::hours(2)).into(), now.into(), now.into()]).await;
    exec(c, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999) \
        INSERT INTO signup (id, shift_id, account_id, status, created_at, updated_at) \
        SELECT i + 1, 112 + i % 2000, 10001 + (i % 1000 + i / 2000) % 1000, 'ATTENDED', ?, ? FROM n",
        vec![now.into(), now.into()]).await;
    exec(c, "INSERT INTO service_record (signup_id, account_id, shift_id, organization_id, category, served_at, minutes, status, verified, flagged, created_at, updated_at) \
        SELECT s.id, s.account_id, s.shift_id, e.organization_id, 'ELDERLY_CARE', sh.starts_at, 60, 'APPROVED', true, false, ?, ? \
        FROM signup s JOIN shift sh ON sh.id = s.shift_id JOIN charity_event e ON e.id = sh.event_id",
        vec![now.into(), now.into()]).await;
}

#[tokio::test]
async fn a_city_of_two_thousand_rooms_costs_as_few_statements_as_one_room() {
    let db = TestDb::new().await;
    seed_city(&db).await;
    let (from, to) = (Utc::now() - Duration::days(7), Utc::now());
    let mut costs = HashMap::new();
    for (name, org, minutes, people) in [
        ("room", 112, 50 * 60, 50),
        ("station", 12, 1_000 * 60, 69),
        ("city", 1, 100_000 * 60, 1_000),
    ] {
        let (stats, statements) =
            api::db::count_statements(api::stats::of_subtree(&db.conn, org, from, to)).await;
        let stats = stats.expect("stats");
        assert_eq!(stats.approved_minutes, minutes, "{name}");
        assert_eq!(stats.active_volunteer_count, people, "{name}");
        assert_eq!(stats.volunteer_count, people, "{name}");
        assert_eq!(
            stats.event_count,
            minutes / 3_000,
            "{name}: one event per room"
        );
        assert_eq!(stats.shifts_filled, minutes / 3_000, "{name}");
        costs.insert(name, statements);
    }
    assert_eq!(costs["city"], costs["room"], "{costs:?}");
    // Seven figure families, staffing, projects and needs, and care, each one statement (the
    // median is one more read only when there are help requests).
    assert!(costs["city"] <= 10, "{costs:?}");
}
