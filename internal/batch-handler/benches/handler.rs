//! The batch handler on the embedded store (SQLite in memory, configs in
//! memory): batches of 10 messages, one command on each of 10 new
//! aggregates, and 10 commands on one new aggregate. Reports commands per
//! second, one batch at a time on a current-thread runtime. `cargo bench -p batch-handler --bench handler`.
#![forbid(unsafe_code)]
// criterion_group! makes an undocumented pub fn.
#![allow(missing_docs)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use batch_handler::Handler;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use handler_core::Batch;
use store_sqlite::SqliteStore;

use common::{messages, ticket_machine};
use test_doubles::MemoryConfigs;

fn handler(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let store = Arc::new(SqliteStore::in_memory().expect("in-memory SQLite"));
    let handler = Handler::new(store, MemoryConfigs::one(ticket_machine()));
    let run = AtomicU64::new(0);

    let mut group = c.benchmark_group("handler-sqlite");
    group.throughput(Throughput::Elements(10));
    // 10 new aggregates, one command each.
    group.bench_function("batch of 10 over 10 aggregates", |b| {
        b.iter(|| {
            let batch = Batch::standard(messages(run.fetch_add(1, Ordering::Relaxed), 10, 0, 1));
            let report = runtime.block_on(handler.handle(batch));
            assert_eq!(report.applied(), 10);
        });
    });
    group.bench_function("batch of 10 on 1 aggregate", |b| {
        b.iter(|| {
            let batch = Batch::standard(messages(run.fetch_add(1, Ordering::Relaxed), 1, 0, 10));
            let report = runtime.block_on(handler.handle(batch));
            assert_eq!(report.applied(), 10);
        });
    });
    group.finish();
}

criterion_group!(benches, handler);
criterion_main!(benches);
