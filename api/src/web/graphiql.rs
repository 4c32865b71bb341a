//! GraphiQL, embedded in the binary (development only): the page at `/` and a pinned build at
//! `/graphiql/<version>/<file>`, so the explorer works on an intranet or an offline laptop.
//! The files never change under a version's path, so they are cached for a year.

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Response},
};

/// The pinned GraphiQL build (`api/assets/graphiql/README.md`).
pub const GRAPHIQL_VERSION: &str = "3.8.3";

/// The embedded files: name, media type, bytes.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
];

/// The page: GraphiQL over `/graphql`, every file from this server.
pub async fn page() -> Html<String> {
    let v = GRAPHIQL_VERSION;
    Html(format!(
        r#"<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>同行 Tongxing · GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/{v}/graphiql.min.css">
  <style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
  <div id="graphiql">Loading…</div>
  <script src="/graphiql/{v}/react.production.min.js"></script>
  <script src="/graphiql/{v}/react-dom.production.min.js"></script>
  <script src="/graphiql/{v}/graphiql.min.js"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({{ url: '/graphql' }});
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {{ fetcher, defaultEditorToolsVisibility: true }}),
    );
  </script>
</body>
</html>
"#
    ))
}

/// One embedded file, cached for a year (`immutable`: a new build gets a new path).
pub async fn asset(Path((version, file)): Path<(String, String)>) -> Response {
    let found = ASSETS
        .iter()
        .find(|(name, _, _)| *name == file)
        .filter(|_| version == GRAPHIQL_VERSION);
    match found {
        Some((_, media_type, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
