//! The study report: one self-contained HTML file (tables, figures as inline SVG, no script and no
//! network access) built from the result tables. The caller runs the queries (`Source`: DataFusion
//! over the committed Parquet in the CLI); this crate only reads rows and draws.
//!
//! Sections (`sections/`): the cohorts (Table 1 with missingness, the exclusion flow), the models
//! (C-indices with intervals and paired tests, Kaplan-Meier by CRM risk group with numbers at risk,
//! time-dependent AUC, calibration, decision curves, the CRM's forest plot and nomogram), the
//! biology (Hallmark heatmap and comparison, volcano plot, immune sets, single-cell hypoxia and
//! cytotoxicity by cell type and risk group, biomarkers), planted truth beside findings for a
//! synthetic study, and the run's facts.

pub mod frame;
pub mod html;
mod sections;
pub mod svg;

pub use frame::{Cell, Frame};

/// Where the rows come from.
pub trait Source {
    /// Runs one SQL query over the result tables; an error when a table is absent.
    fn query(&self, sql: &str) -> Result<Frame, String>;
}

/// What the report says about the run besides the tables.
#[derive(Debug, Clone, Default)]
pub struct RunFacts {
    /// Software version.
    pub version: String,
    /// Job id.
    pub job: String,
    /// Study name.
    pub study: String,
    /// Final state and message.
    pub state: String,
    /// The study file's text (settings and seed), when known.
    pub study_toml: Option<String>,
    /// Per stage: name, tasks, committed, failed, retries, wall seconds (NaN when unknown).
    pub stages: Vec<(String, u64, u64, u64, u64, f64)>,
    /// A synthetic study's planted effects (`truth/effects.json`), when known.
    pub planted: Option<serde_json::Value>,
}

/// Renders the report.
pub fn render(source: &dyn Source, facts: &RunFacts) -> String {
    let sections = vec![
        sections::cohorts::section(source),
        sections::models::section(source),
        sections::figures::section(source),
        sections::biology::section(source),
        sections::run::planted(source, facts),
        sections::run::facts(facts),
    ];
    let subtitle = format!("study {} \u{00b7} job {} \u{00b7} {}", facts.study, facts.job, facts.state);
    html::page("tacefusion study report", &subtitle, &sections)
}
