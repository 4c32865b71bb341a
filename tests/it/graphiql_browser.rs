//! GraphiQL at `/` in a real headless Chromium with no network beyond this server: the page
//! loads its embedded build, the docs explorer lists `QueryRoot` (the standard introspection
//! query passed), and a query typed in the editor runs and shows its result. The screenshot it
//! takes is the one in the README (`docs/graphiql.png`; `TONGXING_SCREENSHOT=path` writes it).

use fantoccini::Locator;

use crate::{
    harness::TestApp,
    kiosk_browser::{Browser, eventually, text},
};

#[tokio::test]
async fn graphiql_loads_from_this_server_and_runs_a_query() {
    let app = TestApp::spawn().await;
    app.world().await;
    // Nothing on the page comes from anywhere else.
    let html = app
        .client
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for outside in ["http://", "https://", "//unpkg", "//cdn"] {
        assert!(!html.contains(outside), "the page loads {outside}…: {html}");
    }
    let asset = app
        .client
        .get(app.url(&format!(
            "/graphiql/{}/graphiql.min.js",
            api::web::GRAPHIQL_VERSION
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(asset.status(), 200);
    assert_eq!(
        asset.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let missing = app
        .client
        .get(app.url("/graphiql/0.0.1/graphiql.min.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = browser.client();
    c.goto(&app.url("/")).await.unwrap();
    eventually(30, "the GraphiQL editor", || async {
        c.find(Locator::Css(".graphiql-query-editor .CodeMirror"))
            .await
            .ok()
    })
    .await;
    // The docs explorer reads the schema by introspection.
    c.find(Locator::Css(
        "button[aria-label='Show Documentation Explorer']",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    eventually(30, "QueryRoot in the docs explorer", || async {
        text(c, ".graphiql-doc-explorer")
            .await
            .filter(|t| t.contains("QueryRoot"))
    })
    .await;
    // A query typed in the editor runs against /graphql.
    c.execute(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(arguments[0]);",
        vec![serde_json::json!(
            "{\n  organizations(first: 5) {\n    edges { node { id kind } }\n  }\n}"
        )],
    )
    .await
    .unwrap();
    c.find(Locator::Css(".graphiql-execute-button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let result = eventually(30, "the query's result", || async {
        text(c, ".graphiql-response")
            .await
            .filter(|t| t.contains("DISTRICT_CENTER"))
    })
    .await;
    assert!(result.contains("\"data\""), "{result}");
    if let Some(path) = std::env::var_os("TONGXING_SCREENSHOT") {
        std::fs::write(path, c.screenshot().await.unwrap()).unwrap();
    }
    browser.close().await;
}
