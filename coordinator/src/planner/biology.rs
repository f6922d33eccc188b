//! The biology of a plan: one `biology/<cohort>` task per omics cohort (`bulk`, `singlecell`,
//! `biomarker`) whose patients the study's models scored: its patients are split by the chosen
//! fusion score (`fusion/apply/<cohort>`, the choice in `models.json` of `fusion/fit` or
//! `bundle/unpack`), then its pathway and immune scores, cell scores or biomarkers are compared
//! between the groups. The key covers the omics files by content, so a moved study keeps it.

use std::path::{Path, PathBuf};

use serde_json::json;
use tacefusion_core::{CohortRole, Study};

use super::{CohortTasks, DigestCache, PlanError, task_key};
use crate::task::{PlannedTask, Stage};

/// The biology tasks of the omics cohorts in `cohorts`, reading the model tasks in `models`.
pub(crate) fn plan(
    study: &Study,
    study_file: &Path,
    cohorts: &[CohortTasks<'_>],
    models: &[PlannedTask],
    digests: &mut DigestCache,
) -> Result<Vec<PlannedTask>, PlanError> {
    let find = |id: &str| models.iter().find(|t| t.id == id).map(|t| (t.id.clone(), t.key.clone()));
    let chosen = find("fusion/fit").or_else(|| find("bundle/unpack"));
    let mut tasks = Vec::new();
    for c in cohorts {
        let cohort = c.cohort;
        let kind = match cohort.role {
            CohortRole::Bulk => "bulk",
            CohortRole::Singlecell => "singlecell",
            CohortRole::Biomarker => "biomarker",
            _ => continue,
        };
        // without the models' scores of its patients there are no groups to compare
        let (Some(apply), Some(chosen)) = (find(&format!("fusion/apply/{}", cohort.name)), chosen.clone()) else { continue };
        let resolve = |p: &str| PathBuf::from(Study::resolve(study_file, p));
        let mut files: Vec<(&str, PathBuf)> = Vec::new();
        let o = &study.omics;
        match cohort.role {
            CohortRole::Bulk => {
                files.extend(cohort.expression.as_deref().map(|p| ("expression", resolve(p))));
                files.extend(o.gene_sets.as_deref().map(|p| ("gene_sets", resolve(p))));
                files.extend(o.immune_sets.as_deref().map(|p| ("immune_sets", resolve(p))));
            }
            CohortRole::Singlecell => {
                match (&cohort.h5ad, &cohort.mtx) {
                    (Some(h5ad), _) => files.push(("h5ad", resolve(h5ad))),
                    (None, Some(mtx)) => {
                        let dir = resolve(mtx);
                        files.push(("mtx", dir.clone()));
                        for part in ["matrix.mtx.gz", "features.tsv.gz", "barcodes.tsv.gz"] {
                            files.push(("mtx_part", dir.join(part)));
                        }
                    }
                    (None, None) => {}
                }
                files.extend(cohort.cells.as_deref().filter(|_| cohort.h5ad.is_none()).map(|p| ("cells", resolve(p))));
                files.extend(o.gene_sets.as_deref().map(|p| ("gene_sets", resolve(p))));
            }
            _ => files.extend(cohort.biomarkers.as_deref().map(|p| ("biomarkers", resolve(p)))),
        }
        let mut inputs = vec![apply.1.clone(), chosen.1.clone()];
        for (what, path) in files.iter().filter(|(what, _)| *what != "mtx") {
            let digest = digests.digest(path).map_err(|e| PlanError::Input {
                cohort: cohort.name.clone(),
                file: path.display().to_string(),
                detail: format!("{what}: {e}"),
            })?;
            inputs.push(digest);
        }
        // `omics.gpus` is in the settings: scores made on a GPU (f32) are not taken for the CPU's
        let settings =
            json!({ "kind": kind, "cohort": cohort.name, "scale": cohort.expression_scale, "omics": o, "seed": study.study.seed });
        let gpus = if cohort.role == CohortRole::Singlecell { o.gpus } else { 0 };
        let mut spec = settings.clone();
        for (what, path) in files.iter().filter(|(what, _)| *what != "mtx_part") {
            spec[*what] = json!(path);
        }
        tasks.push(PlannedTask {
            id: format!("biology/{}", cohort.name),
            stage: Stage::Biology,
            // paths left out: the files count by their content
            key: task_key(Stage::Biology, &settings, &inputs),
            spec: spec.to_string(),
            deps: vec![apply.0, chosen.0],
            cpu_slots: 1,
            gpus,
            partial_inputs: false,
        });
    }
    Ok(tasks)
}
