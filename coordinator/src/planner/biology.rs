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
                        // every file the reader may take (plain or gzip, features or genes)
                        let mut parts: Vec<PathBuf> =
                            std::fs::read_dir(&dir).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
                        parts.sort();
                        if parts.is_empty() {
                            parts.push(dir.join("matrix.mtx.gz"));
                        }
                        files.extend(parts.into_iter().map(|p| ("mtx_part", p)));
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
        let gpus = if cohort.role == CohortRole::Singlecell { o.gpus } else { 0 };
        // the key's settings: the gene-set files count by their content (in the inputs), not where
        // they lie; `gpus` only for the single cells (scores made on a GPU, f32, are not taken for
        // the CPU's)
        let mut keyed = o.clone();
        keyed.gene_sets = None;
        keyed.immune_sets = None;
        keyed.gpus = gpus;
        let settings =
            json!({ "kind": kind, "cohort": cohort.name, "scale": cohort.expression_scale, "omics": keyed, "seed": study.study.seed });
        let mut spec = settings.clone();
        spec["omics"] = json!(o);
        for (what, path) in files.iter().filter(|(what, _)| *what != "mtx_part") {
            spec[*what] = json!(path);
        }
        // named in `exclusions` when the task fails
        spec["files"] = json!(files.iter().filter(|(what, _)| *what != "mtx_part").map(|(_, p)| p).collect::<Vec<_>>());
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::{DigestCache, plan};
    use tacefusion_core::Study;

    /// A study with a training and a bulk cohort (both with CT), the expression and gene sets in
    /// `sets_dir` (relative to the study).
    fn write(dir: &Path, sets_dir: &str, expression: &str) -> std::path::PathBuf {
        for (cohort, ids) in [("train", ["P1", "P2"]), ("bulk", ["B1", "B2"])] {
            std::fs::create_dir_all(dir.join("clinical")).unwrap();
            let csv: String =
                std::iter::once("patient_id,os_months\n".to_string()).chain(ids.iter().map(|p| format!("{p},10\n"))).collect();
            std::fs::write(dir.join(format!("clinical/{cohort}.csv")), csv).unwrap();
            for p in ids {
                std::fs::create_dir_all(dir.join(format!("images/{p}"))).unwrap();
                for f in ["arterial", "arterial_mask", "portal_venous", "portal_venous_mask"] {
                    std::fs::write(dir.join(format!("images/{p}/{f}.nii.gz")), format!("{p}-{f}")).unwrap();
                }
            }
        }
        std::fs::create_dir_all(dir.join(sets_dir)).unwrap();
        std::fs::write(dir.join(sets_dir).join("h.gmt"), "SET\t-\tA\tB\n").unwrap();
        std::fs::write(dir.join("expr.tsv"), expression).unwrap();
        let images = "[cohorts.images]\nimage = \"images/{patient}/{phase}.nii.gz\"\nmask = \"images/{patient}/{phase}_mask.nii.gz\"\n";
        let toml = format!(
            "[study]\nname = \"t\"\nseed = 7\n\n[[cohorts]]\nname = \"training\"\nrole = \"training\"\ncentre = \"A\"\nclinical = \"clinical/train.csv\"\n\n{images}\n[[cohorts]]\nname = \"bulk\"\nrole = \"bulk\"\ncentre = \"T\"\nclinical = \"clinical/bulk.csv\"\nexpression = \"expr.tsv\"\nexpression_scale = \"log2\"\n\n{images}\n[omics]\ngene_sets = \"{sets_dir}/h.gmt\"\n"
        );
        let file = dir.join("study.toml");
        std::fs::write(&file, toml).unwrap();
        file
    }

    fn biology_key(file: &Path) -> String {
        let study = Study::from_path(file).unwrap();
        let tasks = plan(&study, file, &mut DigestCache::default()).unwrap();
        let t = tasks.iter().find(|t| t.id == "biology/bulk").expect("a biology task for the bulk cohort");
        assert!(t.deps.contains(&"fusion/apply/bulk".to_string()) && t.deps.contains(&"fusion/fit".to_string()), "{:?}", t.deps);
        t.key.clone()
    }

    #[test]
    fn the_gene_sets_count_by_content_and_the_expression_changes_the_key() {
        let base = std::env::temp_dir().join(format!("tacefusion-plan-biology-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let expression = "gene\tB1\tB2\nA\t1\t2\nB\t3\t4\n";
        let a = biology_key(&write(&base.join("a"), "sets", expression));
        let moved = biology_key(&write(&base.join("b"), "elsewhere/gmt", expression));
        assert_eq!(a, moved, "the same files in other places keep the key");
        let changed = biology_key(&write(&base.join("c"), "sets", "gene\tB1\tB2\nA\t1\t2\nB\t3\t5\n"));
        assert_ne!(a, changed, "a changed expression value reruns the biology");
        let _ = std::fs::remove_dir_all(&base);
    }
}
