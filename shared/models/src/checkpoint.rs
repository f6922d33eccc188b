//! A training run's state after an epoch, as bytes for the object store: the network and optimizer
//! records (burn's named MessagePack, full precision), the best network so far, and the history.
//! A worker that resumes a lost task's training loads it and continues with the next epoch; because
//! every random draw is keyed by (seed, epoch, patient), the resumed run ends where an uninterrupted
//! one would.
//!
//! Layout: `TFCKPT1\n`, then four length-prefixed (u64 LE) parts: JSON metadata, network, optimizer,
//! best network (empty when none).

use serde::{Deserialize, Serialize};

const MAGIC: &[u8] = b"TFCKPT1\n";

/// Why bytes are not a checkpoint (or not one of this run).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckpointError {
    /// Wrong magic or truncated parts.
    #[error("checkpoint: {0}")]
    Format(String),
    /// A record could not be written or read back by burn.
    #[error("checkpoint record: {0}")]
    Record(String),
    /// The checkpoint was made with other settings.
    #[error("checkpoint was made by another configuration (fingerprint {found}, this run {expected})")]
    Mismatch {
        /// The run's fingerprint.
        expected: String,
        /// The checkpoint's.
        found: String,
    },
}

/// One epoch of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// Epoch, from 0.
    pub epoch: usize,
    /// Mean loss over the epoch's batches.
    pub loss: f64,
    /// Learning rate of the epoch's last step.
    pub learning_rate: f64,
    /// Harrell's C on the validation patients after the epoch, when there are any.
    pub validation_c: Option<f64>,
}

/// What the run knows after an epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// The configuration's fingerprint: a checkpoint resumes only the run that made it.
    pub fingerprint: String,
    /// Epochs completed.
    pub epochs_done: usize,
    /// Optimizer steps taken.
    pub steps: usize,
    /// Epoch of the best validation C so far, and that C.
    pub best: Option<(usize, f64)>,
    /// Every completed epoch.
    pub history: Vec<EpochLog>,
    /// Early stopping has ended the run.
    pub stopped: bool,
}

/// A run's state after an epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Counters and history.
    pub meta: Meta,
    /// The network's record.
    pub network: Vec<u8>,
    /// The optimizer's record.
    pub optimizer: Vec<u8>,
    /// The best network's record (empty without validation patients).
    pub best_network: Vec<u8>,
}

impl Checkpoint {
    /// Encodes the checkpoint.
    pub fn to_bytes(&self) -> Vec<u8> {
        let meta = serde_json::to_vec(&self.meta).expect("checkpoint metadata serialises");
        let mut out = MAGIC.to_vec();
        for part in [&meta, &self.network, &self.optimizer, &self.best_network] {
            out.extend_from_slice(&(part.len() as u64).to_le_bytes());
            out.extend_from_slice(part);
        }
        out
    }

    /// Decodes a checkpoint.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let mut rest = bytes.strip_prefix(MAGIC).ok_or_else(|| CheckpointError::Format("not a tacefusion checkpoint".into()))?;
        let mut parts = Vec::with_capacity(4);
        for name in ["metadata", "network", "optimizer", "best network"] {
            let truncated = || CheckpointError::Format(format!("truncated in its {name}"));
            let len = rest.get(..8).ok_or_else(truncated)?;
            let len = u64::from_le_bytes(len.try_into().expect("8 bytes")) as usize;
            let part = rest.get(8..8usize.checked_add(len).ok_or_else(truncated)?).ok_or_else(truncated)?;
            parts.push(part.to_vec());
            rest = &rest[8 + len..];
        }
        if !rest.is_empty() {
            return Err(CheckpointError::Format(format!("{} bytes after the last part", rest.len())));
        }
        let meta = serde_json::from_slice(&parts[0]).map_err(|e| CheckpointError::Format(format!("metadata: {e}")))?;
        let best_network = parts.pop().expect("4 parts");
        let optimizer = parts.pop().expect("4 parts");
        let network = parts.pop().expect("4 parts");
        Ok(Self { meta, network, optimizer, best_network })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_truncation() {
        let c = Checkpoint {
            meta: Meta {
                fingerprint: "abc".into(),
                epochs_done: 2,
                steps: 10,
                best: Some((1, 0.7)),
                history: vec![EpochLog { epoch: 0, loss: 1.5, learning_rate: 1e-3, validation_c: Some(0.6) }],
                stopped: false,
            },
            network: vec![1, 2, 3],
            optimizer: vec![4; 100],
            best_network: vec![],
        };
        let bytes = c.to_bytes();
        assert_eq!(Checkpoint::from_bytes(&bytes).unwrap(), c);
        for cut in [3, 20, bytes.len() - 1] {
            assert!(matches!(Checkpoint::from_bytes(&bytes[..cut]), Err(CheckpointError::Format(_))), "cut at {cut}");
        }
    }
}
