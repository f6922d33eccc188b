//! Task checkpoints in the object store: `checkpoints/<stage>/<key>/latest.ckpt`, one per task key
//! (not per attempt), so the next attempt of a task whose worker died resumes from it. An attempt
//! whose lease is lost can no longer save (its successor owns the checkpoint).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use tokio::runtime::Handle;

use crate::executor::Checkpoints;

/// The checkpoint of one task attempt, read and written from the executor's blocking thread.
pub struct StoreCheckpoints {
    store: Arc<dyn ObjectStore>,
    path: StorePath,
    runtime: Handle,
    lost: Arc<AtomicBool>,
}

impl StoreCheckpoints {
    /// The checkpoint of task `key` of `stage`; `lost` is the attempt's lease-lost flag.
    pub fn new(store: Arc<dyn ObjectStore>, stage: &str, key: &str, runtime: Handle, lost: Arc<AtomicBool>) -> Self {
        Self { store, path: StorePath::from(format!("checkpoints/{stage}/{key}/latest.ckpt")), runtime, lost }
    }
}

impl Checkpoints for StoreCheckpoints {
    fn load(&self) -> Result<Option<Vec<u8>>, String> {
        self.runtime.block_on(async {
            match self.store.get(&self.path).await {
                Ok(found) => found.bytes().await.map(|b| Some(b.to_vec())).map_err(|e| format!("reading {}: {e}", self.path)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(format!("reading {}: {e}", self.path)),
            }
        })
    }

    fn save(&self, bytes: Vec<u8>) -> Result<(), String> {
        if self.lost.load(Ordering::SeqCst) {
            return Err("the lease was lost: this attempt stops".into());
        }
        self.runtime
            .block_on(self.store.put(&self.path, PutPayload::from(bytes)))
            .map(|_| ())
            .map_err(|e| format!("writing {}: {e}", self.path))
    }
}
