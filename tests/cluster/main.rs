//! The cluster as users run it: a coordinator process, worker processes and the client commands on
//! loopback, on the small synthetic study; faults injected with `kill -9`, a zombie worker, a wrong
//! token and a defective patient; and, in this process, a coordinator whose caller hangs up in the
//! middle of a commit, a job seen ended before its index was written, a worker stopped while its
//! lease request is in flight, messages over gRPC's default size limit, and a restart that keeps
//! the result indexes already written. Every comparison is against another run's tables (row for
//! row), the synthetic study's planted defects, or the protocol's promises.

#![allow(missing_docs)]

mod cloud;
mod drain;
mod faults;
mod hang_up;
mod harness;
mod in_process;
mod job_end;
mod large_messages;
mod paper;
mod report;
mod restart_index;
mod runs;
mod security;
mod telemetry;
