//! The GPUs a worker offers: built with `--features cuda`, the CUDA devices burn's CUDA backend
//! enumerates (the driver is loaded at run time; a machine without one offers none and says why);
//! built without it, none.

/// Why a worker offers no GPU.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpuError {
    /// No CUDA driver library (`libcuda.so`) could be loaded (the loader's words).
    #[error("the CUDA driver could not be loaded (no GPU, or no driver on this machine; libcuda.so is looked for on LD_LIBRARY_PATH): {0}")]
    NoDriver(String),
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
    match quietly(cudarc::driver::result::init) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(GpuError::Init(e.to_string())),
        // the loader's first words (the rest lists every library name it tried)
        Err(why) => return Err(GpuError::NoDriver(why.split(" - searched").next().unwrap_or_default().to_string())),
    }
    let count = quietly(|| <burn::backend::Cuda as Backend>::device_count(0)).map_err(|_| GpuError::Runtime)?;
    Ok((0..count).map(|i| format!("cuda:{i}")).collect())
}

/// Runs `f`, catching its panic as the panic's message, which is not printed: the loader's panic
/// is the expected answer of a machine without a driver, said once by the caller instead. Panics
/// of other threads meanwhile go to the hook as before.
#[cfg(feature = "cuda")]
fn quietly<T>(f: impl FnOnce() -> T + std::panic::UnwindSafe) -> Result<T, String> {
    use std::sync::{Arc, Mutex};
    // one at a time: two swapping the hook at once could leave one's silence in place for good
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let me = std::thread::current().id();
    let before = Arc::new(std::panic::take_hook());
    let others = before.clone();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != me {
            others(info)
        }
    }));
    let result = std::panic::catch_unwind(f);
    // ours dropped (with its clone of the hook before it), that one put back
    drop(std::panic::take_hook());
    std::panic::set_hook(Arc::try_unwrap(before).unwrap_or_else(|shared| Box::new(move |info| shared(info))));
    result.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into())
    })
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
        assert!(matches!(&got, Err(super::GpuError::NoDriver(why)) if why.contains("cuda")), "{got:?}");
    }
}
