//! `cmdctl state` and `events`: one aggregate; `events --type`: a type's
//! events from the store, checkpointed (replay).

use std::path::PathBuf;

use clap::Args;

use super::aggregate_type;

/// `state` and `events`.
#[derive(Debug, Args)]
pub(crate) struct AggregateArgs {
    /// The aggregate type (e.g. `order`).
    #[arg(value_name = "TYPE", value_parser = aggregate_type)]
    pub(crate) aggregate_type: String,
    /// The aggregate's id.
    #[arg(value_name = "ID")]
    pub(crate) aggregate_id: String,
}

/// `events`: one aggregate's (TYPE ID), or a type's, replayed (--type).
#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    /// The aggregate type of one aggregate (with ID).
    #[arg(value_name = "TYPE", value_parser = aggregate_type,
          required_unless_present = "replay_type", conflicts_with = "replay_type")]
    pub(crate) aggregate_type: Option<String>,
    /// The aggregate's id.
    #[arg(value_name = "ID", required_unless_present = "replay_type")]
    pub(crate) aggregate_id: Option<String>,
    #[command(flatten)]
    pub(crate) replay: ReplayEventsArgs,
}

/// `events --type T`: the tracking processor.
#[derive(Debug, Args)]
pub(crate) struct ReplayEventsArgs {
    /// Every event of this type, from the store (not the stream), in the
    /// store's order, with a checkpoint saved after each page.
    #[arg(long = "type", id = "replay_type", value_name = "TYPE", value_parser = aggregate_type)]
    pub(crate) aggregate_type: Option<String>,
    /// Only the events recorded at or after TIME (RFC 3339, e.g.
    /// 2026-11-30T12:00:00Z).
    #[arg(long, value_name = "TIME", requires = "replay_type")]
    pub(crate) since: Option<String>,
    /// Resume after the checkpoint saved under NAME (and save there). Give
    /// the same --since again when resuming a run that had one.
    #[arg(long, value_name = "NAME", requires = "replay_type")]
    pub(crate) from: Option<String>,
    /// Without --from: the name the run saves its checkpoint under (a run
    /// without --from starts from the beginning) [default: events-TYPE].
    #[arg(
        long,
        value_name = "NAME",
        requires = "replay_type",
        conflicts_with = "from"
    )]
    pub(crate) checkpoint: Option<String>,
    /// Publish the events as the event processor would (only types whose
    /// config says `"publish": true`; reactions are not sent again): on the
    /// embedded store as JSON lines on stdout, on DynamoDB to EventBridge
    /// (`PutEvents` on --event-bus).
    #[arg(long, requires = "replay_type", conflicts_with = "jsonl")]
    pub(crate) publish: bool,
    /// The EventBridge bus --publish puts to on DynamoDB.
    #[arg(
        long,
        value_name = "NAME",
        env = "EVENT_BUS_NAME",
        default_value = "default",
        requires = "publish"
    )]
    pub(crate) event_bus: String,
    /// Write every event as one JSON line (the publication's detail) to FILE
    /// (appended), or to stdout when FILE is `-` or left out.
    #[arg(long, value_name = "FILE", requires = "replay_type",
          num_args = 0..=1, default_missing_value = "-")]
    pub(crate) jsonl: Option<PathBuf>,
    /// Stop after about N events (whole pages; the checkpoint is saved).
    #[arg(long, value_name = "N", requires = "replay_type",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) limit: Option<u64>,
    /// Events read per page (the checkpoint is saved after each).
    #[arg(long, value_name = "N", requires = "replay_type", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) page_size: u64,
}
