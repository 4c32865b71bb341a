//! Logging: `tracing` with an `EnvFilter` (`RUST_LOG`, default `info`) and text or JSON output;
//! for the server, optionally, the same spans exported as OpenTelemetry traces (OTLP over
//! HTTP) when the standard `OTEL_*` variables ask for it — off by default.
//!
//! Trace export is on when `OTEL_TRACES_EXPORTER=otlp`, or when it is unset and
//! `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is; `OTEL_SDK_DISABLED=true`
//! or `OTEL_TRACES_EXPORTER=none` turns it off. The exporter and SDK read the rest themselves:
//! `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default, or `http/json`), headers,
//! timeout, `OTEL_SERVICE_NAME` (default `tongxing`), `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_TRACES_SAMPLER`, `OTEL_BSP_*`. An incoming W3C `traceparent` header makes the
//! request's spans children of the caller's unless `OTEL_PROPAGATORS` leaves out
//! `tracecontext` (e.g. `none`). Plain HTTP only (no TLS, no compression compiled in).

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::{propagation::Extractor, trace::TracerProvider as _};
use opentelemetry_sdk::{Resource, propagation::TraceContextPropagator, trace::SdkTracerProvider};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::config::LogFormat;

/// Whether spans are exported and an incoming W3C trace context is continued.
static CONTINUE_REMOTE: AtomicBool = AtomicBool::new(false);

/// Install the global subscriber for a command-line task (logs only). Call once, at start-up.
pub fn init(format: LogFormat) {
    install(format, None);
}

/// Install the global subscriber for the server: logs, and trace export when the `OTEL_*`
/// variables ask for it. Keep the returned handle and [`Traces::shutdown`] it on exit so the
/// last spans are sent.
pub fn init_server(format: LogFormat) -> anyhow::Result<Traces> {
    let provider = if traces_wanted(|name| std::env::var(name).ok())? {
        Some(tracer_provider()?)
    } else {
        None
    };
    install(format, provider.clone());
    if provider.is_some() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        // `OTEL_PROPAGATORS=none` (for a server facing phones directly): an incoming
        // `traceparent` would otherwise choose whether a request is sampled.
        let propagate = std::env::var("OTEL_PROPAGATORS")
            .map(|v| v.split(',').any(|p| p.trim() == "tracecontext"))
            .unwrap_or(true);
        CONTINUE_REMOTE.store(propagate, Ordering::Relaxed);
        tracing::info!("exporting traces over OTLP/HTTP (OTEL_* variables)");
    }
    Ok(Traces(provider))
}

/// The trace exporter, if any: flush it with [`Traces::shutdown`] on exit.
#[must_use]
pub struct Traces(Option<SdkTracerProvider>);

impl Traces {
    /// Send the spans still buffered and stop exporting. Blocks for at most two seconds (on
    /// top of the shutdown grace): call it off the async workers.
    pub fn shutdown(self) {
        if let Some(p) = self.0
            && let Err(e) = p.shutdown_with_timeout(std::time::Duration::from_secs(2))
        {
            tracing::warn!(error = %e, "trace exporter did not shut down cleanly");
        }
    }
}

/// Whether the standard variables (read through `var`) ask for trace export. An exporter other
/// than `otlp`/`none` is refused rather than ignored: it was asked for and cannot be had.
pub fn traces_wanted(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<bool> {
    let set = |name: &str| {
        var(name)
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| !v.is_empty())
    };
    if set("OTEL_SDK_DISABLED").as_deref() == Some("true") {
        return Ok(false);
    }
    let endpoint = set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or(set("OTEL_EXPORTER_OTLP_ENDPOINT"));
    let wanted = match set("OTEL_TRACES_EXPORTER") {
        // A comma-separated list, per the specification.
        Some(list) => {
            let mut otlp = false;
            for exporter in list.split(',').map(str::trim) {
                match exporter {
                    "otlp" => otlp = true,
                    "none" | "" => {}
                    other => anyhow::bail!(
                        "OTEL_TRACES_EXPORTER={other} is not supported: use otlp (over HTTP) or none"
                    ),
                }
            }
            otlp
        }
        None => endpoint.is_some(),
    };
    if wanted && endpoint.as_deref().is_some_and(|e| e.starts_with("https:")) {
        anyhow::bail!(
            "the OTLP endpoint is https, and this build sends plain HTTP only: point it at a collector beside the replica (http://…:4318) that forwards over TLS"
        );
    }
    Ok(wanted)
}

/// A batch exporter of spans to the OTLP/HTTP endpoint the variables name (default
/// `http://localhost:4318/v1/traces`), on the SDK's own thread.
fn tracer_provider() -> anyhow::Result<SdkTracerProvider> {
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        // Only what the variables say; the builder's defaults otherwise.
        .with_protocol(
            match std::env::var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL"))
                .as_deref()
                .map(str::trim)
            {
                Ok("http/json") => opentelemetry_otlp::Protocol::HttpJson,
                Ok("http/protobuf") | Ok("") | Err(_) => opentelemetry_otlp::Protocol::HttpBinary,
                Ok(other) => anyhow::bail!(
                    "OTEL_EXPORTER_OTLP_PROTOCOL={other} is not supported: use http/protobuf or http/json"
                ),
            },
        )
        .build()
        .map_err(|e| anyhow::anyhow!("OpenTelemetry exporter: {e}"))?;
    // `OTEL_SERVICE_NAME` or `service.name` in `OTEL_RESOURCE_ATTRIBUTES` when given;
    // otherwise "tongxing" rather than the SDK's `unknown_service`.
    let named = Resource::builder()
        .build()
        .get(&opentelemetry::Key::from_static_str("service.name"))
        .is_some_and(|v| !v.as_str().starts_with("unknown_service"));
    let mut resource = Resource::builder().with_attribute(opentelemetry::KeyValue::new(
        "service.version",
        env!("CARGO_PKG_VERSION"),
    ));
    if !named {
        resource = resource.with_service_name("tongxing");
    }
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

fn install(format: LogFormat, traces: Option<SdkTracerProvider>) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let otel = traces.map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("tongxing")));
    let registry = tracing_subscriber::registry().with(filter).with(otel);
    let result = match format {
        LogFormat::Text => registry.with(fmt::layer().with_target(false)).try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
    };
    // Already installed (tests call this more than once): keep the first.
    let _ = result;
    // A panic's message can quote the data that caused it (an ID number being sliced, say):
    // log where it happened, never what it said.
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(
            location,
            "panic (message withheld: it may hold personal data)"
        );
    }));
}

/// Make `span` a child of the trace the request's W3C `traceparent` header names (when
/// traces are exported; otherwise nothing to do).
pub fn continue_remote_trace(span: &tracing::Span, headers: &axum::http::HeaderMap) {
    if !CONTINUE_REMOTE.load(Ordering::Relaxed) {
        return;
    }
    let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&Headers(headers)));
    let _ = span.set_parent(parent);
}

struct Headers<'a>(&'a axum::http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::traces_wanted;

    fn wanted(vars: &[(&str, &str)]) -> anyhow::Result<bool> {
        traces_wanted(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn trace_export_is_off_unless_the_standard_variables_ask() {
        assert!(!wanted(&[]).unwrap());
        assert!(!wanted(&[("OTEL_SERVICE_NAME", "x")]).unwrap());
        assert!(!wanted(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "  ")]).unwrap());
        assert!(wanted(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")]).unwrap());
        assert!(
            wanted(&[(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://c:4318/v1/traces"
            )])
            .unwrap()
        );
        assert!(wanted(&[("OTEL_TRACES_EXPORTER", "OTLP")]).unwrap());
        assert!(
            !wanted(&[
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")
            ])
            .unwrap()
        );
        assert!(
            !wanted(&[
                ("OTEL_SDK_DISABLED", "TRUE"),
                ("OTEL_TRACES_EXPORTER", "otlp")
            ])
            .unwrap()
        );
        assert!(
            wanted(&[
                ("OTEL_TRACES_EXPORTER", "none, otlp"),
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318")
            ])
            .unwrap()
        );
        let refused = wanted(&[("OTEL_TRACES_EXPORTER", "otlp,zipkin")]).unwrap_err();
        assert!(refused.to_string().contains("zipkin"), "{refused}");
        // No TLS in this build: an https endpoint is refused, not silently failing.
        let refused = wanted(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "https://c:4318")]).unwrap_err();
        assert!(refused.to_string().contains("https"), "{refused}");
    }
}
