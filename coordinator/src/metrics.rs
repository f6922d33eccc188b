//! The coordinator's Prometheus metrics: tasks by state, workers, leases, retries, commits,
//! refused commits, failures by kind, and the lease latency as a histogram.

use std::collections::HashMap;

use crate::scheduler::TaskStatus;
use crate::shared::Shared;

/// Counters exported as Prometheus metrics.
#[derive(Debug, Default, Clone)]
pub struct Counters {
    /// Leases granted.
    pub leases: u64,
    /// Leases of a task's second or later attempt.
    pub retries: u64,
    /// Seconds from a lease request that got leases to its answer (state saved).
    pub lease_latency: Histogram,
    /// Commits accepted.
    pub commits: u64,
    /// Commits refused (not the lease holder).
    pub refused_commits: u64,
    /// Failures reported, by kind.
    pub failures: HashMap<String, u64>,
}

/// A Prometheus histogram with fixed buckets (upper bounds in seconds).
#[derive(Debug, Clone)]
pub struct Histogram {
    /// Observations at or below each bound of [`Histogram::BOUNDS`] (not cumulative).
    pub buckets: [u64; Histogram::BOUNDS.len()],
    /// Sum of the observations.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
}

impl Histogram {
    /// Bucket upper bounds, s (the last bucket, +Inf, is `count`).
    pub const BOUNDS: [f64; 10] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0];

    /// Records one observation.
    pub fn observe(&mut self, seconds: f64) {
        if let Some(b) = Self::BOUNDS.iter().position(|&bound| seconds <= bound) {
            self.buckets[b] += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }

    /// The histogram in Prometheus text format under `name`.
    pub fn prometheus(&self, name: &str) -> String {
        let mut out = format!("# TYPE {name} histogram\n");
        let mut cumulative = 0;
        for (bound, n) in Self::BOUNDS.iter().zip(&self.buckets) {
            cumulative += n;
            out.push_str(&format!("{name}_bucket{{le=\"{bound}\"}} {cumulative}\n"));
        }
        out.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {}\n{name}_sum {}\n{name}_count {}\n", self.count, self.sum, self.count));
        out
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self { buckets: [0; Self::BOUNDS.len()], sum: 0.0, count: 0 }
    }
}

/// Prometheus text of the coordinator's state.
pub fn metrics_text(shared: &Shared) -> String {
    let mut out = String::new();
    let (workers, by_state) = {
        let s = shared.scheduler.lock().expect("scheduler lock");
        let mut counts = std::collections::BTreeMap::new();
        for job in s.jobs() {
            for i in job.tasks.clone() {
                let name = match &s.task(i).status {
                    TaskStatus::Waiting => "waiting",
                    TaskStatus::Ready { .. } => "ready",
                    TaskStatus::Leased { .. } => "leased",
                    TaskStatus::Committing { .. } => "committing",
                    TaskStatus::Committed => "committed",
                    TaskStatus::Failed { .. } => "failed",
                    TaskStatus::Cancelled => "cancelled",
                };
                *counts.entry(name).or_insert(0u64) += 1;
            }
        }
        (s.worker_count(), counts)
    };
    out.push_str("# TYPE tacefusion_tasks gauge\n");
    for (state, n) in by_state {
        out.push_str(&format!("tacefusion_tasks{{state=\"{state}\"}} {n}\n"));
    }
    out.push_str(&format!("# TYPE tacefusion_workers gauge\ntacefusion_workers {workers}\n"));
    let m = shared.metrics.lock().expect("metrics lock").clone();
    out.push_str(&format!("# TYPE tacefusion_leases_total counter\ntacefusion_leases_total {}\n", m.leases));
    out.push_str(&format!("# TYPE tacefusion_commits_total counter\ntacefusion_commits_total {}\n", m.commits));
    out.push_str(&format!("# TYPE tacefusion_refused_commits_total counter\ntacefusion_refused_commits_total {}\n", m.refused_commits));
    out.push_str(&format!("# TYPE tacefusion_retries_total counter\ntacefusion_retries_total {}\n", m.retries));
    out.push_str(&m.lease_latency.prometheus("tacefusion_lease_latency_seconds"));
    out.push_str("# TYPE tacefusion_failures_total counter\n");
    for (kind, n) in &m.failures {
        out.push_str(&format!("tacefusion_failures_total{{kind=\"{kind}\"}} {n}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_with_inf_equal_to_count() {
        let mut h = Histogram::default();
        for s in [0.0001, 0.0007, 0.003, 0.003, 2.0] {
            h.observe(s);
        }
        let text = h.prometheus("x");
        for line in [
            "x_bucket{le=\"0.0005\"} 1",
            "x_bucket{le=\"0.001\"} 2",
            "x_bucket{le=\"0.005\"} 4",
            "x_bucket{le=\"1\"} 4",
            "x_bucket{le=\"+Inf\"} 5",
            "x_count 5",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        let sum: f64 = text.lines().find_map(|l| l.strip_prefix("x_sum ")).unwrap().parse().unwrap();
        assert!((sum - 2.0068).abs() < 1e-12);
    }
}
