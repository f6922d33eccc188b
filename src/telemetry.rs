//! Logs and traces of the command line: logs on stderr filtered by `RUST_LOG` (default `warn`);
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, the spans of tacefusion's crates (a span per RPC on
//! the coordinator, a span per task on the workers, joined into one trace per job by the W3C trace
//! context carried over gRPC) are exported over OTLP/gRPC to that collector.

use std::time::Duration;

use anyhow::{Context, Result};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Level;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The installed exporter, flushed by [`Telemetry::shutdown`].
#[derive(Debug)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

/// Installs logging and, with `OTEL_EXPORTER_OTLP_ENDPOINT`, the OTLP exporter (service name
/// `service`). Call inside the Tokio runtime, which must outlive [`Telemetry::shutdown`].
pub fn init(service: &str) -> Result<Telemetry> {
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()));
    let provider = match std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") {
        Ok(endpoint) if !endpoint.is_empty() => {
            // the builder reads the endpoint (and OTEL_EXPORTER_OTLP_* settings) from the environment
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .build()
                .with_context(|| format!("OTLP exporter for {endpoint}"))?;
            Some(
                SdkTracerProvider::builder()
                    .with_batch_exporter(exporter)
                    .with_resource(Resource::builder().with_service_name(service.to_string()).build())
                    .build(),
            )
        }
        _ => None,
    };
    let traces = provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("tacefusion"))
            .with_filter(Targets::new().with_target("tacefusion", Level::INFO))
    });
    let _ = tracing_subscriber::registry().with(logs).with(traces).try_init();
    Ok(Telemetry { provider })
}

impl Telemetry {
    /// Exports the spans still buffered (waits up to 10 s for the collector).
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown_with_timeout(Duration::from_secs(10))
        {
            eprintln!("warning: exporting the last spans failed: {e}");
        }
    }
}
