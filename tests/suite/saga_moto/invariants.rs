//! What must hold when the saga has run: each order took its path, each
//! step exactly once; every order is in a final state; stock is back where
//! it was for the failed orders and reduced exactly for the confirmed ones;
//! no charge stands without a confirmed order.

use std::collections::BTreeMap;

use handler_core::{AggregateKey, Event, EventStore, all_events};

use super::orders::{ITEMS, Order, Path, stock};

/// The events of every aggregate of the run.
pub(super) type History = BTreeMap<AggregateKey, Vec<Event>>;

/// The events of the orders, their payments and the items.
pub(super) async fn history<S: EventStore>(store: &S, orders: &[Order]) -> History {
    let mut keys: Vec<AggregateKey> = orders
        .iter()
        .flat_map(|o| {
            [
                AggregateKey::new("order", &o.id),
                AggregateKey::new("payment", &o.id),
            ]
        })
        .collect();
    keys.extend(
        ITEMS
            .iter()
            .map(|(item, _)| AggregateKey::new("inventory", *item)),
    );
    let mut out = History::new();
    for key in keys {
        let events = all_events(store, &key).await.expect("read events");
        out.insert(key, events);
    }
    out
}

/// The events each path leaves on the order and on its payment.
fn expected(path: Path) -> (&'static [&'static str], &'static [&'static str]) {
    match path {
        Path::Happy => (
            &[
                "OrderCreated",
                "ItemReserved",
                "PaymentProcessed",
                "OrderConfirmed",
            ],
            &["ChargeAccepted"],
        ),
        Path::OutOfStock => (&["OrderCreated", "OrderRejected"], &[]),
        Path::PaymentDeclined => (
            &[
                "OrderCreated",
                "ItemReserved",
                "ReservationCancelled",
                "OrderCancelled",
            ],
            &["ChargeDeclined"],
        ),
        Path::ConfirmationRefused => (
            &[
                "OrderCreated",
                "ItemReserved",
                "PaymentProcessed",
                "ConfirmationRefused",
                "PaymentRefunded",
                "ReservationCancelled",
                "OrderCancelled",
            ],
            &["ChargeAccepted", "ChargeRefunded"],
        ),
    }
}

fn types(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

fn state(events: &[Event]) -> &str {
    events.last().map_or("(none)", |e| e.state.as_str())
}

/// The path each order took, read from its events alone, counted.
pub(super) fn outcomes(history: &History) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for (key, events) in history {
        if key.aggregate_type != "order" {
            continue;
        }
        let taken = [
            Path::Happy,
            Path::OutOfStock,
            Path::PaymentDeclined,
            Path::ConfirmationRefused,
        ]
        .into_iter()
        .find(|&p| types(events) == expected(p).0)
        .map_or("none of the paths", Path::name);
        *out.entry(taken).or_default() += 1;
    }
    out
}

/// Panics, naming the order or item, where an invariant does not hold.
pub(super) fn check(history: &History, stocks: &BTreeMap<&str, u64>, orders: &[Order]) {
    let events = |kind: &str, id: &str| &history[&AggregateKey::new(kind, id)];
    let mut confirmed: BTreeMap<&str, u64> = BTreeMap::new();
    for order in orders {
        let (order_events, payment_events) = expected(order.path);
        let placed = events("order", &order.id);
        let payment = events("payment", &order.id);
        assert_eq!(types(placed), order_events, "order {}", order.id);
        assert_eq!(types(payment), payment_events, "payment {}", order.id);
        let end = state(placed);
        assert!(
            ["Confirmed", "Cancelled", "Rejected"].contains(&end),
            "order {} not in a final state: {end}",
            order.id
        );
        // No charge without a confirmed order.
        if state(payment) == "Charged" {
            assert_eq!(end, "Confirmed", "order {} charged", order.id);
        }
        if end == "Confirmed" {
            *confirmed.entry(order.item.as_str()).or_default() += order.quantity;
        }
        // Its item: reserved and released (or short) once each, as its path says.
        let on_item = |event_type: &str| {
            events("inventory", &order.item)
                .iter()
                .filter(|e| e.event_type == event_type && e.payload["orderId"] == order.id.as_str())
                .count()
        };
        let seen = (
            on_item("StockReserved"),
            on_item("StockReleased"),
            on_item("StockShortage"),
        );
        let want = match order.path {
            Path::Happy => (1, 0, 0),
            Path::OutOfStock => (0, 0, 1),
            Path::PaymentDeclined | Path::ConfirmationRefused => (1, 1, 0),
        };
        assert_eq!(
            seen, want,
            "order {}: (reserved, released, short) on {}",
            order.id, order.item
        );
    }
    // Stock back where it was but for what confirmed orders took.
    for (item, _) in ITEMS {
        let taken = confirmed.get(item).copied().unwrap_or(0);
        assert_eq!(stocks[item], stock() - taken, "{item}: stock after the run");
    }
}

/// Each item's stock now: `stock` in its head's data (the `set` results
/// its events hold, folded).
pub(super) async fn stocks<S: EventStore>(store: &S) -> BTreeMap<&'static str, u64> {
    let mut out = BTreeMap::new();
    for (item, _) in ITEMS {
        let head = store
            .load(&AggregateKey::new("inventory", item), &[])
            .await
            .expect("load an item")
            .head
            .expect("the item exists");
        out.insert(item, head.data["stock"].as_u64().expect("a stock count"));
    }
    out
}
