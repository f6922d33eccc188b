//! The settings of the image and model stages in `study.toml`: `[preprocess]`, `[radiomics]`,
//! `[train]` with its `[train.sweep]`, and `[evaluation]`.

use serde::{Deserialize, Serialize};

/// Preprocessing of CT volumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PreprocessSettings {
    /// Isotropic voxel spacing after resampling, mm.
    pub spacing_mm: f64,
    /// HU window [low, high] before normalisation.
    pub hu_window: [f64; 2],
    /// Size of the tumour-centred crop for deep learning, voxels.
    pub crop_size: [usize; 3],
    /// Isotropic voxel spacing of that crop, mm (`spacing_mm` when absent): the network can see a
    /// coarser grid than the radiomic features.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crop_spacing_mm: Option<f64>,
}

impl Default for PreprocessSettings {
    fn default() -> Self {
        Self { spacing_mm: 2.0, hu_window: [-100.0, 300.0], crop_size: [32, 32, 32], crop_spacing_mm: None }
    }
}

/// Radiomic feature extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RadiomicsSettings {
    /// Fixed bin width of the discretisation, HU.
    pub bin_width: f64,
    /// Laplacian-of-Gaussian sigmas, mm.
    pub log_sigmas_mm: Vec<f64>,
    /// Also the 8 coif1 wavelet decompositions.
    pub wavelet: bool,
}

impl Default for RadiomicsSettings {
    fn default() -> Self {
        Self { bin_width: 25.0, log_sigmas_mm: vec![2.0, 4.0], wavelet: true }
    }
}

/// Deep-learning training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainSettings {
    /// Epochs at most.
    pub epochs: usize,
    /// Patients per batch.
    pub batch_size: usize,
    /// AdamW learning rate.
    pub learning_rate: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Channels of the first stage of the 3D CNN.
    pub width: usize,
    /// Residual stages.
    pub depth: usize,
    /// Augmentation strength in [0, 1].
    pub augmentation: f64,
    /// Epochs without validation improvement before stopping.
    pub patience: usize,
    /// GPUs a training or scoring task needs: 0 runs it on the CPU of any worker, 1 on a CUDA
    /// device of a worker that offers one (built with `--features cuda`).
    pub gpus: u32,
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 16,
            learning_rate: 1e-3,
            weight_decay: 1e-4,
            width: 8,
            depth: 3,
            augmentation: 0.5,
            patience: 5,
            gpus: 0,
        }
    }
}

/// The hyper-parameter sweep and cross-validation on the training cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SweepSettings {
    /// Cross-validation folds.
    pub folds: usize,
    /// Seeds per configuration.
    pub seeds: Vec<u64>,
    /// Learning rates to try.
    pub learning_rates: Vec<f64>,
    /// Widths to try.
    pub widths: Vec<usize>,
    /// Depths to try.
    pub depths: Vec<usize>,
    /// Augmentation strengths to try (empty: `[train] augmentation`).
    pub augmentations: Vec<f64>,
    /// How configurations are drawn from the lists above.
    pub search: SearchKind,
    /// Configurations of a random search.
    pub configurations: usize,
}

/// How the sweep's configurations are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchKind {
    /// Every combination of the lists.
    Grid,
    /// `configurations` draws from the study seed: learning rate log-uniform and augmentation
    /// uniform between the smallest and largest listed value, width and depth one of those listed.
    Random,
}

impl Default for SweepSettings {
    fn default() -> Self {
        Self {
            folds: 5,
            seeds: vec![1],
            learning_rates: vec![1e-3],
            widths: vec![8],
            depths: vec![3],
            augmentations: Vec::new(),
            search: SearchKind::Grid,
            configurations: 8,
        }
    }
}

/// Evaluation of every model on every cohort.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluationSettings {
    /// Bootstrap replicates for confidence intervals and paired tests.
    pub bootstrap_replicates: usize,
    /// Replicates per bootstrap task.
    pub replicates_per_task: usize,
    /// Times of the time-dependent AUC, months.
    pub auc_months: Vec<f64>,
    /// Time of the calibration and decision curves, months.
    pub calibration_months: f64,
    /// Smallest share of patients in a risk group when choosing cut-points.
    pub cutpoint_minprop: f64,
}

impl Default for EvaluationSettings {
    fn default() -> Self {
        Self {
            bootstrap_replicates: 1000,
            replicates_per_task: 250,
            auc_months: vec![12.0, 24.0, 36.0],
            calibration_months: 24.0,
            cutpoint_minprop: 0.1,
        }
    }
}
