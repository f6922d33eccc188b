//! Training of the CT network on one set of patients: AdamW with decoupled weight decay, a cosine
//! learning-rate schedule over all steps, augmented batches in a seeded order, early stopping on the
//! validation patients' Harrell's C, a checkpoint after every epoch, and scoring.
//!
//! Same backend, settings, patients and seed give the same network: weights are initialised from
//! the backend's generator seeded under a process-wide lock, batches and augmentations come from
//! ChaCha8 streams keyed by (seed, epoch, patient), and nothing else is random.

use std::sync::Mutex;

use burn::module::{AutodiffModule, Module};
use burn::optim::{AdamWConfig, GradientsParams, Optimizer};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::ElementConversion;
use burn::tensor::backend::{AutodiffBackend, Backend};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tacefusion_survival::{SurvivalData, harrell_c};

use crate::augment::{augment, stream};
use crate::checkpoint::{Checkpoint, CheckpointError, EpochLog, Meta};
use crate::cox_loss::{CoxLossError, RiskSets, Ties, cox_loss};
use crate::data::{CropSet, DataError, batch_tensor};
use crate::network::{NetworkConfig, ResNet3d};

/// How one network is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The network's shape.
    pub network: NetworkConfig,
    /// Epochs at most.
    pub epochs: usize,
    /// Epochs the cosine schedule spans when not `epochs` (a final run stopped at the epoch
    /// cross-validation chose follows the cross-validation runs' schedule up to there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_epochs: Option<usize>,
    /// Patients per batch.
    pub batch_size: usize,
    /// Peak learning rate (the cosine schedule starts here and ends at 0).
    pub learning_rate: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// Augmentation strength in [0, 1].
    pub augmentation: f64,
    /// Epochs without a better validation C before stopping (0: never stop early).
    pub patience: usize,
    /// Seed of initialisation, batch order and augmentation.
    pub seed: u64,
    /// Tie handling of the loss.
    pub ties: Ties,
}

impl TrainConfig {
    /// A short stable digest of the configuration, kept in checkpoints.
    pub fn fingerprint(&self) -> String {
        let text = serde_json::to_string(self).expect("config serialises");
        // FNV-1a: stable across builds and platforms, enough to tell runs apart
        let hash = text.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ b as u64).wrapping_mul(0x100000001b3));
        format!("{hash:016x}")
    }
}

/// Why training failed.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Crops and outcomes do not fit together.
    #[error("training data: {0}")]
    Data(#[from] DataError),
    /// A setting cannot be used.
    #[error("training setting {name}: {detail}")]
    Setting {
        /// The setting.
        name: &'static str,
        /// Why.
        detail: String,
    },
    /// No batch of an epoch had an event.
    #[error("no batch of {batch_size} patients has an event among the {n} training patients")]
    NoEvents {
        /// Patients.
        n: usize,
        /// Batch size.
        batch_size: usize,
    },
    /// The loss failed on a batch.
    #[error(transparent)]
    Loss(#[from] CoxLossError),
    /// The loss stopped being a number: training diverged.
    #[error("the loss became {loss} in epoch {epoch}: training diverged (a smaller learning rate may help)")]
    Diverged {
        /// The epoch, from 1.
        epoch: usize,
        /// The loss.
        loss: f64,
    },
    /// A checkpoint could not be written, read or used.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The caller's checkpoint sink refused one (a store error).
    #[error("saving the checkpoint of epoch {epoch}: {detail}")]
    Save {
        /// The epoch.
        epoch: usize,
        /// What the sink said.
        detail: String,
    },
}

/// A trained network and how it got there.
#[derive(Debug)]
pub struct Trained<B: Backend> {
    /// The network to score with: the best by validation C when there were validation patients,
    /// else the last.
    pub network: ResNet3d<B>,
    /// Its record (named MessagePack), as saved in the model bundle.
    pub record: Vec<u8>,
    /// Every epoch run.
    pub history: Vec<EpochLog>,
    /// Epoch and validation C of the returned network, when chosen by validation.
    pub best: Option<(usize, f64)>,
}

/// Serialises burn records (named MessagePack, full precision).
fn recorder() -> NamedMpkBytesRecorder<FullPrecisionSettings> {
    NamedMpkBytesRecorder::default()
}

static INIT: Mutex<()> = Mutex::new(());

/// A network with weights drawn from `seed` (the backend generator is process-wide: the lock keeps
/// two tasks of one worker from drawing from each other's stream; `NetworkConfig::init` draws every
/// weight before the lock is released).
pub fn init_network<B: Backend>(config: &NetworkConfig, seed: u64, device: &B::Device) -> ResNet3d<B> {
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    B::seed(device, seed);
    config.init(device)
}

/// Encodes a network's weights.
pub fn network_record<B: Backend>(network: &ResNet3d<B>) -> Result<Vec<u8>, CheckpointError> {
    recorder().record(network.clone().into_record(), ()).map_err(|e| CheckpointError::Record(e.to_string()))
}

/// A network of `config` with the weights of `record`.
pub fn load_network<B: Backend>(config: &NetworkConfig, record: &[u8], device: &B::Device) -> Result<ResNet3d<B>, CheckpointError> {
    let loaded = recorder().load(record.to_vec(), device).map_err(|e| CheckpointError::Record(e.to_string()))?;
    // the fresh network draws from the backend's process-wide generator: under the lock, so that
    // no other task's seeded start (init_network) loses draws to it
    let fresh = {
        let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
        config.init::<B>(device)
    };
    Ok(fresh.load_record(loaded))
}

/// Learning rate of step `step` of `total`: half a cosine from `peak` down to 0.
pub fn cosine_rate(peak: f64, step: usize, total: usize) -> f64 {
    if total == 0 {
        return peak;
    }
    0.5 * peak * (1.0 + (std::f64::consts::PI * step.min(total) as f64 / total as f64).cos())
}

/// Risk scores and deep features of every patient of `crops`, `batch` at a time.
pub fn score<B: Backend>(network: &ResNet3d<B>, crops: &CropSet, batch: usize, device: &B::Device) -> (Vec<f64>, Vec<Vec<f32>>) {
    let mut risk = Vec::with_capacity(crops.len());
    let mut features = Vec::with_capacity(crops.len());
    let len = crops.crop_len();
    for start in (0..crops.len()).step_by(batch.max(1)) {
        let end = (start + batch.max(1)).min(crops.len());
        let x = batch_tensor::<B>(crops.shape, crops.voxels[start * len..end * len].to_vec(), device);
        let f = network.features(x);
        let r: Vec<f32> = network.risk_from_features(f.clone()).into_data().to_vec().expect("f32 risk");
        let fv: Vec<f32> = f.clone().into_data().to_vec().expect("f32 features");
        let width = fv.len() / (end - start);
        risk.extend(r.iter().map(|&v| v as f64));
        features.extend(fv.chunks(width).map(<[f32]>::to_vec));
    }
    (risk, features)
}

/// Trains a network on `train`, choosing the epoch by Harrell's C on `valid` when given. `resume`
/// continues a checkpoint of the same configuration; `save` receives a checkpoint after every
/// epoch (an error there ends the run, since a lost worker could not resume).
pub fn train<B: AutodiffBackend>(
    device: &B::Device,
    config: &TrainConfig,
    train: &CropSet,
    valid: Option<&CropSet>,
    resume: Option<&Checkpoint>,
    save: &mut dyn FnMut(&Checkpoint) -> Result<(), String>,
) -> Result<Trained<B::InnerBackend>, TrainError> {
    train.check(true)?;
    if let Some(v) = valid {
        v.check(true)?;
    }
    let setting = |name, detail: String| Err(TrainError::Setting { name, detail });
    if config.batch_size < 2 {
        return setting("batch_size", format!("{} (a partial likelihood needs 2 patients)", config.batch_size));
    }
    if !(config.learning_rate > 0.0 && config.learning_rate.is_finite()) {
        return setting("learning_rate", format!("{} is not a positive number", config.learning_rate));
    }
    if !(0.0..=1.0).contains(&config.augmentation) {
        return setting("augmentation", format!("{} is not in [0, 1]", config.augmentation));
    }
    if config.epochs == 0 || config.network.width == 0 {
        return setting("epochs and width", format!("{} epochs of width {}: both must be at least 1", config.epochs, config.network.width));
    }
    let fingerprint = config.fingerprint();
    let mut network = init_network::<B>(&config.network, config.seed, device);
    let mut optimizer = AdamWConfig::new().with_weight_decay(config.weight_decay as f32).init::<B, ResNet3d<B>>();
    let mut meta = Meta { fingerprint: fingerprint.clone(), epochs_done: 0, steps: 0, best: None, history: vec![], stopped: false };
    let mut best_network = Vec::new();
    if let Some(c) = resume {
        if c.meta.fingerprint != fingerprint {
            return Err(CheckpointError::Mismatch { expected: fingerprint, found: c.meta.fingerprint.clone() }.into());
        }
        network = load_network::<B>(&config.network, &c.network, device)?;
        let record = recorder().load(c.optimizer.clone(), device).map_err(|e| CheckpointError::Record(e.to_string()))?;
        optimizer = optimizer.load_record(record);
        meta = c.meta.clone();
        best_network = c.best_network.clone();
    }

    let n = train.len();
    let batches_per_epoch = n.div_ceil(config.batch_size);
    // every batch counts on the schedule, those skipped (one patient, no event) too, so that the
    // rate ends at 0 whatever the batches held
    let total_steps = config.schedule_epochs.unwrap_or(config.epochs).max(config.epochs) * batches_per_epoch;
    // an empty validation set (a fold without patients) is no validation
    let valid = valid.filter(|v| !v.is_empty());
    let valid_data = valid
        .map(|v| SurvivalData::new(v.time.clone(), v.event.clone()))
        .transpose()
        .map_err(|e| TrainError::Setting { name: "validation patients", detail: e.to_string() })?;
    let len = train.crop_len();
    while meta.epochs_done < config.epochs && !meta.stopped {
        let epoch = meta.epochs_done;
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut stream(config.seed, epoch, usize::MAX >> 1));
        let (mut loss_sum, mut batches, mut rate) = (0.0, 0usize, cosine_rate(config.learning_rate, meta.steps, total_steps));
        for rows in order.chunks(config.batch_size) {
            let (time, event): (Vec<f64>, Vec<bool>) = rows.iter().map(|&i| (train.time[i], train.event[i])).unzip();
            if rows.len() < 2 || !event.iter().any(|&e| e) {
                meta.steps += 1;
                continue;
            }
            let sets = RiskSets::new(&time, &event, config.ties)?;
            let mut values = Vec::with_capacity(rows.len() * len);
            for &i in rows {
                values.extend(augment(train.crop(i), train.shape, config.augmentation, &mut stream(config.seed, epoch, i)));
            }
            let risk = network.forward(batch_tensor::<B>(train.shape, values, device));
            let loss = cox_loss(risk, &sets)?;
            let value = loss.clone().into_scalar().elem::<f64>();
            if !value.is_finite() {
                return Err(TrainError::Diverged { epoch: epoch + 1, loss: value });
            }
            loss_sum += value;
            batches += 1;
            rate = cosine_rate(config.learning_rate, meta.steps, total_steps);
            let grads = GradientsParams::from_grads(loss.backward(), &network);
            network = optimizer.step(rate, network, grads);
            meta.steps += 1;
        }
        if batches == 0 {
            return Err(TrainError::NoEvents { n, batch_size: config.batch_size });
        }
        let validation_c = match (valid, &valid_data) {
            (Some(v), Some(data)) if !v.is_empty() => {
                let (risk, _) = score(&network.valid(), v, config.batch_size, device);
                harrell_c(data, &risk).ok().map(|c| c.c_index)
            }
            _ => None,
        };
        if let Some(c) = validation_c
            && meta.best.is_none_or(|(_, best)| c > best)
        {
            meta.best = Some((epoch, c));
            best_network = network_record(&network.valid())?;
        }
        meta.history.push(EpochLog { epoch, loss: loss_sum / batches as f64, learning_rate: rate, validation_c });
        meta.epochs_done += 1;
        if config.patience > 0
            && let Some((best_epoch, _)) = meta.best
            && epoch - best_epoch >= config.patience
        {
            meta.stopped = true;
        }
        let checkpoint = Checkpoint {
            meta: meta.clone(),
            network: network_record(&network)?,
            optimizer: recorder().record(optimizer.to_record(), ()).map_err(|e| CheckpointError::Record(e.to_string()))?,
            best_network: best_network.clone(),
        };
        save(&checkpoint).map_err(|detail| TrainError::Save { epoch, detail })?;
    }

    let last = network.valid();
    let (network, record) = if meta.best.is_some() && !best_network.is_empty() {
        (load_network::<B::InnerBackend>(&config.network, &best_network, device)?, best_network)
    } else {
        let record = network_record(&last)?;
        (last, record)
    };
    Ok(Trained { network, record, history: meta.history, best: meta.best })
}
