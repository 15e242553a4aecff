//! `tracking::track`: checkpointed replay from a feed.

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use event_processor::tracking::track;
use handler_core::{Checkpoints, EventFeed, FeedPage, FeedQuery, StoreError, StoredEvent};

use crate::fakes::{World, order};

/// Events in a list; the cursor is the index after the last event read.
struct Feed(Vec<StoredEvent>);

#[async_trait]
impl EventFeed for Feed {
    async fn read(
        &self,
        query: &FeedQuery,
        after: Option<&str>,
        limit: usize,
    ) -> Result<FeedPage, StoreError> {
        let start: usize = after.map_or(0, |a| a.parse().unwrap());
        let matching: Vec<(usize, &StoredEvent)> = self
            .0
            .iter()
            .enumerate()
            .skip(start)
            .filter(|(_, e)| {
                query
                    .aggregate_type
                    .as_deref()
                    .is_none_or(|t| t == e.key.aggregate_type)
            })
            .take(limit)
            .collect();
        let cursor = matching.last().map(|(i, _)| (i + 1).to_string());
        let more = matching.last().is_some_and(|(i, _)| i + 1 < self.0.len());
        Ok(FeedPage {
            events: matching.into_iter().map(|(_, e)| e.clone()).collect(),
            cursor,
            more,
        })
    }
}

#[derive(Default)]
struct Saved(Mutex<HashMap<String, String>>);

#[async_trait]
impl Checkpoints for Saved {
    async fn checkpoint(&self, name: &str) -> Result<Option<String>, StoreError> {
        Ok(self.0.lock().unwrap().get(name).cloned())
    }
    async fn save_checkpoint(&self, name: &str, cursor: &str) -> Result<(), StoreError> {
        self.0
            .lock()
            .unwrap()
            .insert(name.to_owned(), cursor.to_owned());
        Ok(())
    }
}

fn feed() -> Feed {
    Feed(vec![
        order("o-1", 1),
        order("o-2", 1),
        order("o-1", 2),
        order("o-3", 1),
        order("o-2", 2),
    ])
}

#[tokio::test]
async fn a_whole_feed_is_replayed_page_by_page_and_checkpointed() {
    let (world, saved) = (World::new(), Saved::default());
    let query = FeedQuery {
        aggregate_type: Some("order".into()),
        since: None,
    };
    let report = track(&feed(), &saved, "replay", &query, &world.processor, 2)
        .await
        .unwrap();
    assert_eq!((report.pages, report.events, report.published), (3, 5, 5));
    assert_eq!(report.reactions_sent, 3 * 2 + 2);
    assert_eq!(report.stopped_at, None);
    assert_eq!(report.checkpoint.as_deref(), Some("5"));
    assert_eq!(
        saved.checkpoint("replay").await.unwrap().as_deref(),
        Some("5")
    );
    // Run again: nothing after the checkpoint.
    let again = track(&feed(), &saved, "replay", &query, &world.processor, 2)
        .await
        .unwrap();
    assert_eq!((again.pages, again.events), (0, 0));
}

#[tokio::test]
async fn an_unfinished_page_stops_the_run_and_the_next_run_resumes_there() {
    let (world, saved) = (World::new(), Saved::default());
    world
        .bus
        .refuse
        .lock()
        .unwrap()
        .insert("order#o-3@1".into());
    let query = FeedQuery::default();
    let report = track(&feed(), &saved, "r", &query, &world.processor, 2)
        .await
        .unwrap();
    assert_eq!(report.stopped_at.as_deref(), Some("order#o-3@1"));
    assert_eq!(report.checkpoint.as_deref(), Some("2"));
    assert_eq!(saved.checkpoint("r").await.unwrap().as_deref(), Some("2"));

    world.bus.refuse.lock().unwrap().clear();
    let resumed = track(&feed(), &saved, "r", &query, &world.processor, 2)
        .await
        .unwrap();
    assert_eq!(
        (resumed.pages, resumed.events, resumed.stopped_at),
        (2, 3, None)
    );
    assert_eq!(saved.checkpoint("r").await.unwrap().as_deref(), Some("5"));
}
