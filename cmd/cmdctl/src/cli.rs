//! The command line, as clap derive definitions. Doc comments here are the
//! `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use serde_json::{Map, Value};

/// A verb's `after_help`: its examples, then the exit codes.
macro_rules! examples {
    ($examples:literal) => {
        concat!(
            $examples,
            "\n\n",
            "Exit codes:\n  \
             0  done (for `process`: the batch ran, whatever its messages' outcomes)\n  \
             1  the command was rejected or failed, or the aggregate has no events\n  \
             2  invalid input: bad arguments, unreadable or invalid file, invalid config,\n     \
             store that cannot be opened"
        )
    };
}

/// Operator CLI of the command handler: feed it SQS events or single
/// commands, and inspect the event store and the state-machine configs.
///
/// Runs the same handler as the Lambda, over an embedded SQLite event store
/// and the configs of a directory (`{config-dir}/{aggregateType}.json`).
/// Logs are JSON lines on stderr (filter: RUST_LOG, default `warn`).
#[derive(Debug, Parser)]
#[command(
    name = "cmdctl",
    version,
    after_help = examples!(
        "Examples:\n  \
         cmdctl process tests/fixtures/sqs-event-mixed.json\n  \
         cmdctl exec order o-1 CreateOrder --payload '{\"itemId\":\"beans\",\"quantity\":1}'\n  \
         cmdctl state order o-1\n  \
         cmdctl events order o-1 --json\n  \
         cmdctl config validate"
    )
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) verb: Verb,
}

/// Options every verb takes.
#[derive(Debug, Args)]
pub(crate) struct GlobalArgs {
    /// The SQLite event-store file (created, with its directory, when a verb
    /// writes to it).
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "CMDCTL_STORE",
        default_value = ".cmdctl/events.sqlite3"
    )]
    pub(crate) store: PathBuf,
    /// The directory of state-machine configs, one `{aggregateType}.json` each.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "CMDCTL_CONFIG_DIR",
        default_value = "config"
    )]
    pub(crate) config_dir: PathBuf,
    /// Print machine-readable JSON on stdout instead of text.
    #[arg(long, global = true)]
    pub(crate) json: bool,
}

/// The verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum Verb {
    /// Run a Lambda SQS event through the handler, as the Lambda would.
    ///
    /// Prints one line per message (message id, aggregate, command, outcome),
    /// then the `{"batchItemFailures":[...]}` answer the Lambda would return.
    /// Exits 0 whenever the batch ran: failed messages are in the answer.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl process tests/fixtures/sqs-event-mixed.json\n  \
         cmdctl process --json - < event.json"
    ))]
    Process(ProcessArgs),
    /// Run one command through the handler (a one-message batch).
    ///
    /// Prints the outcome and the aggregate's new state. Exits 1 when the
    /// command is rejected or fails, with the reason on stderr.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl exec order o-1 CreateOrder --payload '{\"itemId\":\"beans\",\"quantity\":1}'\n  \
         cmdctl exec order o-1 ReserveItem --expected-version 1 --command-id reserve-o-1"
    ))]
    Exec(ExecArgs),
    /// Print an aggregate's current state: state, version and data.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl state order o-1\n  \
         cmdctl state order o-1 --json | jq .data"
    ))]
    State(AggregateArgs),
    /// Print an aggregate's events, oldest first.
    ///
    /// The table leaves payloads and metadata out; `--json` prints every
    /// attribute of CONTRACT §4.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl events order o-1\n  \
         cmdctl events order o-1 --json | jq '.[].payload'"
    ))]
    Events(AggregateArgs),
    /// Work with state-machine configs.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl config validate\n  \
         cmdctl config validate config/order.json"
    ))]
    Config(ConfigArgs),
}

/// `process`.
#[derive(Debug, Args)]
pub(crate) struct ProcessArgs {
    /// The Lambda SQS event (JSON with `Records`), or `-` for stdin.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}

/// `exec`.
#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    /// The aggregate type, which names its config (e.g. `order`).
    #[arg(value_name = "TYPE")]
    pub(crate) aggregate_type: String,
    /// The aggregate's id.
    #[arg(value_name = "ID")]
    pub(crate) aggregate_id: String,
    /// The command's name (e.g. `CreateOrder`).
    #[arg(value_name = "COMMAND")]
    pub(crate) command: String,
    /// The payload, a JSON object.
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    pub(crate) payload: Option<Map<String, Value>>,
    /// The idempotency key [default: a fresh `cmdctl-<nanos>-<pid>`].
    #[arg(long, value_name = "ID")]
    pub(crate) command_id: Option<String>,
    /// Refuse the command unless the aggregate is at exactly this version
    /// (0 = does not exist yet).
    #[arg(long, value_name = "N")]
    pub(crate) expected_version: Option<u64>,
    /// Metadata copied onto the events, a JSON object.
    #[arg(long, value_name = "JSON", value_parser = json_object)]
    pub(crate) metadata: Option<Map<String, Value>>,
}

/// `state` and `events`.
#[derive(Debug, Args)]
pub(crate) struct AggregateArgs {
    /// The aggregate type (e.g. `order`).
    #[arg(value_name = "TYPE")]
    pub(crate) aggregate_type: String,
    /// The aggregate's id.
    #[arg(value_name = "ID")]
    pub(crate) aggregate_id: String,
}

/// `config`.
#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    #[command(subcommand)]
    pub(crate) verb: ConfigVerb,
}

/// `config` verbs.
#[derive(Debug, Subcommand)]
pub(crate) enum ConfigVerb {
    /// Check configs: shape, states, transitions, payload schemas, and that
    /// each file is named for its aggregateType.
    ///
    /// Prints `ok` or `invalid` per file, each fault of an invalid one below
    /// it. Exits 2 if any file is invalid.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl config validate\n  \
         cmdctl config validate config/order.json new/ticket.json\n  \
         cmdctl --config-dir staging/config config validate --json"
    ))]
    Validate(ValidateArgs),
}

/// `config validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Config files to check [default: every `*.json` in --config-dir].
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
}

fn json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("expected a JSON object, e.g. '{\"key\":\"value\"}'".to_owned()),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}
