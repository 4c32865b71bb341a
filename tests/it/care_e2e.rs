//! The register of people served (issue 21, part 1): staff only and audited, masked in lists,
//! sealed at rest, kept under consent (a guardian's for a minor), erased on request with the
//! counts kept.

use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::harness::{TestApp, World};

const REGISTER: &str = "mutation($i: RegisterCareRecipientInput!) { registerCareRecipient(input: $i) {
    id name ageGroup categories address needs contacts { name phone } consents { givenBy name purposes } } }";
const LIST: &str = "query($o: ID!) { careRecipients(organizationId: $o) { id name address needs contacts { name } consents { name } categories } }";
const READ: &str = "query($id: ID!) { careRecipient(id: $id) { id name status address needs location { latitude } contacts { name relation phone } consents { id givenBy name means } } }";
const ERASE: &str = "mutation($id: ID!) { eraseCareRecipient(id: $id, reason: PERSON_REQUESTED) { status name erasedAt } }";
const STATS: &str = "query($o: ID!, $f: DateTime!, $t: DateTime!) { organization(id: $o) { stats(from: $f, to: $t) { peopleRegistered } } }";

fn today() -> String {
    (Utc::now() + Duration::hours(8)).date_naive().to_string()
}

fn person(org: &str, name: &str, age: &str, given_by: &str, purposes: &[&str]) -> Value {
    json!({ "i": {
        "organizationId": org, "name": name, "ageGroup": age,
        "address": "亭林街道城北社区3栋502", "location": { "latitude": 31.3901, "longitude": 120.9712 },
        "categories": ["BEREAVED_PARENTS", "LIVING_ALONE"], "needs": "每周电话问候，每月入户",
        "contacts": [{ "name": "许小妹", "relation": "侄女", "phone": "13912345678" }],
        "consent": { "givenBy": given_by, "name": "许伯", "purposes": purposes, "means": "WRITTEN", "givenOn": today() }
    } })
}

async fn audited(app: &TestApp, actor: &str, action: &str) -> usize {
    let key = api::ids::decode_any(actor).unwrap().1;
    entity::audit_log::Entity::find()
        .filter(entity::audit_log::Column::ActorId.eq(key))
        .filter(entity::audit_log::Column::Action.eq(action))
        .all(&app.state.db)
        .await
        .unwrap()
        .len()
}

/// The notifications of `kind` written for the account with global ID `account`.
async fn notices(
    app: &TestApp,
    account: &str,
    kind: entity::notification::NotificationKind,
) -> Vec<entity::notification::Model> {
    let key = api::ids::decode_any(account).unwrap().1;
    entity::notification::Entity::find()
        .filter(entity::notification::Column::AccountId.eq(key))
        .filter(entity::notification::Column::Kind.eq(kind))
        .all(&app.state.db)
        .await
        .unwrap()
}

async fn registered(app: &TestApp, w: &World) -> String {
    let data = app
        .ok(
            Some(&w.organizer.access),
            REGISTER,
            person(
                &w.station,
                "许老伯",
                "SENIOR",
                "PERSON",
                &["REGISTER", "CARE_VISITS"],
            ),
        )
        .await;
    let r = &data["registerCareRecipient"];
    assert_eq!(r["name"], "许老伯");
    assert_eq!(r["categories"], json!(["LIVING_ALONE", "BEREAVED_PARENTS"]));
    assert_eq!(r["consents"][0]["name"], "许伯");
    r["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_register_is_the_staffs_masked_in_lists_and_every_read_audited() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let id = registered(&app, &w).await;

    // Sealed at rest: no column of the row holds the name, the address or the contact.
    let key = api::ids::decode_any(&id).unwrap().1;
    let row = entity::care_recipient::Entity::find_by_id(key)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    let raw = format!("{row:?}");
    for secret in ["许老伯", "城北社区", "13912345678"] {
        assert!(!raw.contains(secret), "{secret} is stored in the clear");
        let sealed = row.sealed.as_ref().unwrap();
        assert!(
            !sealed.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} in the sealed bytes"
        );
    }

    // A social worker of the station reads the list masked, then the whole record.
    let worker = app.register("13800007001", "社工小周").await;
    app.add_member(&w.root.access, &w.station, "13800007001", "SOCIAL_WORKER")
        .await;
    let list = app
        .ok(Some(&worker.access), LIST, json!({ "o": w.station }))
        .await;
    assert_eq!(
        list["careRecipients"],
        json!([{ "id": id, "name": "许**", "address": null, "needs": null, "contacts": [], "consents": [],
                 "categories": ["LIVING_ALONE", "BEREAVED_PARENTS"] }])
    );
    // The district's administrators see it too, from above; a mere member of the district
    // (not its administrator) is not staff of the station, so lists nothing of it.
    let from_above = app
        .ok(Some(&w.root.access), LIST, json!({ "o": w.district }))
        .await;
    assert_eq!(from_above["careRecipients"].as_array().unwrap().len(), 1);
    let district_member = app.register("13800007003", "区里的组织者").await;
    app.add_member(&w.root.access, &w.district, "13800007003", "ORGANIZER")
        .await;
    let listed = app
        .ok(
            Some(&district_member.access),
            LIST,
            json!({ "o": w.district }),
        )
        .await;
    assert_eq!(listed["careRecipients"], json!([]));
    assert_eq!(
        app.err_code(Some(&district_member.access), READ, json!({ "id": id }))
            .await,
        "FORBIDDEN"
    );
    let whole = app
        .ok(Some(&worker.access), READ, json!({ "id": id }))
        .await;
    let whole = &whole["careRecipient"];
    assert_eq!(whole["name"], "许老伯");
    assert_eq!(whole["address"], "亭林街道城北社区3栋502");
    assert_eq!(whole["contacts"][0]["phone"], "13912345678");
    assert_eq!(whole["location"]["latitude"], 31.3901);
    assert_eq!(audited(&app, &worker.account_id, "care.list").await, 1);
    assert_eq!(audited(&app, &worker.account_id, "care.read").await, 1);
    assert_eq!(
        audited(&app, &w.organizer.account_id, "care.register").await,
        1
    );

    // Refused, and on record: a volunteer, another station's organizer, in a list or one by
    // one; nobody signed in is not even asked.
    let volunteer = app.register("13800007002", "志愿者").await;
    for who in [&volunteer, &w.other_organizer] {
        assert_eq!(
            app.err_code(Some(&who.access), LIST, json!({ "o": w.station }))
                .await,
            "FORBIDDEN"
        );
        assert_eq!(
            app.err_code(Some(&who.access), READ, json!({ "id": id }))
                .await,
            "FORBIDDEN"
        );
        assert_eq!(audited(&app, &who.account_id, "care.refused").await, 2);
        assert_eq!(audited(&app, &who.account_id, "care.read").await, 0);
    }
    assert_eq!(
        app.err_code(None, LIST, json!({ "o": w.station })).await,
        "UNAUTHENTICATED"
    );

    // An API client of the station, whatever its scopes, is refused before anything runs.
    let created = app
        .ok(
            Some(&w.organizer.access),
            crate::clients_e2e::CREATE,
            json!({ "i": { "organizationId": w.station, "name": "区平台", "scopes": ["PUBLIC_READ", "ORG_READ", "HELP_REQUESTS_WRITE"] } }),
        )
        .await;
    let (_, token) = crate::clients_e2e::grant(
        &app,
        created["createApiClient"]["client"]["clientId"]
            .as_str()
            .unwrap(),
        created["createApiClient"]["clientSecret"].as_str().unwrap(),
    )
    .await;
    let token = token["access_token"].as_str().unwrap();
    for (q, v) in [
        (LIST, json!({ "o": w.station })),
        (READ, json!({ "id": id })),
    ] {
        assert_eq!(app.err_code(Some(token), q, v).await, "FORBIDDEN");
    }
}

#[tokio::test]
async fn consent_comes_first_and_erasure_keeps_only_the_counts() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    // No consent to keep the record: refused. A minor's consent is a guardian's.
    for (input, field) in [
        (
            person(&w.station, "许老伯", "SENIOR", "PERSON", &["CARE_VISITS"]),
            "input.consent.purposes",
        ),
        (
            person(&w.station, "小宇", "MINOR", "PERSON", &["REGISTER"]),
            "input.consent.givenBy",
        ),
        (
            person(&w.district, "许老伯", "SENIOR", "PERSON", &["REGISTER"]),
            "input.organizationId",
        ),
    ] {
        let token = if field == "input.organizationId" {
            &w.root.access
        } else {
            &w.organizer.access
        };
        let (_, body) = app.post(Some(token), REGISTER, input).await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    assert_eq!(
        entity::care_recipient::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
            .len(),
        0,
        "nothing half-written"
    );
    let child = app
        .ok(
            Some(&w.organizer.access),
            REGISTER,
            person(&w.station, "小宇", "MINOR", "GUARDIAN", &["REGISTER"]),
        )
        .await["registerCareRecipient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let elder = registered(&app, &w).await;

    let period = |o: &str| json!({ "o": o, "f": (Utc::now() - Duration::days(1)).to_rfc3339(), "t": (Utc::now() + Duration::days(1)).to_rfc3339() });
    let before = app
        .ok(Some(&w.root.access), STATS, period(&w.district))
        .await;
    assert_eq!(before["organization"]["stats"]["peopleRegistered"], 2);

    // Only an administrator erases; once.
    assert_eq!(
        app.err_code(Some(&w.organizer.access), ERASE, json!({ "id": elder }))
            .await,
        "FORBIDDEN"
    );
    let gone = app
        .ok(Some(&w.root.access), ERASE, json!({ "id": elder }))
        .await;
    assert_eq!(gone["eraseCareRecipient"]["status"], "ERASED");
    assert!(gone["eraseCareRecipient"]["name"].is_null());
    assert_eq!(
        app.err_code(Some(&w.root.access), ERASE, json!({ "id": elder }))
            .await,
        "CONFLICT"
    );
    let key = api::ids::decode_any(&elder).unwrap().1;
    let row = entity::care_recipient::Entity::find_by_id(key)
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.sealed.is_none());
    assert!(
        entity::care_consent::Entity::find()
            .filter(entity::care_consent::Column::RecipientId.eq(key))
            .all(&app.state.db)
            .await
            .unwrap()
            .iter()
            .all(|c| c.sealed_name.is_none())
    );
    let read = app
        .ok(Some(&w.organizer.access), READ, json!({ "id": elder }))
        .await;
    assert_eq!(read["careRecipient"]["status"], "ERASED");
    assert!(read["careRecipient"]["name"].is_null());
    assert!(read["careRecipient"]["address"].is_null());
    assert_eq!(read["careRecipient"]["consents"][0]["name"], Value::Null);
    // Out of the list, still in the count.
    let list = app
        .ok(Some(&w.organizer.access), LIST, json!({ "o": w.station }))
        .await;
    let ids: Vec<&str> = list["careRecipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [child.as_str()]);
    let after = app
        .ok(Some(&w.root.access), STATS, period(&w.district))
        .await;
    assert_eq!(after["organization"]["stats"]["peopleRegistered"], 2);

    // Consents: another one is recorded and withdrawn once; none for an erased record.
    const RECORD: &str = "mutation($r: ID!, $i: CareConsentInput!) { recordCareConsent(recipientId: $r, input: $i) }";
    let consent = json!({ "givenBy": "GUARDIAN", "name": "小宇妈妈", "purposes": ["CARE_VISITS"], "means": "ELECTRONIC", "givenOn": today() });
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            RECORD,
            json!({ "r": elder, "i": consent })
        )
        .await,
        "CONFLICT"
    );
    let c = app
        .ok(
            Some(&w.organizer.access),
            RECORD,
            json!({ "r": child, "i": consent }),
        )
        .await["recordCareConsent"]
        .as_str()
        .unwrap()
        .to_owned();
    const WITHDRAW: &str = "mutation($id: ID!) { withdrawCareConsent(id: $id) }";
    assert!(
        app.ok(Some(&w.organizer.access), WITHDRAW, json!({ "id": c }))
            .await["withdrawCareConsent"]
            .is_string()
    );
    assert_eq!(
        app.err_code(Some(&w.organizer.access), WITHDRAW, json!({ "id": c }))
            .await,
        "CONFLICT"
    );
    // The last consent to keep the record is not withdrawn: the record is erased instead.
    let first = app
        .ok(Some(&w.organizer.access), READ, json!({ "id": child }))
        .await["careRecipient"]["consents"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        app.err_code(Some(&w.organizer.access), WITHDRAW, json!({ "id": first }))
            .await,
        "CONFLICT"
    );
    let still = app
        .ok(Some(&w.organizer.access), READ, json!({ "id": child }))
        .await;
    assert_eq!(still["careRecipient"]["status"], "ACTIVE");
}

const START: &str = "mutation($i: StartCarePlanInput!) { startCarePlan(input: $i) { id party nextDueOn assignee { id } } }";
const MINE: &str = "{ myCareTasks { id party kind nextDueOn overdue recipient { name address } } }";
const LOG: &str = "mutation($i: LogCareVisitInput!) { logCareVisit(input: $i) { alert nextDueOn helpRequest { id status title } } }";
const DUE: &str = "query($o: ID!, $late: Boolean!) { careTasksDue(organizationId: $o, overdueOnly: $late) { id party overdue nextDueOn } }";

#[tokio::test]
async fn a_plan_needs_consent_its_visits_come_due_and_an_urgent_one_becomes_a_help_request() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let volunteer = app.register("13800007101", "结对志愿者").await;
    let stranger = app.register("13800007102", "别的志愿者").await;
    let elder = registered(&app, &w).await;
    let plan = |tasks: Value| json!({ "i": { "recipientId": elder, "startsOn": today(), "tasks": tasks } });
    let tasks = json!([
        { "party": "COMMUNITY_WORKER", "kind": "PHONE_CALL", "cadence": "WEEKLY", "assigneeId": w.organizer.account_id },
        { "party": "VOLUNTEER", "kind": "HOME_VISIT", "cadence": "MONTHLY", "assigneeId": volunteer.account_id }
    ]);
    // The record's consent covers visits but not sharing with a volunteer: no plan yet.
    assert_eq!(
        app.err_code(Some(&w.organizer.access), START, plan(tasks.clone()))
            .await,
        "CONFLICT"
    );
    app.ok(
        Some(&w.organizer.access),
        "mutation($r: ID!, $i: CareConsentInput!) { recordCareConsent(recipientId: $r, input: $i) }",
        json!({ "r": elder, "i": { "givenBy": "PERSON", "name": "许老伯", "purposes": ["SHARE_WITH_VOLUNTEERS"], "means": "ORAL_RECORDED", "givenOn": today() } }),
    )
    .await;
    // A volunteer cannot start one; the station's staff can, once.
    assert_eq!(
        app.err_code(Some(&volunteer.access), START, plan(tasks.clone()))
            .await,
        "FORBIDDEN"
    );
    let started = app
        .ok(Some(&w.organizer.access), START, plan(tasks.clone()))
        .await;
    assert_eq!(started["startCarePlan"].as_array().unwrap().len(), 2);
    assert_eq!(
        app.err_code(Some(&w.organizer.access), START, plan(tasks))
            .await,
        "CONFLICT"
    );

    // The volunteer's list: the visit due today, with the person to visit; a stranger has
    // nothing and still cannot open the record.
    let mine = app.ok(Some(&volunteer.access), MINE, json!({})).await;
    let task = &mine["myCareTasks"][0];
    assert_eq!(mine["myCareTasks"].as_array().unwrap().len(), 1, "{mine}");
    assert_eq!(task["party"], "VOLUNTEER");
    assert_eq!(task["nextDueOn"], today());
    assert_eq!(task["overdue"], false);
    assert_eq!(task["recipient"]["name"], "许老伯");
    assert_eq!(task["recipient"]["address"], "亭林街道城北社区3栋502");
    assert_eq!(
        audited(&app, &volunteer.account_id, "care.read.task").await,
        1
    );
    let task_id = task["id"].as_str().unwrap().to_owned();
    assert_eq!(
        app.ok(Some(&stranger.access), MINE, json!({})).await["myCareTasks"],
        json!([])
    );
    assert_eq!(
        app.err_code(Some(&stranger.access), READ, json!({ "id": elder }))
            .await,
        "FORBIDDEN"
    );
    // Nor may the stranger log the volunteer's visit.
    let visit = |urgent: bool| {
        json!({ "i": { "taskId": task_id, "visitedOn": today(),
            "health": if urgent { "URGENT" } else { "OK" }, "safety": "OK", "living": "CONCERN", "mood": "OK",
            "notes": "老人摔倒后腿疼，需陪同就医" } })
    };
    assert_eq!(
        app.err_code(Some(&stranger.access), LOG, visit(true)).await,
        "FORBIDDEN"
    );

    // The station sees both tasks due.
    let due = app
        .ok(
            Some(&w.organizer.access),
            DUE,
            json!({ "o": w.station, "late": false }),
        )
        .await;
    assert_eq!(due["careTasksDue"].as_array().unwrap().len(), 2);

    // The volunteer logs an urgent visit: a help request for the staff, the task a month on.
    let logged = app.ok(Some(&volunteer.access), LOG, visit(true)).await;
    let logged = &logged["logCareVisit"];
    assert_eq!(logged["alert"], true);
    assert_eq!(logged["helpRequest"]["status"], "REPORTED");
    assert_eq!(logged["helpRequest"]["title"], "关爱探访发现需协助");
    let start: chrono::NaiveDate = today().parse().unwrap();
    assert_eq!(
        logged["nextDueOn"],
        start
            .checked_add_months(chrono::Months::new(1))
            .unwrap()
            .to_string()
    );
    let details = app
        .ok(
            Some(&w.organizer.access),
            "query($id: ID!) { helpRequest(id: $id) { details organization { id } } }",
            json!({ "id": logged["helpRequest"]["id"] }),
        )
        .await;
    assert_eq!(
        details["helpRequest"]["details"],
        "老人摔倒后腿疼，需陪同就医"
    );
    assert_eq!(
        details["helpRequest"]["organization"]["id"],
        w.station.as_str()
    );
    // Done for now: off the volunteer's week, and the record closed to them again.
    assert_eq!(
        app.ok(Some(&volunteer.access), MINE, json!({})).await["myCareTasks"],
        json!([])
    );

    // The weekly call, three days late: on the station's overdue list.
    crate::harness::exec(
        &app.state.db,
        "UPDATE care_task SET next_due_on = ? WHERE party = 'COMMUNITY_WORKER'",
        vec![(start - Duration::days(3)).into()],
    )
    .await;
    // On the station's overdue list, and the district administrators' above it.
    let late = app
        .ok(
            Some(&w.root.access),
            DUE,
            json!({ "o": w.district, "late": true }),
        )
        .await;
    let late = late["careTasksDue"].as_array().unwrap();
    assert_eq!(late.len(), 1);
    assert_eq!(late[0]["party"], "COMMUNITY_WORKER");
    assert_eq!(late[0]["overdue"], true);

    // The district's figures, by hand: one person registered and covered, one visit (an
    // alert, not yet taken up), one task late.
    let stats = app
        .ok(
            Some(&w.root.access),
            "query($o: ID!, $f: DateTime!, $t: DateTime!) { organization(id: $o) { stats(from: $f, to: $t) {
                peopleRegistered peopleWithCarePlan careVisitsDone careTasksOverdue careAlertsRaised careAlertsAnswered } } }",
            json!({ "o": w.district, "f": (Utc::now() - Duration::days(1)).to_rfc3339(), "t": (Utc::now() + Duration::days(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(
        stats["organization"]["stats"],
        json!({ "peopleRegistered": 1, "peopleWithCarePlan": 1, "careVisitsDone": 1,
                "careTasksOverdue": 1, "careAlertsRaised": 1, "careAlertsAnswered": 0 })
    );
}

const ALERTS: &str = "query($o: ID!, $open: Boolean!) { careAlerts(organizationId: $o, openOnly: $open) { id health living handledAt handledBy { id } helpRequest { id } task { party } } }";
const HANDLE: &str =
    "mutation($id: ID!) { handleCareAlert(id: $id) { id handledAt handledBy { id } } }";
const REPORT: &str =
    "query($o: ID!, $f: Date!, $t: Date!) { careReport(organizationId: $o, from: $f, to: $t) {
    visitsDue visitsDone visitsOnTime alertsRaised alertsHandled medianMinutesToHandle } }";

/// Days from the city's today, as a `Date`.
fn day(offset: i64) -> String {
    let today: chrono::NaiveDate = today().parse().unwrap();
    (today + Duration::days(offset)).to_string()
}

/// A visit of `task` on `on` with `health` and `living` as observed.
fn visit_of(task: &str, on: &str, health: &str, living: &str) -> Value {
    json!({ "i": { "taskId": task, "visitedOn": on, "health": health, "safety": "OK",
        "living": living, "mood": "OK", "notes": "随访记录" } })
}

#[tokio::test]
async fn alerts_reach_the_staff_are_handled_once_and_the_report_matches_a_hand_count() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let worker = app.register("13800007201", "社工小陈").await;
    app.add_member(&w.root.access, &w.station, "13800007201", "SOCIAL_WORKER")
        .await;
    let stranger = app.register("13800007202", "路人").await;
    let elder = registered(&app, &w).await;
    // A plan begun four weeks ago: the social worker calls weekly and visits fortnightly.
    let started = app
        .ok(
            Some(&w.organizer.access),
            START,
            json!({ "i": { "recipientId": elder, "startsOn": day(-28), "tasks": [
                { "party": "COMMUNITY_WORKER", "kind": "PHONE_CALL", "cadence": "WEEKLY", "assigneeId": worker.account_id },
                { "party": "THIRD_PARTY", "kind": "HOME_VISIT", "cadence": "FORTNIGHTLY", "assigneeId": worker.account_id }
            ] } }),
        )
        .await;
    let tasks = started["startCarePlan"].as_array().unwrap();
    let weekly = tasks[0]["id"].as_str().unwrap().to_owned();
    let fortnightly = tasks[1]["id"].as_str().unwrap().to_owned();
    let log = |v: Value| {
        let (app, token) = (&app, worker.access.clone());
        async move { app.ok(Some(&token), LOG, v).await["logCareVisit"].clone() }
    };
    // Weekly (due −28, −21, −14, −7, today): a day late, on time, on time with a concern.
    assert_eq!(
        log(visit_of(&weekly, &day(-27), "OK", "OK")).await["nextDueOn"],
        day(-21)
    );
    assert_eq!(
        log(visit_of(&weekly, &day(-21), "OK", "OK")).await["nextDueOn"],
        day(-14)
    );
    let concern = log(visit_of(&weekly, &day(-14), "OK", "CONCERN")).await;
    assert_eq!(concern["alert"], true);
    assert_eq!(concern["helpRequest"], Value::Null);
    // Fortnightly (due −28, −14, today): on time, then four days late with something urgent.
    log(visit_of(&fortnightly, &day(-28), "OK", "OK")).await;
    let urgent = log(visit_of(&fortnightly, &day(-10), "URGENT", "OK")).await;
    assert_eq!(urgent["nextDueOn"], day(0));
    let help = urgent["helpRequest"]["id"].as_str().unwrap().to_owned();

    // The station's staff heard of each alert (the urgent one as urgent); the visitor did not.
    use entity::notification::NotificationKind::CareAlert;
    let told = notices(&app, &w.organizer.account_id, CareAlert).await;
    assert_eq!(told.len(), 2);
    assert_eq!(told.iter().filter(|n| n.urgent).count(), 1);
    assert!(
        notices(&app, &worker.account_id, CareAlert)
            .await
            .is_empty()
    );
    let feed = app
        .ok(
            Some(&w.organizer.access),
            "{ me { notifications(first: 10) { edges { node { kind subjectId } } } } }",
            json!({}),
        )
        .await;
    let kinds: Vec<&Value> = feed["me"]["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["kind"] == "CARE_ALERT")
        .collect();
    assert_eq!(kinds.len(), 2);

    // Both alerts are open on the station's list (newest first); strangers get nothing.
    let open = app
        .ok(
            Some(&w.organizer.access),
            ALERTS,
            json!({ "o": w.station, "open": true }),
        )
        .await;
    let open = open["careAlerts"].as_array().unwrap().clone();
    assert_eq!(open.len(), 2);
    assert_eq!(open[0]["health"], "URGENT");
    assert_eq!(open[0]["helpRequest"]["id"], help.as_str());
    assert_eq!(open[1]["living"], "CONCERN");
    let mut told_of: Vec<&Value> = kinds.iter().map(|n| &n["subjectId"]).collect();
    let mut listed: Vec<&Value> = open.iter().map(|a| &a["id"]).collect();
    told_of.sort_by_key(|v| v.to_string());
    listed.sort_by_key(|v| v.to_string());
    assert_eq!(told_of, listed);
    assert_eq!(
        app.err_code(
            Some(&stranger.access),
            ALERTS,
            json!({ "o": w.station, "open": true })
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&stranger.access),
            HANDLE,
            json!({ "id": open[1]["id"] })
        )
        .await,
        "FORBIDDEN"
    );
    // Eight staff hands at once: one handles it, the rest are told it is handled.
    let concern_id = open[1]["id"].as_str().unwrap().to_owned();
    let tries = (0..8).map(|_| {
        app.post(
            Some(&w.organizer.access),
            HANDLE,
            json!({ "id": concern_id }),
        )
    });
    let outcomes = futures::future::join_all(tries).await;
    let handled = outcomes
        .iter()
        .filter(|(_, r)| r["errors"].is_null())
        .count();
    let conflicts = outcomes
        .iter()
        .filter(|(_, r)| r["errors"][0]["extensions"]["code"] == "CONFLICT")
        .count();
    assert_eq!((handled, conflicts), (1, 7), "{outcomes:?}");
    // The urgent one is handled when a volunteer takes its help request. Times are set by
    // hand: the concern handled 30 minutes after it was logged, the help taken after 90.
    let logged_at = Utc::now();
    crate::harness::exec(
        &app.state.db,
        "UPDATE care_visit SET alert_handled_at = ? WHERE alert_handled_at IS NOT NULL",
        vec![(logged_at + Duration::minutes(30)).into()],
    )
    .await;
    let help_key = api::ids::decode_any(&help).unwrap().1;
    crate::harness::exec(
        &app.state.db,
        "UPDATE help_request SET accepted_at = ? WHERE id = ?",
        vec![(logged_at + Duration::minutes(90)).into(), help_key.into()],
    )
    .await;
    crate::harness::exec(
        &app.state.db,
        "UPDATE care_visit SET created_at = ?",
        vec![logged_at.into()],
    )
    .await;
    assert_eq!(
        app.ok(
            Some(&w.organizer.access),
            ALERTS,
            json!({ "o": w.station, "open": true })
        )
        .await["careAlerts"],
        json!([])
    );
    let all = app
        .ok(
            Some(&w.root.access),
            ALERTS,
            json!({ "o": w.district, "open": false }),
        )
        .await;
    assert_eq!(all["careAlerts"].as_array().unwrap().len(), 2);
    assert_eq!(
        all["careAlerts"][1]["handledBy"]["id"],
        w.organizer.account_id.as_str()
    );

    // The report, by hand. Over the four weeks and today: weekly 5 due, fortnightly 3; five
    // visits, three on time (−21, −14, −28); two alerts, both handled, median of 30 and 90.
    let report = |f: String, t: String| {
        let app = &app;
        let token = w.root.access.clone();
        let o = w.district.clone();
        async move {
            app.ok(Some(&token), REPORT, json!({ "o": o, "f": f, "t": t }))
                .await["careReport"]
                .clone()
        }
    };
    assert_eq!(
        report(day(-28), day(1)).await,
        json!({ "visitsDue": 8, "visitsDone": 5, "visitsOnTime": 3, "alertsRaised": 2,
                "alertsHandled": 2, "medianMinutesToHandle": 60 })
    );
    // The fortnight before today: weekly −14 and −7, fortnightly −14; the visits of −14 (on
    // time) and −10 (late), both alerts.
    assert_eq!(
        report(day(-14), day(0)).await,
        json!({ "visitsDue": 3, "visitsDone": 2, "visitsOnTime": 1, "alertsRaised": 2,
                "alertsHandled": 2, "medianMinutesToHandle": 60 })
    );
    assert_eq!(
        app.err_code(
            Some(&worker.access),
            REPORT,
            json!({ "o": w.district, "f": day(-28), "t": day(1) })
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.root.access),
            REPORT,
            json!({ "o": w.district, "f": day(0), "t": day(0) })
        )
        .await,
        "BAD_USER_INPUT"
    );

    // Ending the plan: nothing more is due (today's visits included), its visits stay counted,
    // and no more can be logged; a second end finds no plan.
    const END: &str = "mutation($r: ID!) { endCarePlan(recipientId: $r) }";
    assert_eq!(
        app.err_code(Some(&stranger.access), END, json!({ "r": elder }))
            .await,
        "FORBIDDEN"
    );
    app.ok(Some(&w.organizer.access), END, json!({ "r": elder }))
        .await;
    assert_eq!(
        app.err_code(Some(&w.organizer.access), END, json!({ "r": elder }))
            .await,
        "NOT_FOUND"
    );
    assert_eq!(
        app.ok(
            Some(&w.organizer.access),
            DUE,
            json!({ "o": w.station, "late": false })
        )
        .await["careTasksDue"],
        json!([])
    );
    assert_eq!(
        app.err_code(
            Some(&worker.access),
            LOG,
            visit_of(&weekly, &day(0), "OK", "OK")
        )
        .await,
        "CONFLICT"
    );
    let after = report(day(-28), day(1)).await;
    assert_eq!(
        (after["visitsDue"].clone(), after["visitsDone"].clone()),
        (json!(6), json!(5))
    );
    // A new plan may start once the old one ended.
    app.ok(
        Some(&w.organizer.access),
        START,
        json!({ "i": { "recipientId": elder, "startsOn": day(0), "tasks": [
            { "party": "COMMUNITY_WORKER", "kind": "PHONE_CALL", "cadence": "WEEKLY", "assigneeId": worker.account_id } ] } }),
    )
    .await;
}

#[tokio::test]
async fn late_visits_are_told_once_to_their_assignee_and_each_morning_to_the_station() {
    use api::notifications::schedule;
    use entity::notification::NotificationKind as K;
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let worker = app.register("13800007301", "社工小林").await;
    app.add_member(&w.root.access, &w.station, "13800007301", "SOCIAL_WORKER")
        .await;
    let elder = registered(&app, &w).await;
    app.ok(
        Some(&w.organizer.access),
        START,
        json!({ "i": { "recipientId": elder, "startsOn": day(-10), "tasks": [
            { "party": "COMMUNITY_WORKER", "kind": "PHONE_CALL", "cadence": "WEEKLY", "assigneeId": worker.account_id },
            { "party": "CIVIL_AFFAIRS", "kind": "HOME_VISIT", "cadence": "QUARTERLY", "assigneeId": w.organizer.account_id }
        ] } }),
    )
    .await;
    // Logging the quarterly visit leaves only the weekly call late (due ten days ago).
    let quarterly = app
        .ok(
            Some(&w.organizer.access),
            DUE,
            json!({ "o": w.station, "late": true }),
        )
        .await["careTasksDue"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["party"] == "CIVIL_AFFAIRS")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(&w.organizer.access),
        LOG,
        visit_of(&quarterly, &day(-9), "OK", "OK"),
    )
    .await;
    let nine = |offset: i64| {
        use chrono::TimeZone;
        let city = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
        let d: chrono::NaiveDate = day(offset).parse().unwrap();
        city.from_local_datetime(&d.and_hms_opt(9, 0, 0).unwrap())
            .unwrap()
            .with_timezone(&Utc)
    };
    let of = |account: String, kind: K| {
        let app = &app;
        async move { notices(app, &account, kind).await.len() }
    };
    // Two mornings pass, each run twice (a restart): the assignee hears of the missed call
    // once, the station's staff each morning; before nine, nothing.
    schedule::run(&app.state, nine(1) - Duration::hours(2))
        .await
        .unwrap();
    schedule::run(&app.state, nine(1) - Duration::minutes(1))
        .await
        .unwrap();
    assert_eq!(of(worker.account_id.clone(), K::CareVisitOverdue).await, 0);
    for at in [
        nine(1) + Duration::minutes(1),
        nine(1) + Duration::minutes(5),
        nine(2) + Duration::minutes(1),
        nine(2) + Duration::minutes(5),
    ] {
        schedule::run(&app.state, at).await.unwrap();
    }
    assert_eq!(of(worker.account_id.clone(), K::CareVisitOverdue).await, 1);
    assert_eq!(
        of(w.organizer.account_id.clone(), K::CareVisitOverdue).await,
        0
    );
    assert_eq!(
        of(w.organizer.account_id.clone(), K::CareTasksOverdue).await,
        2
    );
    assert_eq!(of(worker.account_id.clone(), K::CareTasksOverdue).await, 2);
    // Another station's organizer hears nothing.
    assert_eq!(
        of(w.other_organizer.account_id.clone(), K::CareTasksOverdue).await,
        0
    );
    // The in-app feed points the assignee at the task.
    let feed = app
        .ok(
            Some(&worker.access),
            "{ me { notifications(first: 10) { edges { node { kind subjectId } } } } }",
            json!({}),
        )
        .await;
    let late = feed["me"]["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["kind"] == "CARE_VISIT_OVERDUE")
        .unwrap()
        .clone();
    let (ty, _) = api::ids::decode_any(late["subjectId"].as_str().unwrap()).unwrap();
    assert_eq!(ty, api::ids::NodeType::CareTask);
}

#[tokio::test]
async fn a_rooms_alerts_reach_its_stations_staff() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let room = app
        .create_org(&w.root.access, "城北社区社工室", "ROOM", Some(&w.station))
        .await;
    let data = app
        .ok(
            Some(&w.root.access),
            REGISTER,
            person(
                &room,
                "戈老伯",
                "SENIOR",
                "PERSON",
                &["REGISTER", "CARE_VISITS"],
            ),
        )
        .await;
    let elder = data["registerCareRecipient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = app
        .ok(
            Some(&w.root.access),
            START,
            json!({ "i": { "recipientId": elder, "startsOn": day(0), "tasks": [
                { "party": "CIVIL_AFFAIRS", "kind": "HOME_VISIT", "cadence": "MONTHLY", "assigneeId": w.root.account_id } ] } }),
        )
        .await;
    let task = started["startCarePlan"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(&w.root.access),
        LOG,
        visit_of(&task, &day(0), "OK", "CONCERN"),
    )
    .await;
    // The room has no staff of its own: the station's organizer hears of it; the other
    // station's does not.
    use entity::notification::NotificationKind::CareAlert;
    assert_eq!(
        notices(&app, &w.organizer.account_id, CareAlert)
            .await
            .len(),
        1
    );
    assert!(
        notices(&app, &w.other_organizer.account_id, CareAlert)
            .await
            .is_empty()
    );
}
