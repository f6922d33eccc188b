//! W3C trace context (`traceparent`) across processes: a client puts the context of its current
//! span into each request's gRPC metadata and the coordinator makes it the parent of the call's
//! span; a job keeps the context of its submission and hands it to every lease, so that a worker's
//! task spans, its calls and the coordinator's spans form one trace per job. Without an OpenTelemetry
//! layer installed these functions carry nothing and cost little.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct MetadataInjector<'a>(&'a mut MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(k), Ok(v)) = (MetadataKey::from_bytes(key.as_bytes()), MetadataValue::try_from(value.as_str())) {
            self.0.insert(k, v);
        }
    }
}

struct HeaderExtractor<'a>(&'a tonic::codegen::http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct OneHeader<'a>(&'a str);

impl Extractor for OneHeader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        (key == "traceparent" && !self.0.is_empty()).then_some(self.0)
    }
    fn keys(&self) -> Vec<&str> {
        vec!["traceparent"]
    }
}

/// Puts the context of the current span into `metadata` (as `traceparent`).
pub fn inject_current(metadata: &mut MetadataMap) {
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut MetadataInjector(metadata));
}

/// Makes the context carried by `headers`, if any, the parent of `span`.
pub fn adopt_parent(span: &tracing::Span, headers: &tonic::codegen::http::HeaderMap) {
    if headers.contains_key("traceparent") {
        let _ = span.set_parent(TraceContextPropagator::new().extract(&HeaderExtractor(headers)));
    }
}

/// The `traceparent` of `span`, empty when it is not traced.
pub fn traceparent(span: &tracing::Span) -> String {
    let mut map = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(&span.context(), &mut map);
    map.remove("traceparent").unwrap_or_default()
}

/// Makes the context of a `traceparent` string (empty: none) the parent of `span`.
pub fn adopt_traceparent(span: &tracing::Span, traceparent: &str) {
    if !traceparent.is_empty() {
        let _ = span.set_parent(TraceContextPropagator::new().extract(&OneHeader(traceparent)));
    }
}
