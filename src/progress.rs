//! Progress of a job: one bar per stage, redrawn in place on a terminal; one line per change when
//! stderr is a file or a pipe (logs stay readable).

use std::io::Write;

use tacefusion_proto::v1 as pb;

const WIDTH: usize = 30;

/// One bar: `radiomics  [#########.........]  120/300  4 running  1 failed`.
pub fn bar(stage: &pb::StageProgress, name_width: usize) -> String {
    let total = stage.total.max(1) as usize;
    let done = (stage.committed + stage.failed) as usize;
    let filled = (done * WIDTH / total).min(WIDTH);
    let mut line = format!(
        "{:<name_width$}  [{}{}]  {}/{}",
        stage.stage,
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        stage.committed,
        stage.total
    );
    if stage.running > 0 {
        line.push_str(&format!("  {} running", stage.running));
    }
    if stage.failed > 0 {
        line.push_str(&format!("  {} failed", stage.failed));
    }
    line
}

/// The bars of every stage, in plan order.
pub fn bars(status: &pb::JobStatus) -> Vec<String> {
    let width = status.stages.iter().map(|s| s.stage.len()).max().unwrap_or(0);
    status.stages.iter().map(|s| bar(s, width)).collect()
}

/// Draws successive statuses of one job on stderr.
#[derive(Debug)]
pub struct ProgressView {
    job: String,
    terminal: bool,
    drawn: usize,
    last: Option<String>,
}

impl ProgressView {
    /// A view of `job`; bars redrawn in place when `terminal`.
    pub fn new(job: &str, terminal: bool) -> Self {
        Self { job: job.to_string(), terminal, drawn: 0, last: None }
    }

    /// Shows `status` (nothing when what would be shown did not change).
    pub fn show(&mut self, status: &pb::JobStatus) {
        let lines = bars(status);
        let shown = if self.terminal { lines.join("\n") } else { summary(status) };
        if self.last.as_ref() == Some(&shown) {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.terminal {
            // back to the first bar, then rewrite each line
            if self.drawn > 0 {
                let _ = write!(err, "\x1b[{}F", self.drawn);
            }
            for line in &lines {
                let _ = writeln!(err, "\x1b[2K{}: {line}", self.job);
            }
            self.drawn = lines.len();
        } else {
            let _ = writeln!(err, "{}: {shown}", self.job);
        }
        self.last = Some(shown);
    }
}

/// One line for logs: `ingest 3/3  radiomics 120/300 (1 failed)`.
pub fn summary(status: &pb::JobStatus) -> String {
    status
        .stages
        .iter()
        .map(|s| {
            let failed = if s.failed > 0 { format!(" ({} failed)", s.failed) } else { String::new() };
            format!("{} {}/{}{failed}", s.stage, s.committed, s.total)
        })
        .collect::<Vec<_>>()
        .join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(name: &str, total: u32, committed: u32, running: u32, failed: u32) -> pb::StageProgress {
        pb::StageProgress { stage: name.into(), total, committed, running, failed }
    }

    #[test]
    fn bars_fill_with_finished_tasks_and_align() {
        for (s, width, expected) in [
            (stage("ingest", 3, 3, 0, 0), 9, format!("ingest     [{}]  3/3", "#".repeat(30))),
            (stage("radiomics", 300, 120, 4, 0), 9, format!("radiomics  [{}{}]  120/300  4 running", "#".repeat(12), ".".repeat(18))),
            (stage("evaluate", 4, 1, 0, 1), 8, format!("evaluate  [{}{}]  1/4  1 failed", "#".repeat(15), ".".repeat(15))),
            (stage("noop", 0, 0, 0, 0), 4, format!("noop  [{}]  0/0", ".".repeat(30))),
        ] {
            assert_eq!(bar(&s, width), expected);
        }
    }

    #[test]
    fn the_log_line_counts_finished_and_failed_tasks_per_stage() {
        let status = pb::JobStatus { stages: vec![stage("ingest", 3, 3, 0, 0), stage("radiomics", 300, 120, 4, 1)], ..Default::default() };
        assert_eq!(summary(&status), "ingest 3/3  radiomics 120/300 (1 failed)");
    }

    #[test]
    fn one_bar_per_stage_in_plan_order() {
        let status = pb::JobStatus { stages: vec![stage("ingest", 1, 1, 0, 0), stage("evaluate", 1, 0, 1, 0)], ..Default::default() };
        let lines = bars(&status);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("ingest  ") && lines[1].starts_with("evaluate"), "{lines:?}");
    }
}
