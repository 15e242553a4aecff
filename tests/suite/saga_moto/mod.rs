//! The order saga on moto, through the real path: commands on an SQS
//! queue, the worker and the handler applying them to the DynamoDB table,
//! the table's stream read with GetRecords and handed to the event
//! processor's Lambda body, its reactions put on the command queue by its
//! SQS sink; until the queue and the stream are quiet ([`drive`]). Every
//! message is delivered twice: each command is sent twice, and each stream
//! batch handed to the processor twice (so each reaction is sent twice).
//!
//! At the end: the invariants of the orders ([`invariants::check`]), and the
//! soak audit (nothing lost, nothing doubled, versions gapless, heads equal
//! to the fold). The figures are printed and written to
//! `target/saga-moto.txt` (BENCHMARKS.md, "The order saga on moto").
//!
//! 100 orders by default; `SAGA_SCALE=N` makes it `100 × N` (its own knob:
//! `.ci/run`'s `SOAK_SCALE` leaves it at 100, moto's slowing transactions
//! make it the longest test). No wait has a
//! total time cap: the drive fails only after a quiet period without a
//! message received or a stream record read.

mod drive;
mod invariants;
mod orders;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;

use handler_core::AggregateKey;
use handler_core::state_machine::StateMachine;
use testkit::audit::{self, Sent, audit};

use crate::processor::harness::Rig;
use drive::{Drive, HAND_OVERS};
use orders::COPIES;

/// Orders per unit of [`SCALE_VARIABLE`].
const ORDERS_PER_SCALE: usize = 100;
/// The saga's size factor.
const SCALE_VARIABLE: &str = "SAGA_SCALE";
const SEED: u64 = 0x5a6a_2026;

/// The saga's size factor from [`SCALE_VARIABLE`].
fn scale() -> usize {
    audit::scale_of(SCALE_VARIABLE)
}

#[tokio::test]
async fn the_order_saga_on_moto_with_every_message_twice() {
    let started = Instant::now();
    let mut rig = Rig::new().await;
    let orders = orders::orders(ORDERS_PER_SCALE * scale());
    let (stock, placed) = orders::commands(&orders);
    let messages_sent = orders::send(&rig.stack, &rig.commands, &stock, &placed).await;

    let mut drive = Drive::new(&mut rig);
    let reactions = match drive.until_quiet().await {
        Ok(reactions) => reactions,
        Err(stalled) => panic!(
            "the saga stopped moving: {stalled} (messages received, stream records read); {:?}",
            drive.tally
        ),
    };
    let tally = drive.tally;
    let driven = started.elapsed();

    // Every command the run needed: those sent, and each reaction the
    // processor's sink accepted (once per id), with the messages it came as.
    let mut needed: HashMap<String, AggregateKey> = HashMap::new();
    for body in stock.iter().chain(&placed) {
        let field = |name: &str| body[name].as_str().expect("a command field");
        needed.insert(
            field("commandId").to_owned(),
            AggregateKey::new(field("aggregateType"), field("aggregateId")),
        );
    }
    let reactions_sent = reactions.len();
    needed.extend(reactions);
    let distinct_reactions = needed.len() - (stock.len() + placed.len());
    let received = tally.sent();
    let unexpected: Vec<&Sent> = received
        .iter()
        .filter(|s| !needed.contains_key(&s.command_id))
        .collect();
    assert!(
        unexpected.is_empty(),
        "commands nobody sent: {unexpected:?}"
    );
    let sent: Vec<Sent> = needed
        .iter()
        .map(|(id, key)| Sent {
            command_id: id.clone(),
            key: key.clone(),
            message_ids: received
                .iter()
                .find(|s| &s.command_id == id)
                .map(|s| s.message_ids.clone())
                .unwrap_or_default(),
        })
        .collect();
    let store = rig.stack.store();
    let report = audit(&store, &machines(), &sent, &HashSet::new()).await;
    let (dead, _) = rig.stack.depth(&rig.dlq).await;

    let history = invariants::history(&store, &orders).await;
    let stocks = invariants::stocks(&store).await;
    let outcomes = invariants::outcomes(&history);
    let line = format!(
        "saga_moto: {orders} orders, outcomes {outcomes:?}; {commands} commands ({sent} sent, \
         {reactions} reactions), {messages} messages received ({messages_sent} sent, \
         {reactions_sent} by the processor's sink); {events} events; {duplicates} duplicates \
         absorbed; {records} stream records in {invocations} processor invocations \
         (each batch {HAND_OVERS} times); {dead} in the DLQ; lost {lost}, doubled {doubled}; \
         driven in {driven:.1?} ({variable}={scale})",
        orders = orders.len(),
        commands = report.commands,
        sent = stock.len() + placed.len(),
        reactions = distinct_reactions,
        messages = tally.received,
        reactions_sent = reactions_sent,
        events = report.events,
        duplicates = tally.duplicates,
        records = tally.records,
        invocations = tally.invocations,
        lost = report.lost,
        doubled = report.doubled,
        variable = SCALE_VARIABLE,
        scale = scale(),
    );
    eprintln!("{line}");
    audit::write_figures("saga-moto.txt", &line);

    invariants::check(&history, &stocks, &orders);
    let mut planned = std::collections::BTreeMap::new();
    for order in &orders {
        *planned.entry(order.path.name()).or_default() += 1;
    }
    assert_eq!(outcomes, planned, "the paths taken");
    assert_eq!(report.lost, 0, "{}", report.summary());
    assert_eq!(report.doubled, 0, "{}", report.summary());
    assert_eq!(report.applied, report.commands, "{}", report.summary());
    assert_eq!(report.events, report.applied, "one event per command");
    assert!(tally.failed.is_empty(), "failed messages: {tally:?}");
    assert_eq!((dead, tally.unfinished), (0, 0), "{tally:?}");
    assert_eq!(tally.applied as usize, report.commands);
    assert_eq!(
        tally.received as usize,
        COPIES * report.commands,
        "every command received twice"
    );
    assert_eq!(
        tally.duplicates as usize, report.commands,
        "each command's second copy absorbed"
    );
    assert_eq!(
        tally.records as usize, report.events,
        "one record per event"
    );
    assert_eq!(messages_sent, COPIES * (stock.len() + placed.len()));
}

/// The state machine of every shipped config, by aggregate type.
fn machines() -> HashMap<String, Arc<StateMachine>> {
    std::fs::read_dir(testkit::scenario::config_dir())
        .expect("config/")
        .map(|entry| entry.expect("config entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .map(|path| {
            let machine = StateMachine::from_json(&std::fs::read(&path).expect("read config"))
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (machine.aggregate_type().to_owned(), Arc::new(machine))
        })
        .collect()
}
