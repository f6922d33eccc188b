//! `evaluate` [one cohort]: the clinical scores (HAP, mHAP-II, six-and-twelve, up-to-seven, ALBI,
//! Child-Pugh, BCLC) of every included patient, Harrell's C of each with its bootstrap percentile
//! interval, the log-rank test across its groups and the Kaplan-Meier curve of each group: tables
//! `predictions`, `metrics` and `km_curves`. The bootstrap seed derives from the study seed, the
//! cohort and the score, so the numbers do not depend on which worker runs the task.

use sha2::{Digest, Sha256};
use tacefusion_core::clinical::{Ascites, Encephalopathy};
use tacefusion_core::{Albumin, Bilirubin, Length};
use tacefusion_survival::bootstrap::percentile_interval;
use tacefusion_survival::clinical::{self, ClinicalFindings, Stratum};
use tacefusion_survival::{KaplanMeier, LogRankTest, SurvivalData, harrell_c};

use crate::executor::{ExecError, InputFile, OutputFile, number, text};
use crate::tables::{Column, ReadTable, Table};

/// The included patients of the cohort, read back from ingest's `patients` table.
struct Patients {
    ids: Vec<String>,
    data: SurvivalData,
    findings: Vec<ClinicalFindings>,
}

fn patients(inputs: &[InputFile]) -> Result<Patients, ExecError> {
    let file = inputs
        .iter()
        .find(|f| f.path.ends_with("/patients.parquet"))
        .ok_or_else(|| ExecError::BadInput("no patients table among the inputs".into()))?;
    let c = ReadTable::read(&file.path, file.bytes.clone())?;
    let ids = c.texts("patient_id")?.to_vec();
    let bad = |e: &dyn std::fmt::Display| ExecError::BadInput(e.to_string());
    let data = SurvivalData::new(c.floats("os_months")?.to_vec(), c.bools("death")?.to_vec()).map_err(|e| bad(&e))?;
    let ascites =
        |s: &str| Ascites::CODES.iter().find(|(code, _)| *code == s).map(|(_, a)| *a).ok_or_else(|| bad(&format!("ascites {s:?}")));
    let enceph = |s: &str| {
        Encephalopathy::CODES.iter().find(|(code, _)| *code == s).map(|(_, a)| *a).ok_or_else(|| bad(&format!("encephalopathy {s:?}")))
    };
    // columns resolved once; a bad value names its patient
    let (albumin, bilirubin, afp, inr) =
        (c.floats("albumin_g_l")?, c.floats("bilirubin_umol_l")?, c.floats("afp_ng_ml")?, c.floats("inr")?);
    let (ascites_codes, enceph_codes) = (c.texts("ascites")?, c.texts("encephalopathy")?);
    let (ecog, number, diameter) = (c.ints("ecog")?, c.ints("tumour_number")?, c.floats("largest_diameter_cm")?);
    let (pvtt, spread) = (c.bools("pvtt")?, c.bools("extrahepatic_spread")?);
    let mut findings = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let of = |e: ExecError| match e {
            ExecError::BadInput(m) => ExecError::BadInput(format!("{}: patient {id}: {m}", file.path)),
            other => other,
        };
        findings.push(ClinicalFindings {
            albumin: Albumin::g_per_l(albumin[i]).map_err(|e| of(bad(&e)))?,
            bilirubin: Bilirubin::umol_per_l(bilirubin[i]).map_err(|e| of(bad(&e)))?,
            afp_ng_ml: afp[i],
            inr: inr[i],
            ascites: ascites(&ascites_codes[i]).map_err(of)?,
            encephalopathy: enceph(&enceph_codes[i]).map_err(of)?,
            ecog: ecog[i] as u8,
            tumour_number: number[i] as u32,
            largest_diameter: Length::cm(diameter[i]).map_err(|e| of(bad(&e)))?,
            portal_vein_thrombus: pvtt[i],
            extrahepatic_spread: spread[i],
        });
    }
    Ok(Patients { ids, data, findings })
}

/// A score of one patient: the risk used for concordance, its group (ordered) and the group's name.
fn score(name: &str, f: &ClinicalFindings) -> Option<(f64, i64, String)> {
    let stratum = |s: Stratum| (s as i64, format!("{s:?}"));
    Some(match name {
        "HAP" | "mHAP-II" | "Child-Pugh" => {
            let g = match name {
                "HAP" => clinical::hap(f),
                "mHAP-II" => clinical::mhap2(f),
                _ => clinical::child_pugh(f),
            };
            (g.points as f64, (g.class as u8 - b'A') as i64, g.class.to_string())
        }
        "six-and-twelve" => {
            let (g, label) = stratum(clinical::six_and_twelve(f));
            (clinical::size_plus_number(f), g, label)
        }
        "up-to-seven" => {
            let beyond = !clinical::within_up_to_seven(f);
            (beyond as i64 as f64, beyond as i64, if beyond { "beyond" } else { "within" }.to_string())
        }
        "ALBI" => {
            let a = clinical::albi(f.albumin, f.bilirubin);
            (a.score, a.grade as i64, format!("grade {}", a.grade))
        }
        "BCLC" => {
            let s = clinical::bclc(f);
            (s as i64 as f64, s as i64, format!("{s:?}"))
        }
        _ => return None,
    })
}

fn seed_of(study_seed: u64, cohort: &str, score: &str) -> u64 {
    let d = Sha256::digest(format!("{study_seed}/{cohort}/{score}").as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
}

/// Runs the task.
pub fn run(spec: &serde_json::Value, inputs: &[InputFile]) -> Result<Vec<OutputFile>, ExecError> {
    let cohort = text(spec, "cohort")?;
    let replicates = number(spec, "bootstrap_replicates")? as usize;
    let study_seed = spec.get("seed").and_then(|v| v.as_u64()).unwrap_or(0);
    let scores: Vec<String> = spec
        .get("scores")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let p = patients(inputs)?;
    let n = p.ids.len();
    let (mut pred, mut met, mut km) = (Rows::default(), Rows::default(), Rows::default());
    for name in &scores {
        let per: Vec<(f64, i64, String)> = p
            .findings
            .iter()
            .map(|f| score(name, f))
            .collect::<Option<_>>()
            .ok_or_else(|| ExecError::BadInput(format!("unknown score {name}")))?;
        let risk: Vec<f64> = per.iter().map(|s| s.0).collect();
        let groups: Vec<i64> = per.iter().map(|s| s.1).collect();
        for (id, (r, _, g)) in p.ids.iter().zip(&per) {
            pred.text(&[cohort, id, name, g]);
            pred.num(&[*r]);
        }
        let mut metric = |m: &str, v: f64, lo: f64, hi: f64| {
            met.text(&[cohort, name, m]);
            met.num(&[v, lo, hi]);
        };
        metric("n", n as f64, f64::NAN, f64::NAN);
        metric("events", p.data.n_events() as f64, f64::NAN, f64::NAN);
        if n >= 2 && p.data.n_events() > 0 {
            let c = |idx: &[usize]| {
                let sub: Vec<f64> = idx.iter().map(|&i| risk[i]).collect();
                harrell_c(&p.data.select(idx), &sub).ok().map(|c| c.c_index)
            };
            match percentile_interval(n, replicates.max(2), seed_of(study_seed, cohort, name), 0.95, c) {
                Ok(ci) => metric("harrell_c", ci.estimate, ci.lower, ci.upper),
                Err(_) => metric("harrell_c", f64::NAN, f64::NAN, f64::NAN),
            }
            if let Ok(lr) = LogRankTest::new(&p.data, &groups) {
                metric("logrank_chi2", lr.chi2, f64::NAN, f64::NAN);
                metric("logrank_p", lr.p, f64::NAN, f64::NAN);
            }
        }
        let mut labels: Vec<(i64, String)> = per.iter().map(|s| (s.1, s.2.clone())).collect();
        labels.sort();
        labels.dedup();
        for (g, label) in labels {
            let idx: Vec<usize> = (0..n).filter(|&i| groups[i] == g).collect();
            let curve = KaplanMeier::fit(&p.data.select(&idx));
            for k in 0..curve.time.len() {
                km.text(&[cohort, name, &label]);
                km.num(&[curve.time[k], curve.survival[k], curve.at_risk[k], curve.ci_lower[k], curve.ci_upper[k]]);
            }
        }
    }
    let out = |rows: Rows, text: &[&str], num: &[&str]| rows.table(text, num).to_parquet().map_err(ExecError::Retryable);
    Ok(vec![
        ("predictions.parquet".into(), out(pred, &["cohort", "patient_id", "model", "group"], &["risk"])?),
        ("metrics.parquet".into(), out(met, &["cohort", "model", "metric"], &["value", "lower", "upper"])?),
        ("km_curves.parquet".into(), out(km, &["cohort", "model", "group"], &["time", "survival", "at_risk", "ci_lower", "ci_upper"])?),
    ])
}

/// Rows of text and numeric cells, column by column.
#[derive(Default)]
struct Rows {
    text: Vec<Vec<String>>,
    num: Vec<Vec<f64>>,
}

impl Rows {
    fn text(&mut self, values: &[&str]) {
        self.text.resize(values.len().max(self.text.len()), Vec::new());
        values.iter().enumerate().for_each(|(c, v)| self.text[c].push(v.to_string()));
    }

    fn num(&mut self, values: &[f64]) {
        self.num.resize(values.len().max(self.num.len()), Vec::new());
        values.iter().enumerate().for_each(|(c, v)| self.num[c].push(*v));
    }

    fn table(mut self, text: &[&str], num: &[&str]) -> Table {
        self.text.resize(text.len(), Vec::new());
        self.num.resize(num.len(), Vec::new());
        let t = text.iter().zip(self.text).fold(Table::default(), |t, (n, v)| t.with(n, Column::Text(v)));
        num.iter().zip(self.num).fold(t, |t, (n, v)| t.with(n, Column::Float(v)))
    }
}
