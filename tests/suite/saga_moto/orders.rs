//! The orders of the run: which path each one takes through the saga
//! (config/order.json, inventory.json, payment.json), the commands the
//! run starts from, and how they are sent.
//!
//! Two cheap items (price 10) and two dear ones (price 300), each stocked
//! with [`stock`] units. The path follows from the amount and the quantity:
//! - happy: a cheap item, 1 to 3 units (at most 30, confirmed);
//! - out of stock: a cheap item, more units than were ever stocked;
//! - payment declined: a dear item, 4 units (1200, over the card's limit
//!   of 1000);
//! - confirmation refused: a dear item, 2 units (600, over the 500 that
//!   confirms without a review; charged, then refunded).
//!
//! Stock is ample for every order but the out-of-stock ones, whatever the
//! order the reservations come in, so each order's path is known before
//! the run.

use futures::StreamExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::{Value, json};
use testkit::aws::AwsStack;

use super::SEED;
use crate::processor::harness::command;

/// Copies of every command sent.
pub(super) const COPIES: usize = 2;

/// A path through the saga.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Path {
    Happy,
    OutOfStock,
    PaymentDeclined,
    ConfirmationRefused,
}

impl Path {
    /// Its name in the figures.
    pub(super) fn name(self) -> &'static str {
        match self {
            Path::Happy => "confirmed",
            Path::OutOfStock => "out of stock",
            Path::PaymentDeclined => "payment declined",
            Path::ConfirmationRefused => "confirmation refused",
        }
    }
}

/// One order of the run.
#[derive(Debug, Clone)]
pub(super) struct Order {
    pub(super) id: String,
    pub(super) item: String,
    pub(super) quantity: u64,
    pub(super) path: Path,
}

/// The items and their prices.
pub(super) const ITEMS: [(&str, u64); 4] = [
    ("cheap-1", 10),
    ("cheap-2", 10),
    ("dear-1", 300),
    ("dear-2", 300),
];

/// Units of each item at the start: more than all the orders that are not
/// out of stock could reserve at once.
pub(super) fn stock() -> u64 {
    500 * super::scale() as u64
}

/// `count` orders: of every 20, 11 happy, 3 out of stock, 3 declined, 3
/// refused, interleaved.
pub(super) fn orders(count: usize) -> Vec<Order> {
    (0..count)
        .map(|n| {
            let item = |dear: bool| ITEMS[usize::from(dear) * 2 + n % 2].0.to_owned();
            let (path, item, quantity) = match n % 20 {
                1 | 8 | 15 => (Path::OutOfStock, item(false), 10 * stock()),
                3 | 10 | 17 => (Path::PaymentDeclined, item(true), 4),
                5 | 12 | 19 => (Path::ConfirmationRefused, item(true), 2),
                _ => (Path::Happy, item(false), 1 + (n / 2 % 3) as u64),
            };
            Order {
                id: format!("o-{n:04}"),
                item,
                quantity,
                path,
            }
        })
        .collect()
}

/// The commands the run starts from: the stock, then the orders.
pub(super) fn commands(orders: &[Order]) -> (Vec<Value>, Vec<Value>) {
    let stock = ITEMS
        .iter()
        .map(|(item, price)| {
            command(
                "inventory",
                item,
                "Restock",
                json!({ "quantity": stock(), "price": price }),
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

/// Sends each command [`COPIES`] times as separate messages: the stock's
/// copies first, then the orders' copies in one shuffled order. Returns
/// the messages sent.
pub(super) async fn send(
    stack: &AwsStack,
    queue: &str,
    stock: &[Value],
    placed: &[Value],
) -> usize {
    let mut rng = StdRng::seed_from_u64(SEED);
    let first: Vec<&Value> = stock.iter().flat_map(|c| [c; COPIES]).collect();
    for body in &first {
        stack.send(queue, body, None).await;
    }
    let mut later: Vec<&Value> = placed.iter().flat_map(|c| [c; COPIES]).collect();
    later.shuffle(&mut rng);
    let sends = later.iter().map(|body| stack.send(queue, body, None));
    let rest: Vec<String> = futures::stream::iter(sends).buffered(4).collect().await;
    first.len() + rest.len()
}
