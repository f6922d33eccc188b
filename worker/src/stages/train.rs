//! `train` [one fold x configuration x seed, or the final model]: the CT network of
//! `tacefusion-models` on the training cohort's crops.
//!
//! - `kind = "cv"`: trains on every fold but `fold` and stops early on the held-out fold's C; tables
//!   `cv_runs` (one row: the run, its configuration, best epoch and validation C),
//!   `training_history` (loss and validation C per epoch) and `held_out_risks` (the held-out
//!   patients' risks by the best network). Folds are stratified by event and drawn from the study
//!   seed over the patients sorted by id, so every CV task of a study agrees on them.
//! - `kind = "final"`: reads every `cv_runs` row, picks the configuration with the highest mean
//!   validation C (the lower index on a tie) and the median best epoch, trains it on the whole
//!   training cohort, and writes `network.mpk` (the weights), `deep_model.json` (everything needed
//!   to rebuild and use the network), the `deep_selection` table and `deep_cross_fitted` (each
//!   training patient's held-out risk by the chosen configuration, first seed: what the fusion
//!   models are fitted on).
//!
//! Both save a checkpoint after every epoch and resume from the last one after a lost attempt.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tacefusion_models::{
    Backend, Checkpoint, CpuTraining, CropSet, EpochLog, NetworkConfig, Ties, TrainConfig, TrainError, Trained, score, train,
};

use crate::executor::{Checkpoints, Device, ExecError, InputFile, OutputFile, integer, text};
use crate::stages::crops::cohort_crops;
use crate::tables::{Column, ReadTable, Table};

/// One configuration of the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepConfig {
    /// Its index in the grid.
    pub id: usize,
    /// Peak learning rate.
    pub learning_rate: f64,
    /// Channels of the first stage.
    pub width: usize,
    /// Residual stages.
    pub depth: usize,
    /// Augmentation strength (absent: the `[train]` value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub augmentation: Option<f64>,
}

/// The settings every run shares (the study's `[train]` table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shared {
    /// Epochs at most.
    pub epochs: usize,
    /// Patients per batch.
    pub batch_size: usize,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Augmentation strength.
    pub augmentation: f64,
    /// Early-stopping patience.
    pub patience: usize,
}

/// What a trained network needs to be rebuilt and used (`deep_model.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeepModel {
    /// The training configuration (network shape included).
    pub config: TrainConfig,
    /// Crop shape `[phases, k, j, i]` it was trained on.
    pub crop_shape: [usize; 4],
    /// The chosen configuration of the sweep.
    pub chosen: SweepConfig,
    /// Patients it was trained on.
    pub n_train: usize,
}

fn parse<T: serde::de::DeserializeOwned>(spec: &serde_json::Value, field: &str) -> Result<T, ExecError> {
    serde_json::from_value(spec.get(field).cloned().unwrap_or_default()).map_err(|e| ExecError::BadInput(format!("task spec {field}: {e}")))
}

/// Fold of every patient: stratified by event, from `seed`, independent of row order.
pub fn assign_folds(ids: &[String], event: &[bool], folds: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by(|&a, &b| ids[a].cmp(&ids[b]));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = vec![0; ids.len()];
    let mut next = 0;
    for with_event in [true, false] {
        let mut group: Vec<usize> = order.iter().copied().filter(|&i| event[i] == with_event).collect();
        group.shuffle(&mut rng);
        for i in group {
            out[i] = next % folds.max(1);
            next += 1;
        }
    }
    out
}

/// A run of configuration `c`: cross-validation's (`stop_at` None: `shared.epochs` with early
/// stopping) or the final one, stopped at `stop_at` epochs on the same schedule.
fn train_config(shared: &Shared, c: &SweepConfig, seed: u64, stop_at: Option<usize>, channels: usize) -> TrainConfig {
    TrainConfig {
        network: NetworkConfig { channels, width: c.width, depth: c.depth },
        epochs: stop_at.unwrap_or(shared.epochs),
        schedule_epochs: stop_at.map(|_| shared.epochs),
        batch_size: shared.batch_size,
        learning_rate: c.learning_rate,
        weight_decay: shared.weight_decay,
        augmentation: c.augmentation.unwrap_or(shared.augmentation),
        patience: if stop_at.is_some() { 0 } else { shared.patience },
        seed,
        ties: Ties::Efron,
    }
}

/// What a training run leaves, whatever the backend.
struct Fitted {
    record: Vec<u8>,
    history: Vec<EpochLog>,
    best: Option<(usize, f64)>,
    /// The returned network's risks of the validation patients (none without them).
    held_out: Vec<f64>,
}

fn fitted<B: Backend>(r: Result<Trained<B>, TrainError>, valid: Option<&CropSet>, device: &B::Device) -> Result<Fitted, ExecError> {
    match r {
        Ok(t) => {
            let held_out = valid.map(|v| score(&t.network, v, 16, device).0).unwrap_or_default();
            Ok(Fitted { record: t.record, history: t.history, best: t.best, held_out })
        }
        Err(e @ (TrainError::Save { .. } | TrainError::Checkpoint(_))) => Err(ExecError::Retryable(e.to_string())),
        Err(other) => Err(ExecError::BadInput(other.to_string())),
    }
}

/// Trains on `device` with the task's checkpoint: resumes from it when it belongs to this
/// configuration.
fn fit(
    config: &TrainConfig,
    train_set: &CropSet,
    valid: Option<&CropSet>,
    checkpoints: &dyn Checkpoints,
    device: Device,
) -> Result<Fitted, ExecError> {
    let resume = match checkpoints.load().map_err(ExecError::Retryable)? {
        Some(bytes) => Checkpoint::from_bytes(&bytes).ok().filter(|c| c.meta.fingerprint == config.fingerprint()),
        None => None,
    };
    let mut save = |c: &Checkpoint| checkpoints.save(c.to_bytes());
    match device {
        Device::Cpu => {
            let device = Default::default();
            fitted(train::<CpuTraining>(&device, config, train_set, valid, resume.as_ref(), &mut save), valid, &device)
        }
        #[cfg(feature = "cuda")]
        Device::Cuda(index) => {
            let device = tacefusion_models::gpu_device(index);
            fitted(train::<tacefusion_models::GpuTraining>(&device, config, train_set, valid, resume.as_ref(), &mut save), valid, &device)
        }
        #[cfg(not(feature = "cuda"))]
        Device::Cuda(index) => Err(Device::unavailable(index)),
    }
}

fn history_table(run: &str, t: &Fitted) -> Table {
    let h = &t.history;
    Table::default()
        .with("run", Column::Text(vec![run.to_string(); h.len()]))
        .with("epoch", Column::Int(h.iter().map(|e| e.epoch as i64).collect()))
        .with("loss", Column::Float(h.iter().map(|e| e.loss).collect()))
        .with("learning_rate", Column::Float(h.iter().map(|e| e.learning_rate).collect()))
        .with("validation_c", Column::Float(h.iter().map(|e| e.validation_c.unwrap_or(f64::NAN)).collect()))
}

fn parquet(name: &str, t: Table) -> Result<OutputFile, ExecError> {
    Ok((format!("{name}.parquet"), t.to_parquet().map_err(ExecError::Retryable)?))
}

/// Runs the task.
pub fn run(
    spec: &serde_json::Value,
    inputs: &[InputFile],
    checkpoints: &dyn Checkpoints,
    device: Device,
) -> Result<Vec<OutputFile>, ExecError> {
    let cohort = text(spec, "cohort")?;
    let shared: Shared = parse(spec, "train")?;
    let crops = cohort_crops(cohort, inputs)?;
    let channels = crops.shape[0];
    match text(spec, "kind")? {
        "cv" => {
            let config: SweepConfig = parse(spec, "config")?;
            let (fold, folds, seed) = (integer(spec, "fold")? as usize, integer(spec, "folds")? as usize, integer(spec, "seed")?);
            let assigned = assign_folds(&crops.ids, &crops.event, folds, integer(spec, "fold_seed")?);
            let (valid_rows, train_rows): (Vec<usize>, Vec<usize>) = (0..crops.len()).partition(|&i| assigned[i] == fold);
            let (train_set, valid) = (crops.select(&train_rows), crops.select(&valid_rows));
            let tc = train_config(&shared, &config, seed, None, channels);
            let trained = fit(&tc, &train_set, Some(&valid), checkpoints, device)?;
            let run = format!("cv/f{fold}/c{}/s{seed}", config.id);
            let (best_epoch, best_c) = trained.best.unwrap_or((trained.history.len().saturating_sub(1), f64::NAN));
            let runs = Table::default()
                .with("run", Column::Text(vec![run.clone()]))
                .with("fold", Column::Int(vec![fold as i64]))
                .with("config", Column::Int(vec![config.id as i64]))
                .with("learning_rate", Column::Float(vec![config.learning_rate]))
                .with("width", Column::Int(vec![config.width as i64]))
                .with("depth", Column::Int(vec![config.depth as i64]))
                .with("augmentation", Column::Float(vec![config.augmentation.unwrap_or(shared.augmentation)]))
                .with("seed", Column::Int(vec![seed as i64]))
                .with("best_epoch", Column::Int(vec![best_epoch as i64]))
                .with("validation_c", Column::Float(vec![best_c]))
                .with("epochs_run", Column::Int(vec![trained.history.len() as i64]))
                .with("n_train", Column::Int(vec![train_set.len() as i64]))
                .with("n_valid", Column::Int(vec![valid.len() as i64]));
            // the held-out patients' risks by this run's best network: the chosen configuration's,
            // over every fold, are the training cohort's cross-fitted deep scores (`train/final`)
            let n = valid.len();
            let held_out = Table::default()
                .with("cohort", Column::Text(vec![cohort.to_string(); n]))
                .with("patient_id", Column::Text(valid.ids.clone()))
                .with("fold", Column::Int(vec![fold as i64; n]))
                .with("config", Column::Int(vec![config.id as i64; n]))
                .with("seed", Column::Int(vec![seed as i64; n]))
                .with("risk", Column::Float(trained.held_out.clone()));
            Ok(vec![
                parquet("cv_runs", runs)?,
                parquet("training_history", history_table(&run, &trained))?,
                parquet("held_out_risks", held_out)?,
            ])
        }
        "final" => {
            let configs: Vec<SweepConfig> = parse(spec, "configs")?;
            let seed = integer(spec, "seed")?;
            let (chosen, epochs, selection) = choose(&configs, inputs)?;
            let cross_fitted = cross_fitted(cohort, &crops.ids, chosen.id, seed, inputs)?;
            let tc = train_config(&shared, &chosen, seed, Some(epochs), channels);
            let trained = fit(&tc, &crops, None, checkpoints, device)?;
            let model = DeepModel { config: tc, crop_shape: crops.shape, chosen, n_train: crops.len() };
            let json = serde_json::to_vec_pretty(&model).map_err(|e| ExecError::Retryable(e.to_string()))?;
            Ok(vec![
                ("network.mpk".into(), trained.record.clone()),
                ("deep_model.json".into(), json),
                parquet("deep_selection", selection)?,
                parquet("training_history", history_table("final", &trained))?,
                parquet("deep_cross_fitted", cross_fitted)?,
            ])
        }
        other => Err(ExecError::BadInput(format!("unknown train kind {other:?}"))),
    }
}

/// The training cohort's cross-fitted deep scores: each patient's risk by the chosen
/// configuration's network of the fold that held it out (seed `seed`), rows (cohort, patient_id,
/// fold, risk); a patient whose fold's run failed is not there. The fusion models are fitted on these, not on the final network's scores of the
/// patients it was trained on (which a network that memorised some outcomes makes too good).
fn cross_fitted(cohort: &str, ids: &[String], config: usize, seed: u64, inputs: &[InputFile]) -> Result<Table, ExecError> {
    let mut risk: BTreeMap<String, (i64, f64)> = BTreeMap::new();
    for f in inputs.iter().filter(|f| f.path.ends_with("/held_out_risks.parquet")) {
        let t = ReadTable::read(&f.path, f.bytes.clone())?;
        let (p, fold, c, s, r) = (t.texts("patient_id")?, t.ints("fold")?, t.ints("config")?, t.ints("seed")?, t.floats("risk")?);
        for k in (0..t.rows()).filter(|&k| c[k] as usize == config && s[k] as u64 == seed) {
            risk.insert(p[k].clone(), (fold[k], r[k]));
        }
    }
    // a patient whose fold's run failed has none: the fusion fits on the final network's
    // (standardised) score for them, rather than the whole model chain stopping
    let rows: Vec<(&String, (i64, f64))> = ids.iter().filter_map(|id| Some((id, *risk.get(id)?))).collect();
    Ok(Table::default()
        .with("cohort", Column::Text(vec![cohort.to_string(); rows.len()]))
        .with("patient_id", Column::Text(rows.iter().map(|r| r.0.clone()).collect()))
        .with("fold", Column::Int(rows.iter().map(|r| r.1.0).collect()))
        .with("risk", Column::Float(rows.iter().map(|r| r.1.1).collect())))
}

/// The configuration with the best mean validation C over its CV runs, the epochs to train it
/// (median best epoch + 1), and the `deep_selection` table.
fn choose(configs: &[SweepConfig], inputs: &[InputFile]) -> Result<(SweepConfig, usize, Table), ExecError> {
    let mut runs: Vec<(usize, f64, i64)> = Vec::new();
    for f in inputs.iter().filter(|f| f.path.ends_with("/cv_runs.parquet")) {
        let t = ReadTable::read(&f.path, f.bytes.clone())?;
        let (config, c, best) = (t.ints("config")?, t.floats("validation_c")?, t.ints("best_epoch")?);
        runs.extend((0..t.rows()).map(|r| (config[r] as usize, c[r], best[r])));
    }
    let stats = |id: usize| {
        let cs: Vec<f64> = runs.iter().filter(|r| r.0 == id && r.1.is_finite()).map(|r| r.1).collect();
        let mean = if cs.is_empty() { f64::NAN } else { cs.iter().sum::<f64>() / cs.len() as f64 };
        let sd = if cs.len() < 2 { f64::NAN } else { (cs.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (cs.len() - 1) as f64).sqrt() };
        (cs.len(), mean, sd)
    };
    let best = configs
        .iter()
        .filter(|c| stats(c.id).1.is_finite())
        .max_by(|a, b| stats(a.id).1.total_cmp(&stats(b.id).1).then(b.id.cmp(&a.id)))
        .ok_or_else(|| ExecError::BadInput("no cross-validation run gave a validation C: no configuration to choose".into()))?
        .clone();
    // the runs that chose an epoch by validation C (the ones the mean C counts); the median of an
    // even count is the mean of the middle two, rounded down
    let mut epochs: Vec<i64> = runs.iter().filter(|r| r.0 == best.id && r.1.is_finite()).map(|r| r.2 + 1).collect();
    epochs.sort();
    let mid = epochs.len() / 2;
    let median = if epochs.len() % 2 == 1 { epochs[mid] } else { (epochs[mid - 1] + epochs[mid]) / 2 }.max(1) as usize;
    let rows: Vec<(usize, f64, f64)> = configs.iter().map(|c| stats(c.id)).collect();
    let table = Table::default()
        .with("config", Column::Int(configs.iter().map(|c| c.id as i64).collect()))
        .with("learning_rate", Column::Float(configs.iter().map(|c| c.learning_rate).collect()))
        .with("width", Column::Int(configs.iter().map(|c| c.width as i64).collect()))
        .with("depth", Column::Int(configs.iter().map(|c| c.depth as i64).collect()))
        .with("runs", Column::Int(rows.iter().map(|r| r.0 as i64).collect()))
        .with("mean_validation_c", Column::Float(rows.iter().map(|r| r.1).collect()))
        .with("sd_validation_c", Column::Float(rows.iter().map(|r| r.2).collect()))
        .with("chosen", Column::Bool(configs.iter().map(|c| c.id == best.id).collect()))
        .with("epochs", Column::Int(configs.iter().map(|c| if c.id == best.id { median as i64 } else { 0 }).collect()));
    Ok((best, median, table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_are_stratified_balanced_and_independent_of_row_order() {
        let ids: Vec<String> = (0..23).map(|i| format!("P{i:02}")).collect();
        let event: Vec<bool> = (0..23).map(|i| i % 3 != 0).collect();
        let f = assign_folds(&ids, &event, 5, 9);
        for k in 0..5 {
            let members: Vec<usize> = (0..23).filter(|&i| f[i] == k).collect();
            assert!((4..=5).contains(&members.len()), "fold {k}: {}", members.len());
            let events = members.iter().filter(|&&i| event[i]).count();
            assert!((3..=4).contains(&events), "fold {k}: {events} events");
        }
        // the same patients in reverse order get the same folds
        let rev_ids: Vec<String> = ids.iter().rev().cloned().collect();
        let rev_event: Vec<bool> = event.iter().rev().copied().collect();
        let g = assign_folds(&rev_ids, &rev_event, 5, 9);
        for i in 0..23 {
            assert_eq!(f[i], g[22 - i]);
        }
        assert_ne!(f, assign_folds(&ids, &event, 5, 10), "another seed, other folds");
    }

    #[test]
    fn the_cross_fitted_scores_are_the_chosen_configurations_first_seed() {
        // (patient, fold, config, seed, risk) over two CV tasks' tables
        let rows: [&[(&str, i64, i64, i64, f64)]; 2] =
            [&[("P1", 0, 0, 1, 0.1), ("P1", 0, 0, 2, 0.2), ("P1", 0, 1, 1, 0.3)], &[("P2", 1, 0, 1, -0.4), ("P2", 1, 1, 1, 0.5)]];
        let inputs: Vec<InputFile> = rows
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let t = Table::default()
                    .with("cohort", Column::Text(vec!["t".into(); r.len()]))
                    .with("patient_id", Column::Text(r.iter().map(|x| x.0.to_string()).collect()))
                    .with("fold", Column::Int(r.iter().map(|x| x.1).collect()))
                    .with("config", Column::Int(r.iter().map(|x| x.2).collect()))
                    .with("seed", Column::Int(r.iter().map(|x| x.3).collect()))
                    .with("risk", Column::Float(r.iter().map(|x| x.4).collect()));
                InputFile { path: format!("cache/train/k{k}/attempt-1/held_out_risks.parquet"), bytes: t.to_parquet().unwrap().into() }
            })
            .collect();
        let ids = ["P1".to_string(), "P2".to_string()];
        let t = cross_fitted("t", &ids, 0, 1, &inputs).unwrap();
        let bytes: bytes::Bytes = t.to_parquet().unwrap().into();
        let read = ReadTable::read("x", bytes).unwrap();
        assert_eq!(read.texts("patient_id").unwrap(), ["P1", "P2"]);
        assert_eq!(read.ints("fold").unwrap(), [0, 1]);
        assert_eq!(read.floats("risk").unwrap(), [0.1, -0.4]);
        // seed 2 of configuration 0 has no fold-1 run: P1 only
        let t = cross_fitted("t", &ids, 0, 2, &inputs).unwrap();
        let read = ReadTable::read("x", t.to_parquet().unwrap().into()).unwrap();
        assert_eq!((read.texts("patient_id").unwrap(), read.floats("risk").unwrap()), (&["P1".to_string()][..], &[0.2][..]));
    }

    #[test]
    fn the_final_epochs_are_the_median_over_runs_that_had_a_validation_c() {
        let configs = [0, 1].map(|id| SweepConfig { id, learning_rate: 1e-3, width: 4, depth: 1, augmentation: None });
        // (config, validation C, best epoch): config 0's mean C is the higher; its run without a C
        // (best epoch = the last of 30) does not count
        let cases: [(&[(i64, f64, i64)], usize); 3] = [
            (&[(0, f64::NAN, 29), (0, 0.7, 3), (0, 0.7, 10), (1, 0.6, 20)], 7),
            (&[(0, 0.7, 3), (0, 0.8, 10), (0, 0.75, 5), (1, 0.5, 20)], 6),
            (&[(1, 0.9, 0), (0, 0.6, 4)], 1),
        ];
        for (runs, want) in cases {
            let t = Table::default()
                .with("config", Column::Int(runs.iter().map(|r| r.0).collect()))
                .with("validation_c", Column::Float(runs.iter().map(|r| r.1).collect()))
                .with("best_epoch", Column::Int(runs.iter().map(|r| r.2).collect()));
            let input = InputFile { path: "cache/train/k/attempt-1/cv_runs.parquet".into(), bytes: t.to_parquet().unwrap().into() };
            let (_, epochs, _) = choose(&configs, &[input]).unwrap();
            assert_eq!(epochs, want, "{runs:?}");
        }
    }
}
