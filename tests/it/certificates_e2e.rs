//! Real-name identity and service certificates over HTTP (issue 4, certificates).

use sea_orm::EntityTrait;
use serde_json::{Value, json};

use crate::harness::{Session, TestApp, World};

const SET_IDENTITY: &str = "mutation($i: SetMyIdentityInput!) { setMyIdentity(input: $i) { legalName idType idNumberMasked } }";
const ISSUE: &str = "mutation($from: Date!, $to: Date!, $v: ID, $o: ID) { issueServiceCertificate(from: $from, to: $to, volunteerId: $v, organizationId: $o) { number legalName volunteerNumber idType idNumberMasked totalMinutes totalHours periodFrom periodTo issueDate pdfPath issuingOrganization { name } lines { eventTitle organizationName category firstDay lastDay minutes records } } }";
const VERIFY: &str = "query($n: String!) { verifyServiceCertificate(number: $n) { number legalName idNumberMasked volunteerNumber totalMinutes pdfPath issuingOrganization { name } lines { eventTitle minutes } } }";

/// A valid mainland ID number (the standard's own example).
const ID_NUMBER: &str = "11010519491231002X";

fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&api::clock::city_offset())
        .date_naive()
}

fn period(from_days_ago: i64) -> Value {
    json!({
        "from": (today() - chrono::Duration::days(from_days_ago)).to_string(),
        "to": today().to_string(),
    })
}

/// A volunteer with 60 approved minutes of elderly care at the world's station.
async fn approved_service() -> (TestApp, World, Session) {
    let (app, w, vol, _shift) = approved_service_on_shift().await;
    (app, w, vol)
}

/// `approved_service`, with the shift served.
async fn approved_service_on_shift() -> (TestApp, World, Session, String) {
    let app = TestApp::spawn().await;
    let w = app.world().await;
    let org = w.organizer.access.clone();
    let event = app
        .event_at(&org, &w.station, "助餐", 31.38, 120.98, 0, true)
        .await;
    let starts = chrono::Utc::now() + chrono::Duration::minutes(10);
    let shift = app.shift_at(&org, &event, starts, 5, true, &[]).await;
    let vol = app.register("13800000001", "小李").await;
    app.sign_up(&vol.access, &shift, "s1").await;
    let record = app.serve_an_hour(&vol.access, &shift).await;
    app.ok(
        Some(&org),
        "mutation($id: ID!) { approveServiceRecord(id: $id) { status } }",
        json!({ "id": api::ids::encode(api::ids::NodeType::ServiceRecord, record.id) }),
    )
    .await;
    (app, w, vol, shift)
}

fn merge(mut a: Value, b: Value) -> Value {
    for (k, v) in b.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

#[tokio::test]
async fn identity_is_validated_encrypted_and_shown_masked() {
    let app = TestApp::spawn().await;
    let vol = app.register("13800000001", "小李").await;
    let input =
        |n: &str| json!({ "i": { "legalName": "李明", "idType": "MAINLAND_ID", "idNumber": n } });
    // A wrong check digit, an impossible birthday: refused, naming the field.
    for bad in ["110105194912310021", "110105194913310025"] {
        let body = app
            .post(Some(&vol.access), SET_IDENTITY, input(bad))
            .await
            .1;
        assert_eq!(crate::harness::first_code(&body), "BAD_USER_INPUT");
        assert_eq!(body["errors"][0]["extensions"]["field"], "input.idNumber");
    }
    let data = app
        .ok(
            Some(&vol.access),
            SET_IDENTITY,
            input("110105 19491231 002x"),
        )
        .await;
    assert_eq!(
        data["setMyIdentity"],
        json!({ "legalName": "李明", "idType": "MAINLAND_ID", "idNumberMasked": "110***********002X" })
    );
    let me = app
        .ok(
            Some(&vol.access),
            "{ me { identity { legalName idNumberMasked } } }",
            json!({}),
        )
        .await;
    assert_eq!(me["me"]["identity"]["idNumberMasked"], "110***********002X");
    // At rest the number is ciphertext that opens only with the server's key for this account.
    let row = entity::identity::Entity::find()
        .one(&app.state.db)
        .await
        .unwrap()
        .unwrap();
    assert!(!row.id_ciphertext.windows(8).any(|w| w == b"11010519"));
    assert!(!row.id_digest.contains("110105"));
    assert_eq!(
        app.state
            .identity_vault
            .open(row.account_id, &row.id_ciphertext)
            .as_deref(),
        Some(ID_NUMBER)
    );
    // The same document cannot be claimed by a second account.
    let other = app.register("13800000002", "小王").await;
    assert_eq!(
        app.err_code(Some(&other.access), SET_IDENTITY, input(ID_NUMBER))
            .await,
        "CONFLICT"
    );
    // Strangers cannot even reach the account.
    let data = app
        .ok(
            Some(&other.access),
            "query($id: ID!) { node(id: $id) { ... on Account { identity { legalName } } } }",
            json!({ "id": vol.account_id }),
        )
        .await;
    assert!(data["node"].is_null());
}

#[tokio::test]
async fn certificate_is_issued_verified_and_downloaded() {
    let (app, w, vol) = approved_service().await;
    // No identity yet: the client learns what to ask the volunteer for.
    assert_eq!(
        app.err_code(Some(&vol.access), ISSUE, period(2)).await,
        "IDENTITY_REQUIRED"
    );
    app.ok(
        Some(&vol.access),
        SET_IDENTITY,
        json!({ "i": { "legalName": "李明", "idType": "MAINLAND_ID", "idNumber": ID_NUMBER } }),
    )
    .await;
    let data = app.ok(Some(&vol.access), ISSUE, period(2)).await;
    let c = &data["issueServiceCertificate"];
    let number = c["number"].as_str().unwrap().to_owned();
    assert!(number.starts_with("TXC-"), "{number}");
    assert_eq!(c["legalName"], "李明");
    assert_eq!(c["idType"], "MAINLAND_ID");
    assert_eq!(c["idNumberMasked"], "110***********002X");
    assert!(c["volunteerNumber"].as_str().unwrap().starts_with("TX"));
    assert_eq!(c["totalMinutes"], 60);
    assert_eq!(c["totalHours"], "1.0");
    assert_eq!(c["issueDate"], today().to_string());
    // All the service was at the station, so the station issues it.
    assert_eq!(c["issuingOrganization"]["name"], "亭林社工站");
    assert_eq!(c["lines"].as_array().unwrap().len(), 1);
    assert_eq!(c["lines"][0]["eventTitle"], "助餐");
    assert_eq!(c["lines"][0]["organizationName"], "亭林社工站");
    assert_eq!(c["lines"][0]["category"], "ELDERLY_CARE");
    assert_eq!(c["lines"][0]["minutes"], 60);
    assert_eq!(c["lines"][0]["records"], 1);
    assert_eq!(c["pdfPath"], format!("/certificates/{number}.pdf"));

    // Anyone can verify it; strangers see the name masked and no PDF.
    let v = app
        .ok(None, VERIFY, json!({ "n": number.to_lowercase() }))
        .await;
    let v = &v["verifyServiceCertificate"];
    assert_eq!(v["number"], number.as_str());
    assert_eq!(v["legalName"], "李*");
    assert!(
        v["idNumberMasked"].is_null(),
        "not even masked for strangers"
    );
    assert_eq!(v["totalMinutes"], 60);
    assert_eq!(v["issuingOrganization"]["name"], "亭林社工站");
    assert_eq!(v["lines"][0]["eventTitle"], "助餐");
    assert!(v["pdfPath"].is_null());
    // The issuer's staff see it whole.
    let v = app
        .ok(Some(&w.organizer.access), VERIFY, json!({ "n": number }))
        .await;
    assert_eq!(v["verifyServiceCertificate"]["legalName"], "李明");
    // A made-up number is not verified.
    for made_up in ["TXC-2026-0000-0000-0000", "nonsense", &"9".repeat(200)] {
        let v = app.ok(None, VERIFY, json!({ "n": made_up })).await;
        assert!(v["verifyServiceCertificate"].is_null(), "{made_up}");
    }

    // The PDF: the volunteer gets it; without a token 401; another person 404.
    let url = format!("http://{}/certificates/{number}.pdf", app.addr);
    let anon = app.client.get(&url).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let stranger = app.register("13800000009", "路人").await;
    let other = app
        .client
        .get(&url)
        .bearer_auth(&stranger.access)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    let resp = app
        .client
        .get(&url)
        .bearer_auth(&vol.access)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let pdf = resp.bytes().await.unwrap().to_vec();
    assert!(pdf.starts_with(b"%PDF-"));
    let doc = lopdf::Document::load_mem(&pdf).expect("a PDF that parses");
    assert_eq!(doc.get_pages().len(), 1);
    let text: String = doc
        .extract_text(&[1])
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    for expected in [
        "志愿服务证明",
        "李明",
        "110***********002X",
        "助餐",
        "亭林社工站",
        "1.0小时",
        number.as_str(),
    ] {
        assert!(text.contains(expected), "{expected} missing from {text}");
    }
    assert_pdftotext_reads(&pdf, &["志愿服务证明", "李明", "亭林社工站"]);

    // It is listed on the volunteer's account.
    let me = app
        .ok(
            Some(&vol.access),
            "{ me { serviceCertificates { edges { node { number } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        me["me"]["serviceCertificates"]["edges"][0]["node"]["number"],
        number.as_str()
    );
}

/// Where poppler's `pdftotext` is installed (CI installs it), a real reader extracts the
/// Chinese text too: the font and CMap are ones readers supply.
fn assert_pdftotext_reads(pdf: &[u8], expected: &[&str]) {
    let required = std::env::var_os("TONGXING_REQUIRE_TOOLS").is_some();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = match std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(out) => out,
        Err(e) if !required => {
            eprintln!("pdftotext not available ({e}); skipping the reader check");
            return;
        }
        Err(e) => panic!("pdftotext is required here: {e}"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    for e in expected {
        assert!(text.contains(e), "pdftotext lost {e}: {text}");
    }
}

#[tokio::test]
async fn staff_issue_for_a_volunteer_in_their_organizations_name_only() {
    let (app, w, vol, shift) = approved_service_on_shift().await;
    app.ok(
        Some(&vol.access),
        SET_IDENTITY,
        json!({ "i": { "legalName": "李明", "idType": "MAINLAND_ID", "idNumber": ID_NUMBER } }),
    )
    .await;
    // Staff reach the volunteer through the shift's sign-ups, but not their identity.
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            "query($s: ID!) { shift(id: $s) { signups { edges { node { volunteer { identity { legalName } } } } } } }",
            json!({ "s": shift }),
        )
        .await,
        "FORBIDDEN"
    );
    let for_vol = |org: &str| merge(period(2), json!({ "v": vol.account_id, "o": org }));
    let data = app
        .ok(Some(&w.organizer.access), ISSUE, for_vol(&w.station))
        .await;
    assert_eq!(data["issueServiceCertificate"]["totalMinutes"], 60);
    // The district (an ancestor) may issue too, covering its subtree; a sibling station has
    // no service of this volunteer and may not issue for them anyway.
    let data = app
        .ok(Some(&w.root.access), ISSUE, for_vol(&w.district))
        .await;
    assert_eq!(
        data["issueServiceCertificate"]["issuingOrganization"]["name"],
        "昆山市"
    );
    assert_eq!(
        app.err_code(
            Some(&w.other_organizer.access),
            ISSUE,
            for_vol(&w.other_station)
        )
        .await,
        "BAD_USER_INPUT",
        "staff of the sibling station: no service there to certify"
    );
    assert_eq!(
        app.err_code(Some(&w.other_organizer.access), ISSUE, for_vol(&w.station))
            .await,
        "FORBIDDEN"
    );
    // Staff must name the organization; a volunteer cannot issue for someone else.
    assert_eq!(
        app.err_code(
            Some(&w.organizer.access),
            ISSUE,
            merge(period(2), json!({ "v": vol.account_id }))
        )
        .await,
        "BAD_USER_INPUT"
    );
    let stranger = app.register("13800000009", "路人").await;
    assert_eq!(
        app.err_code(Some(&stranger.access), ISSUE, for_vol(&w.station))
            .await,
        "FORBIDDEN"
    );
    // Periods: not in the future, not reversed, and there must be service in them.
    let tomorrow = (today() + chrono::Duration::days(1)).to_string();
    let long_ago = (today() - chrono::Duration::days(400)).to_string();
    for (from, to) in [
        (today().to_string(), tomorrow),
        (today().to_string(), long_ago.clone()),
        (long_ago.clone(), long_ago),
        // Not a Date: YYYY-MM-DD only, real days only.
        ("2026-02-30".to_owned(), today().to_string()),
        ("2026-1-5".to_owned(), today().to_string()),
        (format!("{}T00:00:00Z", today()), today().to_string()),
    ] {
        assert_eq!(
            app.err_code(Some(&vol.access), ISSUE, json!({ "from": from, "to": to }))
                .await,
            "BAD_USER_INPUT"
        );
    }
    assert_eq!(
        entity::service_certificate::Entity::find()
            .all(&app.state.db)
            .await
            .unwrap()
            .len(),
        2,
        "refused requests leave nothing behind"
    );
}
