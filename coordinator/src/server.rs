//! Starting a coordinator: reload the durable state, open the object store, serve gRPC (with a
//! bearer token and TLS when configured), expire leases on a timer, and serve `/metrics`,
//! `/healthz` and `/readyz` over plain HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tacefusion_proto::MAX_MESSAGE_BYTES;
use tacefusion_proto::store::{open_store, redacted};
use tacefusion_proto::v1::coordinator_server::CoordinatorServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tonic::{Request, Status};

use crate::metrics::metrics_text;
use crate::planner::DigestCache;
use crate::scheduler::{JobState, Scheduler, SchedulerConfig};
use crate::service::{CoordinatorService, committed_manifest, now_ms};
use crate::shared::Shared;
use crate::state::DurableState;

/// How to run a coordinator.
#[derive(Debug, Clone)]
pub struct CoordinatorConfig {
    /// State directory (the embedded store).
    pub state_dir: PathBuf,
    /// Object store URL: a local folder (`file:///...` or a path), `s3://`, `gs://`, `az://`.
    pub store: String,
    /// Bearer token workers and clients must send, if any.
    pub token: Option<String>,
    /// TLS certificate and key (PEM), and the CA of client certificates to require.
    pub tls: Option<(Vec<u8>, Vec<u8>, Option<Vec<u8>>)>,
    /// Scheduling.
    pub scheduler: SchedulerConfig,
}

/// Why a coordinator could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The state could not be loaded.
    #[error(transparent)]
    State(#[from] crate::state::StateError),
    /// The store URL is not usable.
    #[error("object store {url}: {detail}")]
    Store {
        /// The URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// The server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Binding a socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Builds the shared state: the scheduler with every job of the durable state.
pub async fn open(config: &CoordinatorConfig) -> Result<Arc<Shared>, ServeError> {
    let opened = open_store(&config.store).map_err(|e| ServeError::Store { url: e.url, detail: e.detail })?;
    let store = opened.store;
    let state = DurableState::open(&config.state_dir)?;
    let mut scheduler = Scheduler::new(config.scheduler);
    let mut ended = Vec::new();
    for (job, entries) in state.load()? {
        let restored = scheduler.restore(job, entries).clone();
        if restored.state != JobState::Running {
            ended.push(restored);
        }
    }
    // a manifest created just before a crash, whose commit the state did not record yet
    let open_tasks: Vec<usize> = scheduler
        .jobs()
        .filter(|j| j.state == JobState::Running)
        .flat_map(|j| j.tasks.clone())
        .filter(|&i| !scheduler.task(i).status.is_terminal())
        .collect();
    for i in open_tasks {
        let (stage, key) = (scheduler.task(i).task.stage.name(), scheduler.task(i).task.key.clone());
        if let Some(manifest) = committed_manifest(store.as_ref(), stage, &key).await {
            scheduler.finish_commit(i, manifest);
        }
    }
    let resumed = scheduler.jobs().filter(|j| j.state == JobState::Running).count();
    tracing::info!(jobs = scheduler.jobs().count(), resumed, "state loaded");
    let shared = Arc::new(Shared {
        scheduler: Mutex::new(scheduler),
        state,
        store,
        store_url: opened.url,
        digests: Mutex::new(DigestCache::default()),
        changes: watch::channel(0).0,
        pending: Mutex::new(Default::default()),
        durable: watch::channel(Ok(0)).0,
        wake: tokio::sync::Notify::new(),
        metrics: Mutex::new(Default::default()),
        commits: Arc::new(tokio::sync::RwLock::new(())),
        indexing: Mutex::new(Default::default()),
    });
    tokio::spawn(shared.clone().persister());
    let ticket = {
        let mut s = shared.scheduler.lock().expect("scheduler lock");
        let (ticket, more) = shared.persist(&mut s);
        ended.extend(more);
        ticket
    };
    // restoring marked every job changed: each ended job once
    ended.sort_by(|a, b| a.id.cmp(&b.id));
    ended.dedup_by(|a, b| a.id == b.id);
    shared.durable(ticket).await.map_err(|e| ServeError::Store { url: redacted(&config.store), detail: e.message().to_string() })?;
    // the index of a job that ended just before a crash may be missing: write it (only then)
    shared.finalize_unindexed(ended).await;
    Ok(shared)
}

/// Checks the bearer token of a call.
#[derive(Debug, Clone)]
pub struct TokenCheck(pub Option<String>);

impl tonic::service::Interceptor for TokenCheck {
    fn call(&mut self, request: Request<()>) -> Result<Request<()>, Status> {
        let Some(token) = &self.0 else { return Ok(request) };
        let sent = request.metadata().get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        match sent {
            Some(t) if t == token => Ok(request),
            Some(_) => Err(Status::unauthenticated("wrong token")),
            None => Err(Status::unauthenticated("a bearer token is required")),
        }
    }
}

/// Expires leases and fails abandoned jobs, every tenth of a lease.
pub fn spawn_ticker(shared: Arc<Shared>) {
    tokio::spawn(async move {
        let every = { shared.scheduler.lock().expect("scheduler lock").config().lease_ms / 10 }.clamp(20, 1000);
        let mut interval = tokio::time::interval(Duration::from_millis(every));
        loop {
            interval.tick().await;
            let (ticket, ended) = {
                let mut s = shared.scheduler.lock().expect("scheduler lock");
                s.tick(now_ms());
                shared.persist(&mut s)
            };
            // a job that ended here (its last worker gone) is settled like the others: the server
            // waits for its index before it stops
            if let Err(e) = shared.settle(ticket, ended).await {
                tracing::error!("saving state: {}", e.message());
            }
        }
    });
}

/// Serves gRPC on `listener` until `shutdown` resolves.
pub async fn serve(
    config: &CoordinatorConfig,
    shared: Arc<Shared>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    spawn_ticker(shared.clone());
    let commits = shared.commits.clone();
    let service = CoordinatorServer::new(CoordinatorService::new(shared))
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    let service = InterceptedService::new(service, TokenCheck(config.token.clone()));
    // a span per call that carries trace context (a task's commit, a submission), as its child;
    // calls without one (polls, heartbeats) get a debug span, not exported, so traces stay per job
    let mut builder = Server::builder().trace_fn(|request| {
        if !request.headers().contains_key("traceparent") {
            return tracing::debug_span!("rpc", method = %request.uri().path());
        }
        let span = tracing::info_span!("rpc", method = %request.uri().path());
        tacefusion_proto::trace::adopt_parent(&span, request.headers());
        span
    });
    if let Some((cert, key, client_ca)) = &config.tls {
        let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
        if let Some(ca) = client_ca {
            tls = tls.client_ca_root(Certificate::from_pem(ca));
        }
        builder = builder.tls_config(tls)?;
    }
    // small calls answered at once: Nagle's algorithm would hold them for the peer's delayed ACK
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    builder.add_service(service).serve_with_incoming_shutdown(incoming, shutdown).await?;
    // the commits begun by calls that were dropped run on: they end before the server does
    drop(commits.write().await);
    Ok(())
}

/// Serves `/metrics`, `/healthz` and `/readyz` (HTTP/1.0, one request per connection).
pub async fn serve_metrics(addr: SocketAddr, shared: Arc<Shared>) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    loop {
        let (mut socket, _) = listener.accept().await?;
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 2048];
            let n = socket.read(&mut buf).await.unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]);
            let path = request.split_whitespace().nth(1).unwrap_or("/");
            let (status, body) = match path {
                "/metrics" => ("200 OK", metrics_text(&shared)),
                "/healthz" | "/readyz" => ("200 OK", "ok\n".to_string()),
                _ => ("404 Not Found", "not found\n".to_string()),
            };
            let response =
                format!("HTTP/1.0 {status}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            let _ = socket.write_all(response.as_bytes()).await;
        });
    }
}
