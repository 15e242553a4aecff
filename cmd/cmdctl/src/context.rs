//! Opening what the verbs work on: the event store, the config directory,
//! the handler over both, and the async runtime they run on.

use std::path::Path;

use anyhow::{Context as _, bail};
use config_dir::DirConfigSource;
use handler_core::Handler;
use store_sqlite::SqliteStore;

use crate::cli::GlobalArgs;

/// The handler the Lambda runs, over the local store and configs.
pub(crate) type LocalHandler = Handler<SqliteStore, DirConfigSource>;

/// A handler over `--store` (created if missing) and `--config-dir` (which
/// must exist).
pub(crate) fn handler(global: &GlobalArgs) -> anyhow::Result<LocalHandler> {
    let dir = &global.config_dir;
    if !dir.is_dir() {
        bail!(
            "config directory {} does not exist (set --config-dir or CMDCTL_CONFIG_DIR)",
            dir.display()
        );
    }
    let store = open_store(&global.store)?;
    Ok(Handler::new(store, DirConfigSource::new(dir)))
}

/// The store at `path`, created with its directory when missing.
pub(crate) fn open_store(path: &Path) -> anyhow::Result<SqliteStore> {
    SqliteStore::open(path).with_context(|| format!("cannot open event store {}", path.display()))
}

/// The store at `path` if the file exists: reading verbs create nothing.
pub(crate) fn existing_store(path: &Path) -> anyhow::Result<Option<SqliteStore>> {
    if !path.exists() {
        return Ok(None);
    }
    open_store(path).map(Some)
}

/// A single-threaded runtime: the store is local and the batches small.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
