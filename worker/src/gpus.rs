//! The GPUs a worker offers: built with `--features cuda`, the CUDA devices burn's CUDA backend
//! enumerates (the driver is loaded at run time; a machine without one offers none and says why);
//! built without it, none.

/// Why a worker offers no GPU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpuError {
    /// Starting burn's CUDA runtime failed.
    #[error("the CUDA driver could not be loaded (no GPU, or no driver on this machine)")]
    NoDriver,
}

/// Names (`cuda:<index>`) of the CUDA devices this worker can use, or why there are none.
#[cfg(feature = "cuda")]
pub fn cuda_devices() -> Result<Vec<String>, GpuError> {
    use burn::tensor::backend::Backend;
    // asking starts the runtime of device 0, which panics when the CUDA driver cannot be loaded
    let count = std::panic::catch_unwind(|| <burn::backend::Cuda as Backend>::device_count(0)).map_err(|_| GpuError::NoDriver)?;
    Ok((0..count).map(|i| format!("cuda:{i}")).collect())
}

/// Names of the CUDA devices this worker can use: none, in a build without `--features cuda`.
#[cfg(not(feature = "cuda"))]
pub fn cuda_devices() -> Result<Vec<String>, GpuError> {
    Ok(Vec::new())
}

#[cfg(all(test, not(feature = "cuda")))]
mod tests {
    #[test]
    fn a_cpu_build_offers_no_gpu() {
        assert_eq!(super::cuda_devices(), Ok(Vec::new()));
    }
}
