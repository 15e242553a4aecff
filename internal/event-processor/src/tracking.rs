//! The tracking processor: replays stored events from a feed, page by page,
//! saving a checkpoint after each page that fully finished, so an
//! interrupted run resumes where it stopped.

use handler_core::{Checkpoints, ConfigSource, EventFeed, FailureLog, FeedQuery, StoreError};

use crate::alarms::AlarmCounts;
use crate::delivery::{CommandSink, Publisher};
use crate::processor::EventProcessor;
use crate::record::{RecordBody, SourceRecord};

/// What one tracking run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackReport {
    /// Pages read.
    pub pages: usize,
    /// Events read.
    pub events: usize,
    /// Events published.
    pub published: usize,
    /// Reactions accepted.
    pub reactions_sent: usize,
    /// Reactions that could not be built (recorded as failures).
    pub reactions_failed: usize,
    /// What became of the alarm orders.
    pub alarms: AlarmCounts,
    /// The id of the first event that did not finish, when the run stopped there.
    pub stopped_at: Option<String>,
    /// The checkpoint saved last (the cursor after the last finished page).
    pub checkpoint: Option<String>,
}

/// Reads `query`'s events after the checkpoint `name` (from the start when
/// none is saved), `page_size` at a time, processes each page and saves the
/// checkpoint after each page whose events all finished. Stops at the end
/// of the feed or at the first page with an unfinished event.
///
/// # Errors
/// The feed or the checkpoints failed (the checkpoint saved so far stays).
pub async fn track<C, P, S, F>(
    feed: &dyn EventFeed,
    checkpoints: &dyn Checkpoints,
    name: &str,
    query: &FeedQuery,
    processor: &EventProcessor<C, P, S, F>,
    page_size: usize,
) -> Result<TrackReport, StoreError>
where
    C: ConfigSource,
    P: Publisher,
    S: CommandSink,
    F: FailureLog,
{
    let mut report = TrackReport::default();
    let mut after = checkpoints.checkpoint(name).await?;
    report.checkpoint.clone_from(&after);
    loop {
        let page = feed.read(query, after.as_deref(), page_size.max(1)).await?;
        if page.events.is_empty() {
            break;
        }
        report.pages += 1;
        report.events += page.events.len();
        let records: Vec<SourceRecord> = page
            .events
            .into_iter()
            .enumerate()
            .map(|(i, event)| SourceRecord {
                position: i.to_string(),
                body: RecordBody::Event(event),
            })
            .collect();
        let done = processor.process(records).await;
        report.published += done.published();
        report.reactions_sent += done.reactions_sent();
        report.reactions_failed += done.reactions_failed();
        report.alarms = report.alarms + done.alarms();
        if let Some(position) = &done.first_unfinished {
            report.stopped_at = done
                .outcomes
                .iter()
                .find(|o| &o.position == position)
                .and_then(|o| o.event_id.clone());
            break;
        }
        let Some(cursor) = page.cursor else { break };
        checkpoints.save_checkpoint(name, &cursor).await?;
        report.checkpoint = Some(cursor.clone());
        after = Some(cursor);
        if !page.more {
            break;
        }
    }
    Ok(report)
}
