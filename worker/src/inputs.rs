//! A task's inputs: the files its input manifests list, read from the object store many at once
//! and handed to the executor in a fixed order (the manifests' order, then each manifest's).

use std::sync::Arc;

use futures::{StreamExt, TryStreamExt, stream};
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::executor::{ExecError, InputFile};

/// Reads at once from the store, at most: a fan-in's inputs are one round trip each, whose latency
/// on an object store (not the bytes) sets the time when read one after the other.
const FETCHES: usize = 32;

/// The files the input manifests list, in the manifests' order and each manifest's order (the same
/// inputs every time), up to [`FETCHES`] read at once.
pub(crate) async fn read_inputs(store: &Arc<dyn ObjectStore>, manifests: &[String]) -> Result<Vec<InputFile>, ExecError> {
    let get = |path: String| async move {
        let bytes =
            store.get(&StorePath::from(path.as_str())).await.map_err(ExecError::retryable)?.bytes().await.map_err(ExecError::retryable)?;
        Ok::<_, ExecError>((path, bytes))
    };
    let listed: Vec<(String, bytes::Bytes)> = stream::iter(manifests.iter().cloned()).map(get).buffered(FETCHES).try_collect().await?;
    let mut files = Vec::new();
    for (manifest_path, bytes) in listed {
        let manifest: serde_json::Value = serde_json::from_slice(&bytes).map_err(ExecError::retryable)?;
        for file in manifest.get("files").and_then(|f| f.as_array()).into_iter().flatten() {
            let path = file
                .get("path")
                .and_then(|p| p.as_str())
                .ok_or_else(|| ExecError::retryable(format!("{manifest_path}: a file without a path")))?;
            files.push(path.to_string());
        }
    }
    let read: Vec<(String, bytes::Bytes)> = stream::iter(files).map(get).buffered(FETCHES).try_collect().await?;
    Ok(read.into_iter().map(|(path, bytes)| InputFile { path, bytes }).collect())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use object_store::memory::InMemory;
    use object_store::throttle::{ThrottleConfig, ThrottledStore};
    use object_store::{ObjectStoreExt, PutPayload};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn inputs_come_in_manifest_order_whatever_order_they_arrive_in() {
        let memory = Arc::new(InMemory::new());
        let mut manifests = Vec::new();
        let mut want = Vec::new();
        for m in 0..100 {
            // a few files per manifest, some listed in reverse name order
            let files: Vec<String> = (0..(m % 4)).rev().map(|f| format!("cache/s/k{m}/attempt-1/f{f}.parquet")).collect();
            for f in &files {
                memory.put(&StorePath::from(f.as_str()), PutPayload::from(f.clone().into_bytes())).await.unwrap();
                want.push(f.clone());
            }
            let listing = serde_json::json!({ "files": files.iter().map(|p| serde_json::json!({ "path": p })).collect::<Vec<_>>() });
            let path = format!("cache/s/k{m}/manifest.json");
            memory.put(&StorePath::from(path.as_str()), PutPayload::from(listing.to_string().into_bytes())).await.unwrap();
            manifests.push(path);
        }
        // every read waits: many are in flight at once and finish in any order
        let config = ThrottleConfig { wait_get_per_call: Duration::from_millis(2), ..Default::default() };
        let store: Arc<dyn ObjectStore> = Arc::new(ThrottledStore::new(memory, config));
        let got = read_inputs(&store, &manifests).await.unwrap();
        let paths: Vec<&str> = got.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, want.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(got.iter().all(|f| f.bytes.as_ref() == f.path.as_bytes()), "each file's own bytes");

        // a missing manifest is a retryable error that names it
        manifests.push("cache/s/gone/manifest.json".into());
        let e = read_inputs(&store, &manifests).await.unwrap_err();
        assert!(matches!(&e, ExecError::Retryable(m) if m.contains("cache/s/gone/manifest.json")), "{e:?}");
    }
}
