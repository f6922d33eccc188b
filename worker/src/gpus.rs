//! The GPUs a worker offers: built with `--features cuda`, the CUDA devices burn's CUDA backend
//! enumerates (the driver is loaded at run time; a machine without one offers none and says why);
//! built without it, none.

/// Why a worker offers no GPU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpuError {
    /// No CUDA driver library (`libcuda.so`) could be loaded.
    #[error("the CUDA driver could not be loaded (no GPU, or no driver on this machine)")]
    NoDriver,
    /// The driver is there but does not start (no device, a driver too old for the build ...).
    #[error("the CUDA driver did not start: {0}")]
    Init(String),
    /// Starting burn's CUDA runtime failed.
    #[error("burn's CUDA runtime did not start")]
    Runtime,
}

/// Names (`cuda:<index>`) of the CUDA devices this worker can use, or why there are none.
#[cfg(feature = "cuda")]
pub fn cuda_devices() -> Result<Vec<String>, GpuError> {
    use burn::tensor::backend::Backend;
    // the driver first, on this thread: burn starts its runtime on a thread of its own, whose panic
    // when libcuda is missing would leave the caller waiting for ever (seen: a CPU machine hung)
    match std::panic::catch_unwind(cudarc::driver::result::init) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(GpuError::Init(e.to_string())),
        Err(_) => return Err(GpuError::NoDriver),
    }
    let count = std::panic::catch_unwind(|| <burn::backend::Cuda as Backend>::device_count(0)).map_err(|_| GpuError::Runtime)?;
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

#[cfg(all(test, feature = "cuda"))]
mod cuda_tests {
    use std::time::Duration;

    #[test]
    fn without_a_driver_no_gpu_is_offered_and_nothing_hangs() {
        if std::path::Path::new("/dev/nvidiactl").exists() {
            eprintln!("SKIPPED: this machine has an NVIDIA driver");
            return;
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(super::cuda_devices()));
        let got = rx.recv_timeout(Duration::from_secs(30)).expect("asking for the CUDA devices hung");
        assert_eq!(got, Err(super::GpuError::NoDriver));
    }
}
