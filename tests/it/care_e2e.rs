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
