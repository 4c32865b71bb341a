//! Service projects and the lists behind 精准对接 (issue 20, part 3): project progress against
//! hand-computed figures, who may run, review and read a project, the service list, needs
//! turned into what answers them exactly once, and the order `matchNeeds` ranks in.

use chrono::{Duration, Utc};
use futures::future::join_all;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, World, exec};

const CREATE: &str = "mutation($i: CreateServiceProjectInput!) { createServiceProject(input: $i) {
    id title running deliverables { id title status overdue } operator { id } evaluator { id } need { id status } } }";
const PROGRESS: &str = "query($id: ID!) { serviceProject(id: $id) { progress {
    deliverables deliverablesMet deliverablesMissed deliverablesOverdue deliverablesMetShare
    eventsHeld eventsPlanned helpRequestsCompleted minutesServed hoursServed disbursedFen
    budgetSpentShare } } }";
const SETTLE: &str = "mutation($id: ID!, $s: DeliverableStatus!) { settleProjectDeliverable(id: $id, status: $s, note: \"已完成\") { status overdue settledAt } }";
const REVIEW: &str = "mutation($i: ReviewServiceProjectInput!) { reviewServiceProject(input: $i) { stage grade evaluator { id } } }";
const REVIEWS: &str =
    "query($id: ID!) { serviceProject(id: $id) { title reviews { stage grade comments } } }";
const NEED: &str =
    "mutation($i: RaiseCommunityNeedInput!) { raiseCommunityNeed(input: $i) { id status } }";
const RESOURCE: &str =
    "mutation($i: AddCommunityResourceInput!) { addCommunityResource(input: $i) { id } }";
const MATCH: &str = "query($o: ID!, $n: ID, $f: Int) { matchNeeds(organizationId: $o, needId: $n, first: $f) {
    need { id title } matches { score reasons skillsCovered distanceMeters resource { id name } project { id title } } } }";
const EVENT: &str =
    "mutation($i: CreateEventInput!) { createEvent(input: $i) { id project { id } } }";

/// A city date `offset` days from today.
fn day(offset: i64) -> String {
    (Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        + Duration::days(offset))
    .date_naive()
    .to_string()
}

/// An operator (with an admin) and an evaluator (with an admin) attached to the city.
struct Parties {
    operator: String,
    operator_admin: Session,
    evaluator: String,
    evaluator_admin: Session,
}

async fn parties(app: &TestApp, w: &World) -> Parties {
    let operator = app
        .create_org(
            &w.root.access,
            "益众社工服务中心",
            "SOCIAL_ORG",
            Some(&w.city),
        )
        .await;
    let evaluator = app
        .create_org(
            &w.root.access,
            "社会组织评估中心",
            "SOCIAL_ORG",
            Some(&w.city),
        )
        .await;
    let operator_admin = app.register("13800009001", "运营方").await;
    let evaluator_admin = app.register("13800009002", "评估方").await;
    app.add_member(&w.root.access, &operator, "13800009001", "ADMIN")
        .await;
    app.add_member(&w.root.access, &evaluator, "13800009002", "ADMIN")
        .await;
    Parties {
        operator,
        operator_admin,
        evaluator,
        evaluator_admin,
    }
}

fn project_input(w: &World, p: &Parties, title: &str, extra: Value) -> Value {
    let mut i = json!({
        "organizationId": w.station, "operatorId": p.operator, "evaluatorId": p.evaluator,
        "title": title, "field": "ELDERLY_SERVICE", "funding": "GOVERNMENT_PURCHASE",
        "budgetFen": 1_000_000, "startsOn": day(-30), "endsOn": day(60),
        "beneficiaries": "独居老人", "beneficiaryTarget": 50,
        "deliverables": [
            { "title": "建立服务档案", "dueOn": day(-5) },
            { "title": "健康讲座", "dueOn": day(-1) },
            { "title": "结项报告", "dueOn": day(30) }
        ]
    });
    for (k, v) in extra.as_object().unwrap() {
        i[k] = v.clone();
    }
    json!({ "i": i })
}

fn key_of(id: &str) -> i64 {
    api::ids::decode_any(id).expect("a global ID").1
}

#[tokio::test]
async fn project_progress_counts_what_the_rows_say() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let p = parties(&app, &w).await;
    let created = app
        .ok(
            Some(&w.organizer.access),
            CREATE,
            project_input(&w, &p, "银龄守护", json!({})),
        )
        .await;
    let project = created["createServiceProject"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let deliverables = created["createServiceProject"]["deliverables"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(created["createServiceProject"]["running"], true);
    assert_eq!(deliverables[0]["overdue"], true);
    assert_eq!(deliverables[2]["overdue"], false);
    let other = app
        .ok(
            Some(&w.organizer.access),
            CREATE,
            project_input(&w, &p, "另一个项目", json!({ "deliverables": [] })),
        )
        .await["createServiceProject"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Deliverables: the operator settles the first once; a stranger may not.
    let first = deliverables[0]["id"].as_str().unwrap();
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            SETTLE,
            json!({ "id": first, "s": "MET" })
        )
        .await,
        "FORBIDDEN"
    );
    let settled = app
        .ok(
            Some(&p.operator_admin.access),
            SETTLE,
            json!({ "id": first, "s": "MET" }),
        )
        .await;
    assert_eq!(settled["settleProjectDeliverable"]["status"], "MET");
    assert_eq!(settled["settleProjectDeliverable"]["overdue"], false);
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            SETTLE,
            json!({ "id": first, "s": "MISSED" })
        )
        .await,
        "CONFLICT"
    );

    // Events: one of the project's that has ended (moved into the past), one coming, one
    // still a draft, and one outside the project.
    let event = |title: &'static str, project: Option<String>| {
        let app = &app;
        let token = w.organizer.access.clone();
        let station = w.station.clone();
        async move {
            let starts = Utc::now() + Duration::hours(1);
            let data = app
                .ok(
                    Some(&token),
                    EVENT,
                    json!({ "i": {
                        "organizationId": station, "title": title, "category": "ELDERLY_CARE",
                        "address": "前进西路86号", "latitude": 31.38, "longitude": 120.98,
                        "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(8)).to_rfc3339(),
                        "projectId": project
                    } }),
                )
                .await;
            data["createEvent"]["id"].as_str().unwrap().to_owned()
        }
    };
    let held = event("已开展的讲座", Some(project.clone())).await;
    let coming = event("即将开展的讲座", Some(project.clone())).await;
    let _draft = event("草稿", Some(project.clone())).await;
    let unrelated = event("项目外活动", None).await;
    for e in [&held, &coming, &unrelated] {
        app.ok(
            Some(&w.organizer.access),
            "mutation($id: ID!) { publishEvent(id: $id) { id } }",
            json!({ "id": e }),
        )
        .await;
    }
    let past = Utc::now() - Duration::days(2);
    exec(
        &app.state.db,
        "UPDATE charity_event SET starts_at = ?, ends_at = ? WHERE id = ?",
        vec![
            past.into(),
            (past + Duration::hours(8)).into(),
            key_of(&held).into(),
        ],
    )
    .await;

    // Service: an hour at the coming event (approved), an hour outside the project
    // (approved), and an hour at the project's event that is rejected.
    let approve = |record: i64| {
        let app = &app;
        let token = w.organizer.access.clone();
        async move {
            app.ok(
                Some(&token),
                "mutation($id: ID!) { approveServiceRecord(id: $id) { status } }",
                json!({ "id": api::ids::encode(api::ids::NodeType::ServiceRecord, record) }),
            )
            .await;
        }
    };
    let v1 = app.register("13800009101", "志愿者甲").await;
    let v2 = app.register("13800009102", "志愿者乙").await;
    let v3 = app.register("13800009103", "志愿者丙").await;
    let s1 = app
        .shift_in(&w.organizer.access, &coming, 5, false, &[])
        .await;
    let s2 = app
        .shift_in(&w.organizer.access, &unrelated, 5, false, &[])
        .await;
    let s3 = app
        .shift_in(&w.organizer.access, &coming, 5, false, &[])
        .await;
    app.sign_up(&v1.access, &s1, "k1").await;
    app.sign_up(&v2.access, &s2, "k2").await;
    app.sign_up(&v3.access, &s3, "k3").await;
    let r1 = app.serve_an_hour(&v1.access, &s1).await;
    let r2 = app.serve_an_hour(&v2.access, &s2).await;
    let r3 = app.serve_an_hour(&v3.access, &s3).await;
    approve(r1.id).await;
    approve(r2.id).await;
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { rejectServiceRecord(id: $id, reason: \"未到岗\") { status } }",
        json!({ "id": api::ids::encode(api::ids::NodeType::ServiceRecord, r3.id) }),
    )
    .await;

    // A help request of the project: 45 minutes, approved.
    let mut req = crate::help_e2e::request_input(&w.station, &[]);
    req["i"]["projectId"] = json!(project);
    let request = app
        .ok(
            Some(&w.organizer.access),
            "mutation($i: CreateHelpRequestInput!) { createHelpRequest(input: $i) { id project { id } } }",
            req,
        )
        .await;
    assert_eq!(
        request["createHelpRequest"]["project"]["id"],
        project.as_str()
    );
    let request = request["createHelpRequest"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!, $v: [ID!]!) { dispatchHelpRequest(helpRequestId: $id, volunteerIds: $v) { status } }",
        json!({ "id": request, "v": [v1.account_id] }),
    )
    .await;
    app.ok(
        Some(&v1.access),
        "mutation($id: ID!) { acceptHelpOffer(helpRequestId: $id) { status } }",
        json!({ "id": request }),
    )
    .await;
    app.backdate_acceptance(&request, 2).await;
    let done = app
        .ok(
            Some(&v1.access),
            "mutation($id: ID!) { completeHelpRequest(id: $id, note: \"陪同就医\", minutesServed: 45) { serviceRecord { id } } }",
            json!({ "id": request }),
        )
        .await;
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { approveServiceRecord(id: $id) { status } }",
        json!({ "id": done["completeHelpRequest"]["serviceRecord"]["id"] }),
    )
    .await;

    // Money: a fund tagged to the project pays 3,000 (counted), 2,000 naming the other
    // project (not counted here), and 1,000 after it is untagged (not counted).
    let fund = app
        .ok(
            Some(&w.organizer.access),
            "mutation($i: CreateCharityFundInput!) { createCharityFund(input: $i) { id } }",
            json!({ "i": { "organizationId": w.station, "name": "亭林社区慈善基金", "purpose": "助老" } }),
        )
        .await["createCharityFund"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let donor = app.register("13800009104", "捐赠人").await;
    app.donate_paid(
        &donor.access,
        json!({ "fundId": fund, "amountFen": 10_000, "idempotencyKey": "d1" }),
    )
    .await;
    const TAG: &str = "mutation($f: ID!, $p: ID) { tagFundToProject(fundId: $f, projectId: $p) { project { id } } }";
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            TAG,
            json!({ "f": fund, "p": project })
        )
        .await,
        "FORBIDDEN"
    );
    let tagged = app
        .ok(
            Some(&w.organizer.access),
            TAG,
            json!({ "f": fund, "p": project }),
        )
        .await;
    assert_eq!(
        tagged["tagFundToProject"]["project"]["id"],
        project.as_str()
    );
    const DISBURSE: &str =
        "mutation($i: DisburseInput!) { disburse(input: $i) { projectRef project { id } } }";
    let paid = app
        .ok(
            Some(&w.organizer.access),
            DISBURSE,
            json!({ "i": { "fundId": fund, "amountFen": 3_000, "purpose": "防滑垫", "idempotencyKey": "p1" } }),
        )
        .await;
    assert_eq!(paid["disburse"]["project"]["id"], project.as_str());
    assert_eq!(paid["disburse"]["projectRef"], "银龄守护");
    app.ok(
        Some(&w.organizer.access),
        DISBURSE,
        json!({ "i": { "fundId": fund, "amountFen": 2_000, "purpose": "助餐", "projectId": other, "projectRef": "X-2", "idempotencyKey": "p2" } }),
    )
    .await;
    app.ok(Some(&w.organizer.access), TAG, json!({ "f": fund }))
        .await;
    let untagged = app
        .ok(
            Some(&w.organizer.access),
            DISBURSE,
            json!({ "i": { "fundId": fund, "amountFen": 1_000, "purpose": "其他", "projectRef": "X-3", "idempotencyKey": "p3" } }),
        )
        .await;
    assert!(untagged["disburse"]["project"].is_null());

    // By hand: 3 deliverables, 1 met, 0 missed, 1 overdue (due yesterday, pending); 1 event
    // held, 2 published; 1 help request; 60 + 45 minutes; 3,000 fen of a 1,000,000 budget.
    let got = app.ok(None, PROGRESS, json!({ "id": project })).await;
    assert_eq!(
        got["serviceProject"]["progress"],
        json!({
            "deliverables": 3, "deliverablesMet": 1, "deliverablesMissed": 0,
            "deliverablesOverdue": 1, "deliverablesMetShare": 1.0 / 3.0,
            "eventsHeld": 1, "eventsPlanned": 2, "helpRequestsCompleted": 1,
            "minutesServed": 105, "hoursServed": 1.8, "disbursedFen": 3_000,
            "budgetSpentShare": 0.003
        })
    );
    let got = app.ok(None, PROGRESS, json!({ "id": other })).await;
    assert_eq!(got["serviceProject"]["progress"]["disbursedFen"], 2_000);
    assert_eq!(got["serviceProject"]["progress"]["minutesServed"], 0);
    assert!(got["serviceProject"]["progress"]["deliverablesMetShare"].is_null());

    // The lists: served (from the district, down the tree), operated, evaluated; a list of
    // projects reads every progress in one go and agrees with the single reads.
    const LIST: &str = "query($o: ID!, $r: ProjectRole) { organization(id: $o) { serviceProjects(role: $r) { title progress { minutesServed disbursedFen } } } }";
    for (org, role) in [
        (&w.district, "SERVED"),
        (&p.operator, "OPERATED"),
        (&p.evaluator, "EVALUATED"),
    ] {
        let list = app.ok(None, LIST, json!({ "o": org, "r": role })).await;
        let titles: Vec<&str> = list["organization"]["serviceProjects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles.len(), 2, "{role}: {list}");
        let mine = list["organization"]["serviceProjects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["title"] == "银龄守护")
            .unwrap();
        assert_eq!(
            mine["progress"],
            json!({ "minutesServed": 105, "disbursedFen": 3_000 })
        );
    }
    let none = app
        .ok(None, LIST, json!({ "o": w.other_station, "r": "SERVED" }))
        .await;
    assert_eq!(none["organization"]["serviceProjects"], json!([]));

    // The district's figures count both projects and their budgets.
    let stats = app
        .ok(
            Some(&w.root.access),
            "query($o: ID!, $f: DateTime!, $t: DateTime!) { organization(id: $o) { stats(from: $f, to: $t) { serviceProjects serviceProjectBudgetFen needsRaised needsAddressed } } }",
            json!({ "o": w.district, "f": (Utc::now() - Duration::days(7)).to_rfc3339(), "t": (Utc::now() + Duration::days(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(
        stats["organization"]["stats"],
        json!({ "serviceProjects": 2, "serviceProjectBudgetFen": 2_000_000, "needsRaised": 0, "needsAddressed": 0 })
    );
}

#[tokio::test]
async fn who_runs_reviews_and_reads_a_project() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let p = parties(&app, &w).await;
    // Only the station's managers start its projects.
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            CREATE,
            project_input(&w, &p, "越权项目", json!({}))
        )
        .await,
        "FORBIDDEN"
    );
    // The operator is a social organization or charity; the evaluator a third party.
    for (extra, field) in [
        (json!({ "operatorId": w.other_station }), "input.operatorId"),
        (json!({ "evaluatorId": p.operator }), "input.evaluatorId"),
        (json!({ "evaluatorId": w.station }), "input.evaluatorId"),
        // Above the station: on its line, and no social organization.
        (json!({ "evaluatorId": w.district }), "input.evaluatorId"),
        (json!({ "endsOn": day(-31) }), "input.endsOn"),
        (json!({ "budgetFen": -1 }), "input.budgetFen"),
        (
            json!({ "deliverables": [{ "title": "超期", "dueOn": day(61) }] }),
            "input.deliverables.0.dueOn",
        ),
    ] {
        let (_, body) = app
            .post(
                Some(&w.organizer.access),
                CREATE,
                project_input(&w, &p, "有误的项目", extra),
            )
            .await;
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{body}"
        );
        assert_eq!(body["errors"][0]["extensions"]["field"], field, "{body}");
    }
    let project = app
        .ok(
            Some(&w.organizer.access),
            CREATE,
            project_input(&w, &p, "银龄守护", json!({})),
        )
        .await["createServiceProject"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let review = |stage: &str| json!({ "i": { "projectId": project, "stage": stage, "grade": "GOOD", "comments": "进度符合预期" } });
    // Neither the station nor the operator reviews itself.
    for who in [&w.organizer, &p.operator_admin] {
        assert_eq!(
            app.err_code(Some(&who.access), REVIEW, review("MID_TERM"))
                .await,
            "FORBIDDEN"
        );
    }
    // A system administrator manages every side of the project, so does not review it.
    assert_eq!(
        app.err_code(Some(&w.root.access), REVIEW, review("MID_TERM"))
            .await,
        "FORBIDDEN"
    );
    // The final review waits for the last day.
    assert_eq!(
        app.err_code(Some(&p.evaluator_admin.access), REVIEW, review("FINAL"))
            .await,
        "CONFLICT"
    );
    // Eight evaluator sessions race to write the mid-term review: one lands.
    let answers = join_all((0..8).map(|_| {
        let app = &app;
        let token = p.evaluator_admin.access.clone();
        let body = review("MID_TERM");
        async move { app.post(Some(&token), REVIEW, body).await.1 }
    }))
    .await;
    let landed = answers
        .iter()
        .filter(|b| b["data"]["reviewServiceProject"]["stage"] == "MID_TERM")
        .count();
    assert_eq!(landed, 1, "{answers:?}");
    for b in answers.iter().filter(|b| b["errors"].is_array()) {
        assert_eq!(b["errors"][0]["extensions"]["code"], "CONFLICT", "{b}");
    }
    // The parties read the reviews; the public reads the project but not them.
    for who in [&w.organizer, &p.operator_admin, &p.evaluator_admin, &w.root] {
        let seen = app
            .ok(Some(&who.access), REVIEWS, json!({ "id": project }))
            .await;
        assert_eq!(
            seen["serviceProject"]["reviews"],
            json!([{ "stage": "MID_TERM", "grade": "GOOD", "comments": "进度符合预期" }])
        );
    }
    let stranger = app.register("13800009200", "路人").await;
    for token in [
        Some(stranger.access.as_str()),
        Some(w.other_organizer.access.as_str()),
        None,
    ] {
        let seen = app.ok(token, REVIEWS, json!({ "id": project })).await;
        assert_eq!(seen["serviceProject"]["title"], "银龄守护");
        assert!(seen["serviceProject"]["reviews"].is_null(), "{seen}");
    }
    // Another station's fund can neither pay the project nor be tagged to it.
    let theirs = app
        .ok(
            Some(&w.other_organizer.access),
            "mutation($i: CreateCharityFundInput!) { createCharityFund(input: $i) { id } }",
            json!({ "i": { "organizationId": w.other_station, "name": "周市基金", "purpose": "助老" } }),
        )
        .await["createCharityFund"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, body) = app
        .post(
            Some(&w.other_organizer.access),
            "mutation($i: DisburseInput!) { disburse(input: $i) { id } }",
            json!({ "i": { "fundId": theirs, "amountFen": 100, "purpose": "越界", "projectId": project, "idempotencyKey": "x" } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.projectId",
        "{body}"
    );
    let (_, body) = app
        .post(
            Some(&w.other_organizer.access),
            "mutation($f: ID!, $p: ID) { tagFundToProject(fundId: $f, projectId: $p) { id } }",
            json!({ "f": theirs, "p": project }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "projectId",
        "{body}"
    );
    // An event of another part of the network cannot join the project.
    let (_, body) = app
        .post(
            Some(&w.other_organizer.access),
            EVENT,
            json!({ "i": {
                "organizationId": w.other_station, "title": "别处的活动", "category": "ELDERLY_CARE",
                "address": "周市", "latitude": 31.45, "longitude": 120.99,
                "startsAt": (Utc::now() + Duration::hours(1)).to_rfc3339(),
                "endsAt": (Utc::now() + Duration::hours(3)).to_rfc3339(),
                "projectId": project
            } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.projectId",
        "{body}"
    );
}

#[tokio::test]
async fn the_service_list_is_public_and_kept_by_the_station() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    const ADD: &str = "mutation($i: AddStationServiceInput!) { addStationService(input: $i) { id title active } }";
    const LIST: &str = "query($o: ID!, $all: Boolean = false) { organization(id: $o) { serviceList(includeWithdrawn: $all) { title field schedule active } } }";
    let add = |title: &str, field: &str| json!({ "i": { "organizationId": w.station, "title": title, "field": field, "schedule": "每周三上午" } });
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            ADD,
            add("长者助餐", "ELDERLY_SERVICE")
        )
        .await,
        "FORBIDDEN"
    );
    let meal = app
        .ok(
            Some(&w.organizer.access),
            ADD,
            add("长者助餐", "ELDERLY_SERVICE"),
        )
        .await["addStationService"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(&w.organizer.access),
        ADD,
        add("救助政策咨询", "SOCIAL_ASSISTANCE"),
    )
    .await;
    assert_eq!(
        app.err_code(Some(&w.organizer.access), ADD, add("长者助餐", "OTHER"))
            .await,
        "CONFLICT"
    );
    let list = app.ok(None, LIST, json!({ "o": w.station })).await;
    let titles: Vec<&str> = list["organization"]["serviceList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["长者助餐", "救助政策咨询"], "by field, then title");
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { withdrawStationService(id: $id) { active } }",
        json!({ "id": meal }),
    )
    .await;
    let list = app.ok(None, LIST, json!({ "o": w.station })).await;
    assert_eq!(
        list["organization"]["serviceList"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let all = app
        .ok(None, LIST, json!({ "o": w.station, "all": true }))
        .await;
    assert_eq!(
        all["organization"]["serviceList"].as_array().unwrap().len(),
        2
    );
    // Listing a withdrawn service again brings it back, as it is described now.
    let mut again = add("长者助餐", "ELDERLY_SERVICE");
    again["i"]["schedule"] = json!("每日午间");
    let back = app.ok(Some(&w.organizer.access), ADD, again).await;
    assert_eq!(back["addStationService"]["id"], meal.as_str());
    assert_eq!(back["addStationService"]["active"], true);
    let list = app.ok(None, LIST, json!({ "o": w.station })).await;
    let meal_entry = list["organization"]["serviceList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == "长者助餐")
        .unwrap()
        .clone();
    assert_eq!(meal_entry["schedule"], "每日午间");
}

fn need_input(org: &str, title: &str, field: &str, skills: &[&str], extra: Value) -> Value {
    let mut i = json!({ "organizationId": org, "title": title, "field": field, "skills": skills, "people": 10 });
    for (k, v) in extra.as_object().unwrap() {
        i[k] = v.clone();
    }
    json!({ "i": i })
}

#[tokio::test]
async fn a_need_is_answered_once_by_a_help_request_an_event_or_a_project() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let p = parties(&app, &w).await;
    let raise = |title: &'static str| {
        let app = &app;
        let token = w.organizer.access.clone();
        let station = w.station.clone();
        async move {
            app.ok(
                Some(&token),
                NEED,
                need_input(
                    &station,
                    title,
                    "ELDERLY_SERVICE",
                    &["护理"],
                    json!({ "location": { "latitude": 31.3812, "longitude": 120.9786 } }),
                ),
            )
            .await["raiseCommunityNeed"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    // A volunteer cannot raise needs; the public reads them, but not who raised them.
    let volunteer = app.register("13800009300", "志愿者").await;
    assert_eq!(
        app.err_code(
            Some(&volunteer.access),
            NEED,
            need_input(&w.station, "越权", "OTHER", &[], json!({}))
        )
        .await,
        "FORBIDDEN"
    );
    let bath = raise("独居老人助浴").await;
    let public = app
        .ok(
            None,
            "query($o: ID!) { organization(id: $o) { needs { title status skills latitude longitude raisedBy { id } } } }",
            json!({ "o": w.district }),
        )
        .await;
    let public = &public["organization"]["needs"][0];
    assert_eq!(public["title"], "独居老人助浴");
    assert_eq!(public["status"], "OPEN");
    assert_eq!(public["skills"], json!(["护理"]));
    assert!(public["raisedBy"].is_null());
    // Roughly where, to the public; exactly, to the community's staff.
    assert!(
        (public["latitude"].as_f64().unwrap() - 31.38).abs() < 1e-9,
        "{public}"
    );
    assert!(
        (public["longitude"].as_f64().unwrap() - 120.98).abs() < 1e-9,
        "{public}"
    );
    let staff = app
        .ok(
            Some(&w.organizer.access),
            "query($o: ID!) { organization(id: $o) { needs { latitude raisedBy { id } } } }",
            json!({ "o": w.station }),
        )
        .await;
    assert_eq!(staff["organization"]["needs"][0]["latitude"], 31.3812);
    assert_eq!(
        staff["organization"]["needs"][0]["raisedBy"]["id"],
        w.organizer.account_id.as_str()
    );

    // Into a help request: the need is addressed with it.
    let mut req = crate::help_e2e::request_input(&w.station, &[]);
    req["i"]["needId"] = json!(bath);
    let hr = app
        .ok(
            Some(&w.organizer.access),
            "mutation($i: CreateHelpRequestInput!) { createHelpRequest(input: $i) { id } }",
            req.clone(),
        )
        .await["createHelpRequest"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let seen = app
        .ok(
            Some(&w.organizer.access),
            "query($id: ID!) { node(id: $id) { ... on CommunityNeed { status helpRequest { id } event { id } project { id } } } }",
            json!({ "id": bath }),
        )
        .await;
    assert_eq!(seen["node"]["status"], "ADDRESSED");
    assert_eq!(seen["node"]["helpRequest"]["id"], hr.as_str());
    // A second answer is refused, and leaves nothing behind.
    let before = entity::help_request::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            "mutation($i: CreateHelpRequestInput!) { createHelpRequest(input: $i) { id } }",
            req
        )
        .await,
        "CONFLICT"
    );
    assert_eq!(
        entity::help_request::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        before
    );

    // Cancelling what answered a need opens it again, for another answer.
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { cancelHelpRequest(id: $id, reason: \"家属已安排\") { status } }",
        json!({ "id": hr }),
    )
    .await;
    let seen = app
        .ok(
            Some(&w.organizer.access),
            "query($id: ID!) { node(id: $id) { ... on CommunityNeed { status helpRequest { id } } } }",
            json!({ "id": bath }),
        )
        .await;
    assert_eq!(
        seen["node"],
        json!({ "status": "OPEN", "helpRequest": null })
    );

    // Twelve organizers' sessions race to turn one need into an event: exactly one event
    // exists afterwards, and it is the one the need names.
    let talk = raise("健康讲座").await;
    let starts = Utc::now() + Duration::hours(5);
    let answers = join_all((0..12).map(|i| {
        let app = &app;
        let token = w.organizer.access.clone();
        let body = json!({ "i": {
            "organizationId": w.station, "title": format!("讲座{i}"), "category": "HEALTH",
            "address": "城北社区", "latitude": 31.38, "longitude": 120.98,
            "startsAt": starts.to_rfc3339(), "endsAt": (starts + Duration::hours(2)).to_rfc3339(),
            "needId": talk
        } });
        async move { app.post(Some(&token), EVENT, body).await.1 }
    }))
    .await;
    let won: Vec<&str> = answers
        .iter()
        .filter_map(|b| b["data"]["createEvent"]["id"].as_str())
        .collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    for b in answers.iter().filter(|b| b["errors"].is_array()) {
        assert_eq!(b["errors"][0]["extensions"]["code"], "CONFLICT", "{b}");
    }
    let events = entity::charity_event::Entity::find()
        .filter(entity::charity_event::Column::Title.starts_with("讲座"))
        .count(&app.state.db)
        .await
        .unwrap();
    assert_eq!(events, 1);
    let seen = app
        .ok(
            Some(&w.organizer.access),
            "query($id: ID!) { node(id: $id) { ... on CommunityNeed { status event { id } } } }",
            json!({ "id": talk }),
        )
        .await;
    assert_eq!(seen["node"]["event"]["id"], won[0]);

    // Into a project; a closed need cannot be answered; another station's staff cannot.
    let rehab = raise("康复训练").await;
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            CREATE,
            project_input(
                &w,
                &p,
                "越权",
                json!({ "organizationId": w.other_station, "needId": rehab })
            )
        )
        .await,
        "FORBIDDEN"
    );
    let made = app
        .ok(
            Some(&w.organizer.access),
            CREATE,
            project_input(&w, &p, "康复项目", json!({ "needId": rehab })),
        )
        .await;
    assert_eq!(made["createServiceProject"]["need"]["status"], "ADDRESSED");
    let shut = raise("已不需要").await;
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { closeCommunityNeed(id: $id) { status } }",
        json!({ "id": shut }),
    )
    .await;
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            CREATE,
            project_input(&w, &p, "太迟", json!({ "needId": shut }))
        )
        .await,
        "CONFLICT"
    );

    // The station's figures: four needs raised, two addressed (the event and the project; the
    // bath need is open again).
    let stats = app
        .ok(
            Some(&w.organizer.access),
            "query($o: ID!, $f: DateTime!, $t: DateTime!) { organization(id: $o) { stats(from: $f, to: $t) { needsRaised needsAddressed } } }",
            json!({ "o": w.station, "f": (Utc::now() - Duration::days(1)).to_rfc3339(), "t": (Utc::now() + Duration::days(1)).to_rfc3339() }),
        )
        .await;
    assert_eq!(
        stats["organization"]["stats"],
        json!({ "needsRaised": 4, "needsAddressed": 2 })
    );
}

#[tokio::test]
async fn needs_are_matched_by_field_skills_place_and_time() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let p = parties(&app, &w).await;
    let at = |offset: i64| (Utc::now() + Duration::days(offset)).to_rfc3339();
    let here = json!({ "latitude": 31.38, "longitude": 120.98 });
    let need = app
        .ok(
            Some(&w.organizer.access),
            NEED,
            need_input(
                &w.station,
                "独居老人助浴",
                "ELDERLY_SERVICE",
                &["护理", "按摩"],
                json!({ "location": here, "neededFrom": at(5), "neededUntil": at(10) }),
            ),
        )
        .await["raiseCommunityNeed"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let civic = app
        .ok(
            Some(&w.organizer.access),
            NEED,
            need_input(
                &w.station,
                "充电棚选址",
                "COMMUNITY_BUILDING",
                &[],
                json!({}),
            ),
        )
        .await["raiseCommunityNeed"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let add = |org: &str,
               name: &str,
               kind: &str,
               fields: &[&str],
               skills: &[&str],
               extra: Value| {
        let mut i = json!({ "organizationId": org, "name": name, "kind": kind, "fields": fields, "skills": skills, "contact": "13912345678" });
        for (k, v) in extra.as_object().unwrap() {
            i[k] = v.clone();
        }
        json!({ "i": i })
    };
    let mut made = Vec::new();
    for (org, token, name, kind, fields, skills, extra) in [
        // Everything: 0.4 + 0.3 + 0.2 (same organization) + 0.1 = 1.
        (
            &w.station,
            &w.organizer,
            "护理队",
            "PERSON",
            vec!["ELDERLY_SERVICE"],
            vec!["护理", "按摩"],
            json!({}),
        ),
        // Field, no skill, part of the window: 0.4 + 0 + 0.2 + 0.05 = 0.65.
        (
            &w.station,
            &w.organizer,
            "活动室",
            "VENUE",
            vec!["ELDERLY_SERVICE"],
            vec![],
            json!({ "availableFrom": at(7), "availableUntil": at(20) }),
        ),
        // Another field, half the skills: 0 + 0.15 + 0.2 + 0.1 = 0.45.
        (
            &w.station,
            &w.organizer,
            "按摩师",
            "SKILL",
            vec!["COMMUNITY_BUILDING"],
            vec!["按摩"],
            json!({}),
        ),
        // Neither field nor skill: no match.
        (
            &w.station,
            &w.organizer,
            "辅导员",
            "PERSON",
            vec!["CHILDREN_IN_DIFFICULTY"],
            vec!["辅导"],
            json!({}),
        ),
        // Not available when needed: no match.
        (
            &w.station,
            &w.organizer,
            "下月场地",
            "VENUE",
            vec!["ELDERLY_SERVICE"],
            vec![],
            json!({ "availableFrom": at(20), "availableUntil": at(30) }),
        ),
        // Above the station, 15 km away: 0.4 + 0 + 0.2 × 5/19 + 0.1 ≈ 0.553.
        (
            &w.district,
            &w.root,
            "区慈善资金",
            "FUND",
            vec!["ELDERLY_SERVICE"],
            vec![],
            json!({ "location": { "latitude": 31.38 + 15_000.0 / 111_195.0, "longitude": 120.98 } }),
        ),
        // Off the station's line: never considered.
        (
            &w.other_station,
            &w.other_organizer,
            "周市护理队",
            "PERSON",
            vec!["ELDERLY_SERVICE"],
            vec!["护理", "按摩"],
            json!({}),
        ),
    ] {
        let id = app
            .ok(
                Some(&token.access),
                RESOURCE,
                add(org, name, kind, &fields, &skills, extra),
            )
            .await["addCommunityResource"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        made.push(id);
    }
    // A withdrawn resource is not considered either.
    let gone = app
        .ok(
            Some(&w.organizer.access),
            RESOURCE,
            add(
                &w.station,
                "已撤下",
                "PERSON",
                &["ELDERLY_SERVICE"],
                &["护理", "按摩"],
                json!({}),
            ),
        )
        .await["addCommunityResource"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { withdrawCommunityResource(id: $id) { active } }",
        json!({ "id": gone }),
    )
    .await;
    // A running project of the station: 0.4 + 0 + 0.2 + 0.1 = 0.7.
    app.ok(
        Some(&w.organizer.access),
        CREATE,
        project_input(&w, &p, "银龄守护", json!({})),
    )
    .await;

    // The whole ranking, for someone who may list every resource of the line.
    let got = app
        .ok(
            Some(&w.root.access),
            MATCH,
            json!({ "o": w.station, "f": 10 }),
        )
        .await;
    let lists = got["matchNeeds"].as_array().unwrap();
    assert_eq!(lists.len(), 2, "{got}");
    assert_eq!(lists[0]["need"]["id"], need.as_str());
    let ranked: Vec<(String, f64)> = lists[0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let name = m["resource"]["name"]
                .as_str()
                .or(m["project"]["title"].as_str())
                .unwrap()
                .to_owned();
            (name, m["score"].as_f64().unwrap())
        })
        .collect();
    let names: Vec<&str> = ranked.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["护理队", "银龄守护", "活动室", "区慈善资金", "按摩师"],
        "{ranked:?}"
    );
    let scores: Vec<f64> = ranked.iter().map(|(_, s)| *s).collect();
    assert_eq!(scores, [1.0, 0.7, 0.65, 0.553, 0.45]);
    let best = &lists[0]["matches"][0];
    assert_eq!(
        best["reasons"],
        json!(["FIELD", "SKILLS", "NEARBY", "AVAILABLE"])
    );
    assert_eq!(best["skillsCovered"], json!(["护理", "按摩"]));
    let fund = &lists[0]["matches"][3];
    let meters = fund["distanceMeters"].as_f64().unwrap();
    assert!((meters - 15_000.0).abs() < 20.0, "{fund}");
    // The civic need: only the skill with its field.
    assert_eq!(lists[1]["need"]["id"], civic.as_str());
    let civic_names: Vec<&str> = lists[1]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["resource"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(civic_names, ["按摩师"]);
    assert_eq!(lists[1]["matches"][0]["score"], 1.0);

    // The station's organizer may not list the district's resources, so they are not offered
    // to it either; the rest keeps its order.
    let mine = app
        .ok(
            Some(&w.organizer.access),
            MATCH,
            json!({ "o": w.station, "n": need, "f": 10 }),
        )
        .await;
    let names: Vec<&str> = mine["matchNeeds"][0]["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["resource"]["name"]
                .as_str()
                .or(m["project"]["title"].as_str())
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["护理队", "银龄守护", "活动室", "按摩师"]);

    // One need, the first two.
    let one = app
        .ok(
            Some(&w.organizer.access),
            MATCH,
            json!({ "o": w.station, "n": need, "f": 2 }),
        )
        .await;
    assert_eq!(one["matchNeeds"].as_array().unwrap().len(), 1);
    assert_eq!(one["matchNeeds"][0]["matches"].as_array().unwrap().len(), 2);
    let (_, body) = app
        .post(
            Some(&w.organizer.access),
            MATCH,
            json!({ "o": w.station, "f": 21 }),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // Staff only: a volunteer and another station's organizer are refused; so is reading the
    // resources list. A social worker of the station reads it with contacts masked; the
    // organizer in full.
    let volunteer = app.register("13800009400", "志愿者").await;
    for token in [&volunteer.access, &w.other_organizer.access] {
        assert_eq!(
            app.err_code(Some(token), MATCH, json!({ "o": w.station }))
                .await,
            "FORBIDDEN"
        );
    }
    const RESOURCES: &str =
        "query($o: ID!) { organization(id: $o) { resources { name contact } } }";
    assert_eq!(
        app.err_code(
            Some(&volunteer.access),
            RESOURCES,
            json!({ "o": w.station })
        )
        .await,
        "FORBIDDEN"
    );
    let worker = app.register("13800009401", "社工").await;
    app.add_member(&w.root.access, &w.station, "13800009401", "SOCIAL_WORKER")
        .await;
    let masked = app
        .ok(Some(&worker.access), RESOURCES, json!({ "o": w.station }))
        .await;
    let contacts: Vec<&str> = masked["organization"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["contact"].as_str().unwrap())
        .collect();
    assert!(contacts.iter().all(|c| *c == "139****5678"), "{masked}");
    let full = app
        .ok(
            Some(&w.organizer.access),
            RESOURCES,
            json!({ "o": w.station }),
        )
        .await;
    assert_eq!(
        full["organization"]["resources"][0]["contact"],
        "13912345678"
    );
    assert_eq!(made.len(), 7);
}
