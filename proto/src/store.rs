//! Object-store addresses, read the same way by the coordinator and its workers (the coordinator
//! tells workers its store URL at registration): a local path or `file://` URL, `s3://bucket/prefix`,
//! `gs://bucket/prefix`, `az://container/prefix` (also `abfs://` and Azure `https://` URLs), and
//! `memory://` for a store that lives in one process. Credentials come from the usual environment
//! variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`, read by `object_store`'s `from_env` builders); they are
//! never part of what this module prints: [`redacted`] drops user info and query strings.

use std::path::PathBuf;
use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::azure::MicrosoftAzureBuilder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreScheme};
use url::Url;

/// Why a store URL could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("object store {url}: {detail}")]
pub struct StoreError {
    /// The URL, without credentials.
    pub url: String,
    /// Why.
    pub detail: String,
}

/// An opened store and the canonical URL to hand to workers.
#[derive(Debug, Clone)]
pub struct OpenedStore {
    /// The store, rooted at the URL's prefix.
    pub store: Arc<dyn ObjectStore>,
    /// The whole bucket (container, folder) and the URL's prefix within it, for readers that need
    /// object metadata with full paths (`PrefixStore` of object_store 0.13 leaves the prefix in
    /// the metadata of `head`, which DataFusion's listing then fails to match).
    pub bucket: (Arc<dyn ObjectStore>, String),
    /// `file:///absolute/path` for local folders, the URL as given otherwise.
    pub url: String,
    /// The folder of a local store.
    pub local_root: Option<PathBuf>,
}

/// The URL without password or query string (which may hold keys or SAS tokens); the user part
/// stays (in `abfs://container@account...` it names the container).
pub fn redacted(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) if u.scheme().len() > 1 => {
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// The folder of a local store URL (a plain path or `file://`), None for any other store.
pub fn local_path(url: &str) -> Option<&str> {
    match url.strip_prefix("file://") {
        Some(path) => Some(path),
        None => (!url.contains("://")).then_some(url),
    }
}

/// Opens the store of `url`. A local folder is created when missing.
pub fn open_store(url: &str) -> Result<OpenedStore, StoreError> {
    // object_store's messages may quote the URL: quote it redacted
    let err = |detail: String| StoreError { url: redacted(url), detail: detail.replace(url, &redacted(url)) };
    if let Some(path) = local_path(url) {
        std::fs::create_dir_all(path).map_err(|e| err(e.to_string()))?;
        let root = std::fs::canonicalize(path).map_err(|e| err(e.to_string()))?;
        let store: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(&root).map_err(|e| err(e.to_string()))?);
        let bucket = (store.clone(), String::new());
        return Ok(OpenedStore { store, bucket, url: format!("file://{}", root.display()), local_root: Some(root) });
    }
    let parsed = Url::parse(url).map_err(|e| err(e.to_string()))?;
    if parsed.password().is_some() || parsed.query().is_some() {
        // the URL travels to every worker and into logs: secrets belong in the environment
        return Err(err("credentials in the URL are refused: put them in the AWS_*, GOOGLE_* or AZURE_* variables".into()));
    }
    let (scheme, prefix) = ObjectStoreScheme::parse(&parsed).map_err(|e| err(e.to_string()))?;
    let store: Arc<dyn ObjectStore> = match scheme {
        ObjectStoreScheme::Memory => Arc::new(InMemory::new()),
        ObjectStoreScheme::AmazonS3 => Arc::new(AmazonS3Builder::from_env().with_url(url).build().map_err(|e| err(e.to_string()))?),
        ObjectStoreScheme::GoogleCloudStorage => {
            Arc::new(GoogleCloudStorageBuilder::from_env().with_url(url).build().map_err(|e| err(e.to_string()))?)
        }
        ObjectStoreScheme::MicrosoftAzure => {
            Arc::new(MicrosoftAzureBuilder::from_env().with_url(url).build().map_err(|e| err(e.to_string()))?)
        }
        other => return Err(err(format!("{other:?} URLs are not object stores tacefusion writes to (use file://, s3://, gs://, az://)"))),
    };
    let bucket = (store.clone(), prefix.as_ref().to_string());
    let store = if prefix.as_ref().is_empty() { store } else { Arc::new(PrefixStore::new(store, prefix)) };
    Ok(OpenedStore { store, bucket, url: url.to_string(), local_root: None })
}

#[cfg(test)]
mod tests {
    use object_store::path::Path;
    use object_store::{ObjectStoreExt, PutPayload};

    use super::*;

    #[test]
    fn credentials_never_shown() {
        for (url, shown) in [
            ("s3://KEY:SECRET@bucket/prefix", "s3://KEY@bucket/prefix"),
            ("abfs://container@account.dfs.core.windows.net/p", "abfs://container@account.dfs.core.windows.net/p"),
            ("https://acct.blob.core.windows.net/c/p?sig=TOKEN&se=1", "https://acct.blob.core.windows.net/c/p"),
            ("gs://bucket/a/b", "gs://bucket/a/b"),
            ("/plain/path", "/plain/path"),
        ] {
            assert_eq!(redacted(url), shown, "{url}");
        }
    }

    #[tokio::test]
    async fn local_paths_and_file_urls_are_the_same_store() {
        let dir = std::env::temp_dir().join(format!("tacefusion-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let a = open_store(dir.to_str().unwrap()).unwrap();
        assert!(a.url.starts_with("file:///"), "{}", a.url);
        a.store.put(&Path::from("x/y.txt"), PutPayload::from_static(b"hello")).await.unwrap();
        let b = open_store(&a.url).unwrap();
        let bytes = b.store.get(&Path::from("x/y.txt")).await.unwrap().bytes().await.unwrap();
        assert_eq!(&bytes[..], b"hello");
        assert_eq!(std::fs::read(dir.join("x/y.txt")).unwrap(), b"hello");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn cloud_urls_parse_and_others_are_refused() {
        // building a client does not contact the service
        for url in ["s3://bucket/prefix", "gs://bucket/prefix", "az://container/prefix", "memory://"] {
            let opened = open_store(url);
            // a cloud builder may still want a region or account; it must not be a scheme error
            if let Err(e) = &opened {
                assert!(!e.detail.contains("not object stores"), "{url}: {e}");
            }
        }
        let e = open_store("http://example.invalid/x").unwrap_err();
        assert!(e.detail.contains("not object stores"), "{e}");
        for url in ["s3://KEY:SECRET@bucket/p", "az://container/p?sig=TOKEN"] {
            let e = open_store(url).unwrap_err().to_string();
            assert!(e.contains("credentials in the URL are refused") && !e.contains("SECRET") && !e.contains("TOKEN"), "{e}");
        }
    }
}
