//! The local adapters.

use event_processor::jsonl::{Collect, JsonLines};
use event_processor::{EventProcessor, ProcessReport};

use test_doubles::MemoryFailures;

use crate::fakes::{events, order, standard_configs};

#[tokio::test]
async fn json_lines_get_each_publication_and_collect_keeps_the_reactions() {
    let processor = EventProcessor::new(
        standard_configs(),
        JsonLines::new(Vec::<u8>::new()),
        Collect::new(),
        MemoryFailures::default(),
        crate::fakes::clock(),
    );
    let report: ProcessReport = processor
        .process(events(vec![order("o-1", 1), order("o-1", 2)]))
        .await;
    assert!(report.all_finished());
    let commands = processor.sink().take();
    assert_eq!(commands.len(), 3);
    assert_eq!(commands[0].command_id, "order#o-1@1/0");
    assert!(processor.sink().take().is_empty(), "take empties it");
    let (_, lines, _, _) = processor.into_parts();
    let text = String::from_utf8(lines.into_inner()).unwrap();
    let ids: Vec<String> = text
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["eventId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids, ["order#o-1@1", "order#o-1@2"]);
}
