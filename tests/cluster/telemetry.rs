//! Traces as an operator's collector receives them: an OTLP/gRPC collector in this test process,
//! a coordinator, a worker and the client as separate processes exporting to it. Every task of the
//! job has a span on the worker, all of them in the trace the client's `submit` span started, and
//! the coordinator's span of each commit is a child of the task span that asked for it (trace
//! context carried in gRPC metadata, and with each finished attempt handed in by a lease request).

use std::collections::{BTreeSet, HashMap};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{TraceService, TraceServiceServer};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;

use crate::harness::*;

#[derive(Debug, Clone)]
struct Span {
    service: String,
    name: String,
    trace: Vec<u8>,
    id: Vec<u8>,
    parent: Vec<u8>,
    attributes: HashMap<String, String>,
}

#[derive(Debug, Clone, Default)]
struct Collector(Arc<Mutex<Vec<Span>>>);

fn text(attributes: &[KeyValue]) -> HashMap<String, String> {
    attributes
        .iter()
        .filter_map(|kv| {
            let v = match kv.value.as_ref()?.value.as_ref()? {
                Value::StringValue(s) => s.clone(),
                Value::IntValue(i) => i.to_string(),
                other => format!("{other:?}"),
            };
            Some((kv.key.clone(), v))
        })
        .collect()
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.0.lock().unwrap();
        for rs in request.into_inner().resource_spans {
            let service = rs.resource.map(|r| text(&r.attributes)).and_then(|a| a.get("service.name").cloned()).unwrap_or_default();
            for s in rs.scope_spans.into_iter().flat_map(|ss| ss.spans) {
                spans.push(Span {
                    service: service.clone(),
                    name: s.name,
                    trace: s.trace_id,
                    id: s.span_id,
                    parent: s.parent_span_id,
                    attributes: text(&s.attributes),
                });
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

/// Starts the collector on a thread of its own; returns it and its endpoint.
fn start_collector() -> (Collector, String) {
    let collector = Collector::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    listener.set_nonblocking(true).unwrap();
    let service = collector.clone();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
            tonic::transport::Server::builder().add_service(TraceServiceServer::new(service)).serve_with_incoming(incoming).await.unwrap();
        });
    });
    (collector, endpoint)
}

#[test]
fn one_trace_per_job_across_client_coordinator_and_worker() {
    let dir = scratch("otlp");
    let (collector, endpoint) = start_collector();
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()), ("OTEL_BSP_SCHEDULE_DELAY", "100")];
    let c = start_coordinator_with(&dir, free_port(), &[], &env);
    let _worker = start_worker(&c.url, &["--slots", "2"], &env);
    let study = small_study(&dir);
    let out = Command::new(bin()).args(["submit", study.to_str().unwrap(), "--coordinator", &c.url]).envs(env).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let job = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let end = wait_job(&c.url, &job, Duration::from_secs(240));
    // every lease gives a task span, every commit (accepted or refused) a commit span
    let leases = metric(c.metrics, "tacefusion_leases_total");
    let commit_calls = metric(c.metrics, "tacefusion_commits_total") + metric(c.metrics, "tacefusion_refused_commits_total");
    assert!(leases > 0 && commit_calls > 0, "{end}");
    let spans = || collector.0.lock().unwrap().clone();
    let named = |spans: &[Span], service: &str, name: &str| -> Vec<Span> {
        spans.iter().filter(|s| s.service == service && s.name == name).cloned().collect()
    };
    let commit_spans = |spans: &[Span]| -> Vec<Span> { named(spans, "tacefusion-coordinator", "commit") };
    // spans arrive in batches from three processes: wait for a task span per lease, a commit span per
    // commit call and the submit span
    wait_until(Duration::from_secs(30), || {
        let all = spans();
        named(&all, "tacefusion-worker", "task").len() as u64 >= leases
            && commit_spans(&all).len() as u64 >= commit_calls
            && !named(&all, "tacefusion-client", "submit").is_empty()
    });
    let all = spans();
    let submits = named(&all, "tacefusion-client", "submit");
    assert_eq!(submits.len(), 1, "one submit span");
    let root = &submits[0];
    assert!(root.parent.is_empty(), "the submit span starts the trace");
    let task_spans = named(&all, "tacefusion-worker", "task");
    for t in &task_spans {
        assert_eq!(t.trace, root.trace, "task {} is outside the job's trace", t.attributes["task"]);
        assert!(t.attributes["task"].starts_with(&format!("{job}/")), "{:?}", t.attributes);
        for field in ["stage", "attempt", "key"] {
            assert!(t.attributes.contains_key(field), "task span without {field}: {:?}", t.attributes);
        }
    }
    // each commit's span on the coordinator is a child of a task span
    let task_ids: BTreeSet<&[u8]> = task_spans.iter().map(|t| t.id.as_slice()).collect();
    let commits = commit_spans(&all);
    assert_eq!(commits.len() as u64, commit_calls, "one commit span per commit");
    // polls, heartbeats and status calls carry no trace context and are not exported
    for s in named(&all, "tacefusion-coordinator", "rpc") {
        let method = s.attributes.get("method").cloned().unwrap_or_default();
        assert!(["/SubmitStudy", "/CompleteTask", "/FailTask"].iter().any(|m| method.ends_with(m)), "an exported span of {method}");
    }
    for s in &commits {
        assert!(task_ids.contains(s.parent.as_slice()), "a commit span whose parent is not a task span");
        assert!(s.attributes["task"].starts_with(&format!("{job}/")), "{:?}", s.attributes);
        assert_eq!(s.trace, root.trace);
    }
}
