//! CSV exports over HTTP: rows for the organization's subtree, phones masked, anonymous donors
//! anonymous, many pages streamed in order, and refusal for anyone but its managers.

use chrono::{Duration, Utc};
use serde_json::json;

use crate::harness::{TestApp, exec};

/// GET an export; returns the status and the body.
async fn get(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    query: &[(&str, String)],
) -> (u16, String) {
    let mut req = app.client.get(app.url(path)).query(query);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    if status == 200 {
        assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
        assert_eq!(resp.headers()["cache-control"], "private, no-store");
    }
    (status, resp.text().await.unwrap())
}

/// Parse a CSV body: (header, rows).
fn parse(body: &str) -> (Vec<String>, Vec<Vec<String>>) {
    assert!(body.starts_with('\u{feff}'), "UTF-8 byte-order mark first");
    let mut r = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

#[tokio::test]
async fn service_records_export_masks_phones_and_refuses_volunteers() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    // A shift's record at the station…
    let event = app
        .event_at(
            &w.organizer.access,
            &w.station,
            "敬老院助餐",
            31.38,
            120.98,
            2,
            true,
        )
        .await;
    let shift = app
        .shift_in(&w.organizer.access, &event, 5, false, &[])
        .await;
    let vol = app.register("13800000001", "李小红").await;
    app.sign_up(&vol.access, &shift, "k1").await;
    app.serve_an_hour(&vol.access, &shift).await;
    // …and a help request's.
    // A name that a spreadsheet would run as a formula.
    let helper = app
        .register("13800000002", "=HYPERLINK(\"http://x\",\"王大力\")")
        .await;
    let req = app
        .ok(
            Some(&w.organizer.access),
            crate::help_e2e::CREATE,
            crate::help_e2e::request_input(&w.station, &[]),
        )
        .await["createHelpRequest"]["id"]
        .clone();
    let helper_id = api::ids::encode(api::ids::NodeType::Account, helper.account_key()).0;
    app.ok(
        Some(&w.organizer.access),
        "mutation($id: ID!, $v: [ID!]!) { dispatchHelpRequest(helpRequestId: $id, volunteerIds: $v) { status } }",
        json!({ "id": req, "v": [helper_id] }),
    )
    .await;
    app.ok(
        Some(&helper.access),
        "mutation($id: ID!) { acceptHelpOffer(helpRequestId: $id) { status } }",
        json!({ "id": req }),
    )
    .await;
    app.backdate_acceptance(req.as_str().unwrap(), 1).await;
    app.ok(
        Some(&helper.access),
        "mutation($id: ID!) { completeHelpRequest(id: $id, minutesServed: 40) { helpRequest { status } } }",
        json!({ "id": req }),
    )
    .await;

    let from = (Utc::now() - Duration::days(1)).to_rfc3339();
    let to = (Utc::now() + Duration::days(1)).to_rfc3339();
    let path = "/exports/service-records.csv";
    let at = |org: &str| {
        [
            ("organizationId", org.to_owned()),
            ("from", from.clone()),
            ("to", to.clone()),
        ]
    };
    let station = at(&w.station);
    let (status, body) = get(&app, Some(&w.organizer.access), path, &station).await;
    assert_eq!(status, 200, "{body}");
    let (header, rows) = parse(&body);
    assert_eq!(header[0], "record_id");
    assert_eq!(rows.len(), 2, "{body}");
    let (name, phone, source, minutes) = (
        column(&header, "volunteer_name"),
        column(&header, "volunteer_phone"),
        column(&header, "source"),
        column(&header, "minutes"),
    );
    let shift_row = rows.iter().find(|r| r[source] == "SHIFT").unwrap();
    assert_eq!(shift_row[name], "李小红");
    assert_eq!(shift_row[phone], "138****0001");
    assert_eq!(shift_row[minutes], "60");
    assert_eq!(shift_row[column(&header, "title")], "敬老院助餐");
    let help_row = rows.iter().find(|r| r[source] == "HELP_REQUEST").unwrap();
    assert_eq!(
        help_row[name], "'=HYPERLINK(\"http://x\",\"王大力\")",
        "formulas are defused"
    );
    assert_eq!(help_row[minutes], "40");
    assert_eq!(help_row[column(&header, "status")], "PENDING");
    assert!(!body.contains("13800000001") && !body.contains("13800000002"));

    // The city's administrator exports the same rows through the subtree; the other station's
    // export is empty but has its header.
    let (_, body) = get(&app, Some(&w.root.access), path, &at(&w.city)).await;
    assert_eq!(parse(&body).1.len(), 2);
    let (status, body) = get(
        &app,
        Some(&w.other_organizer.access),
        path,
        &at(&w.other_station),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(parse(&body).1.len(), 0);

    // Refusals: no token, a volunteer, another station's organizer, bad input.
    assert_eq!(get(&app, None, path, &station).await.0, 401);
    let (status, body) = get(&app, Some(&vol.access), path, &station).await;
    assert_eq!(status, 403);
    assert!(body.contains("FORBIDDEN"));
    assert_eq!(
        get(&app, Some(&w.other_organizer.access), path, &station)
            .await
            .0,
        403
    );
    let mut bad = station.clone();
    bad[1].1 = "last week".to_owned();
    let (status, body) = get(&app, Some(&w.organizer.access), path, &bad).await;
    assert_eq!(status, 400);
    let err: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(err["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(err["errors"][0]["extensions"]["field"], "from");
    // Days work too (China Standard Time).
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let days = [
        ("organizationId", w.station.clone()),
        ("from", (today - chrono::Days::new(1)).to_string()),
        ("to", (today + chrono::Days::new(2)).to_string()),
    ];
    let (status, body) = get(&app, Some(&w.organizer.access), path, &days).await;
    assert_eq!(status, 200);
    assert_eq!(parse(&body).1.len(), 2);
}

#[tokio::test]
async fn donations_export_streams_every_page_and_keeps_anonymous_donors_anonymous() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
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
    let named = app.register("13800000011", "陈先生").await;
    let hidden = app.register("13800000012", "周女士").await;
    app.donate_paid(
        &named.access,
        json!({ "fundId": fund, "amountFen": 12_345, "idempotencyKey": "d1" }),
    )
    .await;
    app.donate_paid(
        &hidden.access,
        json!({ "fundId": fund, "amountFen": 500, "anonymous": true, "donorName": "周女士", "idempotencyKey": "d2" }),
    )
    .await;
    // A donation never paid is no money: not exported.
    app.ok(
        Some(&named.access),
        "mutation($i: DonateInput!) { donate(input: $i) { status } }",
        json!({ "i": { "fundId": fund, "amountFen": 777, "idempotencyKey": "d3" } }),
    )
    .await;
    // 1,200 more, straight into the table, so the export runs to three pages.
    let fund_key = api::ids::decode_any(&async_graphql::ID(fund.clone()))
        .unwrap()
        .1;
    let now = Utc::now();
    exec(
        &app.state.db,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200) \
         INSERT INTO donation (receipt_number, fund_id, account_id, amount_fen, donor_name, anonymous, message, created_at, \
           status, channel, out_trade_no, transaction_id, confirmed_at) \
         SELECT 'TXR-BULK-' || CAST(i AS VARCHAR(8)), ?, ?, i, '批量', false, '', ?, 'CONFIRMED', 'WECHAT_PAY', \
           'TXO-BULK-' || CAST(i AS VARCHAR(8)), '4200BULK' || CAST(i AS VARCHAR(8)), ? FROM n",
        vec![fund_key.into(), named.account_key().into(), now.into(), now.into()],
    )
    .await;

    let from = (Utc::now() - Duration::days(1)).to_rfc3339();
    let to = (Utc::now() + Duration::days(1)).to_rfc3339();
    let query = [
        ("organizationId", w.district.clone()),
        ("from", from),
        ("to", to),
    ];
    let (status, body) = get(&app, Some(&w.root.access), "/exports/donations.csv", &query).await;
    assert_eq!(status, 200, "{body}");
    let (header, rows) = parse(&body);
    assert_eq!(rows.len(), 1_202);
    let receipt = column(&header, "receipt_number");
    let mut receipts: Vec<&str> = rows.iter().map(|r| r[receipt].as_str()).collect();
    receipts.sort_unstable();
    receipts.dedup();
    assert_eq!(receipts.len(), 1_202, "every row once");
    let (donor, phone, yuan, anon) = (
        column(&header, "donor_name"),
        column(&header, "donor_phone"),
        column(&header, "amount_yuan"),
        column(&header, "anonymous"),
    );
    assert_eq!(rows[0][donor], "陈先生");
    assert_eq!(rows[0][phone], "138****0011");
    assert_eq!(rows[0][yuan], "123.45");
    assert_eq!(rows[0][column(&header, "target_name")], "亭林社区慈善基金");
    assert_eq!(rows[0][column(&header, "channel")], "WECHAT_PAY");
    assert_eq!(rows[1][donor], "匿名爱心人士");
    assert_eq!(rows[1][phone], "");
    assert_eq!(rows[1][anon], "true");
    assert!(
        !body.contains("周女士"),
        "an anonymous donor's name never leaves"
    );
    assert!(!body.contains("13800000012"));
    let total: i64 = rows
        .iter()
        .map(|r| r[column(&header, "amount_fen")].parse::<i64>().unwrap())
        .sum();
    assert_eq!(total, 12_345 + 500 + (1..=1_200).sum::<i64>());

    // A volunteer (even a donor) may not export.
    assert_eq!(
        get(&app, Some(&named.access), "/exports/donations.csv", &query)
            .await
            .0,
        403
    );
}
