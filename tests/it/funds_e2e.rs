//! Community charity funds over HTTP: donations, disbursements under concurrency, idempotent
//! retries, amount validation, anonymity and campaign progress.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::harness::{TestApp, World, first_code};

const CREATE_FUND: &str =
    "mutation($i: CreateCharityFundInput!) { createCharityFund(input: $i) { id balanceFen } }";
const DONATE: &str = "mutation($i: DonateInput!) { donate(input: $i) {
    id receiptNumber amountFen donorName status payment { prepayId } } }";
const DISBURSE: &str =
    "mutation($i: DisburseInput!) { disburse(input: $i) { id amountFen purpose projectRef } }";
const FUND: &str = "query($id: ID!) { charityFund(id: $id) { balanceFen donatedFen disbursedFen
    donations(first: 50) { edges { node { amountFen donorName anonymous receiptNumber message } } }
    disbursements(first: 50) { edges { node { amountFen purpose recordedBy { displayName } } } } } }";

async fn open_fund(app: &TestApp, w: &World) -> String {
    let data = app
        .ok(
            Some(&w.organizer.access),
            CREATE_FUND,
            json!({ "i": { "organizationId": w.station, "name": "亭林社区慈善基金", "purpose": "助老助困" } }),
        )
        .await;
    assert_eq!(data["createCharityFund"]["balanceFen"], 0);
    data["createCharityFund"]["id"].as_str().unwrap().to_owned()
}

fn donation(fund: &str, amount: i64, key: &str) -> Value {
    json!({ "i": { "fundId": fund, "amountFen": amount, "idempotencyKey": key } })
}

#[tokio::test]
async fn thirty_concurrent_disbursements_that_the_balance_covers_ten_of() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fund = open_fund(&app, &w).await;
    let donor = app.register("13800000001", "捐赠人").await;
    // 10,000 fen in, from two donations.
    for (i, amount) in [6_000, 4_000].into_iter().enumerate() {
        app.donate_paid(
            &donor.access,
            donation(&fund, amount, &format!("d{i}"))["i"].clone(),
        )
        .await;
    }

    let results = join_all((0..30).map(|i| {
        let app = &app;
        let token = w.organizer.access.clone();
        let fund = fund.clone();
        async move {
            app.post(
                Some(&token),
                DISBURSE,
                json!({ "i": { "fundId": fund, "amountFen": 1_000, "purpose": "重阳节慰问",
                               "projectRef": format!("P-{i}"), "idempotencyKey": format!("x{i}") } }),
            )
            .await
            .1
        }
    }))
    .await;
    let ok = results.iter().filter(|b| b["errors"].is_null()).count();
    let codes: Vec<&str> = results
        .iter()
        .filter_map(|b| b["errors"][0]["extensions"]["code"].as_str())
        .collect();
    assert_eq!(ok, 10, "exactly ten paid: {results:?}");
    assert_eq!(codes.len(), 20);
    assert!(
        codes.iter().all(|c| *c == "INSUFFICIENT_FUNDS"),
        "{codes:?}"
    );

    let f = &app.ok(None, FUND, json!({ "id": fund })).await["charityFund"];
    assert_eq!(f["balanceFen"], 0);
    assert_eq!(f["donatedFen"], 10_000);
    assert_eq!(f["disbursedFen"], 10_000);
    let paid: i64 = f["disbursements"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["amountFen"].as_i64().unwrap())
        .sum();
    let given: i64 = f["donations"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["amountFen"].as_i64().unwrap())
        .sum();
    assert_eq!(given - paid, f["balanceFen"].as_i64().unwrap());
    // The public does not see who recorded a disbursement.
    assert!(f["disbursements"]["edges"][0]["node"]["recordedBy"].is_null());
}

#[tokio::test]
async fn retries_with_one_key_move_money_once() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fund = open_fund(&app, &w).await;
    let donor = app.register("13800000001", "捐赠人").await;
    let answers = join_all((0..8).map(|_| {
        app.ok(
            Some(&donor.access),
            DONATE,
            donation(&fund, 5_000, "same-key"),
        )
    }))
    .await;
    // One donation, one order: every answer pays the same prepay ID.
    let id = &answers[0]["donate"]["id"];
    let prepay = answers[0]["donate"]["payment"]["prepayId"]
        .as_str()
        .unwrap();
    assert!(answers.iter().all(|a| a["donate"]["id"] == *id
        && a["donate"]["payment"]["prepayId"] == prepay
        && a["donate"]["receiptNumber"].is_null()));
    assert_eq!(app.pay.order_count(), 1);
    assert_eq!(app.pay.pay(prepay).await, 204);
    // Once paid, a retry answers the confirmed donation, with its receipt and nothing to pay.
    let again = app
        .ok(
            Some(&donor.access),
            DONATE,
            donation(&fund, 5_000, "same-key"),
        )
        .await;
    let receipt = again["donate"]["receiptNumber"].as_str().unwrap();
    assert!(receipt.starts_with("TXR-"), "{receipt}");
    assert_eq!(again["donate"]["id"], *id);
    assert!(again["donate"]["payment"].is_null());
    // The same key with another amount is a different request.
    assert_eq!(
        app.err_code(
            Some(&donor.access),
            DONATE,
            donation(&fund, 6_000, "same-key")
        )
        .await,
        "IDEMPOTENCY_CONFLICT"
    );
    for _ in 0..3 {
        app.ok(
            Some(&w.organizer.access),
            DISBURSE,
            json!({ "i": { "fundId": fund, "amountFen": 2_000, "purpose": "助学",
                           "projectRef": "P-1", "idempotencyKey": "pay-1" } }),
        )
        .await;
    }
    let f = &app.ok(None, FUND, json!({ "id": fund })).await["charityFund"];
    assert_eq!(f["donatedFen"], 5_000);
    assert_eq!(f["disbursedFen"], 2_000);
    assert_eq!(f["balanceFen"], 3_000);
    assert_eq!(f["donations"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(f["disbursements"]["edges"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_amounts_and_wrong_people_are_refused() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fund = open_fund(&app, &w).await;
    let donor = app.register("13800000001", "捐赠人").await;
    for (i, amount) in [0i64, -100, 100_000_001, i64::MAX].into_iter().enumerate() {
        let (_, body) = app
            .post(
                Some(&donor.access),
                DONATE,
                donation(&fund, amount, &format!("bad{i}")),
            )
            .await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.amountFen");
    }
    app.donate_paid(&donor.access, donation(&fund, 1_000, "ok")["i"].clone())
        .await;
    let disburse = |amount: i64, key: &str| {
        json!({ "i": { "fundId": fund, "amountFen": amount, "purpose": "x", "projectRef": "P",
                       "idempotencyKey": key } })
    };
    assert_eq!(
        app.err_code(Some(&w.organizer.access), DISBURSE, disburse(-5, "n"))
            .await,
        "BAD_USER_INPUT"
    );
    // A donor, another station's organizer and an anonymous caller may not pay out.
    assert_eq!(
        app.err_code(Some(&donor.access), DISBURSE, disburse(500, "a"))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            DISBURSE,
            disburse(500, "b")
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(None, DISBURSE, disburse(500, "c")).await,
        "UNAUTHENTICATED"
    );
    // Only staff open funds.
    assert_eq!(
        app.err_code(
            Some(&donor.access),
            CREATE_FUND,
            json!({ "i": { "organizationId": w.station, "name": "x" } })
        )
        .await,
        "FORBIDDEN"
    );
    // Neither or both targets.
    assert_eq!(
        app.err_code(
            Some(&donor.access),
            DONATE,
            json!({ "i": { "amountFen": 100, "idempotencyKey": "t" } })
        )
        .await,
        "BAD_USER_INPUT"
    );
    // A display name longer than a receipt's donor name still donates (cut to 50 characters).
    let long = "长".repeat(60);
    let donor2 = app.register("13800000009", &long).await;
    let d = app
        .donate_paid(&donor2.access, donation(&fund, 100, "long")["i"].clone())
        .await;
    assert_eq!(d["donorName"].as_str().unwrap().chars().count(), 50);
    let f = &app.ok(None, FUND, json!({ "id": fund })).await["charityFund"];
    assert_eq!(f["balanceFen"], 1_100);
    assert_eq!(f["disbursedFen"], 0);
}

#[tokio::test]
async fn anonymous_donors_are_hidden_from_the_public_and_campaigns_count_what_they_raise() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fund = open_fund(&app, &w).await;
    let donor = app.register("13800000001", "王小明").await;
    let stranger = app.register("13800000002", "路人").await;
    let d = app
        .donate_paid(
            &donor.access,
            json!({ "fundId": fund, "amountFen": 888, "anonymous": true,
                    "message": "一点心意", "idempotencyKey": "anon" }),
        )
        .await;
    assert_eq!(d["donorName"], "王小明");
    for token in [None, Some(stranger.access.as_str())] {
        let f = &app.ok(token, FUND, json!({ "id": fund })).await["charityFund"];
        let node = &f["donations"]["edges"][0]["node"];
        assert_eq!(node["donorName"], "匿名爱心人士");
        assert!(node["receiptNumber"].is_null());
        assert_eq!(node["message"], "一点心意");
    }
    // The fund's managers see who gave (for receipts and accounts).
    let f = &app
        .ok(Some(&w.organizer.access), FUND, json!({ "id": fund }))
        .await["charityFund"];
    assert_eq!(f["donations"]["edges"][0]["node"]["donorName"], "王小明");
    assert!(f["donations"]["edges"][0]["node"]["receiptNumber"].is_string());

    // A campaign: donations count toward its goal; drafts take none.
    let c = app
        .ok(
            Some(&w.organizer.access),
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }",
            json!({ "i": { "organizationId": w.station, "title": "慈善同心·志愿同行",
                           "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2027-12-31T00:00:00Z",
                           "fundraisingGoalFen": 100_000 } }),
        )
        .await["createCampaign"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let give =
        |key: &str| json!({ "i": { "campaignId": c, "amountFen": 2_500, "idempotencyKey": key } });
    assert_eq!(
        app.err_code(Some(&w.organizer.access), DONATE, give("draft"))
            .await,
        "BAD_USER_INPUT"
    );
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!) { publishCampaign(id: $id) { status } }",
        json!({ "id": c }),
    )
    .await;
    app.donate_paid(&donor.access, give("c1")["i"].clone())
        .await;
    app.donate_paid(&stranger.access, give("c2")["i"].clone())
        .await;
    let p = app
        .ok(
            None,
            "query($id: ID!) { node(id: $id) { ... on Campaign { fundraisingGoalFen progress { raisedFen }
                donations(first: 10) { edges { node { amountFen } } } } } }",
            json!({ "id": c }),
        )
        .await;
    assert_eq!(p["node"]["progress"]["raisedFen"], 5_000);
    assert_eq!(p["node"]["fundraisingGoalFen"], 100_000);
    assert_eq!(p["node"]["donations"]["edges"].as_array().unwrap().len(), 2);
    // And the donor finds both gifts, with receipts.
    let mine = app
        .ok(
            Some(&donor.access),
            "{ myDonations(first: 10) { edges { node { amountFen receiptNumber fund { id } campaign { id } } } } }",
            json!({}),
        )
        .await;
    let edges = mine["myDonations"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 2);
    assert!(edges.iter().all(|e| e["node"]["receiptNumber"].is_string()));
    assert_eq!(edges[0]["node"]["fund"]["id"], fund.as_str());
    assert_eq!(edges[1]["node"]["campaign"]["id"], c.as_str());
}

#[tokio::test]
async fn an_api_client_sees_funds_as_the_public_does() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fund = open_fund(&app, &w).await;
    let donor = app.register("13800000001", "王小明").await;
    app.donate_paid(
        &donor.access,
        json!({ "fundId": fund, "amountFen": 500, "anonymous": true, "idempotencyKey": "k" }),
    )
    .await;
    // Registered by the station's organizer, who sees the donor; the client must not.
    let created = app
        .ok(
            Some(&w.organizer.access),
            crate::clients_e2e::CREATE,
            json!({ "i": { "organizationId": w.station, "name": "捐赠公示屏", "scopes": ["PUBLIC_READ"] } }),
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
    let token = body["access_token"].as_str().unwrap();
    let f = &app.ok(Some(token), FUND, json!({ "id": fund })).await["charityFund"];
    let node = &f["donations"]["edges"][0]["node"];
    assert_eq!(node["donorName"], "匿名爱心人士");
    assert!(node["receiptNumber"].is_null());
    assert_eq!(f["balanceFen"], 500);
}

#[tokio::test]
async fn an_organizations_funds_are_a_capped_list_costed_by_its_size() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let mut made = Vec::new();
    for name in ["一号基金", "二号基金", "三号基金"] {
        let id = app
            .ok(
                Some(&w.organizer.access),
                CREATE_FUND,
                json!({ "i": { "organizationId": w.station, "name": name, "purpose": "助老助困" } }),
            )
            .await["createCharityFund"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        made.push(id);
    }
    let list = |first: Option<i32>| {
        let app = &app;
        let station = w.station.clone();
        async move {
            app.post(
                None,
                "query($o: ID!, $n: Int) { organization(id: $o) { funds(first: $n) { id } } }",
                json!({ "o": station, "n": first }),
            )
            .await
            .1
        }
    };
    // The oldest first, as many as asked for; all three by default (twenty).
    let two = list(Some(2)).await;
    let ids: Vec<&str> = two["data"]["organization"]["funds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [made[0].as_str(), made[1].as_str()]);
    let all = list(None).await;
    assert_eq!(
        all["data"]["organization"]["funds"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Past the cap is the client's mistake, named.
    let too_many = list(Some(101)).await;
    assert_eq!(first_code(&too_many), "BAD_USER_INPUT", "{too_many}");
    // A list costs its size: a hundred funds under each of thirty organizations is refused
    // before anything runs (costed as one, it would cost about 120).
    let (_, body) = app
        .post(
            None,
            "{ organizations(first: 30) { nodes { funds(first: 100) { id name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["message"], "Query is too complex.",
        "{body}"
    );
}
