//! The latency bench: the batch handler over the embedded store behind a
//! fixed delay per store call (10 ms, about a DynamoDB round trip). It
//! reports each batch's wall time in round trips (wall ÷ delay) and the
//! store calls it made:
//! - a batch of 10 over 10 new aggregates, and 10 on 1 new aggregate;
//! - the same 10 commands handled one at a time (10 batches of 1);
//! - batch sizes 1, 10 and 100, to show the round trips do not grow.
//!
//! `cargo bench -p batch-handler --bench latency` measures (5 runs each,
//! the median reported). Under `cargo test --benches` it makes one tiny run
//! at 1 ms and asserts nothing about time.
#![forbid(unsafe_code)]

mod common;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use batch_handler::Handler;
use handler_core::{Batch, InboundMessage};
use store_sqlite::SqliteStore;

use common::{Delayed, messages, ticket_machine};
use test_doubles::MemoryConfigs;

type Bench = Handler<Arc<Delayed<SqliteStore>>, MemoryConfigs>;

/// One measured case: the batches to handle one after the other, and how
/// many commands they hold.
struct Case {
    name: String,
    commands: usize,
    batches: Box<dyn Fn(u64) -> Vec<Vec<InboundMessage>>>,
}

fn cases(sizes: &[usize]) -> Vec<Case> {
    let mut out = vec![
        Case {
            name: "10 over 10 aggregates, one batch".into(),
            commands: 10,
            batches: Box::new(|run| vec![messages(run, 10, 0, 1)]),
        },
        Case {
            name: "10 over 10 aggregates, one at a time".into(),
            commands: 10,
            batches: Box::new(|run| {
                messages(run, 10, 0, 1)
                    .into_iter()
                    .map(|m| vec![m])
                    .collect()
            }),
        },
        Case {
            name: "10 on 1 aggregate, one batch".into(),
            commands: 10,
            batches: Box::new(|run| vec![messages(run, 1, 0, 10)]),
        },
        Case {
            name: "10 on 1 aggregate, one at a time".into(),
            commands: 10,
            batches: Box::new(|run| {
                messages(run, 1, 0, 10)
                    .into_iter()
                    .map(|m| vec![m])
                    .collect()
            }),
        },
    ];
    for &n in sizes {
        out.push(Case {
            name: format!("{n} over {n} aggregates, one batch"),
            commands: n,
            batches: Box::new(move |run| vec![messages(run, n, 0, 1)]),
        });
        out.push(Case {
            name: format!("{n} on 1 aggregate, one batch"),
            commands: n,
            batches: Box::new(move |run| vec![messages(run, 1, 0, n)]),
        });
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let measuring = std::env::args().any(|a| a == "--bench");
    let (delay, runs, sizes): (_, usize, &[usize]) = if measuring {
        (Duration::from_millis(10), 5, &[1, 10, 100])
    } else {
        (Duration::from_millis(1), 1, &[1, 10])
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = Arc::new(Delayed::new(
        SqliteStore::in_memory().expect("in-memory SQLite"),
        delay,
    ));
    let handler: Bench = Handler::new(store.clone(), MemoryConfigs::one(ticket_machine()));

    println!(
        "latency: store delay {} ms per call, median of {runs} run(s)",
        delay.as_millis()
    );
    println!("| case | commands | wall (ms) | round trips (wall ÷ delay) | store calls |");
    println!("| --- | --- | --- | --- | --- |");
    let mut run = 0;
    for case in cases(sizes) {
        let mut walls = Vec::with_capacity(runs);
        let mut calls = 0;
        for _ in 0..runs {
            run += 1;
            let batches = (case.batches)(run);
            let before = store.calls.load(Ordering::Relaxed);
            let started = Instant::now();
            for batch in batches {
                let report = runtime.block_on(handler.handle(Batch::standard(batch)));
                assert!(
                    report.failed_message_ids().is_empty(),
                    "{}: a command failed",
                    case.name
                );
            }
            walls.push(started.elapsed());
            calls = store.calls.load(Ordering::Relaxed) - before;
        }
        walls.sort();
        let wall = walls[walls.len() / 2];
        println!(
            "| {} | {} | {:.1} | {:.2} | {} |",
            case.name,
            case.commands,
            wall.as_secs_f64() * 1e3,
            wall.as_secs_f64() / delay.as_secs_f64(),
            calls
        );
    }
}
