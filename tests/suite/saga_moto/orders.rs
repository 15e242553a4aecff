//! The orders of the run and what must hold for them at its end.
//!
//! Each item starts with [`STOCK`] units (one `Restock` per item); each
//! order asks for some units of one item. The run sends every command
//! twice, both copies shuffled among the others.

use std::collections::BTreeMap;

use futures::StreamExt;
use handler_core::{AggregateKey, Event, EventStore, all_events};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};
use testkit::aws::AwsStack;

use super::SEED;
use crate::processor::harness::command;

/// Items in stock.
pub(super) const ITEMS: usize = 4;
/// Units of each item at the start.
pub(super) const STOCK: u64 = 100;
/// Copies of every command sent.
pub(super) const COPIES: usize = 2;

/// One order of the run.
#[derive(Debug, Clone)]
pub(super) struct Order {
    pub(super) id: String,
    pub(super) item: String,
    pub(super) quantity: u64,
}

/// `count` orders over the items, one to three units each.
pub(super) fn orders(count: usize) -> Vec<Order> {
    (0..count)
        .map(|n| Order {
            id: format!("o-{n:04}"),
            item: item(n % ITEMS),
            quantity: 1 + (n / ITEMS % 3) as u64,
        })
        .collect()
}

fn item(n: usize) -> String {
    format!("item-{n}")
}

/// The commands the run starts from: the stock, then the orders.
pub(super) fn commands(orders: &[Order]) -> (Vec<Value>, Vec<Value>) {
    let stock = (0..ITEMS)
        .map(|n| {
            command(
                "inventory",
                &item(n),
                "Restock",
                json!({ "quantity": STOCK }),
            )
        })
        .collect();
    let placed = orders
        .iter()
        .map(|o| {
            command(
                "order",
                &o.id,
                "CreateOrder",
                json!({ "itemId": o.item, "quantity": o.quantity }),
            )
        })
        .collect();
    (stock, placed)
}

/// Sends each command [`COPIES`] times as separate messages: the stock
/// first, then the orders' copies in one shuffled order. Returns the
/// messages sent.
pub(super) async fn send(
    stack: &AwsStack,
    queue: &str,
    stock: &[Value],
    placed: &[Value],
) -> usize {
    let mut rng = StdRng::seed_from_u64(SEED);
    let mut later: Vec<&Value> = placed.iter().flat_map(|c| [c; COPIES]).collect();
    later.shuffle(&mut rng);
    let first: Vec<&Value> = stock.iter().flat_map(|c| [c; COPIES]).collect();
    for body in &first {
        stack.send(queue, body, None).await;
    }
    let sends = later.iter().map(|body| stack.send(queue, body, None));
    let rest: Vec<String> = futures::stream::iter(sends).buffered(4).collect().await;
    first.len() + rest.len()
}

/// Every aggregate's events, by type then id.
pub(super) type History = BTreeMap<AggregateKey, Vec<Event>>;

/// The events of the orders and of the items.
pub(super) async fn history<S: EventStore>(store: &S, orders: &[Order]) -> History {
    let mut keys: Vec<AggregateKey> = orders
        .iter()
        .map(|o| AggregateKey::new("order", &o.id))
        .collect();
    keys.extend((0..ITEMS).map(|n| AggregateKey::new("inventory", &item(n))));
    let mut out = History::new();
    for key in keys {
        let events = all_events(store, &key).await.expect("read events");
        out.insert(key, events);
    }
    out
}

/// The final state of each order, counted: the outcomes.
pub(super) fn outcomes(history: &History) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (key, events) in history {
        if key.aggregate_type == "order" {
            let last = events.last().map_or("(none)", |e| e.state.as_str());
            *out.entry(last.to_owned()).or_default() += 1;
        }
    }
    out
}

/// What must hold at the end: every order created once and reserved once
/// on its item, nothing reserved for an order that was not placed.
pub(super) fn check(history: &History, orders: &[Order]) {
    for order in orders {
        let events = &history[&AggregateKey::new("order", &order.id)];
        let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(types, ["OrderCreated"], "order {}", order.id);
        let reservations = history[&AggregateKey::new("inventory", &order.item)]
            .iter()
            .filter(|e| {
                e.event_type == "StockReserved" && e.payload["orderId"] == order.id.as_str()
            })
            .count();
        assert_eq!(reservations, 1, "order {}: reservations", order.id);
    }
    for n in 0..ITEMS {
        let events = &history[&AggregateKey::new("inventory", &item(n))];
        let reserved = events
            .iter()
            .filter(|e| e.event_type == "StockReserved")
            .count();
        let placed = orders.iter().filter(|o| o.item == item(n)).count();
        assert_eq!(reserved, placed, "{}: one reservation per order", item(n));
    }
}
