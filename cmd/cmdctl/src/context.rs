//! Opening what the verbs work on: the async runtime, the knobs of the
//! environment (read by `binary-env`, as the Lambdas read them), the AWS SDK
//! config (loaded once, with the knobs' timeouts, and only when a verb
//! touches AWS), the event store, the config source, and the handler over
//! both.

use std::cell::OnceCell;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use aws_config::{BehaviorVersion, SdkConfig};
use batch_handler::Handler;
use binary_env::Knobs;
use config_dir::DirConfigSource;
use config_s3::S3ConfigSource;
use handler_core::{
    AggregateIndex, Checkpoints, ConfigSource, Correlations, EventFeed, EventStore, FailureLog,
    SystemClock,
};
use local_runtime::LocalRuntime;
use store_dynamodb::DynamoStore;
use store_sqlite::SqliteStore;

use crate::cli::GlobalArgs;
use crate::clock::SharedClock;
use crate::sources::{ConfigSpec, StoreSpec, process_env};

/// What the verbs ask of a store: both stores are all of these.
pub(crate) trait Store:
    EventStore + FailureLog + AggregateIndex + EventFeed + Checkpoints + Correlations
{
}

impl<T> Store for T where
    T: EventStore + FailureLog + AggregateIndex + EventFeed + Checkpoints + Correlations + ?Sized
{
}

/// The handler the Lambda runs, over whichever store and configs were chosen.
pub(crate) type AppHandler = Handler<Arc<dyn Store>, Arc<dyn ConfigSource>>;

/// What every verb runs in.
pub(crate) struct Context<'a> {
    /// The options every verb takes.
    pub(crate) global: &'a GlobalArgs,
    runtime: tokio::runtime::Runtime,
    knobs: Knobs,
    sdk: OnceCell<SdkConfig>,
    sqlite: OnceCell<Arc<SqliteStore>>,
}

impl<'a> Context<'a> {
    /// A context with a single-threaded runtime (the handler's concurrency
    /// is I/O, not CPU) and no AWS config yet. Fails when a knob of the
    /// environment (`HANDLER_CONCURRENCY`, `AWS_ATTEMPT_TIMEOUT_MS`, ...)
    /// has an invalid value.
    pub(crate) fn new(global: &'a GlobalArgs) -> anyhow::Result<Self> {
        let knobs = Knobs::from_lookup(process_env)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(Self {
            global,
            runtime,
            knobs,
            sdk: OnceCell::new(),
            sqlite: OnceCell::new(),
        })
    }

    /// Runs a future to completion. Not to be called from within one.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The store chosen by `--store` or the environment.
    pub(crate) fn store_spec(&self) -> StoreSpec {
        StoreSpec::resolve(self.global.store.as_ref(), process_env)
    }

    /// The configs chosen by `--config` or the environment.
    pub(crate) fn config_spec(&self) -> ConfigSpec {
        ConfigSpec::resolve(self.global.config.as_ref(), process_env)
    }

    /// The AWS SDK config from the environment (region, credentials,
    /// `AWS_ENDPOINT_URL`), with the knobs' timeouts on every client, loaded
    /// on first use.
    pub(crate) fn sdk(&self) -> &SdkConfig {
        self.sdk.get_or_init(|| {
            self.runtime.block_on(binary_env::load_sdk_config(
                aws_config::defaults(BehaviorVersion::latest()),
                &self.knobs.timeouts,
            ))
        })
    }

    pub(crate) fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(self.sdk())
    }

    pub(crate) fn eventbridge(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(self.sdk())
    }

    pub(crate) fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(self.sdk())
    }

    /// An S3 client; path-style addressing when an endpoint is set (an
    /// emulator on `localhost` needs it).
    pub(crate) fn s3(&self) -> aws_sdk_s3::Client {
        config_s3::s3_client(self.sdk())
    }

    /// A handler over the store (a SQLite file is created if missing) and
    /// the configs (a directory must exist), with the knobs' options, as the
    /// Lambda has them, reading `clock`.
    pub(crate) fn handler(&self, clock: SharedClock) -> anyhow::Result<AppHandler> {
        let configs = self.config_source()?;
        let store = self.store()?;
        Ok(Handler::new(store, configs)
            .with_options(self.knobs.handler.clone())
            .with_clock(clock))
    }

    /// The local runtime over the embedded `store` and the configs, with the
    /// knobs' handler options, reading `clock`.
    pub(crate) fn runtime_over(
        &self,
        store: Arc<SqliteStore>,
        clock: SharedClock,
    ) -> anyhow::Result<LocalRuntime> {
        Ok(LocalRuntime::new(store, self.config_source()?, clock)
            .with_options(self.knobs.handler.clone()))
    }

    /// The store, a SQLite file created with its directory when missing. A
    /// DynamoDB table is checked first (`store_dynamodb::check_before_use`): a
    /// missing table or an older layout is the error.
    pub(crate) fn store(&self) -> anyhow::Result<Arc<dyn Store>> {
        Ok(match self.store_spec() {
            StoreSpec::Sqlite(_) => self.local_store()?.context("the embedded store")?,
            StoreSpec::Dynamo(table) => {
                let store = DynamoStore::new(self.dynamodb(), table, Arc::new(SystemClock));
                self.block_on(store_dynamodb::check_before_use(&store))?;
                Arc::new(store)
            }
        })
    }

    /// The embedded store (opened once: every verb's handler and the local
    /// run share it), or `None` when the store is DynamoDB.
    pub(crate) fn local_store(&self) -> anyhow::Result<Option<Arc<SqliteStore>>> {
        let StoreSpec::Sqlite(path) = self.store_spec() else {
            return Ok(None);
        };
        if let Some(store) = self.sqlite.get() {
            return Ok(Some(store.clone()));
        }
        let store = Arc::new(open_sqlite(&path)?);
        Ok(Some(self.sqlite.get_or_init(|| store).clone()))
    }

    /// The store if it may hold anything: `None` for a SQLite file that does
    /// not exist (reading verbs create nothing).
    pub(crate) fn existing_store(&self) -> anyhow::Result<Option<Arc<dyn Store>>> {
        if let StoreSpec::Sqlite(path) = self.store_spec()
            && !path.exists()
        {
            return Ok(None);
        }
        self.store().map(Some)
    }

    pub(crate) fn config_source(&self) -> anyhow::Result<Arc<dyn ConfigSource>> {
        Ok(match self.config_spec() {
            ConfigSpec::Dir(dir) => {
                if !dir.is_dir() {
                    bail!(
                        "config directory {} does not exist (set --config or CMDCTL_CONFIG)",
                        dir.display()
                    );
                }
                Arc::new(DirConfigSource::new(dir))
            }
            ConfigSpec::S3 { bucket, prefix } => Arc::new(
                S3ConfigSource::new(self.s3(), bucket, prefix).with_ttl(self.knobs.config_cache),
            ),
        })
    }
}

/// The SQLite store at `path`, created with its directory when missing.
fn open_sqlite(path: &Path) -> anyhow::Result<SqliteStore> {
    SqliteStore::open(path).with_context(|| format!("cannot open event store {}", path.display()))
}
