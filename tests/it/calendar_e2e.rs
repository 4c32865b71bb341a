//! Calendar feeds over HTTP, read with a real iCalendar parser (the `icalendar` crate's, written
//! independently of ours): what a volunteer's feed shows and how it changes, the secret URL and
//! its rotation, and one shift's "add to my calendar" file.

use chrono::{DateTime, Duration, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, DatePerhapsTime, Event, EventLike};
use serde_json::{Value, json};

use crate::harness::{Session, TEST_PASSWORD, TestApp, World, exec};

const FEED: &str = "{ me { calendarFeed { url webcalUrl rotatedAt } } }";
const ROTATE: &str = "mutation { rotateCalendarFeed { url webcalUrl rotatedAt } }";
const SHIFT_URL: &str = "query($id: ID!) { shift(id: $id) { calendarUrl } }";

/// An answer to a GET.
struct Fetched {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Fetched {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

async fn get(app: &TestApp, url: &str, if_none_match: Option<&str>) -> Fetched {
    let mut req = app.client.get(url);
    if let Some(tag) = if_none_match {
        req = req.header("if-none-match", tag);
    }
    let resp = req.send().await.expect("request");
    Fetched {
        status: resp.status().as_u16(),
        headers: resp.headers().clone(),
        body: resp.text().await.expect("body"),
    }
}

/// Parse an iCalendar object, after checking the framing RFC 5545 §3.1 asks of it: CRLF line
/// endings, no content line longer than 75 octets.
fn parse(text: &str) -> Calendar {
    assert!(text.ends_with("\r\n"), "ends with CRLF");
    for line in text.trim_end_matches("\r\n").split("\r\n") {
        assert!(
            !line.contains('\n') && !line.contains('\r'),
            "bare line break"
        );
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
    text.parse::<Calendar>().expect("a valid iCalendar object")
}

fn events(cal: &Calendar) -> Vec<&Event> {
    cal.components.iter().filter_map(|c| c.as_event()).collect()
}

fn calendar_property<'a>(cal: &'a Calendar, key: &str) -> Option<&'a str> {
    cal.properties
        .iter()
        .find(|p| p.key() == key)
        .map(|p| p.value())
}

fn utc(t: Option<DatePerhapsTime>) -> DateTime<Utc> {
    match t {
        Some(DatePerhapsTime::DateTime(CalendarDateTime::Utc(t))) => t,
        other => panic!("not a UTC date-time: {other:?}"),
    }
}

fn status(e: &Event) -> &str {
    e.property_value("STATUS").unwrap_or_default()
}

async fn feed_url(app: &TestApp, token: &str) -> String {
    app.ok(Some(token), FEED, json!({})).await["me"]["calendarFeed"]["url"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The feed of `token`'s account, parsed.
async fn feed(app: &TestApp, token: &str) -> (Calendar, Fetched) {
    let url = feed_url(app, token).await;
    let got = get(app, &url, None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    (parse(&got.body), got)
}

/// `t` to the whole second, as iCalendar writes times.
fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap()
}

fn key_of(id: &str) -> i64 {
    api::ids::decode_any(id).expect("a global ID").1
}

/// A station with a published event, a shift in it, and a volunteer signed up for it.
struct Scene {
    w: World,
    event: String,
    shift: String,
    vol: Session,
    signup: String,
}

async fn scene(app: &TestApp) -> Scene {
    let w = app.world().await;
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "重阳敬老",
            31.38,
            120.98,
            48,
            true,
        )
        .await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 5, true, &[])
        .await;
    let vol = app.register("13800000001", "王小明").await;
    let signed = app.sign_up(&vol.access, &shift, "s1").await;
    assert_eq!(signed["data"]["signUpForShift"]["status"], "CONFIRMED");
    let signup = signed["data"]["signUpForShift"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Scene {
        w,
        event,
        shift,
        vol,
        signup,
    }
}

#[tokio::test]
async fn a_confirmed_shift_appears_with_its_times_title_place_and_organizer() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let shift = app
        .ok(
            None,
            "query($id: ID!) { shift(id: $id) { startsAt endsAt calendarUrl } }",
            json!({ "id": s.shift }),
        )
        .await["shift"]
        .clone();

    let (cal, got) = feed(&app, &s.vol.access).await;

    assert_eq!(got.header("content-type"), "text/calendar; charset=utf-8");
    assert!(got.header("cache-control").starts_with("private, max-age="));
    assert!(got.header("etag").starts_with("W/\""));
    assert_eq!(calendar_property(&cal, "VERSION"), Some("2.0"));
    assert_eq!(calendar_property(&cal, "METHOD"), Some("PUBLISH"));
    assert_eq!(calendar_property(&cal, "CALSCALE"), Some("GREGORIAN"));
    assert!(calendar_property(&cal, "PRODID").is_some());
    assert_eq!(
        calendar_property(&cal, "X-WR-CALNAME"),
        Some("同行志愿服务")
    );
    let evs = events(&cal);
    assert_eq!(evs.len(), 1);
    let e = evs[0];
    assert_eq!(
        e.get_uid(),
        Some(
            format!(
                "shift-{}-signup-{}@tongxing",
                key_of(&s.shift),
                key_of(&s.signup)
            )
            .as_str()
        )
    );
    let starts: DateTime<Utc> = shift["startsAt"].as_str().unwrap().parse().unwrap();
    let ends: DateTime<Utc> = shift["endsAt"].as_str().unwrap().parse().unwrap();
    assert_eq!(utc(e.get_start()), whole_seconds(starts));
    assert_eq!(utc(e.get_end()), whole_seconds(ends));
    assert_eq!(e.get_summary(), Some("重阳敬老 — 助餐"));
    assert_eq!(e.get_location(), Some("前进西路86号"));
    assert_eq!(e.property_value("GEO"), Some("31.380000;120.980000"));
    let description = e.get_description().unwrap();
    assert!(description.contains("主办：亭林社工站"), "{description}");
    assert!(description.contains("报名已确认"), "{description}");
    assert_eq!(status(e), "CONFIRMED");
    assert!(e.get_sequence().is_some());
    assert!(e.get_last_modified().is_some() && e.get_timestamp().is_some());
    // The event links to the shift's own file, the one `Shift.calendarUrl` names.
    assert_eq!(e.get_url(), shift["calendarUrl"].as_str());

    // The webcal:// form is the same address for calendar apps to subscribe to.
    let f = &app.ok(Some(&s.vol.access), FEED, json!({})).await["me"]["calendarFeed"];
    assert_eq!(
        f["webcalUrl"].as_str().unwrap(),
        f["url"]
            .as_str()
            .unwrap()
            .replacen("http://", "webcal://", 1)
    );
    assert!(f["rotatedAt"].is_null());
}

#[tokio::test]
async fn chinese_text_with_commas_semicolons_and_backslashes_survives_escaping_and_folding() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let title = "重阳节敬老, 助餐;送餐\\探访：独居老人";
    let address = "苏州市昆山市亭林镇前进西路86号，东门；二楼\\活动室, 近地铁站; 请从侧门进入";
    let shift_title =
        "为独居老人送午餐，陪聊；量血压,读报;打扫卫生——请带好工作证与口罩，准时到达集合点";
    let shift_description = "集合：8:30，东门；\n带上：口罩, 工作证\\志愿者马甲\n\t联系人：张阿姨";
    let starts = Utc::now() + Duration::hours(30);
    let event = app
        .ok(
            Some(&w.organizer.access),
            "mutation($i: CreateEventInput!) { createEvent(input: $i) { id } }",
            json!({ "i": {
                "organizationId": w.station, "title": title, "category": "ELDERLY_CARE",
                "address": address, "latitude": 31.38, "longitude": 120.98,
                "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(8)).to_rfc3339()
            } }),
        )
        .await["createEvent"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { publishEvent(id: $id) { id } }",
        json!({ "id": event }),
    )
    .await;
    let shift = app
        .ok(
            Some(&w.organizer.access),
            "mutation($i: CreateShiftInput!) { createShift(input: $i) { id } }",
            json!({ "i": {
                "eventId": event, "title": shift_title, "description": shift_description,
                "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(2)).to_rfc3339(),
                "capacity": 3
            } }),
        )
        .await["createShift"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let vol = app.register("13800000001", "王小明").await;
    app.sign_up(&vol.access, &shift, "s1").await;

    let (cal, got) = feed(&app, &vol.access).await;

    // Long lines were folded (and, `parse` checked, never past 75 octets).
    assert!(got.body.contains("\r\n "), "folded lines");
    let e = events(&cal)[0];
    assert_eq!(e.get_summary().unwrap(), format!("{title} — {shift_title}"));
    assert_eq!(e.get_location(), Some(address));
    let description = e.get_description().unwrap();
    assert!(
        description.ends_with(&format!("\n\n{shift_description}")),
        "{description:?}"
    );
    assert!(description.contains(&format!("地点：{address}\n")));

    // The shift's own file carries the same text.
    let url = app.ok(None, SHIFT_URL, json!({ "id": shift })).await["shift"]["calendarUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let one = get(&app, &url, None).await;
    assert_eq!(one.status, 200, "{}", one.body);
    let cal = parse(&one.body);
    assert_eq!(
        events(&cal)[0].get_summary().unwrap(),
        format!("{title} — {shift_title}")
    );
}

#[tokio::test]
async fn cancellations_and_the_waitlist_show_as_cancelled_and_tentative() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let small = app
        .shift_at(
            &s.w.organizer.access,
            &s.event,
            Utc::now() + Duration::hours(52),
            1,
            true,
            &[],
        )
        .await;
    let other = app.register("13800000002", "李四").await;
    app.sign_up(&other.access, &small, "o1").await;
    let waiting = app.sign_up(&s.vol.access, &small, "v2").await["data"]["signUpForShift"].clone();
    assert_eq!(waiting["status"], "WAITLISTED");

    let (cal, _) = feed(&app, &s.vol.access).await;
    let evs = events(&cal);
    assert_eq!(evs.len(), 2);
    let waitlisted_uid = format!(
        "shift-{}-signup-{}@tongxing",
        key_of(&small),
        key_of(waiting["id"].as_str().unwrap())
    );
    let w = evs
        .iter()
        .find(|e| e.get_uid() == Some(waitlisted_uid.as_str()))
        .expect("the waitlisted sign-up");
    assert_eq!(status(w), "TENTATIVE");
    assert!(w.get_summary().unwrap().starts_with("[候补]"));

    // The place frees up: the same event becomes confirmed.
    let theirs = app
        .ok(
            Some(&other.access),
            "query($id: ID!) { shift(id: $id) { mySignup { id } } }",
            json!({ "id": small }),
        )
        .await["shift"]["mySignup"]["id"]
        .clone();
    app.ok(
        Some(&other.access),
        "mutation($s: ID!) { cancelSignup(signupId: $s) { status } }",
        json!({ "s": theirs }),
    )
    .await;
    let (cal, _) = feed(&app, &s.vol.access).await;
    let promoted = events(&cal)
        .into_iter()
        .find(|e| e.get_uid() == Some(waitlisted_uid.as_str()))
        .cloned()
        .expect("still there");
    assert_eq!(status(&promoted), "CONFIRMED");

    // The volunteer cancels the first shift: it stays in the feed, cancelled, so a subscribed
    // calendar removes it.
    app.ok(
        Some(&s.vol.access),
        "mutation($s: ID!) { cancelSignup(signupId: $s, reason: \"临时有事, 抱歉; 下次\") { status } }",
        json!({ "s": s.signup }),
    )
    .await;
    let (cal, _) = feed(&app, &s.vol.access).await;
    let uid = format!(
        "shift-{}-signup-{}@tongxing",
        key_of(&s.shift),
        key_of(&s.signup)
    );
    let cancelled = events(&cal)
        .into_iter()
        .find(|e| e.get_uid() == Some(uid.as_str()))
        .cloned()
        .expect("the cancelled sign-up");
    assert_eq!(status(&cancelled), "CANCELLED");
    assert!(cancelled.get_summary().unwrap().starts_with("[已取消]"));
    assert!(
        cancelled
            .get_description()
            .unwrap()
            .contains("取消原因：临时有事, 抱歉; 下次")
    );

    // Signing up again: one event for the shift, the new sign-up, confirmed.
    app.sign_up(&s.vol.access, &s.shift, "s1-again").await;
    let (cal, _) = feed(&app, &s.vol.access).await;
    let of_shift: Vec<&Event> = events(&cal)
        .into_iter()
        .filter(|e| {
            e.get_uid()
                .unwrap()
                .starts_with(&format!("shift-{}-", key_of(&s.shift)))
        })
        .collect();
    assert_eq!(of_shift.len(), 1);
    assert_eq!(status(of_shift[0]), "CONFIRMED");
    assert_ne!(of_shift[0].get_uid(), Some(uid.as_str()));

    // The organizers call the small shift off: cancelled in the feed too.
    app.ok(
        Some(&s.w.organizer.access),
        "mutation($id: ID!) { cancelShift(id: $id, reason: \"天气\") { status } }",
        json!({ "id": small }),
    )
    .await;
    let (cal, _) = feed(&app, &s.vol.access).await;
    let called_off = events(&cal)
        .into_iter()
        .find(|e| e.get_uid() == Some(waitlisted_uid.as_str()))
        .cloned()
        .expect("the called-off shift");
    assert_eq!(status(&called_off), "CANCELLED");
}

#[tokio::test]
async fn a_change_to_the_shift_raises_sequence_and_a_stale_etag_gets_the_new_feed() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    // Everything the event shows was last changed an hour ago.
    let hour_ago = Utc::now() - Duration::hours(1);
    for table in ["shift", "charity_event", "organization", "signup"] {
        exec(
            &app.state.db,
            &format!("UPDATE {table} SET updated_at = ?"),
            vec![hour_ago.into()],
        )
        .await;
    }
    let url = feed_url(&app, &s.vol.access).await;
    let before = get(&app, &url, None).await;
    let cal = parse(&before.body);
    let old = events(&cal)[0].clone();
    let etag = before.header("etag").to_owned();
    // Nothing changed: the client's copy is current.
    let again = get(&app, &url, Some(&etag)).await;
    assert_eq!(again.status, 304);
    assert_eq!(again.body, "");
    assert_eq!(again.header("etag"), etag);

    let moved = utc(old.get_start()) + Duration::hours(1);
    app.ok(
        Some(&s.w.organizer.access),
        "mutation($id: ID!, $i: UpdateShiftInput!) { updateShift(id: $id, input: $i) { id } }",
        json!({ "id": s.shift, "i": {
            "title": "午餐配送", "startsAt": moved.to_rfc3339(),
            "endsAt": (moved + Duration::hours(2)).to_rfc3339()
        } }),
    )
    .await;

    let after = get(&app, &url, Some(&etag)).await;
    assert_eq!(after.status, 200, "a stale ETag gets the new feed");
    assert_ne!(after.header("etag"), etag);
    let cal = parse(&after.body);
    let new = events(&cal)[0];
    assert_eq!(new.get_uid(), old.get_uid());
    assert!(
        new.get_sequence().unwrap() > old.get_sequence().unwrap(),
        "{:?} → {:?}",
        old.get_sequence(),
        new.get_sequence()
    );
    assert!(new.get_last_modified().unwrap() > old.get_last_modified().unwrap());
    assert_eq!(utc(new.get_start()), whole_seconds(moved));
    assert_eq!(new.get_summary(), Some("重阳敬老 — 午餐配送"));

    // A change to the event (its address) counts as well.
    let seq = new.get_sequence().unwrap();
    exec(
        &app.state.db,
        "UPDATE shift SET updated_at = ?",
        vec![hour_ago.into()],
    )
    .await;
    exec(
        &app.state.db,
        "UPDATE charity_event SET updated_at = ?",
        vec![hour_ago.into()],
    )
    .await;
    app.ok(
        Some(&s.w.organizer.access),
        "mutation($id: ID!) { updateEvent(id: $id, input: {address: \"十全街1号\"}) { id } }",
        json!({ "id": s.event }),
    )
    .await;
    let cal = parse(&get(&app, &url, None).await.body);
    let moved_place = events(&cal)[0];
    assert_eq!(moved_place.get_location(), Some("十全街1号"));
    assert!(moved_place.get_sequence().unwrap() >= seq);
}

#[tokio::test]
async fn rotating_the_feed_retires_the_old_address_with_the_same_404_as_a_forged_one() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let first = feed_url(&app, &s.vol.access).await;
    assert_eq!(
        feed_url(&app, &s.vol.access).await,
        first,
        "stable until rotated"
    );
    assert_eq!(get(&app, &first, None).await.status, 200);

    let rotated =
        app.ok(Some(&s.vol.access), ROTATE, json!({})).await["rotateCalendarFeed"].clone();
    let second = rotated["url"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert!(rotated["rotatedAt"].is_string());
    assert_eq!(feed_url(&app, &s.vol.access).await, second);

    let old = get(&app, &first, None).await;
    assert_eq!(old.status, 404);
    let new = get(&app, &second, None).await;
    assert_eq!(new.status, 200);
    assert_eq!(events(&parse(&new.body)).len(), 1);

    // A forged token of the same shape answers exactly the same.
    let token = first
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_owned();
    let forged = format!("{}{}", &token[..token.len() - 4], "AAAA");
    let forged = get(&app, &app.url(&format!("/calendar/{forged}.ics")), None).await;
    assert_eq!((forged.status, &forged.body), (old.status, &old.body));
    assert_eq!(forged.header("content-type"), old.header("content-type"));

    // Rotating again retires the second address too.
    let third = app.ok(Some(&s.vol.access), ROTATE, json!({})).await["rotateCalendarFeed"]["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(&app, &second, None).await.status, 404);
    assert_eq!(get(&app, &third, None).await.status, 200);

    // Only the person rotates their feed, signed in.
    assert_eq!(
        app.err_code(None, ROTATE, json!({})).await,
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn forged_and_garbled_tokens_get_404_without_touching_the_database() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let url = feed_url(&app, &s.vol.access).await;
    let token = url
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches(".ics")
        .to_owned();
    let other_server = api::calendar::token::FeedTokens::new(
        b"some-other-server-secret-0123456789",
    )
    .issue(api::calendar::token::FeedClaim {
        account_id: s.vol.account_key(),
        generation: 0,
    });
    let mut flipped = token.clone().into_bytes();
    flipped[3] = if flipped[3] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(flipped).unwrap();
    let paths = [
        format!("/calendar/{flipped}.ics"),
        format!("/calendar/{other_server}.ics"),
        format!("/calendar/{token}"),
        format!("/calendar/{token}x.ics"),
        "/calendar/.ics".to_owned(),
        "/calendar/%E4%B8%AD%E6%96%87.ics".to_owned(),
        format!("/calendar/{}.ics", "A".repeat(token.len())),
    ];
    let router: axum::Router = api::calendar::web::router(app.state.clone());
    for path in &paths {
        let got = get(&app, &app.url(path), None).await;
        assert_eq!(got.status, 404, "{path}");
        assert_eq!(got.header("content-type"), "application/json", "{path}");
        // The same path through the router in-process: no SQL statement at all.
        let (resp, statements) = api::db::count_statements(tower::ServiceExt::oneshot(
            router.clone(),
            axum::http::Request::get(path.as_str())
                .body(axum::body::Body::empty())
                .unwrap(),
        ))
        .await;
        assert_eq!(resp.unwrap().status(), 404, "{path}");
        assert_eq!(statements, 0, "{path} reached the database");
    }
    // The genuine one does read (the generation, then the sign-ups).
    let path = format!("/calendar/{token}.ics");
    let (resp, statements) = api::db::count_statements(tower::ServiceExt::oneshot(
        router,
        axum::http::Request::get(path.as_str())
            .body(axum::body::Body::empty())
            .unwrap(),
    ))
    .await;
    assert_eq!(resp.unwrap().status(), 200);
    assert!((1..=3).contains(&statements), "{statements} statements");
}

#[tokio::test]
async fn another_accounts_sign_ups_and_feed_never_show() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let second = app
        .shift_at(
            &s.w.organizer.access,
            &s.event,
            Utc::now() + Duration::hours(52),
            5,
            true,
            &[],
        )
        .await;
    let other = app.register("13800000002", "李四").await;
    let theirs = app.sign_up(&other.access, &s.shift, "o1").await["data"]["signUpForShift"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.sign_up(&other.access, &second, "o2").await;

    let (mine, _) = feed(&app, &s.vol.access).await;
    let uids: Vec<&str> = events(&mine).iter().filter_map(|e| e.get_uid()).collect();
    assert_eq!(
        uids,
        vec![
            format!(
                "shift-{}-signup-{}@tongxing",
                key_of(&s.shift),
                key_of(&s.signup)
            )
            .as_str()
        ]
    );
    let (theirs_cal, _) = feed(&app, &other.access).await;
    let their_uids: Vec<String> = events(&theirs_cal)
        .iter()
        .filter_map(|e| e.get_uid().map(str::to_owned))
        .collect();
    assert_eq!(their_uids.len(), 2);
    assert!(their_uids.contains(&format!(
        "shift-{}-signup-{}@tongxing",
        key_of(&s.shift),
        key_of(&theirs)
    )));
    assert!(
        !their_uids
            .iter()
            .any(|u| u.ends_with(&format!("signup-{}@tongxing", key_of(&s.signup))))
    );
    assert_ne!(
        feed_url(&app, &s.vol.access).await,
        feed_url(&app, &other.access).await
    );

    // Nobody else reads a person's feed address, through `node` or otherwise: the system
    // administrator, who may see the account, is refused the field; others do not see the
    // account at all.
    let q = "query($id: ID!) { node(id: $id) { ... on Account { calendarFeed { url } } } }";
    let (_, body) = app
        .post(Some(&s.w.root.access), q, json!({ "id": s.vol.account_id }))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{body}"
    );
    for token in [&s.w.root.access, &s.w.organizer.access, &other.access] {
        let (_, body) = app
            .post(Some(token), q, json!({ "id": s.vol.account_id }))
            .await;
        assert!(!body.to_string().contains("/calendar/"), "{body}");
    }
}

#[tokio::test]
async fn a_deleted_accounts_feed_is_gone() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let url = feed_url(&app, &s.vol.access).await;
    assert_eq!(get(&app, &url, None).await.status, 200);
    app.ok(
        Some(&s.vol.access),
        "mutation($p: String!) { deleteMyAccount(password: $p) }",
        json!({ "p": TEST_PASSWORD }),
    )
    .await;
    assert_eq!(get(&app, &url, None).await.status, 404);
}

#[tokio::test]
async fn shift_calendar_url_serves_published_shifts_to_anyone_and_nothing_else() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;

    // Published: anyone gets the link and the file, without signing in.
    let url = app.ok(None, SHIFT_URL, json!({ "id": s.shift })).await["shift"]["calendarUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(url, app.url(&format!("/calendar/shifts/{}.ics", s.shift)));
    let got = get(&app, &url, None).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.header("content-type"), "text/calendar; charset=utf-8");
    assert!(
        got.header("content-disposition")
            .starts_with("attachment; filename=")
    );
    assert!(got.header("cache-control").starts_with("public, max-age="));
    let cal = parse(&got.body);
    assert_eq!(calendar_property(&cal, "METHOD"), Some("PUBLISH"));
    let evs = events(&cal);
    assert_eq!(evs.len(), 1);
    assert_eq!(
        evs[0].get_uid(),
        Some(format!("shift-{}@tongxing", key_of(&s.shift)).as_str())
    );
    assert_eq!(status(evs[0]), "CONFIRMED");
    assert_eq!(evs[0].get_summary(), Some("重阳敬老 — 助餐"));
    // Nothing personal: no sign-up in it.
    assert!(!got.body.contains("signup"));
    // In a list, through `nodes`, the field costs nothing more.
    let list = app
        .ok(
            None,
            "query($e: ID!) { event(id: $e) { shifts { nodes { calendarUrl } } } }",
            json!({ "e": s.event }),
        )
        .await;
    assert_eq!(
        list["event"]["shifts"]["nodes"][0]["calendarUrl"],
        url.as_str()
    );

    // Unpublished: its organizer sees the shift but no link, and the file is not served.
    let draft = app
        .event_at(
            &s.w.organizer.access,
            &s.w.station,
            "筹备中",
            31.38,
            120.98,
            72,
            false,
        )
        .await;
    let hidden = app
        .shift_in(&s.w.organizer.access, &draft, 5, true, &[])
        .await;
    let seen = app
        .ok(
            Some(&s.w.organizer.access),
            SHIFT_URL,
            json!({ "id": hidden }),
        )
        .await;
    assert_eq!(seen["shift"]["calendarUrl"], Value::Null);
    let not_found = get(
        &app,
        &app.url(&format!("/calendar/shifts/{hidden}.ics")),
        None,
    )
    .await;
    assert_eq!(not_found.status, 404);
    for bad in [
        format!("/calendar/shifts/{}.ics", s.event),
        format!("/calendar/shifts/{}", s.shift),
        "/calendar/shifts/nonsense.ics".to_owned(),
        format!(
            "/calendar/shifts/{}.ics",
            api::ids::encode(api::ids::NodeType::Shift, 999_999).as_str()
        ),
    ] {
        assert_eq!(get(&app, &app.url(&bad), None).await.status, 404, "{bad}");
    }

    // Called off: still served (a calendar that imported it learns of it), as cancelled.
    app.ok(
        Some(&s.w.organizer.access),
        "mutation($id: ID!) { cancelShift(id: $id, reason: \"天气\") { status } }",
        json!({ "id": s.shift }),
    )
    .await;
    let cal = parse(&get(&app, &url, None).await.body);
    let e = events(&cal)[0];
    assert_eq!(status(e), "CANCELLED");
    assert!(e.get_description().unwrap().contains("取消原因：天气"));
}

#[tokio::test]
async fn an_api_client_reads_shift_links_but_never_a_persons_feed() {
    let app = TestApp::spawn().await;
    let s = scene(&app).await;
    let created = app
        .ok(
            Some(&s.w.organizer.access),
            crate::clients_e2e::CREATE,
            json!({ "i": { "organizationId": s.w.station, "name": "区平台", "scopes": ["PUBLIC_READ", "ORG_READ"] } }),
        )
        .await;
    let c = &created["createApiClient"];
    let (status, body) = crate::clients_e2e::grant(
        &app,
        c["client"]["clientId"].as_str().unwrap(),
        c["clientSecret"].as_str().unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let bearer = body["access_token"].as_str().unwrap().to_owned();

    let link = app
        .ok(Some(&bearer), SHIFT_URL, json!({ "id": s.shift }))
        .await;
    assert!(link["shift"]["calendarUrl"].as_str().is_some(), "{link}");
    for query in [FEED, ROTATE] {
        let (_, body) = app.post(Some(&bearer), query, json!({})).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{body}"
        );
        assert!(!body.to_string().contains("/calendar/"), "{body}");
    }
}
