//! What a command costs in DynamoDB requests and capacity units, measured on
//! the wire: real commands through the real handler and `store-dynamodb`,
//! against moto, through a recording proxy. The units are computed from the
//! items actually written and read, by AWS's rules (`testkit::capacity`);
//! moto's own consumed-capacity figures are fixed numbers and are not used.
//! It reads whatever layout the store writes.
//!
//! - `cargo test -p testkit --bench moto_units -- --bench` (the debug
//!   build is enough: the figures are of the wire and of moto, not of our
//!   code's speed; `cargo bench` does the same after a release build): every scenario, histories of 10, 100 and 1,000 events, and
//!   commands per second through moto (a figure of moto, not of the
//!   handler). Seeding grows with the square of the history: each moto
//!   transaction deep-copies every table, stream records included, so
//!   `BENCH_HISTORIES=10000` takes the better part of an hour.
//! - `... -- --quick` (or `BENCH_QUICK=1`): histories of 10 and 100.
//! - `BENCH_HISTORIES=10,1000,10000`: these history lengths instead.
//! - Under `cargo test --benches`: one tiny run (history of 10), asserting
//!   only that every command applied and units were counted.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::time::Instant;

use aws_sdk_dynamodb::Client;
use batch_handler::Handler;
use config_dir::DirConfigSource;
use handler_core::{AggregateKey, Batch, InboundMessage, all_events};
use serde_json::{Value, json};
use store_dynamodb::{DynamoStore, create_table};
use testkit::capacity::{TableShape, Units, request_units};
use testkit::fault_proxy::{Exchange, FaultPlan, FaultProxy};
use testkit::moto::{moto, unique_name};
use testkit::scenario::{Message, command, config_dir};

/// How much to run.
struct Plan {
    histories: Vec<usize>,
    throughput_batches: usize,
}

impl Plan {
    fn from_args() -> Plan {
        let mut plan = Plan::defaults();
        if let Ok(list) = std::env::var("BENCH_HISTORIES") {
            plan.histories = list
                .split(',')
                .map(|n| {
                    n.trim()
                        .parse()
                        .expect("BENCH_HISTORIES: numbers, comma-separated")
                })
                .collect();
        }
        plan
    }

    fn defaults() -> Plan {
        let measuring = std::env::args().any(|a| a == "--bench");
        let quick = std::env::args().any(|a| a == "--quick")
            || std::env::var("BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        match (measuring, quick) {
            (false, _) => Plan {
                histories: vec![10],
                throughput_batches: 1,
            },
            (true, true) => Plan {
                histories: vec![10, 100],
                throughput_batches: 5,
            },
            (true, false) => Plan {
                histories: vec![10, 100, 300],
                throughput_batches: 10,
            },
        }
    }
}

/// A fresh table in moto, the handler on it, and the proxy in between.
struct Stand {
    client: Client,
    table: String,
    proxy: FaultProxy,
    shape: TableShape,
    store: DynamoStore,
    handler: Handler<DynamoStore, DirConfigSource>,
}

impl Stand {
    async fn new() -> Stand {
        let proxy = FaultProxy::start(moto().endpoint(), FaultPlan::default()).await;
        let sdk = moto()
            .sdk_config()
            .await
            .to_builder()
            .endpoint_url(proxy.endpoint())
            .build();
        let client = Client::new(&sdk);
        let table = unique_name("bench");
        create_table(&client, &table).await.expect("create table");
        proxy.record_exchanges();
        client
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .expect("describe table");
        let described = proxy
            .take_exchanges()
            .into_iter()
            .find(|e| operation(e) == "DescribeTable")
            .expect("the DescribeTable answer went through the proxy");
        let shape = TableShape::from_description(&body(&described.answer)["Table"]);
        let store = DynamoStore::new(
            client.clone(),
            &table,
            std::sync::Arc::new(handler_core::SystemClock),
        );
        let handler = Handler::new(store.clone(), DirConfigSource::new(config_dir()));
        Stand {
            client,
            table,
            proxy,
            shape,
            store,
            handler,
        }
    }

    /// Deletes the table: moto copies every table of the server, stream
    /// records included, on each transaction, so tables left behind slow
    /// every later one.
    async fn delete(self) {
        self.client
            .delete_table()
            .table_name(&self.table)
            .send()
            .await
            .expect("delete table");
    }

    /// Handles `batch` (every command must apply) and returns what went
    /// over the wire.
    async fn handle(&self, batch: &[Message]) -> Measured {
        self.proxy.take_exchanges();
        let report = self
            .handler
            .handle(Batch::standard(batch.iter().map(inbound).collect()))
            .await;
        assert!(
            report.failed_message_ids().is_empty(),
            "every command applies: {:?}",
            report.outcomes
        );
        self.measured(batch.len())
    }

    /// What went over the wire since the last look, for `commands` commands.
    fn measured(&self, commands: usize) -> Measured {
        let mut measured = Measured {
            commands,
            ..Measured::default()
        };
        for exchange in self.proxy.take_exchanges() {
            let op = operation(&exchange).to_owned();
            let answer = if exchange.status == 200 {
                body(&exchange.answer)
            } else {
                measured.errors += 1;
                Value::Null
            };
            measured.units += request_units(&self.shape, &op, &body(&exchange.request), &answer);
            *measured.requests.entry(op).or_default() += 1;
        }
        measured
    }
}

#[derive(Debug, Default)]
struct Measured {
    commands: usize,
    requests: BTreeMap<String, usize>,
    units: Units,
    errors: usize,
}

impl Measured {
    fn row(&self, scenario: &str) -> String {
        let per = self.commands.max(1) as f64;
        let requests: Vec<String> = self
            .requests
            .iter()
            .map(|(op, n)| format!("{op} {n}"))
            .collect();
        let total: usize = self.requests.values().sum();
        format!(
            "| {scenario} | {} | {} | {:.2} | {:.2} ({:.2} + {:.2} index) | {:.2} |{}",
            self.commands,
            requests.join(", "),
            total as f64 / per,
            self.units.wru() / per,
            self.units.table_wru / per,
            self.units.index_wru / per,
            self.units.rru / per,
            if self.errors > 0 {
                format!(" {} error answers", self.errors)
            } else {
                String::new()
            }
        )
    }
}

fn operation(exchange: &Exchange) -> &str {
    exchange
        .operation
        .rsplit('.')
        .next()
        .unwrap_or(&exchange.operation)
}

fn body(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or(Value::Null)
}

fn inbound(message: &Message) -> InboundMessage {
    InboundMessage::new(message.id.clone(), message.body.clone())
}

fn open(id: &str) -> Message {
    command(
        "ticket",
        id,
        "OpenTicket",
        json!({"title": "printer on fire"}),
    )
}

fn comment(id: &str) -> Message {
    command("ticket", id, "Comment", json!({"text": "looking into it"}))
}

const HEADER: &str = "| scenario | commands | requests | requests/command | WRU/command | RRU/command |\n| --- | --- | --- | --- | --- | --- |";

async fn scenarios(stand: &Stand) {
    println!("{HEADER}");
    let first = open("t-1");
    let m = stand.handle(std::slice::from_ref(&first)).await;
    assert!(m.units.wru() > 0.0, "writes were seen and counted");
    println!("{}", m.row("one command, new aggregate"));
    let again = comment("t-1");
    println!(
        "{}",
        stand
            .handle(std::slice::from_ref(&again))
            .await
            .row("one command, existing aggregate")
    );
    println!(
        "{}",
        stand
            .handle(std::slice::from_ref(&again))
            .await
            .row("the same message again (duplicate delivery)")
    );
    let ten_new: Vec<Message> = (0..10).map(|i| open(&format!("t-new-{i}"))).collect();
    println!(
        "{}",
        stand
            .handle(&ten_new)
            .await
            .row("batch of 10 over 10 new aggregates")
    );
    let ten: Vec<Message> = (0..10).map(|i| comment(&format!("t-new-{i}"))).collect();
    println!(
        "{}",
        stand
            .handle(&ten)
            .await
            .row("batch of 10 over 10 existing aggregates")
    );
    let on_one: Vec<Message> = (0..10).map(|_| comment("t-1")).collect();
    println!(
        "{}",
        stand
            .handle(&on_one)
            .await
            .row("batch of 10 on 1 existing aggregate")
    );
    println!(
        "{}",
        stand
            .handle(&on_one)
            .await
            .row("the same 10 again (duplicate delivery)")
    );
}

/// One aggregate's history grown to `events`, then what a command on it costs.
async fn history(events: usize) {
    let stand = Stand::new().await;
    let id = "t-long";
    let seeding = Instant::now();
    stand.handle(&[open(id)]).await;
    // Large batches: the handler commits them in as few transactions as
    // the store's limits allow.
    let mut left = events - 1;
    while left > 0 {
        let n = left.min(1_000);
        let batch: Vec<Message> = (0..n).map(|_| comment(id)).collect();
        stand.handle(&batch).await;
        left -= n;
    }
    let seeded = seeding.elapsed();
    for (op, t) in stand.proxy.times() {
        eprintln!(
            "seeding {events}: {op}: {} requests, {:.1} s upstream, slowest {:.2} s",
            t.count,
            t.upstream.as_secs_f64(),
            t.slowest.as_secs_f64()
        );
    }
    let one = comment(id);
    let single = stand.handle(std::slice::from_ref(&one)).await;
    let duplicate = stand.handle(std::slice::from_ref(&one)).await;
    let ten: Vec<Message> = (0..10).map(|_| comment(id)).collect();
    let batch = stand.handle(&ten).await;
    let key = AggregateKey::new("ticket", id);
    let read = all_events(&stand.store, &key)
        .await
        .expect("read the history");
    let whole = stand.measured(read.len());
    let total = |m: &Measured| m.requests.values().sum::<usize>() as f64;
    println!(
        "| {events} | {:.2} / {:.2} / {} | {:.2} / {:.2} / {:.2} | {:.2} / {} | {} / {:.0} | {:.0} s |",
        single.units.wru(),
        single.units.rru,
        total(&single),
        batch.units.wru() / 10.0,
        batch.units.rru / 10.0,
        total(&batch) / 10.0,
        duplicate.units.rru,
        total(&duplicate),
        total(&whole),
        whole.units.rru,
        seeded.as_secs_f64(),
    );
    stand.delete().await;
}

/// Commands per second through moto: batches of 10 over 10 aggregates.
async fn throughput(batches: usize) {
    let stand = Stand::new().await;
    let ids: Vec<String> = (0..10).map(|i| format!("t-{i}")).collect();
    stand
        .handle(&ids.iter().map(|id| open(id)).collect::<Vec<_>>())
        .await;
    let started = Instant::now();
    for _ in 0..batches {
        stand
            .handle(&ids.iter().map(|id| comment(id)).collect::<Vec<_>>())
            .await;
    }
    let took = started.elapsed();
    println!(
        "through moto: {} commands in {:.2} s, {:.0} commands/s (batches of 10 over 10 aggregates; this measures moto, which runs DynamoDB requests one at a time behind the proxy, not the handler)",
        batches * 10,
        took.as_secs_f64(),
        (batches * 10) as f64 / took.as_secs_f64()
    );
    stand.delete().await;
}

fn main() {
    let plan = Plan::from_args();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let stand = Stand::new().await;
        let indexes: Vec<&str> = stand.shape.indexes.iter().map(|i| i.name.as_str()).collect();
        println!("moto_units: table keys {:?}, indexes {:?}", stand.shape.keys, indexes);
        println!();
        scenarios(&stand).await;
        stand.delete().await;
        println!();
        println!("one aggregate's history (events before the measured commands)");
        println!("| events | one command: WRU / RRU / requests | batch of 10 on it, per command: WRU / RRU / requests | duplicate: RRU / requests | whole history read: requests / RRU | seeding took |");
        println!("| --- | --- | --- | --- | --- | --- |");
        for &events in &plan.histories {
            history(events).await;
        }
        println!();
        throughput(plan.throughput_batches).await;
    });
}
