//! `seed-demo`: a demo city that the API serves right away, and never over existing data.

use serde_json::json;

use crate::harness::TestApp;

#[tokio::test]
async fn seed_demo_fills_an_empty_database_once() {
    let app = TestApp::spawn().await;
    let summary = api::seed::seed_demo(&app.state)
        .await
        .expect("seed the demo");
    assert!(summary.events >= 12, "{summary:?}");
    assert!(summary.accounts <= 13, "{summary:?}");
    assert!(summary.signups_confirmed > 0, "{summary:?}");
    assert!(summary.signups_waitlisted > 0, "{summary:?}");

    // A dozen published events, visible to anyone.
    let data = app
        .ok(
            None,
            "{ events(first: 50) { nodes { status category campaign { title } } } }",
            json!({}),
        )
        .await;
    let events = data["events"]["nodes"].as_array().unwrap();
    let published = events.iter().filter(|e| e["status"] == "PUBLISHED").count();
    assert!(published >= 12, "{data}");
    assert!(
        events
            .iter()
            .filter(|e| e["campaign"]["title"] == "慈善同心·志愿同行")
            .count()
            > events.len() / 2,
        "most events join the campaign: {data}"
    );

    // The volunteer home feed around the Tinglin station has open shifts.
    let data = app
        .ok(
            None,
            "{ shifts(first: 50, filter: {hasOpenSlots: true, near: {latitude: 31.38, longitude: 120.98, radiusMeters: 5000}}) {
                edges { node { id title capacity event { title organization { name } } } } } }",
            json!({}),
        )
        .await;
    let edges = data["shifts"]["edges"].as_array().unwrap();
    assert!(!edges.is_empty(), "{data}");
    for edge in edges {
        let node = &edge["node"];
        assert!(node["event"]["title"].as_str().is_some(), "{data}");
        assert!(
            node["event"]["organization"]["name"].as_str().is_some(),
            "{data}"
        );
    }
    assert!(
        edges
            .iter()
            .any(|e| e["node"]["event"]["organization"]["name"] == "亭林社工站"),
        "{data}"
    );

    // A demo volunteer logs in and sees their sign-ups.
    let data = app
        .ok(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "phone": "13800000001", "password": "tongxing-demo" } }),
        )
        .await;
    let token = data["login"]["accessToken"].as_str().unwrap().to_owned();
    let data = app
        .ok(
            Some(&token),
            "{ me { signups { edges { node { status } } } } }",
            json!({}),
        )
        .await;
    let signups = data["me"]["signups"]["edges"].as_array().unwrap();
    assert!(!signups.is_empty(), "{data}");

    // The charity side: a fund whose balance is its donations minus the disbursement, two
    // micro-wishes (one claimed), and help requests, one offered to the nearest volunteers.
    assert_eq!(
        (
            summary.funds,
            summary.donations,
            summary.wishes,
            summary.help_requests
        ),
        (1, 4, 2, 2)
    );
    let data = app
        .ok(
            None,
            "{ organizations(first: 50) { edges { node { id name funds { balanceFen donatedFen disbursedFen } } } }
               microWishes { edges { node { status beneficiaryAlias } } }
               helpRequests { edges { node { status details } } } }",
            json!({}),
        )
        .await;
    let fund = data["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["node"]["name"] == "亭林社工站")
        .map(|o| o["node"]["funds"][0].clone())
        .expect("the Tinglin station's fund");
    assert_eq!(fund["donatedFen"], 78_800);
    // 300 yuan of winter clothes, and 200 yuan to the elderly-care project it is tagged to.
    assert_eq!(fund["disbursedFen"], 50_000);
    assert_eq!(fund["balanceFen"], 28_800);
    let wishes: Vec<&str> = data["microWishes"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(wishes, ["OPEN", "CLAIMED"]);
    let requests = data["helpRequests"]["edges"].as_array().unwrap();
    let statuses: Vec<&str> = requests
        .iter()
        .map(|e| e["node"]["status"].as_str().unwrap())
        .collect();
    // The third is the one 戈老伯's care visit raised.
    assert_eq!(statuses, ["DISPATCHED", "REPORTED", "REPORTED"], "{data}");
    assert!(
        requests.iter().all(|e| e["node"]["details"].is_null()),
        "the public never sees the details"
    );

    // Service projects, the service list and the needs of 亭林, matched by its staff.
    let station = data["organizations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["node"]["name"] == "亭林社工站")
        .map(|o| o["node"]["id"].as_str().unwrap().to_owned())
        .expect("the Tinglin station");
    let lists = app
        .ok(
            None,
            "query($o: ID!) { organization(id: $o) {
                serviceProjects { title funding operator { name } evaluator { name }
                  progress { deliverables deliverablesMet disbursedFen } need { title } }
                serviceList { title }
                needs { title status } } }",
            json!({ "o": station }),
        )
        .await;
    let projects = lists["organization"]["serviceProjects"].as_array().unwrap();
    assert_eq!(projects.len(), 2, "{lists}");
    let elderly = projects
        .iter()
        .find(|p| p["funding"] == "GOVERNMENT_PURCHASE")
        .unwrap();
    assert_eq!(
        elderly["progress"],
        json!({ "deliverables": 4, "deliverablesMet": 2, "disbursedFen": 20_000 })
    );
    assert_eq!(
        elderly["operator"]["name"],
        "苏州姑苏区益众社会工作服务中心"
    );
    let children = projects
        .iter()
        .find(|p| p["funding"] == "JOINT_VENTURE")
        .unwrap();
    assert_eq!(children["need"]["title"], "困境儿童暑期学业辅导");
    assert_eq!(
        lists["organization"]["serviceList"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let statuses: Vec<&str> = lists["organization"]["needs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["OPEN", "ADDRESSED", "OPEN"]);
    let admin = app
        .ok(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "phone": "13900000000", "password": "tongxing-demo" } }),
        )
        .await["login"]["accessToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let matched = app
        .ok(
            Some(&admin),
            "query($o: ID!) { matchNeeds(organizationId: $o) { need { title } matches { resource { name } project { title } } } }",
            json!({ "o": station }),
        )
        .await;
    let first = &matched["matchNeeds"][0];
    assert_eq!(first["need"]["title"], "独居老人冬季助浴");
    assert_eq!(
        first["matches"][0]["resource"]["name"], "退休护士志愿服务队",
        "{matched}"
    );

    // The register of people served: masked in the list, whole when opened.
    let people = app
        .ok(
            Some(&admin),
            "query($o: ID!) { careRecipients(organizationId: $o) { name categories } }",
            json!({ "o": station }),
        )
        .await;
    assert_eq!(
        people["careRecipients"],
        json!([
            { "name": "许**", "categories": ["LIVING_ALONE", "BEREAVED_PARENTS"] },
            { "name": "戈**", "categories": ["LIVING_ALONE", "DISABILITY"] }
        ])
    );
    // Their plans and visits: a handled alert (low spirits) and an open one (no home-care
    // worker) that became a help request.
    let care = app
        .ok(
            Some(&admin),
            "query($o: ID!, $f: Date!, $t: Date!) {
                careAlerts(organizationId: $o, openOnly: false) { mood health handledAt helpRequest { title } }
                careReport(organizationId: $o, from: $f, to: $t) { visitsDone alertsRaised alertsHandled } }",
            json!({ "o": station, "f": (chrono::Utc::now() - chrono::Duration::days(20)).date_naive().to_string(),
                    "t": (chrono::Utc::now() + chrono::Duration::days(2)).date_naive().to_string() }),
        )
        .await;
    let alerts = care["careAlerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2, "{care}");
    assert_eq!(alerts[0]["health"], "URGENT");
    assert_eq!(alerts[0]["helpRequest"]["title"], "关爱探访发现需协助");
    assert_eq!(alerts[1]["mood"], "CONCERN");
    assert!(alerts[1]["handledAt"].is_string());
    assert_eq!(
        care["careReport"],
        json!({ "visitsDone": 4, "alertsRaised": 2, "alertsHandled": 1 })
    );

    // The same community's council: three topics solved, two followed up, one just raised;
    // the fitness equipment paid by a micro-wish, discussed at the residents' meeting.
    let council = app
        .ok(
            None,
            "query($o: ID!) { topicCounts(organizationId: $o) { raised solved followingUp }
                topics(organizationId: $o, statuses: [IMPLEMENTED]) { edges { node { title supporters
                    microWish { title } meetings { attendees event { title } } } } } }",
            json!({ "o": station }),
        )
        .await;
    assert_eq!(
        council["topicCounts"],
        json!({ "raised": 1, "solved": 3, "followingUp": 2 })
    );
    let done = council["topics"]["edges"].as_array().unwrap();
    assert_eq!(done.len(), 2, "{council}");
    let fitness = &done[1]["node"];
    assert_eq!(fitness["title"], "增设健身器材");
    assert!(fitness["microWish"]["title"].is_string(), "{council}");
    assert!(fitness["supporters"].as_i64().unwrap() > 0);
    assert_eq!(
        fitness["meetings"][0]["event"]["title"],
        "城北社区居民议事会"
    );

    // A second run refuses: demo data never mixes with existing data.
    let err = api::seed::seed_demo(&app.state)
        .await
        .expect_err("a second seed must refuse");
    assert!(err.to_string().contains("empty database"), "{err:#}");
}
