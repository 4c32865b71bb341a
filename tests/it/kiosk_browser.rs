//! The kiosk page in a real headless Chromium, driven over WebDriver (chromedriver), as a
//! tablet at the venue would run it: it opens a link carrying a kiosk key staff issued, the page
//! shows a QR code that a phone can check in with, the live count follows, the code rotates when
//! it expires, and a revoked key stops it.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test says so and passes, unless `TONGXING_REQUIRE_TOOLS` is set (as in CI).

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::harness::TestApp;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process with one headless Chromium session; both end on drop.
pub(crate) struct Browser {
    driver: Child,
    client: Option<Client>,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) async fn start() -> Option<Self> {
        let present =
            std::path::Path::new(CHROMIUM).exists() && std::path::Path::new(CHROMEDRIVER).exists();
        if !present {
            assert!(
                std::env::var_os("TONGXING_REQUIRE_TOOLS").is_none(),
                "{CHROMIUM} and {CHROMEDRIVER} are required here (apt-get install chromium chromium-driver)"
            );
            eprintln!("chromium/chromedriver not installed: skipping a browser test");
            return None;
        }
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_err = None;
        // chromedriver takes a moment to listen.
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Some(Self {
                        driver,
                        client: Some(client),
                        _profile: profile,
                    });
                }
                Err(e) => last_err = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no WebDriver session: {last_err:?}");
    }

    pub(crate) fn client(&self) -> &Client {
        self.client.as_ref().expect("open session")
    }

    pub(crate) async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Poll `f` until it yields `Some`, or fail after `secs` seconds naming `what`.
pub(crate) async fn eventually<T, F, Fut>(secs: u64, what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) async fn text(c: &Client, css: &str) -> Option<String> {
    c.find(Locator::Css(css)).await.ok()?.text().await.ok()
}

async fn payload(c: &Client) -> Option<String> {
    c.find(Locator::Css("#qr"))
        .await
        .ok()?
        .attr("data-payload")
        .await
        .ok()
        .flatten()
        .filter(|p| !p.is_empty())
}

#[tokio::test]
async fn kiosk_shows_a_rotating_qr_code_and_the_live_count() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    // Codes rotate every 5 s here so the test sees a rotation quickly.
    let app = TestApp::spawn_with(|c| c.checkin_code_secs = 5).await;
    let w = app.world().await;
    let org = w.organizer.access.clone();
    let event = app
        .event_at(&org, &w.station, "社区助餐", 31.38, 120.98, 0, true)
        .await;
    let starts = chrono::Utc::now() + chrono::Duration::minutes(10);
    let shift = app.shift_at(&org, &event, starts, 5, true, &[]).await;
    let vol = app.register("13800000001", "小李").await;
    app.sign_up(&vol.access, &shift, "s1").await;
    let shift_key = match api::ids::decode_any(&shift) {
        Some((api::ids::NodeType::Shift, k)) => k,
        other => panic!("{other:?}"),
    };

    let c = browser.client();
    c.goto(&format!("http://{}/kiosk/shifts/{shift}", app.addr))
        .await
        .unwrap();
    // A made-up key: the page says so and stays on the key form.
    c.find(Locator::Css("#key"))
        .await
        .unwrap()
        .send_keys("txk_made-up")
        .await
        .unwrap();
    c.find(Locator::Css("#key-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let refused = eventually(10, "the bad-key message", || async {
        text(c, "#key-error")
            .await
            .filter(|t| t.contains("unknown, revoked or expired"))
    })
    .await;
    assert!(refused.contains("密钥"), "{refused}");

    // The organizer issues a kiosk key for the event; the tablet opens the link that carries
    // it: the QR code appears, with the PIN and the event, and the key leaves the address bar.
    let issued = app
        .ok(
            Some(&org),
            "mutation($e: ID!) { issueKioskCredential(eventId: $e, label: \"前台\") { key credential { id } } }",
            json!({ "e": event }),
        )
        .await;
    let key = issued["issueKioskCredential"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let credential = issued["issueKioskCredential"]["credential"]["id"].clone();
    c.goto(&format!(
        "http://{}/kiosk/shifts/{shift}#key={key}",
        app.addr
    ))
    .await
    .unwrap();
    let first = eventually(10, "a QR code on the kiosk", || payload(c)).await;
    let svg_path = c
        .find(Locator::Css("#qr svg path"))
        .await
        .expect("the QR code is drawn as an SVG")
        .attr("d")
        .await
        .unwrap()
        .unwrap_or_default();
    assert!(svg_path.len() > 100, "an SVG with modules: {svg_path}");
    assert!(
        app.state
            .checkin_codes
            .verify_qr(shift_key, &first, chrono::Utc::now())
            .is_ok(),
        "the kiosk shows a valid code of this shift"
    );
    let pin = eventually(5, "the PIN", || async {
        text(c, "#pin")
            .await
            .filter(|p| p.len() == 6 && p.bytes().all(|b| b.is_ascii_digit()))
    })
    .await;
    assert_eq!(pin.len(), 6);
    let title = eventually(5, "the event title", || async {
        text(c, "#event-title").await.filter(|t| t == "社区助餐")
    })
    .await;
    assert_eq!(title, "社区助餐");

    // A phone scans what the kiosk shows and checks in: the live count follows.
    let current = payload(c).await.unwrap();
    let checked = app
        .ok(
            Some(&vol.access),
            "mutation($i: CheckInput!) { checkIn(input: $i) { signup { status } } }",
            json!({ "i": { "shiftId": shift, "method": "QR", "code": current, "clientEventId": "scan-1" } }),
        )
        .await;
    assert_eq!(checked["checkIn"]["signup"]["status"], "ATTENDED");
    eventually(10, "the live count to reach 1", || async {
        text(c, "#checked-in").await.filter(|t| t == "1")
    })
    .await;

    // The code expires and the page shows the next one, itself valid.
    let next = eventually(15, "the code to rotate", || async {
        payload(c).await.filter(|p| *p != first)
    })
    .await;
    assert!(
        app.state
            .checkin_codes
            .verify_qr(shift_key, &next, chrono::Utc::now())
            .is_ok()
    );
    let url = c.current_url().await.unwrap();
    assert!(url.fragment().is_none(), "{url}");

    // Revoked, the tablet stops showing codes and asks for a key.
    app.ok(
        Some(&org),
        "mutation($id: ID!) { revokeKioskCredential(id: $id) { revokedAt } }",
        json!({ "id": credential }),
    )
    .await;
    eventually(15, "the revoked-key message", || async {
        text(c, "#key-error")
            .await
            .filter(|t| t.contains("unknown, revoked or expired"))
    })
    .await;
    browser.close().await;
}
