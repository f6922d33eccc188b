//! The cluster commands: `coordinator`, `worker`, and `run` (a coordinator and N workers in one
//! process, talking gRPC over loopback, the object store a local folder).

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;
use tacefusion_coordinator::scheduler::SchedulerConfig;
use tacefusion_coordinator::server::{CoordinatorConfig, open, serve, serve_metrics};
use tacefusion_proto::v1 as pb;
use tacefusion_worker::pull::{Client, ClientTls, WorkerConfig, connect};
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::progress::ProgressView;

/// Arguments of `tacefusion coordinator`.
#[derive(Debug, Args)]
pub struct CoordinatorArgs {
    /// Address to serve gRPC on, e.g. 0.0.0.0:7070.
    #[arg(long)]
    listen: SocketAddr,
    /// State directory (kept across restarts).
    #[arg(long)]
    state: PathBuf,
    /// Object store of the outputs: a local folder, file://, s3://bucket/prefix, gs://bucket/prefix or
    /// az://container/prefix (credentials from the AWS_*, GOOGLE_*, AZURE_* environment variables).
    #[arg(long)]
    store: String,
    /// File holding the bearer token workers and clients must send.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// TLS certificate (PEM).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// CA (PEM) whose client certificates are required.
    #[arg(long, requires = "tls_cert")]
    client_ca: Option<PathBuf>,
    /// Address of the Prometheus `/metrics`, `/healthz` and `/readyz` endpoint.
    #[arg(long)]
    metrics: Option<SocketAddr>,
    /// Lease duration, ms (a worker silent this long loses its leases).
    #[arg(long, default_value_t = 30_000)]
    lease_ms: u64,
    /// How long a job waits once its last worker is gone, s.
    #[arg(long, default_value_t = 300)]
    worker_grace_s: u64,
}

/// Where the coordinator is and how to authenticate to it (workers and clients alike).
#[derive(Debug, Args)]
pub struct CoordinatorAddress {
    /// Coordinator URL, e.g. http://host:7070 (https:// with TLS).
    #[arg(long)]
    coordinator: String,
    /// File holding the bearer token.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// CA certificate (PEM) of the coordinator's TLS certificate.
    #[arg(long)]
    ca: Option<PathBuf>,
    /// Client certificate (PEM), for a coordinator that requires one (mutual TLS).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn read_file(p: &Path) -> Result<Vec<u8>> {
    std::fs::read(p).with_context(|| format!("reading {}", p.display()))
}

impl CoordinatorAddress {
    /// The client TLS settings.
    pub fn tls(&self) -> Result<ClientTls> {
        let identity = match (&self.tls_cert, &self.tls_key) {
            (Some(c), Some(k)) => Some((read_file(c)?, read_file(k)?)),
            _ => None,
        };
        Ok(ClientTls { ca: self.ca.as_deref().map(read_file).transpose()?, identity })
    }

    /// A connected client.
    pub async fn client(&self) -> Result<Client> {
        Ok(connect(&self.coordinator, read_token(&self.token_file)?, &self.tls()?, Duration::from_secs(10)).await?)
    }
}

/// Arguments of `tacefusion worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    address: CoordinatorAddress,
    /// Tasks at once.
    #[arg(long, default_value_t = 1)]
    slots: u32,
    /// Seconds running tasks may finish after SIGTERM before their leases are given back.
    #[arg(long, default_value_t = 30)]
    drain_s: u64,
}

/// Arguments of `tacefusion run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The study file.
    study: PathBuf,
    /// Workers to start in this process.
    #[arg(long, default_value_t = 2)]
    workers: u32,
    /// Output folder: object store (cache/, jobs/) and coordinator state (state/).
    #[arg(long)]
    out: PathBuf,
}

/// Arguments of `tacefusion validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The trained study's model bundle (`model_bundle.tfb`), or the results folder of the run that
    /// trained it (its latest job's bundle is used).
    #[arg(long)]
    model: PathBuf,
    /// The study file of the new site's cohorts.
    study: PathBuf,
    /// Workers to start in this process.
    #[arg(long, default_value_t = 2)]
    workers: u32,
    /// Output folder, as for `run`.
    #[arg(long)]
    out: PathBuf,
}

/// The model bundle a finished job of `results` wrote (the latest job's when `job` is None).
pub async fn bundle_of(results: &Path, job: Option<&str>) -> Result<PathBuf> {
    let opened = tacefusion_proto::store::open_store(&results.to_string_lossy())?;
    let index = tacefusion_coordinator::results::job_index(opened.store.as_ref(), job).await?;
    let table = index.tables.get("model_bundle").and_then(|f| f.first()).ok_or_else(|| {
        anyhow::anyhow!("{}: job {} wrote no model bundle (it did not train, or its models failed)", results.display(), index.job_id)
    })?;
    let folder = table.rsplit_once('/').map_or("", |(dir, _)| dir);
    Ok(results.join(folder).join("model_bundle.tfb"))
}

/// Runs `validate`: the bundle's models on a new study's cohorts, nothing refitted.
pub async fn validate(args: ValidateArgs) -> Result<()> {
    let bundle = if args.model.is_dir() { bundle_of(&args.model, None).await? } else { args.model.clone() };
    eprintln!("model bundle: {}", bundle.display());
    run_job(&args.study, args.workers, &args.out, Some(&bundle)).await
}

/// Reads a token file (trimmed).
pub fn read_token(file: &Option<PathBuf>) -> Result<Option<String>> {
    file.as_ref()
        .map(|f| std::fs::read_to_string(f).map(|t| t.trim().to_string()).with_context(|| format!("reading token file {}", f.display())))
        .transpose()
}

/// Resolves when the process gets SIGTERM or SIGINT.
pub async fn terminated() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn worker_config(coordinator: String, token: Option<String>, tls: ClientTls, slots: u32, drain: Duration) -> WorkerConfig {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    WorkerConfig {
        coordinator,
        token,
        tls,
        worker_id: format!("{host}-{}-{n}", std::process::id()),
        slots,
        gpus: 0,
        gpu_names: vec![],
        memory_bytes: 0,
        poll: Duration::from_millis(50),
        drain_timeout: drain,
        connect_timeout: Duration::from_secs(60),
    }
}

/// Runs `coordinator`.
pub async fn coordinator(args: CoordinatorArgs) -> Result<()> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(c), Some(k)) => Some((read_file(c)?, read_file(k)?, args.client_ca.as_deref().map(read_file).transpose()?)),
        _ => None,
    };
    let config = CoordinatorConfig {
        state_dir: args.state,
        store: args.store,
        token: read_token(&args.token_file)?,
        tls,
        scheduler: SchedulerConfig { lease_ms: args.lease_ms, worker_grace_ms: args.worker_grace_s * 1000, ..Default::default() },
    };
    let shared = open(&config).await?;
    if let Some(addr) = args.metrics {
        let shared = shared.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_metrics(addr, shared).await {
                tracing::error!("metrics endpoint {addr}: {e}");
            }
        });
    }
    let listener = TcpListener::bind(args.listen).await.with_context(|| format!("binding {}", args.listen))?;
    eprintln!("coordinator: listening on {}", listener.local_addr()?);
    serve(&config, shared, listener, terminated()).await?;
    Ok(())
}

/// Runs `worker`.
pub async fn worker(args: WorkerArgs) -> Result<()> {
    let a = &args.address;
    let mut config =
        worker_config(a.coordinator.clone(), read_token(&a.token_file)?, a.tls()?, args.slots, Duration::from_secs(args.drain_s));
    match tacefusion_worker::gpus::cuda_devices() {
        Ok(names) => {
            config.gpus = names.len() as u32;
            config.gpu_names = names;
        }
        Err(why) => eprintln!("worker: no GPU offered: {why}"),
    }
    eprintln!("worker: {} CPU slot(s), {} GPU(s) {:?}", config.slots, config.gpus, config.gpu_names);
    let report = tacefusion_worker::pull::run(config, terminated()).await?;
    eprintln!(
        "worker: {} committed, {} failed, {} refused, {} given back",
        report.committed, report.failed, report.refused, report.given_back
    );
    Ok(())
}

/// Submits a study file (to validate `bundle` on, when given); returns the response.
pub async fn submit_file(client: &mut Client, study: &Path, bundle: Option<&Path>) -> Result<pb::SubmitStudyResponse> {
    let text = std::fs::read_to_string(study).with_context(|| format!("reading {}", study.display()))?;
    let path = std::fs::canonicalize(study).with_context(|| format!("{}", study.display()))?;
    let model_bundle = match bundle {
        Some(b) => std::fs::canonicalize(b).with_context(|| format!("model bundle {}", b.display()))?.to_string_lossy().into_owned(),
        None => String::new(),
    };
    // the root span of the job's trace: the coordinator's and the workers' spans join it
    let span = tracing::info_span!("submit", study = %path.display());
    let r = client
        .submit_study(pb::SubmitStudyRequest { study_toml: text, study_path: path.to_string_lossy().into_owned(), model_bundle })
        .instrument(span)
        .await
        .map_err(|s| anyhow::anyhow!("{}", s.message()))?;
    Ok(r.into_inner())
}

/// Follows a job to its end, showing a bar per stage (redrawn on a terminal, a line per change
/// otherwise).
pub async fn follow(client: &mut Client, job: &str) -> Result<pb::JobStatus> {
    let mut stream =
        client.watch_job(pb::GetJobRequest { job_id: job.into() }).await.map_err(|s| anyhow::anyhow!("{}", s.message()))?.into_inner();
    let mut view = ProgressView::new(job, std::io::stderr().is_terminal());
    while let Some(status) = stream.message().await.map_err(|s| anyhow::anyhow!("{}", s.message()))? {
        view.show(&status);
        if status.state != pb::JobState::Running as i32 {
            return Ok(status);
        }
    }
    bail!("the coordinator closed the watch of {job} before it ended")
}

/// Runs `run`: coordinator, workers and the job in this process.
pub async fn run(args: RunArgs) -> Result<()> {
    run_job(&args.study, args.workers, &args.out, None).await?;
    if let Ok(bundle) = bundle_of(&args.out, None).await {
        eprintln!("model bundle: {} (tacefusion validate --model {} NEW_STUDY.toml --out DIR)", bundle.display(), args.out.display());
    }
    Ok(())
}

/// A study (or the validation of `bundle` on it) on a coordinator and `workers` workers in this
/// process, results in `out`.
pub(crate) async fn run_job(study: &Path, workers: u32, out: &Path, bundle: Option<&Path>) -> Result<()> {
    if workers == 0 {
        bail!("--workers must be at least 1");
    }
    // the first worker offers this machine's CUDA devices (a `--features cuda` build), which a
    // study with `[train] gpus = 1` (or `[omics] gpus = 1`) needs
    let wants_gpu =
        tacefusion_core::Study::from_path(study).map(|s| (s.train.gpus > 0 && bundle.is_none()) || s.omics.gpus > 0).unwrap_or(false);
    let (devices, why) = match tacefusion_worker::gpus::cuda_devices() {
        Ok(d) if d.is_empty() => (d, "a build without --features cuda, or no device".to_string()),
        Ok(d) => (d, String::new()),
        Err(e) => (Vec::new(), e.to_string()),
    };
    if wants_gpu && devices.is_empty() {
        bail!(
            "{}: [train] gpus = 1 or [omics] gpus = 1 but this machine offers no CUDA device to `run` ({why}): set gpus = 0, or submit the study to a coordinator with GPU workers",
            study.display()
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let config = CoordinatorConfig {
        state_dir: out.join("state"),
        store: out.to_string_lossy().into_owned(),
        token: None,
        tls: None,
        scheduler: SchedulerConfig::default(),
    };
    let shared = open(&config).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = {
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            serve(&config, shared, listener, async move { while stop.changed().await.is_ok() && !*stop.borrow() {} }).await
        })
    };
    let mut handles = Vec::new();
    for k in 0..workers {
        let mut config = worker_config(url.clone(), None, ClientTls::default(), 1, Duration::from_secs(5));
        if k == 0 {
            config.gpus = devices.len() as u32;
            config.gpu_names = devices.clone();
        }
        let mut stop = stop_rx.clone();
        handles.push(tokio::spawn(async move {
            tacefusion_worker::pull::run(config, async move { while stop.changed().await.is_ok() && !*stop.borrow() {} }).await
        }));
    }
    let mut client = connect(&url, None, &ClientTls::default(), Duration::from_secs(10)).await?;
    let submitted = submit_file(&mut client, study, bundle).await?;
    eprintln!("{}: {} tasks, {} already committed", submitted.job_id, submitted.tasks, submitted.already_committed);
    let status = follow(&mut client, &submitted.job_id).await?;
    let _ = stop_tx.send(true);
    for w in handles {
        if let Ok(Err(e)) = w.await {
            eprintln!("worker: {e}");
        }
    }
    server.await??;
    for failed in &status.failed {
        eprintln!("failed: {} ({}): {}", failed.task_id, failed.stage, failed.reason);
    }
    println!("{}", submitted.job_id);
    eprintln!("results: tacefusion query --results {} \"SELECT * FROM metrics\"", out.display());
    match pb::JobState::try_from(status.state) {
        Ok(pb::JobState::Succeeded) | Ok(pb::JobState::SucceededWithFailures) => Ok(()),
        _ => bail!("{} ended {:?}: {}", submitted.job_id, pb::JobState::try_from(status.state).ok(), status.message),
    }
}
