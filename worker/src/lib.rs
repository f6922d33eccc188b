//! The tacefusion worker: registers with the coordinator, pulls leases that fit its slots and GPUs,
//! runs the stage executors (`stages/`, on the `shared/*` libraries), writes the outputs under the
//! attempt's folder and has the coordinator commit them; heartbeats run on their own timer and a
//! shutdown drains. `gpus` says which CUDA devices it offers (`--features cuda`).

pub mod checkpoints;
mod client;
pub mod executor;
mod finished;
pub mod gpus;
mod inputs;
pub mod pull;
pub mod stages;
pub mod tables;
