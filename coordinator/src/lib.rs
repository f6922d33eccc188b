//! The tacefusion coordinator: plans a study into tasks (`planner`), leases them to pulling workers
//! with deadlines, retries and resource matching (`scheduler`), keeps its state durably (`state`),
//! serves the gRPC protocol (`service`, started by `server`), exports Prometheus `metrics` and
//! registers the committed outputs as DataFusion tables (`results`).

mod commit;
pub mod metrics;
pub mod planner;
pub mod results;
pub mod scheduler;
pub mod server;
pub mod service;
pub mod shared;
pub mod state;
pub mod task;
