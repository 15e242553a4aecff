//! `cmdctl config ...`: the state-machine config verbs.

use std::path::PathBuf;

use clap::{Args, Subcommand};

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
         cmdctl --config staging/config config validate --json\n  \
         cmdctl --config s3://my-configs/prod/ config validate"
    ))]
    Validate(ValidateArgs),
    /// Upload config files to S3, where the Lambda reads them.
    ///
    /// Each goes to `{prefix}{aggregateType}.json`. Every file is checked first, as `config validate` does; if any is
    /// invalid, or has a lower `version` than the config deployed for its
    /// type (unless --force), nothing is uploaded and the command exits 2.
    /// Prints the key and ETag of each uploaded file.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl config upload --bucket my-configs --prefix prod/\n  \
         S3_BUCKET_NAME=my-configs cmdctl config upload config/order.json\n  \
         cmdctl config upload --force config/order.json   # back to an older version"
    ))]
    Upload(UploadArgs),
    /// Show what `config upload` would change in S3.
    ///
    /// For each local config (checked first, as `config validate` does),
    /// fetches the deployed object and prints the states and transitions
    /// (by command and from-state, with their reactions, `then`) added,
    /// removed or changed, `publish` and the initial state when they change,
    /// and the version change; `unchanged` when they are the same, `new` when
    /// nothing is deployed for the type.
    #[command(after_help = examples_and_exits!(
        "Examples:\n  \
         cmdctl config diff\n  \
         cmdctl config diff config/order.json --bucket my-configs --prefix prod/\n  \
         cmdctl config diff --exit-code && echo nothing to upload",
        "  0  done (with --exit-code: nothing would change)\n  \
         1  with --exit-code: something would change\n  \
         2  invalid input: an invalid local config, a bucket that cannot be read"
    ))]
    Diff(DiffArgs),
    /// Print the EventBridge rules the configs' bindings need.
    ///
    /// One rule per binding (docs/reference.md §2, `bindings`): its id (the
    /// CloudFormation logical id the deploy step gives it), the event's
    /// `source` and `detail-type`, the config and command it becomes, and
    /// its event pattern. The deploy step makes exactly these rules, on the
    /// configured bus, targeting the command queue (it reads `--json`). The
    /// configs are checked as a set first, as `config validate` does; exits
    /// 2 when one is invalid or two bind one event.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl config bindings\n  \
         cmdctl config bindings --json config/payment.json"
    ))]
    Bindings(BindingsArgs),
    /// Draw the configs as a diagram: states, transitions (with their
    /// guards' names and the alarms they set) and the reactions between
    /// types, from the configs alone.
    ///
    /// Mermaid (`flowchart LR`, one subgraph per type) or Graphviz DOT (one
    /// cluster per type). The configs are checked as a set first, as
    /// `config validate` does; exits 2 when one is invalid or a TYPE has
    /// no config. The README's saga diagram is this verb's output.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl config graph\n  \
         cmdctl config graph order payment --format dot | dot -Tsvg > saga.svg"
    ))]
    Graph(GraphArgs),
}

/// `config graph`.
#[derive(Debug, Args)]
pub(crate) struct GraphArgs {
    /// The types to draw [default: every config of the config directory:
    /// --config when it is one, else `config`].
    #[arg(value_name = "TYPE")]
    pub(crate) types: Vec<String>,
    /// The diagram's format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    pub(crate) format: GraphFormat,
}

/// `config graph --format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum GraphFormat {
    /// A Mermaid flowchart.
    Mermaid,
    /// A Graphviz digraph.
    Dot,
}

/// `config bindings`.
#[derive(Debug, Args)]
pub(crate) struct BindingsArgs {
    /// Config files [default: every `*.json` of the config directory:
    /// --config when it is one, else `config`].
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
}

/// `config validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Config files to check [default: every `*.json` of --config, a
    /// directory or an S3 prefix].
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
}

/// `config upload`.
#[derive(Debug, Args)]
pub(crate) struct UploadArgs {
    /// Config files to upload [default: every `*.json` of the config
    /// directory: --config when it is one, else `config`].
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// The bucket [default: the bucket of an `s3://` --config].
    #[arg(long, value_name = "NAME", env = "S3_BUCKET_NAME")]
    pub(crate) bucket: Option<String>,
    /// The key prefix (keys are `{prefix}{aggregateType}.json`) [default:
    /// the prefix of an `s3://` --config, else none].
    #[arg(long, value_name = "PREFIX", env = "S3_CONFIG_PREFIX")]
    pub(crate) prefix: Option<String>,
    /// Replace a deployed config even when its `version` is higher than the
    /// file's (going back on purpose).
    #[arg(long)]
    pub(crate) force: bool,
}

/// `config diff`.
#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// Local config files [default: every `*.json` of the config
    /// directory: --config when it is one, else `config`].
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// The bucket [default: the bucket of an `s3://` --config].
    #[arg(long, value_name = "NAME", env = "S3_BUCKET_NAME")]
    pub(crate) bucket: Option<String>,
    /// The key prefix [default: the prefix of an `s3://` --config, else
    /// none].
    #[arg(long, value_name = "PREFIX", env = "S3_CONFIG_PREFIX")]
    pub(crate) prefix: Option<String>,
    /// Exit 1 when something would change (like `git diff --exit-code`).
    #[arg(long)]
    pub(crate) exit_code: bool,
}
