//! The study's deep-learning model on burn 0.21, generic over the backend: a 3D ResNet-style CNN on
//! the two-phase tumour crop, trained with the negative Cox partial log-likelihood.
//!
//! - [`cox_loss`]: the loss (Breslow or Efron ties, shifted log-sum-exp per risk set), checked
//!   against `tacefusion-survival`'s partial likelihood and its gradient.
//! - [`network`]: [`ResNet3d`] (stride-2 residual stages, group normalisation, global mean pooling,
//!   a Cox risk head); its pooled vector is the patient's deep features.
//! - [`augment`]: seeded flips, rotation, shift and intensity jitter.
//! - [`train`]: AdamW, cosine schedule, early stopping on validation C, checkpoints, scoring.
//! - [`npy`]: crops as NumPy `.npy` files; [`data`]: crops with outcomes; [`checkpoint`].
//!
//! CPU work runs on [`CpuBackend`] (burn's `flex`); a `--features cuda` build adds [`GpuBackend`].
//! The device is always chosen by the caller.

pub mod augment;
pub mod checkpoint;
pub mod cox_loss;
pub mod crm;
pub mod data;
pub mod network;
pub mod npy;
pub mod signature;
pub mod train;

pub use burn::tensor::backend::Backend;
pub use checkpoint::{Checkpoint, EpochLog};
pub use cox_loss::{CoxLossError, RiskSets, Ties, cox_loss};
pub use data::CropSet;
pub use network::{NetworkConfig, ResNet3d};
pub use train::{TrainConfig, TrainError, Trained, score, train};

/// burn's pure-Rust CPU backend (SIMD kernels, rayon threads).
pub type CpuBackend = burn_flex::Flex;
/// The CPU backend with reverse-mode differentiation, for training.
pub type CpuTraining = burn::backend::Autodiff<CpuBackend>;

/// burn's CUDA backend (f32), for GPU workers.
#[cfg(feature = "cuda")]
pub type GpuBackend = burn::backend::Cuda<f32, i32>;
/// The CUDA backend with reverse-mode differentiation.
#[cfg(feature = "cuda")]
pub type GpuTraining = burn::backend::Autodiff<GpuBackend>;

/// CUDA device `index` (as the worker numbers the devices it found).
#[cfg(feature = "cuda")]
pub fn gpu_device(index: usize) -> burn::backend::cuda::CudaDevice {
    burn::backend::cuda::CudaDevice::new(index)
}
