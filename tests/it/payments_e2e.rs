//! Donations that were paid: an online donation counts nowhere until WeChat Pay's signed,
//! encrypted notification confirms it (here from the fake provider in [`crate::fakepay`]); a
//! forged, altered, stale, replayed or amount-mismatched notification changes nothing; staff
//! record offline gifts, marked and audited.

use futures::future::join_all;
use serde_json::{Value, json};

use crate::{
    fakepay,
    harness::{TestApp, World},
};

const DONATE: &str = "mutation($i: DonateInput!) { donate(input: $i) {
    id status channel receiptNumber confirmedAt amountFen
    payment { appId partnerId prepayId package nonceStr timestamp sign } } }";
const FUND: &str = "query($id: ID!) { charityFund(id: $id) { balanceFen donatedFen
    donations(first: 50) { edges { node { amountFen status channel reference receiptNumber donorName } } } } }";
const MINE: &str =
    "{ myDonations(first: 50) { edges { node { id status receiptNumber confirmedAt } } } }";
const OFFLINE: &str =
    "mutation($i: RecordOfflineDonationInput!) { recordOfflineDonation(input: $i) {
    id status channel reference receiptNumber donorName confirmedAt } }";

async fn open_fund(app: &TestApp, w: &World) -> String {
    app.ok(
        Some(&w.organizer.access),
        "mutation($i: CreateCharityFundInput!) { createCharityFund(input: $i) { id } }",
        json!({ "i": { "organizationId": w.station, "name": "亭林社区慈善基金", "purpose": "助老" } }),
    )
    .await["createCharityFund"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn fund(app: &TestApp, token: Option<&str>, id: &str) -> Value {
    app.ok(token, FUND, json!({ "id": id })).await["charityFund"].clone()
}

/// Start a donation of `amount` to `fund`; its answer.
async fn start(app: &TestApp, token: &str, fund: &str, amount: i64, key: &str) -> Value {
    app.ok(
        Some(token),
        DONATE,
        json!({ "i": { "fundId": fund, "amountFen": amount, "idempotencyKey": key } }),
    )
    .await["donate"]
        .clone()
}

fn prepay(d: &Value) -> &str {
    d["payment"]["prepayId"].as_str().unwrap()
}

#[tokio::test]
async fn a_donation_moves_nothing_until_a_correctly_signed_notification_arrives() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fund_id = open_fund(&app, &w).await;
    let donor = app.register("13800000001", "王小明").await;
    let d = start(&app, &donor.access, &fund_id, 12_345, "k1").await;
    assert_eq!(d["status"], "PENDING");
    assert_eq!(d["channel"], "WECHAT_PAY");
    assert!(d["receiptNumber"].is_null(), "no receipt for unpaid money");
    assert!(d["confirmedAt"].is_null());
    // What the app hands to the WeChat SDK, signed by the merchant key over
    // appId\ntimestamp\nnonceStr\nprepayId\n.
    let p = &d["payment"];
    assert_eq!(p["appId"], fakepay::APPID);
    assert_eq!(p["partnerId"], fakepay::MCHID);
    assert_eq!(p["package"], "Sign=WXPay");
    let merchant_pub = jsonwebtoken::DecodingKey::from_rsa_pem(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/wechatpay/merchant_pub.pem"
        ))
        .unwrap(),
    )
    .unwrap();
    let message = format!(
        "{}\n{}\n{}\n{}\n",
        p["appId"].as_str().unwrap(),
        p["timestamp"].as_str().unwrap(),
        p["nonceStr"].as_str().unwrap(),
        p["prepayId"].as_str().unwrap()
    );
    use base64::Engine;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(p["sign"].as_str().unwrap())
        .unwrap();
    assert!(
        jsonwebtoken::crypto::verify(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig),
            message.as_bytes(),
            &merchant_pub,
            jsonwebtoken::Algorithm::RS256,
        )
        .unwrap()
    );
    // The order the provider got: the amount, our notify URL, an expiry two hours out.
    let order = app.pay.order(prepay(&d));
    assert_eq!(order.total, 12_345);
    assert_eq!(order.notify_url, app.url("/payments/wechatpay/notify"));
    assert!(order.out_trade_no.starts_with("TXO-"));
    assert!(
        order.time_expire.ends_with("+08:00"),
        "{}",
        order.time_expire
    );

    // Pending: no balance, no list entry, no statistics, no receipt.
    let f = fund(&app, None, &fund_id).await;
    assert_eq!(f["balanceFen"], 0);
    assert_eq!(f["donatedFen"], 0);
    assert_eq!(f["donations"]["edges"].as_array().unwrap().len(), 0);
    let f = fund(&app, Some(&w.organizer.access), &fund_id).await;
    assert_eq!(f["donations"]["edges"].as_array().unwrap().len(), 0);
    let stats = "query($o: ID!) { organization(id: $o) {
        stats(from: \"2026-01-01T00:00:00Z\", to: \"2030-01-01T00:00:00Z\") { donationsFen } } }";
    let s = app
        .ok(Some(&w.root.access), stats, json!({ "o": w.station }))
        .await;
    assert_eq!(s["organization"]["stats"]["donationsFen"], 0);
    let mine = app.ok(Some(&donor.access), MINE, json!({})).await;
    assert_eq!(mine["myDonations"]["edges"][0]["node"]["status"], "PENDING");
    assert!(mine["myDonations"]["edges"][0]["node"]["receiptNumber"].is_null());

    // WeChat Pay says it is paid.
    assert_eq!(app.pay.pay(prepay(&d)).await, 204);
    let f = fund(&app, Some(&w.organizer.access), &fund_id).await;
    assert_eq!(f["balanceFen"], 12_345);
    assert_eq!(f["donatedFen"], 12_345);
    let node = &f["donations"]["edges"][0]["node"];
    assert_eq!(node["status"], "CONFIRMED");
    assert_eq!(node["channel"], "WECHAT_PAY");
    assert!(node["receiptNumber"].as_str().unwrap().starts_with("TXR-"));
    let s = app
        .ok(Some(&w.root.access), stats, json!({ "o": w.station }))
        .await;
    assert_eq!(s["organization"]["stats"]["donationsFen"], 12_345);
    let mine = app.ok(Some(&donor.access), MINE, json!({})).await;
    let node = &mine["myDonations"]["edges"][0]["node"];
    assert_eq!(node["status"], "CONFIRMED");
    assert!(node["receiptNumber"].is_string());
    assert!(node["confirmedAt"].is_string());
}

#[tokio::test]
async fn forged_altered_stale_replayed_and_mismatched_notifications_change_nothing() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fund_id = open_fund(&app, &w).await;
    let donor = app.register("13800000001", "王小明").await;
    let d = start(&app, &donor.access, &fund_id, 5_000, "k1").await;
    let order = app.pay.order(prepay(&d));
    let pay = &app.pay;
    let now = chrono::Utc::now().timestamp();
    let platform = jsonwebtoken::EncodingKey::from_rsa_pem(
        &std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/wechatpay/platform_key.pem"
        ))
        .unwrap(),
    )
    .unwrap();
    let tx = "4200000000202612060000000001";
    let nothing_moved = || async {
        let f = fund(&app, Some(&w.organizer.access), &fund_id).await;
        assert_eq!(f["balanceFen"], 0, "{f}");
        assert_eq!(f["donations"]["edges"].as_array().unwrap().len(), 0);
    };

    // Signed by a key that is not WeChat Pay's (the merchant's own: a leaked merchant key
    // confirms nothing).
    let forged = pay.notification_with(
        &order,
        tx,
        5_000,
        &fakepay::forger_key(),
        now,
        fakepay::API_V3_KEY,
    );
    assert_eq!(pay.deliver(&order, &forged).await.0, 401);
    // Genuine, then altered after signing (another amount in a re-encrypted resource would
    // need the key; here the envelope itself changes).
    let genuine = pay.notification(&order, tx);
    let mut altered = genuine.clone();
    altered.body = altered.body.replace("支付成功", "支付成功 ");
    assert_eq!(pay.deliver(&order, &altered).await.0, 401);
    // Naming another key, or none.
    let other_key = genuine
        .clone()
        .with_header("Wechatpay-Serial", "PUB_KEY_ID_SOMEONE_ELSE");
    assert_eq!(pay.deliver(&order, &other_key).await.0, 401);
    let unsigned = genuine.clone().with_header("Wechatpay-Signature", "");
    assert_eq!(pay.deliver(&order, &unsigned).await.0, 401);
    // Correctly signed, but ten minutes old: a captured notification played back.
    let stale = pay.notification_with(&order, tx, 5_000, &platform, now - 600, fakepay::API_V3_KEY);
    assert_eq!(pay.deliver(&order, &stale).await.0, 401);
    // Correctly signed, but the resource is not encrypted with our APIv3 key.
    let wrong_key = pay.notification_with(
        &order,
        tx,
        5_000,
        &platform,
        now,
        "ffffffffffffffffffffffffffffffff",
    );
    assert_eq!(pay.deliver(&order, &wrong_key).await.0, 401);
    // Correctly signed and encrypted, but for one fen, or a hundred times the amount.
    for total in [1, 500_000] {
        let n = pay.notification_with(&order, tx, total, &platform, now, fakepay::API_V3_KEY);
        assert_eq!(pay.deliver(&order, &n).await.0, 409);
    }
    // For an order we never opened.
    let mut unknown = order.clone();
    unknown.out_trade_no = "TXO-2026-NOPE-NOPE-NOPE".into();
    let n = pay.notification(&unknown, "4200000000202612060000000099");
    assert_eq!(pay.deliver(&order, &n).await.0, 404);
    nothing_moved().await;
    let mine = app.ok(Some(&donor.access), MINE, json!({})).await;
    assert_eq!(mine["myDonations"]["edges"][0]["node"]["status"], "PENDING");

    // The genuine one counts once, however often it arrives, even all at once.
    let answers = join_all((0..12).map(|_| pay.deliver(&order, &genuine))).await;
    assert!(answers.iter().all(|a| a.0 == 204), "{answers:?}");
    assert_eq!(pay.deliver(&order, &genuine).await.0, 204);
    let f = fund(&app, None, &fund_id).await;
    assert_eq!(f["balanceFen"], 5_000);
    assert_eq!(f["donations"]["edges"].as_array().unwrap().len(), 1);
    // A second transaction for the paid order changes nothing.
    let second = pay.notification(&order, "4200000000202612060000000002");
    assert_eq!(pay.deliver(&order, &second).await.0, 409);
    // Nor does the same transaction claimed for another donation.
    let d2 = start(&app, &donor.access, &fund_id, 5_000, "k2").await;
    let order2 = app.pay.order(prepay(&d2));
    let reused = pay.notification(&order2, tx);
    assert_eq!(pay.deliver(&order2, &reused).await.0, 409);
    let f = fund(&app, None, &fund_id).await;
    assert_eq!(f["balanceFen"], 5_000);
    let mine = app.ok(Some(&donor.access), MINE, json!({})).await;
    assert_eq!(mine["myDonations"]["edges"][1]["node"]["status"], "PENDING");
}

#[tokio::test]
async fn concurrent_donations_each_count_exactly_once_when_paid() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fund_id = open_fund(&app, &w).await;
    let donor = app.register("13800000001", "王小明").await;
    let keys: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    let started = join_all(
        keys.iter()
            .zip(100..)
            .map(|(key, amount)| start(&app, &donor.access, &fund_id, amount, key)),
    )
    .await;
    // Each paid, its notification delivered twice, all at once.
    let answers = join_all(
        started
            .iter()
            .flat_map(|d| [prepay(d).to_owned(), prepay(d).to_owned()])
            .map(|p| {
                let pay = app.pay.clone();
                async move {
                    let order = pay.order(&p);
                    let n = pay.notification(&order, &format!("4200{}", &p[2..26]));
                    pay.deliver(&order, &n).await.0
                }
            }),
    )
    .await;
    assert!(answers.iter().all(|s| *s == 204), "{answers:?}");
    let f = fund(&app, None, &fund_id).await;
    assert_eq!(f["balanceFen"], (100..110).sum::<i64>());
    assert_eq!(f["donations"]["edges"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn a_retry_opens_the_order_the_provider_could_not_take_and_late_payments_still_count() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fund_id = open_fund(&app, &w).await;
    let donor = app.register("13800000001", "王小明").await;
    app.pay.set_down(true);
    let input = json!({ "i": { "fundId": fund_id, "amountFen": 800, "idempotencyKey": "k" } });
    assert_eq!(
        app.err_code(Some(&donor.access), DONATE, input.clone())
            .await,
        "SERVICE_UNAVAILABLE"
    );
    app.pay.set_down(false);
    let d = app.ok(Some(&donor.access), DONATE, input.clone()).await["donate"].clone();
    assert_eq!(d["status"], "PENDING");
    let mine = app.ok(Some(&donor.access), MINE, json!({})).await;
    assert_eq!(
        mine["myDonations"]["edges"].as_array().unwrap().len(),
        1,
        "one donation"
    );

    // Never paid in its window: expired, and a retry cannot pay it any more.
    let window = chrono::Duration::minutes(120);
    let expired = api::funds::service::expire_unpaid(
        &app.state.db,
        chrono::Utc::now() + window + chrono::Duration::minutes(1),
        window,
    )
    .await
    .unwrap();
    assert_eq!(expired, 1);
    let mine = app.ok(Some(&donor.access), MINE, json!({})).await;
    assert_eq!(mine["myDonations"]["edges"][0]["node"]["status"], "EXPIRED");
    let retry = app.ok(Some(&donor.access), DONATE, input.clone()).await["donate"].clone();
    assert_eq!(retry["status"], "EXPIRED");
    assert!(
        retry["payment"].is_null(),
        "nothing to pay after the window"
    );
    // But money WeChat Pay did take (paid at the last moment, notified late) counts.
    assert_eq!(app.pay.pay(prepay(&d)).await, 204);
    let mine = app.ok(Some(&donor.access), MINE, json!({})).await;
    assert_eq!(
        mine["myDonations"]["edges"][0]["node"]["status"],
        "CONFIRMED"
    );
    assert_eq!(fund(&app, None, &fund_id).await["balanceFen"], 800);
    // A retry now answers the confirmed donation, with nothing to pay.
    let again = app.ok(Some(&donor.access), DONATE, input).await["donate"].clone();
    assert_eq!(again["status"], "CONFIRMED");
    assert!(again["payment"].is_null());
}

#[tokio::test]
async fn without_a_payment_provider_online_donations_are_unavailable_and_nothing_is_written() {
    let app = TestApp::spawn_with(|c| c.wechatpay_mchid = None).await;
    let w = app.world().await;
    let fund_id = open_fund(&app, &w).await;
    let donor = app.register("13800000001", "王小明").await;
    let (_, body) = app
        .post(
            Some(&donor.access),
            DONATE,
            json!({ "i": { "fundId": fund_id, "amountFen": 800, "idempotencyKey": "k" } }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "SERVICE_UNAVAILABLE"
    );
    let mine = app.ok(Some(&donor.access), MINE, json!({})).await;
    assert!(mine["myDonations"]["edges"].as_array().unwrap().is_empty());
    // And nobody can confirm anything through the notification endpoint.
    let order = fakepay::Order {
        out_trade_no: "TXO-X".into(),
        total: 800,
        notify_url: app.url("/payments/wechatpay/notify"),
        prepay_id: "wx1".into(),
        time_expire: String::new(),
    };
    let n = app.pay.notification(&order, "4200000000000000000000000001");
    assert_eq!(app.pay.deliver(&order, &n).await.0, 404);
}

#[tokio::test]
async fn staff_record_offline_gifts_once_marked_and_audited() {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let fund_id = open_fund(&app, &w).await;
    let volunteer = app.register("13800000001", "王小明").await;
    let gift = |reference: &str, key: &str| {
        json!({ "i": { "fundId": fund_id, "amountFen": 20_000, "channel": "BANK_TRANSFER",
                       "reference": reference, "donorName": "亭林镇某公司", "message": "冬衣",
                       "idempotencyKey": key } })
    };
    let d = app
        .ok(Some(&w.organizer.access), OFFLINE, gift("BANK-REF-1", "g1"))
        .await["recordOfflineDonation"]
        .clone();
    assert_eq!(d["status"], "CONFIRMED");
    assert_eq!(d["channel"], "BANK_TRANSFER");
    assert_eq!(d["reference"], "BANK-REF-1");
    assert!(d["receiptNumber"].as_str().unwrap().starts_with("TXR-"));
    // A retry records nothing new; the same transfer under another key is refused.
    let again = app
        .ok(Some(&w.organizer.access), OFFLINE, gift("BANK-REF-1", "g1"))
        .await;
    assert_eq!(again["recordOfflineDonation"]["id"], d["id"]);
    assert_eq!(
        app.err_code(Some(&w.organizer.access), OFFLINE, gift("BANK-REF-1", "g2"))
            .await,
        "CONFLICT"
    );
    // Not staff of the fund's organization: refused, whoever they are.
    assert_eq!(
        app.err_code(Some(&volunteer.access), OFFLINE, gift("BANK-REF-2", "g3"))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            OFFLINE,
            gift("BANK-REF-2", "g4")
        )
        .await,
        "FORBIDDEN"
    );
    assert_eq!(
        app.err_code(None, OFFLINE, gift("BANK-REF-2", "g5")).await,
        "UNAUTHENTICATED"
    );
    // Received in the future, or with an empty reference: bad input.
    let mut future = gift("BANK-REF-3", "g6");
    future["i"]["receivedAt"] = json!("2100-01-01T00:00:00Z");
    assert_eq!(
        app.err_code(Some(&w.organizer.access), OFFLINE, future)
            .await,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        app.err_code(Some(&w.organizer.access), OFFLINE, gift("  ", "g7"))
            .await,
        "BAD_USER_INPUT"
    );

    // It counts at once; the public sees the gift and its channel, not the reference.
    let f = fund(&app, None, &fund_id).await;
    assert_eq!(f["balanceFen"], 20_000);
    let node = &f["donations"]["edges"][0]["node"];
    assert_eq!(node["channel"], "BANK_TRANSFER");
    assert!(node["reference"].is_null());
    assert!(node["receiptNumber"].is_null());
    assert_eq!(node["donorName"], "亭林镇某公司");
    let f = fund(&app, Some(&w.organizer.access), &fund_id).await;
    assert_eq!(
        f["donations"]["edges"][0]["node"]["reference"],
        "BANK-REF-1"
    );
    // The organization's audit log says who recorded what.
    let log = app
        .ok(
            Some(&w.root.access),
            "query($o: ID!) { auditLog(organizationId: $o) { edges { node { action actorId detail } } } }",
            json!({ "o": w.station }),
        )
        .await;
    let entries: Vec<&Value> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["action"] == "donation.offline")
        .collect();
    assert_eq!(entries.len(), 1, "{log}");
    assert!(
        entries[0]["detail"]
            .as_str()
            .unwrap()
            .contains("BANK-REF-1")
    );
}
