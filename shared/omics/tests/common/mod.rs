//! What the agreement tests share: the peers' Python, when its environment exists.

use std::path::PathBuf;

/// `$PEERS_PYTHON`, else the environment `../shared/peers/install.sh` makes; None (the caller
/// prints SKIPPED) when it is not there.
pub fn peer_python() -> Option<PathBuf> {
    let python = std::env::var("PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/tacefusion-peers/bin/python"));
    if python.exists() {
        Some(python)
    } else {
        println!("SKIPPED: no peer environment at {} (bash ../shared/peers/install.sh)", python.display());
        None
    }
}
