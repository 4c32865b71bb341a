//! Notifications beyond the app (issue 19): the outbox delivers each notification once per
//! channel, at least once, through replicas that die mid-send; texts only what matters; holds
//! quiet hours; reminds from the database; honours preferences at once; dead-letters what
//! cannot be sent and lets an admin retry it.

use api::notifications::{outbox, schedule, service, worker};
use chrono::{DateTime, Duration, Utc};
use entity::{
    notification::{self, NotificationKind},
    notification_delivery::{self as delivery, DeliveryStatus},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde_json::{Value, json};

use crate::{
    fakenotify::{FakeSms, FakeWechat},
    harness::TestApp,
};

const SETTINGS: &str = "mutation($i: NotificationSettingsInput!) {
    updateNotificationSettings(input: $i) { unsubscribed quietHours { from until }
    preferences { category channel enabled } } }";

/// A moment in city time.
fn city(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&format!("{s}+08:00"))
        .unwrap()
        .with_timezone(&Utc)
}

async fn no_quiet_hours(app: &TestApp, token: &str) {
    app.ok(
        Some(token),
        SETTINGS,
        json!({ "i": { "quietHours": null } }),
    )
    .await;
}

async fn deliveries(app: &TestApp) -> Vec<delivery::Model> {
    delivery::Entity::find().all(&app.state.db).await.unwrap()
}

async fn notifications_of(app: &TestApp, account: i64) -> Vec<notification::Model> {
    notification::Entity::find()
        .filter(notification::Column::AccountId.eq(account))
        .all(&app.state.db)
        .await
        .unwrap()
}

/// Write `kind` notices about distinct subjects for `accounts`, as a service would.
async fn tell(app: &TestApp, kind: NotificationKind, accounts: &[i64], urgent: bool) {
    let txn = app.state.db.begin().await.unwrap();
    service::write(
        &txn,
        accounts
            .iter()
            .map(|a| service::Notice::subject(kind, *a, *a).urgent(urgent))
            .collect(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
}

/// A promotion within 24 h of the shift: one text message, signed and templated, however often
/// the worker runs and the sign-up is retried; what does not matter is not texted.
#[tokio::test]
async fn a_promotion_is_texted_once_with_the_template() {
    let sms = FakeSms::start().await;
    let app = TestApp::spawn_with(|c| sms.configure(c)).await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app.station_event(&w, "敬老院陪伴").await;
    let shift = app.shift_in(org, &event, 1, true, &[]).await;
    let a = app.bulk_volunteers(2, "1380071").await;
    for (_, token) in &a {
        no_quiet_hours(&app, token).await;
    }
    let first = app.sign_up(&a[0].1, &shift, "k-a").await;
    app.sign_up(&a[1].1, &shift, "k-b").await;
    app.sign_up(&a[1].1, &shift, "k-b").await; // the phone retries
    app.ok(
        Some(&a[0].1),
        "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
        json!({ "id": first["data"]["signUpForShift"]["id"] }),
    )
    .await;
    let now = Utc::now();
    let round = worker::run_once(&app.state, now).await;
    // SIGNED_UP, WAITLISTED, PROMOTED (and the organizers' invitations of `world`).
    assert!(round.planned >= 3, "{round:?}");
    worker::run_once(&app.state, now).await;
    worker::run_once(&app.state, now + Duration::minutes(5)).await;

    // One text: B's promotion, with the notice template and its parameters.
    assert_eq!(sms.field("TemplateCode"), ["SMS_PROMOTED"]);
    assert_eq!(sms.field("PhoneNumbers"), ["13800710001"]);
    let params: Value = serde_json::from_str(&sms.field("TemplateParam")[0]).unwrap();
    assert!(
        params["title"].as_str().unwrap().contains("敬老院陪伴"),
        "{params}"
    );
    assert!(params["time"].as_str().unwrap().contains('月'), "{params}");
    let d = deliveries(&app).await;
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].status, DeliveryStatus::Sent);
    assert_eq!(sms.field("OutId"), [format!("n{}", d[0].id)]);
    let metrics = app
        .client
        .get(format!("http://{}/metrics", app.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"tongxing_notifications_total{channel="SMS",outcome="sent"} 1"#),
        "{metrics}"
    );
}

/// Quiet hours hold pushes until they end; urgent help offers pass.
#[tokio::test]
async fn quiet_hours_hold_and_urgent_help_passes() {
    let sms = FakeSms::start().await;
    let app = TestApp::spawn_with(|c| sms.configure(c)).await;
    let people = app.bulk_volunteers(2, "1380072").await;
    let (calm, urgent) = (people[0].0, people[1].0);
    tell(&app, NotificationKind::ShiftCancelled, &[calm], false).await;
    tell(&app, NotificationKind::HelpOffered, &[urgent], true).await;
    let night = city("2026-12-07T23:30:00");
    worker::run_once(&app.state, night).await;
    assert_eq!(sms.field("TemplateCode"), ["SMS_HELP"]);
    let held = deliveries(&app)
        .await
        .into_iter()
        .find(|d| d.status == DeliveryStatus::Pending)
        .expect("the cancellation waits");
    assert_eq!(held.next_at, city("2026-12-08T08:00:00"));
    worker::run_once(&app.state, city("2026-12-08T07:59:00")).await;
    assert_eq!(sms.field("TemplateCode").len(), 1);
    worker::run_once(&app.state, city("2026-12-08T08:00:30")).await;
    assert_eq!(sms.field("TemplateCode"), ["SMS_HELP", "SMS_CANCELLED"]);
    // Quiet hours of one's own: 12:00–14:00 holds a message at noon.
    app.ok(
        Some(&people[0].1),
        SETTINGS,
        json!({ "i": { "quietHours": { "from": "12:00", "until": "14:00" } } }),
    )
    .await;
    tell(&app, NotificationKind::SignupCancelled, &[calm], false).await;
    worker::run_once(&app.state, city("2026-12-08T12:30:00")).await;
    assert_eq!(sms.field("TemplateCode").len(), 2);
    worker::run_once(&app.state, city("2026-12-08T14:00:00")).await;
    assert_eq!(sms.field("TemplateCode").len(), 3);
}

/// A replica that dies mid-send loses nothing (its claims come due when the lease ends), and
/// two replicas sending at once never send one delivery twice.
#[tokio::test]
async fn replicas_share_the_outbox_and_a_dead_one_loses_nothing() {
    let sms = FakeSms::start().await;
    let app = TestApp::spawn_with(|c| sms.configure(c)).await;
    let other = app.spawn_replica().await;
    let people: Vec<i64> = app
        .bulk_volunteers(120, "1380073")
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    tell(&app, NotificationKind::ShiftCancelled, &people, true).await;
    let now = Utc::now();
    // Both plan at once: each notification is planned once.
    let (p1, p2) = tokio::join!(
        outbox::plan(&app.state, now),
        outbox::plan(&other.state, now)
    );
    assert_eq!(p1.unwrap() + p2.unwrap(), 120);
    assert_eq!(deliveries(&app).await.len(), 120);

    // A replica claims 30 and dies before sending any.
    let lease = now + Duration::seconds(60);
    let lost = outbox::claim(&app.state.db, now, lease, 30).await.unwrap();
    assert_eq!(lost.len(), 30);
    // Both replicas deliver at once, round after round: the other 90, each once.
    loop {
        let (a, b) = tokio::join!(
            outbox::deliver(&app.state, now),
            outbox::deliver(&other.state, now)
        );
        if a.unwrap() + b.unwrap() == 0 {
            break;
        }
    }
    assert_eq!(sms.field("OutId").len(), 90);
    // When the lease ends, the dead replica's claims are sent by whoever comes first.
    let later = now + Duration::seconds(61);
    let (a, b) = tokio::join!(
        worker::run_once(&app.state, later),
        worker::run_once(&other.state, later)
    );
    assert_eq!(a.claimed + b.claimed, 30);
    let mut out = sms.field("OutId");
    assert_eq!(out.len(), 120);
    out.sort();
    out.dedup();
    assert_eq!(out.len(), 120, "a delivery was sent twice");
    assert!(
        deliveries(&app)
            .await
            .iter()
            .all(|d| d.status == DeliveryStatus::Sent)
    );
}

/// A provider failing is retried with backoff, then dead-lettered with the reason; an admin
/// sees and retries dead letters; nobody else can.
#[tokio::test]
async fn failures_retry_then_dead_letter_and_an_admin_retries() {
    let sms = FakeSms::start().await;
    let app = TestApp::spawn_with(|c| {
        sms.configure(c);
        c.notification_attempts = 3;
    })
    .await;
    let w = app.world().await;
    let person = app.bulk_volunteers(1, "1380074").await[0].0;
    tell(&app, NotificationKind::HelpOffered, &[person], true).await;
    sms.fail_next
        .store(100, std::sync::atomic::Ordering::SeqCst);
    let calls = sms.calls.load(std::sync::atomic::Ordering::SeqCst);
    let mut now = Utc::now();
    worker::run_once(&app.state, now).await;
    let d = &deliveries(&app).await[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Pending, 1));
    assert!(d.next_at >= now + Duration::seconds(30), "backs off");
    assert!(
        d.last_error
            .as_deref()
            .unwrap()
            .contains("BUSINESS_LIMIT_CONTROL")
    );
    for _ in 0..2 {
        now += Duration::hours(2);
        worker::run_once(&app.state, now).await;
    }
    let d = &deliveries(&app).await[0];
    assert_eq!((d.status, d.attempts), (DeliveryStatus::Dead, 3));
    assert_eq!(
        sms.calls.load(std::sync::atomic::Ordering::SeqCst) - calls,
        3
    );

    const DEAD: &str = "{ notificationDeadLetters { totalCount edges { node { id channel status attempts lastError kind } } } }";
    let got = app.ok(Some(&w.root.access), DEAD, json!({})).await;
    let list = &got["notificationDeadLetters"];
    assert_eq!(list["totalCount"], 1);
    let node = &list["edges"][0]["node"];
    assert_eq!(node["kind"], "HELP_OFFERED");
    assert_eq!(node["channel"], "SMS");
    assert!(node["lastError"].as_str().unwrap().contains("busy"));
    let reason = node["lastError"].as_str().unwrap();
    for secret in [
        "1380074",
        crate::fakenotify::SMS_SECRET,
        "Signature",
        "LTAI",
    ] {
        assert!(!reason.contains(secret), "{reason}");
    }
    const RETRY: &str = "mutation($ids: [ID!]) { retryNotificationDeliveries(ids: $ids) }";
    assert_eq!(
        app.err_code(Some(&w.organizer.access), DEAD, json!({}))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            RETRY,
            json!({ "ids": [node["id"]] })
        )
        .await,
        "FORBIDDEN"
    );
    sms.fail_next.store(0, std::sync::atomic::Ordering::SeqCst);
    let n = app
        .ok(Some(&w.root.access), RETRY, json!({ "ids": [node["id"]] }))
        .await;
    assert_eq!(n["retryNotificationDeliveries"], 1);
    worker::run_once(&app.state, Utc::now()).await;
    assert_eq!(deliveries(&app).await[0].status, DeliveryStatus::Sent);
    assert_eq!(sms.field("TemplateCode"), ["SMS_HELP"]);
}

/// Preferences per category and channel, and unsubscribing, take effect at once — also for
/// what is already queued; switched off in the app, a notification is kept but not unread.
#[tokio::test]
async fn preferences_and_unsubscribe_take_effect_at_once() {
    let sms = FakeSms::start().await;
    let app = TestApp::spawn_with(|c| sms.configure(c)).await;
    let people = app.bulk_volunteers(3, "1380075").await;
    for (_, t) in &people {
        no_quiet_hours(&app, t).await;
    }
    // 0: texts about shift changes off, and the app's badge for them too.
    let got = app
        .ok(
            Some(&people[0].1),
            SETTINGS,
            json!({ "i": { "preferences": [
                { "category": "SHIFT_CHANGES", "channel": "SMS", "enabled": false },
                { "category": "SHIFT_CHANGES", "channel": "IN_APP", "enabled": false }
            ] } }),
        )
        .await;
    let prefs = got["updateNotificationSettings"]["preferences"]
        .as_array()
        .unwrap();
    assert_eq!(prefs.len(), 9 * 3);
    assert!(prefs.iter().any(|p| p["category"] == "SHIFT_CHANGES"
        && p["channel"] == "SMS"
        && p["enabled"] == false));
    let ids: Vec<i64> = people.iter().map(|p| p.0).collect();
    tell(&app, NotificationKind::ShiftCancelled, &ids, false).await;
    let now = Utc::now();
    outbox::plan(&app.state, now).await.unwrap();
    assert_eq!(deliveries(&app).await.len(), 2, "0 wanted no text");
    assert!(notifications_of(&app, ids[0]).await[0].read_at.is_some());
    assert!(notifications_of(&app, ids[1]).await[0].read_at.is_none());
    // 1 unsubscribes after the text was queued: it is not sent.
    let got = app
        .ok(
            Some(&people[1].1),
            SETTINGS,
            json!({ "i": { "unsubscribed": true } }),
        )
        .await;
    assert_eq!(got["updateNotificationSettings"]["unsubscribed"], true);
    outbox::deliver(&app.state, now).await.unwrap();
    let sent: Vec<(i64, DeliveryStatus)> = deliveries(&app)
        .await
        .into_iter()
        .map(|d| (d.notification_id, d.status))
        .collect();
    assert!(sent.contains(&(
        notifications_of(&app, ids[1]).await[0].id,
        DeliveryStatus::Skipped
    )));
    assert!(sent.contains(&(
        notifications_of(&app, ids[2]).await[0].id,
        DeliveryStatus::Sent
    )));
    assert_eq!(sms.field("PhoneNumbers").len(), 1);
    // Bad input is refused with the field named.
    let (_, body) = app
        .post(
            Some(&people[2].1),
            SETTINGS,
            json!({ "i": { "quietHours": { "from": "25:00", "until": "08:00" } } }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.quietHours.from"
    );
}

/// Reminders come from the database: a restart or a second replica neither skips nor doubles
/// them; organizations choose when; late sign-ups are not reminded of what they just did.
#[tokio::test]
async fn reminders_fire_once_across_a_restart() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app
        .event_at(org, &w.station, "周末助老", 31.38, 120.98, 72, true)
        .await;
    let shift = app.shift_in(org, &event, 10, false, &[]).await;
    let start: DateTime<Utc> = app
        .ok(
            None,
            "query($id: ID!) { shift(id: $id) { startsAt } }",
            json!({ "id": shift }),
        )
        .await["shift"]["startsAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let people = app.bulk_volunteers(2, "1380076").await;
    app.sign_up(&people[0].1, &shift, "r-1").await;
    let reminders = |n: Vec<notification::Model>| {
        n.into_iter()
            .filter(|n| n.kind == NotificationKind::ShiftReminder)
            .count()
    };
    // The schedule starts a day and a bit before.
    schedule::run(&app.state, start - Duration::hours(25))
        .await
        .unwrap();
    schedule::run(
        &app.state,
        start - Duration::hours(24) + Duration::minutes(1),
    )
    .await
    .unwrap();
    assert_eq!(reminders(notifications_of(&app, people[0].0).await), 1);
    // A restart (a new server on the database) and a second replica, at once.
    let restarted = app.spawn_replica().await;
    let at = start - Duration::hours(24) + Duration::minutes(2);
    let (a, b) = tokio::join!(
        schedule::run(&restarted.state, at),
        schedule::run(&app.state, at)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 0);
    // The second one, two hours before; twice over.
    for s in [&restarted.state, &app.state] {
        schedule::run(s, start - Duration::minutes(119))
            .await
            .unwrap();
    }
    assert_eq!(reminders(notifications_of(&app, people[0].0).await), 2);
    // Someone who signs up after a moment is not reminded of it: nothing comes of the
    // 2-hour moment for a sign-up made after it, even if the schedule had not got there.
    app.sign_up(&people[1].1, &shift, "r-2").await;
    {
        use sea_orm::sea_query::Expr;
        entity::signup::Entity::update_many()
            .col_expr(
                entity::signup::Column::CreatedAt,
                Expr::value(start - Duration::minutes(90)),
            )
            .filter(entity::signup::Column::AccountId.eq(people[1].0))
            .exec(&app.state.db)
            .await
            .unwrap();
    }
    entity::scheduler_mark::Entity::update_many()
        .col_expr(
            entity::scheduler_mark::Column::Until,
            sea_orm::sea_query::Expr::value(start - Duration::minutes(121)),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    schedule::run(&app.state, start - Duration::minutes(40))
        .await
        .unwrap();
    assert_eq!(reminders(notifications_of(&app, people[1].0).await), 0);
    assert_eq!(reminders(notifications_of(&app, people[0].0).await), 2);

    // An organization's own offsets: 30 minutes only (not allowed: 2 minutes).
    const SET: &str = "mutation($o: ID!, $m: [Int!]!) { setOrganizationReminders(organizationId: $o, minutesBefore: $m) }";
    assert_eq!(
        app.err_code(Some(org), SET, json!({ "o": w.station, "m": [2] }))
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.err_code(
            Some(&people[0].1),
            SET,
            json!({ "o": w.station, "m": [30] })
        )
        .await,
        "FORBIDDEN"
    );
    let set = app
        .ok(Some(org), SET, json!({ "o": w.station, "m": [30] }))
        .await;
    assert_eq!(set["setOrganizationReminders"], json!([30]));
    schedule::run(&app.state, start - Duration::minutes(29))
        .await
        .unwrap();
    assert_eq!(reminders(notifications_of(&app, people[0].0).await), 3);
    assert_eq!(reminders(notifications_of(&app, people[1].0).await), 1);

    // The shift moves four hours later after its reminders went out (still inside its event):
    // reminded again, for the new time (30 minutes before it, the organization's choice now).
    let later = start + Duration::hours(4);
    app.ok(
        Some(org),
        "mutation($id: ID!, $i: UpdateShiftInput!) { updateShift(id: $id, input: $i) { id } }",
        json!({ "id": shift, "i": { "startsAt": later.to_rfc3339(), "endsAt": (later + Duration::hours(2)).to_rfc3339() } }),
    )
    .await;
    schedule::run(&app.state, later - Duration::minutes(29))
        .await
        .unwrap();
    assert_eq!(reminders(notifications_of(&app, people[0].0).await), 4);
}

/// Mini-program subscribe messages: the login code links the WeChat user, each accepted
/// consent allows one message, the access token is fetched once and again when WeChat says it
/// is stale, and the message carries the template, page and data.
#[tokio::test]
async fn mini_program_messages_spend_one_consent_each() {
    let wx = FakeWechat::start().await;
    let app = TestApp::spawn_with(|c| wx.configure(c)).await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app.station_event(&w, "社区助餐").await;
    let shift = app.shift_in(org, &event, 1, true, &[]).await;
    let a = app.register("13800007171", "小李").await;
    let b = app.register("13800007172", "老王").await;
    no_quiet_hours(&app, &b.access).await;
    const LINK: &str = "mutation($c: String!) { linkWechat(code: $c) }";
    assert_eq!(
        app.err_code(Some(&b.access), LINK, json!({ "c": "wrong" }))
            .await,
        "BAD_USER_INPUT"
    );
    app.ok(Some(&b.access), LINK, json!({ "c": "code-b" }))
        .await;
    let templates = app
        .ok(
            Some(&b.access),
            "{ notificationTemplates { kind templateId } }",
            json!({}),
        )
        .await;
    assert!(
        templates["notificationTemplates"]
            .as_array()
            .unwrap()
            .contains(&json!({ "kind": "PROMOTED", "templateId": "tmpl-promoted" }))
    );
    const CONSENT: &str = "mutation($t: [String!]!) { recordWechatConsents(templateIds: $t) { templateId remaining } }";
    assert_eq!(
        app.err_code(Some(&b.access), CONSENT, json!({ "t": ["someone-elses"] }))
            .await,
        "BAD_USER_INPUT"
    );
    let c = app
        .ok(Some(&b.access), CONSENT, json!({ "t": ["tmpl-promoted"] }))
        .await;
    assert_eq!(c["recordWechatConsents"][0]["remaining"], 1);

    let first = app.sign_up(&a.access, &shift, "w-a").await;
    app.sign_up(&b.access, &shift, "w-b").await;
    app.ok(
        Some(&a.access),
        "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
        json!({ "id": first["data"]["signUpForShift"]["id"] }),
    )
    .await;
    wx.expire_token(); // nothing fetched yet: the first send fetches anyway
    worker::run_once(&app.state, Utc::now()).await;
    let sent = wx.sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let m = &sent[0];
    assert_eq!(m["touser"], "openid-b");
    assert_eq!(m["template_id"], "tmpl-promoted");
    assert_eq!(m["page"], "pages/notifications/index");
    assert_eq!(m["miniprogram_state"], "formal");
    assert_eq!(
        m["data"]["thing3"]["value"],
        "候补转正：您已获得该班次的名额"
    );
    assert!(
        m["data"]["thing1"]["value"]
            .as_str()
            .unwrap()
            .contains("社区助餐")
    );
    assert!(m["data"]["time2"]["value"].as_str().unwrap().contains('年'));
    // The consent is spent.
    let s = app
        .ok(
            Some(&b.access),
            "{ me { notificationSettings { wechatLinked wechatConsents { templateId remaining } } } }",
            json!({}),
        )
        .await;
    assert_eq!(s["me"]["notificationSettings"]["wechatLinked"], true);
    assert_eq!(
        s["me"]["notificationSettings"]["wechatConsents"][0]["remaining"],
        0
    );
    // WeChat says the token went stale: fetched again once, and the message goes.
    app.ok(Some(&b.access), CONSENT, json!({ "t": ["tmpl-promoted"] }))
        .await;
    wx.expire_token();
    let before = wx.tokens.load(std::sync::atomic::Ordering::SeqCst);
    let b_key = b.account_key();
    let txn = app.state.db.begin().await.unwrap();
    service::write(
        &txn,
        vec![service::Notice::subject(
            NotificationKind::Promoted,
            b_key,
            999,
        )],
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    worker::run_once(&app.state, Utc::now()).await;
    assert_eq!(wx.sent.lock().unwrap().len(), 2);
    assert_eq!(
        wx.tokens.load(std::sync::atomic::Ordering::SeqCst),
        before + 1
    );
    // No consent left: the next one is not even queued for WeChat.
    let txn = app.state.db.begin().await.unwrap();
    service::write(
        &txn,
        vec![service::Notice::subject(
            NotificationKind::Promoted,
            b_key,
            1000,
        )],
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    worker::run_once(&app.state, Utc::now()).await;
    assert_eq!(wx.sent.lock().unwrap().len(), 2);
}

/// Each trigger writes one notification per person, also when repeated.
#[tokio::test]
async fn each_trigger_tells_each_person_once() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app.station_event(&w, "义诊").await;
    let shift = app.shift_in(org, &event, 5, true, &[]).await;
    let v = app.register("13800007181", "小张").await;
    let me = v.account_key();
    app.sign_up(&v.access, &shift, "t-1").await;
    let kinds = |n: Vec<notification::Model>| -> Vec<NotificationKind> {
        n.into_iter().map(|n| n.kind).collect()
    };
    // The shift moves; the same change again tells nobody anew.
    const MOVE: &str =
        "mutation($id: ID!, $i: UpdateShiftInput!) { updateShift(id: $id, input: $i) { id } }";
    let start: DateTime<Utc> = app
        .ok(
            None,
            "query($id: ID!) { shift(id: $id) { startsAt } }",
            json!({ "id": shift }),
        )
        .await["shift"]["startsAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let moved =
        json!({ "id": shift, "i": { "startsAt": (start + Duration::minutes(30)).to_rfc3339() } });
    app.ok(Some(org), MOVE, moved.clone()).await;
    app.ok(Some(org), MOVE, moved).await;
    app.ok(
        Some(org),
        MOVE,
        json!({ "id": shift, "i": { "capacity": 6 } }),
    )
    .await;
    assert_eq!(
        kinds(notifications_of(&app, me).await),
        [NotificationKind::SignedUp, NotificationKind::ShiftChanged]
    );
    // And back: a second move, told again.
    let back = json!({ "id": shift, "i": { "startsAt": start.to_rfc3339() } });
    app.ok(Some(org), MOVE, back).await;
    assert_eq!(
        kinds(notifications_of(&app, me).await),
        [
            NotificationKind::SignedUp,
            NotificationKind::ShiftChanged,
            NotificationKind::ShiftChanged
        ]
    );
    // Hours served and approved; a certificate issued by staff; an invitation.
    let record = app.serve_an_hour(&v.access, &shift).await;
    let rid = api::ids::encode(api::ids::NodeType::ServiceRecord, record.id);
    if record.status == entity::service_record::RecordStatus::Pending {
        app.ok(
            Some(org),
            "mutation($id: ID!) { approveServiceRecord(id: $id) { status } }",
            json!({ "id": rid }),
        )
        .await;
    }
    const INVITE: &str = "mutation($o: ID!, $p: String!) { addMember(organizationId: $o, phone: $p, role: ORGANIZER) { id } }";
    // Sent twice (a retry): one notice.
    for _ in 0..2 {
        app.ok(
            Some(&w.root.access),
            INVITE,
            json!({ "o": w.station, "p": "13800007181" }),
        )
        .await;
    }
    let got = kinds(notifications_of(&app, me).await);
    assert!(got.contains(&NotificationKind::RecordApproved), "{got:?}");
    assert_eq!(
        got.iter()
            .filter(|k| **k == NotificationKind::Invited)
            .count(),
        1,
        "{got:?}"
    );
    // The app shows the subject, to be opened with node(id:).
    let data = app
        .ok(
            Some(&v.access),
            "{ me { notifications { edges { node { kind subjectId urgent } } } } }",
            json!({}),
        )
        .await;
    let invited = data["me"]["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["kind"] == "INVITED")
        .unwrap();
    assert_eq!(invited["node"]["urgent"], false);
    let subject = &invited["node"]["subjectId"];
    assert!(matches!(
        api::ids::decode_any(&async_graphql::ID(subject.as_str().unwrap().to_owned())),
        Some((api::ids::NodeType::Invitation, _))
    ));
}

/// The app hears of its notifications live, on any replica; nobody hears of another's.
#[tokio::test]
async fn notifications_arrive_live_on_any_replica() {
    use crate::live_e2e::{TRANSPORT_WS, Ws};
    let app = TestApp::spawn().await;
    let replica = app.replica_on_postgres().await;
    let listen_on = replica.as_ref().unwrap_or(&app);
    let w = app.world().await;
    let event = app.station_event(&w, "图书角").await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 5, true, &[])
        .await;
    let elsewhere = app
        .shift_in(&w.organizer.access, &event, 5, true, &[])
        .await;
    let people = app.bulk_volunteers(2, "1380077").await;
    let (mut ws, ack) = Ws::connect(listen_on, TRANSPORT_WS, Some(&people[0].1)).await;
    assert_eq!(ack["type"], "connection_ack");
    ws.subscribe(
        "n",
        "subscription { notificationReceived { kind title shift { id } } }",
        json!({}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // Someone else's sign-up first (another shift): not theirs to hear.
    app.sign_up(&people[1].1, &elsewhere, "live-b").await;
    app.sign_up(&people[0].1, &shift, "live-a").await;
    let data = ws.data_until("n", |_| true).await;
    let got = &data["data"]["notificationReceived"];
    assert_eq!(got["kind"], "SIGNED_UP", "{data}");
    assert_eq!(
        got["shift"]["id"],
        shift.as_str(),
        "another's notification arrived"
    );
    // The next one is theirs too: the organizers cancel the sign-up.
    let mine = notifications_of(&app, people[0].0).await;
    let signup = api::ids::encode(api::ids::NodeType::Signup, mine[0].signup_id.unwrap());
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { cancelSignup(signupId: $id, reason: \"调整\") { status } }",
        json!({ "id": signup }),
    )
    .await;
    let data = ws.data_until("n", |_| true).await;
    assert_eq!(
        data["data"]["notificationReceived"]["kind"], "SIGNUP_CANCELLED",
        "{data}"
    );
}

/// After a shift that ended with a check-in and no check-out, its volunteer is nudged once;
/// at 09:00 staff hear once that records wait for review.
#[tokio::test]
async fn a_missing_check_out_and_the_staff_digest_are_told_once() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app.station_event(&w, "河道清洁").await;
    let open = app.shift_in(org, &event, 5, false, &[]).await;
    let served = app.shift_in(org, &event, 5, false, &[]).await;
    let people = app.bulk_volunteers(2, "1380078").await;
    // One serves an hour: a record waiting for review.
    app.sign_up(&people[1].1, &served, "d-1").await;
    let record = app.serve_an_hour(&people[1].1, &served).await;
    // The other checks in to a shift ending in half an hour and never checks out.
    app.sign_up(&people[0].1, &open, "c-1").await;
    let now = Utc::now();
    app.reschedule_shift(
        &open,
        now - Duration::minutes(30),
        now + Duration::minutes(30),
    )
    .await;
    app.ok(
        Some(&people[0].1),
        "mutation($i: CheckInput!) { checkIn(input: $i) { duplicate } }",
        json!({ "i": { "shiftId": open, "method": "GEO", "location": { "latitude": 31.3801, "longitude": 120.98 }, "clientEventId": "in", "occurredAt": now.to_rfc3339() } }),
    )
    .await;
    schedule::run(&app.state, now).await.unwrap();
    for minutes in [31, 45] {
        schedule::run(&app.state, now + Duration::minutes(minutes))
            .await
            .unwrap();
    }
    let missing = |n: Vec<notification::Model>| {
        n.iter()
            .filter(|n| n.kind == NotificationKind::CheckoutMissing)
            .count()
    };
    assert_eq!(missing(notifications_of(&app, people[0].0).await), 1);
    assert_eq!(missing(notifications_of(&app, people[1].0).await), 0);

    // The digest: 09:00 city time falls in the next run.
    let organizer = api::ids::decode_any(&async_graphql::ID(w.organizer.account_id.clone()))
        .unwrap()
        .1;
    let nine = {
        use chrono::TimeZone;
        let offset = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        let day = (now + Duration::days(1))
            .with_timezone(&offset)
            .date_naive();
        offset
            .from_local_datetime(&day.and_hms_opt(9, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    entity::scheduler_mark::Entity::update_many()
        .col_expr(
            entity::scheduler_mark::Column::Until,
            sea_orm::sea_query::Expr::value(nine - Duration::minutes(1)),
        )
        .exec(&app.state.db)
        .await
        .unwrap();
    for minutes in [1, 60] {
        schedule::run(&app.state, nine + Duration::minutes(minutes))
            .await
            .unwrap();
    }
    let digests = notifications_of(&app, organizer)
        .await
        .into_iter()
        .filter(|n| n.kind == NotificationKind::RecordsAwaitingReview)
        .count();
    assert_eq!(record.status, entity::service_record::RecordStatus::Pending);
    assert_eq!(digests, 1);
}

/// News that went out of date before it could be sent is skipped, not sent: a promotion whose
/// sign-up was cancelled between planning and sending.
#[tokio::test]
async fn out_of_date_news_is_not_sent() {
    let sms = FakeSms::start().await;
    let app = TestApp::spawn_with(|c| sms.configure(c)).await;
    let w = app.world().await;
    let org = &w.organizer.access;
    let event = app.station_event(&w, "夜间送餐").await;
    let shift = app.shift_in(org, &event, 1, true, &[]).await;
    let people = app.bulk_volunteers(2, "1380079").await;
    no_quiet_hours(&app, &people[1].1).await;
    let first = app.sign_up(&people[0].1, &shift, "s-a").await;
    let second = app.sign_up(&people[1].1, &shift, "s-b").await;
    app.ok(
        Some(&people[0].1),
        "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
        json!({ "id": first["data"]["signUpForShift"]["id"] }),
    )
    .await;
    // The promotion's text is queued ...
    let now = Utc::now();
    outbox::plan(&app.state, now).await.unwrap();
    assert_eq!(deliveries(&app).await.len(), 1);
    // ... and the volunteer gives the place up before it goes.
    app.ok(
        Some(&people[1].1),
        "mutation($id: ID!) { cancelSignup(signupId: $id) { status } }",
        json!({ "id": second["data"]["signUpForShift"]["id"] }),
    )
    .await;
    worker::run_once(&app.state, now).await;
    let d = &deliveries(&app).await[0];
    assert_eq!(d.status, DeliveryStatus::Skipped);
    assert!(d.last_error.as_deref().unwrap().contains("cancelled"));
    assert!(sms.field("TemplateCode").is_empty());
}

/// WeChat answering "no consent" (43101) skips the message and zeroes the count, without a
/// dead letter; a message that will never be sent gives its consent back.
#[tokio::test]
async fn a_refused_consent_is_skipped_and_unsent_messages_give_consent_back() {
    let wx = FakeWechat::start().await;
    let app = TestApp::spawn_with(|c| wx.configure(c)).await;
    let people = app.bulk_volunteers(2, "1380080").await;
    const LINK: &str = "mutation($c: String!) { linkWechat(code: $c) }";
    const CONSENT: &str = "mutation($t: [String!]!) { recordWechatConsents(templateIds: $t) { templateId remaining } }";
    for (i, (_, token)) in people.iter().enumerate() {
        no_quiet_hours(&app, token).await;
        app.ok(Some(token), LINK, json!({ "c": format!("code-{i}") }))
            .await;
        for _ in 0..2 {
            app.ok(Some(token), CONSENT, json!({ "t": ["tmpl-promoted"] }))
                .await;
        }
    }
    let consents = |account: i64| {
        let db = app.state.db.clone();
        async move {
            entity::wechat_consent::Entity::find_by_id((account, "tmpl-promoted".to_owned()))
                .one(&db)
                .await
                .unwrap()
                .unwrap()
                .remaining
        }
    };
    wx.refuse_openid("openid-0");
    tell(&app, NotificationKind::Promoted, &[people[0].0], false).await;
    worker::run_once(&app.state, Utc::now()).await;
    let d = &deliveries(&app).await[0];
    assert_eq!(d.status, DeliveryStatus::Skipped, "{d:?}");
    assert_eq!(consents(people[0].0).await, 0);
    // The other switches mini-program messages off after one was queued: skipped at send, and
    // the consent it held comes back.
    tell(&app, NotificationKind::Promoted, &[people[1].0], false).await;
    outbox::plan(&app.state, Utc::now()).await.unwrap();
    assert_eq!(consents(people[1].0).await, 1);
    app.ok(
        Some(&people[1].1),
        SETTINGS,
        json!({ "i": { "preferences": [{ "category": "SIGNUPS", "channel": "WECHAT", "enabled": false }] } }),
    )
    .await;
    outbox::deliver(&app.state, Utc::now()).await.unwrap();
    assert_eq!(consents(people[1].0).await, 2);
    assert!(wx.sent.lock().unwrap().is_empty());
}
