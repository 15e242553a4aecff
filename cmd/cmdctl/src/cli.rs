//! The command line, as clap derive definitions. Doc comments here are the
//! `--help` text.

use clap::{Args, Parser, Subcommand};
use serde_json::{Map, Value};

use crate::sources::{ConfigSpec, StoreSpec};

/// A verb's `after_help`: its examples, then the exit codes.
macro_rules! examples {
    ($examples:literal) => {
        concat!(
            $examples,
            "\n\n",
            "Exit codes:\n  \
             0  done (for `process` and `worker`: the messages ran, whatever their outcomes)\n  \
             1  the command was rejected or failed, or the aggregate has no events\n  \
             2  invalid input: bad arguments, unreadable or invalid file, invalid config,\n     \
             store, bucket or queue that cannot be opened or reached"
        )
    };
}

/// A verb's `after_help` with its own exit codes.
macro_rules! examples_and_exits {
    ($examples:literal, $exits:literal) => {
        concat!($examples, "\n\n", "Exit codes:\n", $exits)
    };
}

mod alarms;
mod config;
mod dlq;
mod exec;
mod ingest;
mod inspect;
mod list;
mod process;
mod react;
mod replay;
mod resend;
mod send;
mod serve;
mod setup;
mod trace;
mod worker;

pub(crate) use alarms::{AlarmsArgs, ClockArgs};
pub(crate) use config::{
    BindingsArgs, ConfigArgs, ConfigVerb, DiffArgs, GraphArgs, GraphFormat, UploadArgs,
    ValidateArgs,
};
pub(crate) use dlq::{DlqArgs, DlqTarget, DlqVerb, ListDlqArgs, PurgeArgs, RedriveArgs, ShowArgs};
pub(crate) use exec::{CommandArgs, ExecArgs};
pub(crate) use ingest::IngestArgs;
pub(crate) use inspect::{AggregateArgs, EventsArgs, ReplayEventsArgs};
pub(crate) use list::ListArgs;
pub(crate) use process::ProcessArgs;
pub(crate) use react::{AfterBatchArgs, RunArgs};
pub(crate) use replay::ReplayArgs;
pub(crate) use resend::ResendArgs;
pub(crate) use send::SendArgs;
pub(crate) use serve::ServeArgs;
pub(crate) use setup::SetupArgs;
pub(crate) use trace::TraceArgs;
pub(crate) use worker::WorkerArgs;

/// Operator CLI of the command handler: feed it SQS events or single
/// commands, run it as an SQS worker, and inspect the event store and the
/// state-machine configs.
///
/// Runs the same handler as the Lambda, over an event store (an embedded
/// SQLite file, or a DynamoDB table) and configs (a directory of
/// `{aggregateType}.json`, or an S3 prefix). With no `--store` and
/// `DYNAMO_TABLE_NAME` set, the store is that table; with no `--config` and
/// `S3_BUCKET_NAME` set, the configs are `s3://$S3_BUCKET_NAME/$S3_CONFIG_PREFIX`.
/// AWS is reached through the SDK's own settings (AWS_REGION, credentials,
/// AWS_ENDPOINT_URL for an emulator), and only when a verb needs it.
/// Logs are JSON lines on stderr (filter: RUST_LOG, default `warn`); on a
/// terminal with no RUST_LOG, only errors, as text (the outcome lines already
/// say what the warnings would).
#[derive(Debug, Parser)]
#[command(
    name = "cmdctl",
    version,
    after_help = examples!(
        "Examples:\n  \
         cmdctl process tests/fixtures/sqs-event-mixed.json\n  \
         cmdctl exec order o-1 CreateOrder --payload '{\"itemId\":\"beans\",\"quantity\":1}' --events -\n  \
         cmdctl run\n  \
         cmdctl run --now +PT16M\n  \
         cmdctl state order o-1\n  \
         cmdctl alarms payment o-1\n  \
         cmdctl events order o-1 --json\n  \
         cmdctl events --type order --jsonl order-events.jsonl\n  \
         cmdctl trace create-o-1\n  \
         cmdctl config validate\n  \
         cmdctl setup --table events --bucket configs --queue commands\n  \
         cmdctl --store dynamodb:events --config s3://configs/ exec order o-1 ReserveItem\n  \
         cmdctl send order o-1 CreateOrder --payload '{\"itemId\":\"beans\",\"quantity\":1}' --queue-url $CMDCTL_QUEUE_URL\n  \
         cmdctl send --file commands.jsonl\n  \
         cmdctl worker --queue-url $CMDCTL_QUEUE_URL --until-empty\n  \
         cmdctl dlq list\n  \
         cmdctl dlq redrive --all\n  \
         cmdctl list order --limit 20\n  \
         cmdctl replay order o-1\n  \
         cmdctl serve\n  \
         cmdctl config diff"
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
    /// The event store: a SQLite file (created, with its directory, when a
    /// verb writes to it) or `dynamodb:TABLE`
    /// [default: `dynamodb:$DYNAMO_TABLE_NAME` when that is set, else
    /// `.cmdctl/events.sqlite3`].
    #[arg(
        long,
        global = true,
        value_name = "PATH|dynamodb:TABLE",
        env = "CMDCTL_STORE",
        value_parser = StoreSpec::parse
    )]
    pub(crate) store: Option<StoreSpec>,
    /// The state-machine configs: a directory holding `{aggregateType}.json`
    /// files, or `s3://BUCKET/PREFIX` (objects `PREFIX{aggregateType}.json`,
    /// so end a folder prefix with `/`) [default: the older
    /// $CMDCTL_CONFIG_DIR when set, else `s3://$S3_BUCKET_NAME/$S3_CONFIG_PREFIX`
    /// when S3_BUCKET_NAME is set, else `config`].
    #[arg(
        long,
        global = true,
        visible_alias = "config-dir",
        value_name = "DIR|s3://BUCKET/PREFIX",
        env = "CMDCTL_CONFIG",
        value_parser = ConfigSpec::parse
    )]
    pub(crate) config: Option<ConfigSpec>,
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
    ///
    /// On the embedded store, the reactions then run and the due alarms fire
    /// (`cmdctl run`, unless --no-react) and a `reactions:` line before the
    /// answer counts what they did. On DynamoDB the event processor on the
    /// table's stream runs them. --now moves the handler's clock.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl process tests/fixtures/sqs-event-mixed.json\n  \
         cmdctl process --json - < event.json\n  \
         cmdctl process --no-react tests/fixtures/sqs-event-mixed.json"
    ))]
    Process(ProcessArgs),
    /// Run one command through the handler (a one-message batch).
    ///
    /// Prints the outcome and the aggregate's new state. Exits 1 when the
    /// command is rejected or fails, with the reason on stderr.
    ///
    /// On the embedded store, the reactions then run and the due alarms fire
    /// (`cmdctl run`, unless --no-react) and a `reactions:` line counts what
    /// they did; a reaction that failed is named on stderr, and one that failed
    /// transiently is kept for the next run (exit 1). On DynamoDB the
    /// event processor on the table's stream runs them. --now moves the
    /// handler's clock (the command is recorded at that time). A fired
    /// alarm's command with no effect is `stale` (exit 0).
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl exec order o-1 CreateOrder --payload '{\"itemId\":\"beans\",\"quantity\":1}'\n  \
         cmdctl exec order o-1 CreateOrder --payload '{\"itemId\":\"beans\",\"quantity\":1}' --events -\n  \
         cmdctl exec order o-1 ReserveItem --expected-version 1 --command-id reserve-o-1 --no-react"
    ))]
    Exec(ExecArgs),
    /// Run outside events (EventBridge's) through the handler as one batch,
    /// as the bindings' rules deliver them to the command queue.
    ///
    /// FILE holds one JSON event, or JSON lines of them (`-`: stdin). Each
    /// becomes the command of the one binding of its `source` and
    /// `detail-type` across the configs (docs/reference.md §2, `bindings`),
    /// its commandId `{source}/{id}`, so an event ingested twice applies
    /// once. Prints one line per event (its commandId, aggregate, command,
    /// outcome). Exits 1 when an event is refused (`unbound_event`,
    /// `binding_failed`, or any command's refusal) or fails.
    ///
    /// On the embedded store, the reactions then run and the due alarms fire
    /// (`cmdctl run`, unless --no-react), as after `process`.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl ingest provider-event.json\n  \
         cmdctl ingest --json - < events.jsonl"
    ))]
    Ingest(IngestArgs),
    /// Run the embedded event processor until quiet: publish the new events
    /// and run their reactions through the handler, and fire the alarms that
    /// are due, round after round, until a round finds no new event and no
    /// alarm due.
    ///
    /// Reads the embedded store's events after its checkpoint (`local`, the
    /// one `process` and `exec` use, unless --checkpoint), so each event is
    /// processed once. An alarm due by now (by --now, when given) is sent to
    /// its aggregate as the command it names, through the same handler; it is
    /// then delivered (not fired again), whatever its outcome (applied,
    /// duplicate, `stale`: set again or cleared since, or its command no
    /// longer applies; or refused), unless it failed transiently. Stops after
    /// --max-rounds rounds (a cycle of reactions) with exit 1; the next run
    /// goes on from there. A reaction that fails transiently (after three
    /// attempts) is kept in the store, named on stderr, and sent again by
    /// the next run first (exit 1 until then). Prints each alarm fired and the counts (rounds,
    /// events, published, commands and their outcomes, alarms).
    #[command(after_help = examples_and_exits!(
        "Examples:\n  \
         cmdctl run\n  \
         cmdctl run --now +PT16M        # fire what is due in 16 minutes\n  \
         cmdctl run --now 2028-01-01T00:00:00Z --json\n  \
         cmdctl run --events published.jsonl --json\n  \
         cmdctl run --checkpoint again   # every reaction delivered a second time",
        "  0  quiet: no new event is left and no alarm is due\n  \
         1  stopped after --max-rounds rounds with events left, a publication failed, or a \
         reaction or alarm failed transiently and is left for the next run\n  \
         2  invalid input, a store that is not the embedded one, or a config that cannot be read"
    ))]
    Run(RunArgs),
    /// List an aggregate's alarms: name, due time (`overdue` when it is
    /// past), command, and the version that set them.
    ///
    /// Read from the aggregate's state, on either store. On the embedded
    /// store `cmdctl run` fires the overdue ones; on AWS the event processor
    /// has scheduled them (docs/alarms.md). With --now, overdue means due by
    /// that time. Prints nothing but a note when none is set.
    #[command(after_help = examples!(
        "Examples:\n  \
         cmdctl alarms payment o-1\n  \
         cmdctl alarms payment o-1 --now +PT16M --json"
    ))]
    Alarms(AlarmsArgs),
    /// Print an aggregate's current state: state, version and data.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl state order o-1\n  \
         cmdctl state order o-1 --json | jq .data"
    ))]
    State(AggregateArgs),
    /// Print an aggregate's events, oldest first; or, with --type, replay a
    /// type's events from the store.
    ///
    /// TYPE ID: the table leaves payloads and metadata out; `--json` prints
    /// every attribute of docs/reference.md §3.
    ///
    /// --type TYPE: a tracking processor over the store (not the stream,
    /// which keeps 24 hours): every event of the type, page by page, written
    /// as JSON lines (--jsonl, the default) or published (--publish), with
    /// its checkpoint saved after each page, so that an interrupted run
    /// resumes with --from NAME. On the embedded store the order is the
    /// order of the appends; on DynamoDB, aggregate by aggregate (listing
    /// order), each in version order (docs/cost.md). Prints the counts and
    /// the checkpoint on stderr (in the --json document on stdout).
    #[command(after_help = examples!(
        "Examples:\n  \
         cmdctl events order o-1\n  \
         cmdctl events order o-1 --json | jq '.[].payload'\n  \
         cmdctl events --type order --jsonl order-events.jsonl --checkpoint rebuild\n  \
         cmdctl events --type order --jsonl order-events.jsonl --from rebuild\n  \
         cmdctl events --type order --since 2026-11-30T00:00:00Z --publish"
    ))]
    Events(EventsArgs),
    /// List the commands and events of one correlation, across aggregates, in
    /// causal order (each event after its cause and its aggregate's earlier
    /// events; then recordedAt, aggregate and version).
    ///
    /// A correlation is a root command (its id, or the `correlationId` of its
    /// metadata) and every reaction that followed from it: each derived
    /// command carries `correlationId` and `causationId` in its metadata,
    /// copied onto its events. One row per event: time, aggregate, version,
    /// event, state, the command id, and what caused it. On the embedded
    /// store a scan of the events; on DynamoDB a filtered Scan of the table
    /// (docs/cost.md: it reads the whole table). With --root TYPE ID (the
    /// aggregate the root command went to), no scan: each event's reactions,
    /// rebuilt from the configs, lead to the events they caused (one read of
    /// each touched aggregate's history).
    #[command(after_help = examples_and_exits!(
        "Examples:\n  \
         cmdctl trace create-o-1\n  \
         cmdctl trace create-o-1 --json\n  \
         cmdctl trace create-o-1 --root order o-1",
        "  0  the correlation's events are listed\n  \
         1  no event carries this correlation id\n  \
         2  invalid input, or a store that cannot be read"
    ))]
    Trace(TraceArgs),
    /// Rebuild a type's events' reactions and alarm orders from the store
    /// and send them again, as the event processor would (DynamoDB only).
    ///
    /// For the work the table's stream gave up on (the
    /// `STACK-processor-failures` alarm): every event of --type (recorded
    /// at or after --since), its reactions built from the configs and sent
    /// to --queue-url, its alarm orders carried out (delayed messages, or
    /// schedules with the processor's `SCHEDULE_GROUP_NAME`,
    /// `SCHEDULER_ROLE_ARN`, `COMMAND_QUEUE_ARN`, `SCHEDULE_DLQ_ARN`).
    /// Nothing is published (`events --type T --publish` does that). Safe
    /// to repeat: the ids are deterministic, so a command applied already
    /// is a `duplicate` and a schedule made already is found.
    #[command(after_help = examples_and_exits!(
        "Examples:\n  \
         cmdctl --store dynamodb resend --type order --since 2026-11-30T00:00:00Z\n  \
         cmdctl --store dynamodb resend --type payment --queue-url \"$COMMAND_QUEUE_URL\" --json",
        "  0  every event's reactions and alarm orders were sent (or recorded as failures)\n  \
         1  an event's were not all accepted: the run stopped there (run it again)\n  \
         2  invalid input, the embedded store, or a store or config that cannot be read"
    ))]
    Resend(ResendArgs),
    /// Work with state-machine configs.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl config validate\n  \
         cmdctl config validate config/order.json"
    ))]
    Config(ConfigArgs),
    /// Put commands on an SQS queue: one from the arguments, or many from a
    /// file.
    ///
    /// Each message body is the command message of docs/reference.md §1, checked as
    /// the handler would parse it before anything is sent. On a FIFO queue
    /// (URL ending in `.fifo`) the message group is `TYPE#ID` and the
    /// deduplication id is the command id. A command without a commandId is
    /// given one, written into its body on every queue type: a fresh one
    /// for a single command; with --file, one derived from the line (its
    /// text and which occurrence of that text in the file it is), the same
    /// on every run, so a file sent again after a partial failure applies
    /// each line once (give new commandIds to apply the same lines again).
    /// Prints the SQS message id.
    ///
    /// With `--file FILE` (or `-` for stdin): one body per line (blank lines
    /// and `#` comments are skipped). Every line is checked first: if any is
    /// invalid, each is reported with its line number and nothing is sent
    /// (exit 2). The rest go by `SendMessageBatch`, 10 at a time; entries
    /// SQS refuses are reported with their line numbers (exit 1).
    #[command(after_help = examples_and_exits!(
        "Examples:\n  \
         cmdctl send order o-1 CreateOrder --payload '{\"itemId\":\"beans\",\"quantity\":1}' \\\n      \
         --queue-url http://127.0.0.1:5000/123456789012/commands\n  \
         cmdctl send order o-1 ReserveItem --expected-version 1 --command-id reserve-o-1 --json\n  \
         cmdctl send --file commands.jsonl --queue-url $CMDCTL_QUEUE_URL\n  \
         jq -c '.[]' commands.json | cmdctl send --file - --json",
        "  0  every message was sent\n  \
         1  SQS refused some entries of --file (each is reported with its line number)\n  \
         2  invalid input (a bad command or line: nothing was sent), or the queue cannot be reached"
    ))]
    Send(SendArgs),
    /// Run the handler on an SQS queue, as Lambda's event source mapping would.
    ///
    /// Receives up to 10 messages at a time, handles them as one batch,
    /// deletes the applied ones and leaves the failed ones to come back after
    /// the visibility timeout (and, after the queue's maxReceiveCount, to go
    /// to its dead-letter queue).
    ///
    /// Runs until ctrl-c, or with `--until-empty` until a receive finds no
    /// message; then prints a summary (batches, received, applied, failed).
    /// Exits 0 whenever it ran, whatever the messages' outcomes.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl worker --queue-url http://127.0.0.1:5000/123456789012/commands --until-empty\n  \
         DYNAMO_TABLE_NAME=events S3_BUCKET_NAME=configs cmdctl worker --queue-url $CMDCTL_QUEUE_URL"
    ))]
    Worker(WorkerArgs),
    /// Create the table, bucket and queues the handler needs (emulators, dev
    /// accounts).
    ///
    /// Creates the event-store table (with its stream and TTL), the config
    /// bucket, a dead-letter queue `NAME-dlq` (14 days' retention) and the
    /// queue `NAME` redriving to it after 10 receives.
    ///
    /// Safe to run again. Prints the queue and DLQ URLs, the table and
    /// bucket, and the `export` lines for the Lambda's variables.
    #[command(after_help = examples!(
        "Example:\n  \
         cmdctl setup --table events --bucket configs --queue commands\n  \
         cmdctl setup --table events --bucket configs --queue commands --fifo --visibility-timeout 60"
    ))]
    Setup(SetupArgs),
    /// Work with the dead-letter queue: list, show, redrive, purge.
    ///
    /// The DLQ is --dlq-url (CMDCTL_DLQ_URL), or else the one named by the
    /// redrive policy of --queue-url (CMDCTL_QUEUE_URL). Each message is
    /// shown with the reason the handler recorded when it failed (looked
    /// up in the event store by its original message id).
    #[command(after_help = examples!(
        "Examples:\n  \
         cmdctl dlq list --queue-url $CMDCTL_QUEUE_URL\n  \
         cmdctl dlq show 2f7c0f7e-8d5c-4f2e-9a51-0c0d9a3b1e11\n  \
         cmdctl dlq redrive --all\n  \
         cmdctl dlq purge --yes"
    ))]
    Dlq(DlqArgs),
    /// List the aggregates of a type: id, state and version, in id order.
    ///
    /// Pages through every aggregate (from after --after, up to --limit).
    /// With --json, prints `{"aggregates":[...],"next":ID}`, where `next`
    /// (when not null) is the --after that continues the listing.
    #[command(after_help = examples!(
        "Examples:\n  \
         cmdctl list order\n  \
         cmdctl list order --limit 50 --json\n  \
         cmdctl list order --after o-199 --limit 50"
    ))]
    List(ListArgs),
    /// Rebuild an aggregate's state from its events and compare it with the
    /// stored head (the snapshot the handler loads).
    ///
    /// Folds every event from the config's initial state (each payload
    /// merged into the data as a JSON Merge Patch, as the handler does),
    /// checks that the versions are 1, 2, 3 ... without gaps, and prints
    /// `consistent` or each difference: state, version, and the data keys
    /// that differ (their values only with --show-values).
    #[command(after_help = examples_and_exits!(
        "Examples:\n  \
         cmdctl replay order o-1\n  \
         cmdctl replay order o-1 --show-values --json",
        "  0  consistent: the events give exactly the stored head\n  \
         1  different (or gaps in the versions), or the aggregate has no events\n  \
         2  invalid input, or a store or config that cannot be read"
    ))]
    Replay(ReplayArgs),
    /// Serve the HTTP API (docs/reference.md §10): POST /commands, GET of
    /// aggregates, their events, a type's aggregates and traces,
    /// /openapi.json and /healthz.
    ///
    /// There is no queue locally: every command runs through the handler in
    /// its request, as with `Prefer: wait`. On the embedded store the
    /// reactions and due alarms run after each command that wrote an event
    /// (as `cmdctl run` runs them) and every second; their failures are
    /// named on stderr. Binds to loopback unless --listen says otherwise.
    /// Stops on Ctrl-C or SIGTERM, letting requests in flight finish.
    #[command(after_help = examples_and_exits!(
        "Examples:\n  \
         cmdctl serve\n  \
         cmdctl serve --listen 127.0.0.1:0\n  \
         curl -s localhost:8080/aggregates/order/o-1",
        "  0  stopped by a signal\n  \
         2  invalid input, an address that cannot be bound, or a store or config that \
         cannot be opened"
    ))]
    Serve(ServeArgs),
}

/// A TYPE argument, checked by the envelope's own rules (a type the handler
/// would refuse is refused here, exit 2).
pub(crate) fn aggregate_type(text: &str) -> Result<String, String> {
    handler_core::envelope::check_aggregate_type(text)
        .map(|()| text.to_owned())
        .map_err(|e| e.to_string())
}

fn json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("expected a JSON object, e.g. '{\"key\":\"value\"}'".to_owned()),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}
