//! The worst rule evaluations we can build (docs/reference.md §2, the
//! evaluation budget): each case is a one-transition config whose guard
//! reads a payload within the handler's 256 KiB body limit, decided once (a
//! slow case) or the best of three. Prints one line per case: the payload's
//! size, whether the config loads, the outcome and the time. BENCHMARKS.md
//! gives the figures; run it in release:
//!
//! ```text
//! cargo run --release -p state-machine --example rule_budget
//! ```

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use state_machine::{AggregateState, CommandInput, StateMachine};

/// The body limit of a command (the whole envelope; the payload is a little
/// less).
const BODY: usize = 256 * 1024;

fn config(guard: &Value) -> Value {
    json!({
        "aggregateType": "bench", "version": 1, "initialState": "A", "states": ["A", "B"],
        "transitions": [{ "command": "Go", "from": ["A"], "to": "B", "event": "Went",
                          "guard": guard }]
    })
}

/// `n` numbers `1, 1, ...` (2 bytes each in JSON).
fn ones(n: usize) -> Vec<Value> {
    vec![json!(1); n]
}

fn run(name: &str, guard: Value, payload: Value) {
    let bytes = serde_json::to_vec(&payload).expect("serializable").len();
    assert!(bytes < BODY, "{name}: the payload is {bytes} bytes");
    let machine = match StateMachine::from_json(&serde_json::to_vec(&config(&guard)).unwrap()) {
        Ok(machine) => machine,
        Err(err) => {
            let first = err.faults.first().map(ToString::to_string);
            println!(
                "{name:<28} payload {bytes:>6} B  refused at load: {}",
                first.unwrap_or_default()
            );
            return;
        }
    };
    let Value::Object(payload) = payload else {
        unreachable!("payloads are objects")
    };
    let state = AggregateState {
        alarms: Default::default(),
        state: "A".into(),
        version: 1,
        data: Map::new(),
    };
    let metadata = Map::new();
    let input = CommandInput {
        now: state_machine::Timestamp::now(),
        aggregate_type: "bench",
        aggregate_id: "b-1",
        command: "Go",
        payload: &payload,
        metadata: &metadata,
    };
    let mut best = Duration::MAX;
    let mut outcome = String::new();
    for _ in 0..3 {
        let start = Instant::now();
        let decided = machine.decide_command(&state, &input);
        let took = start.elapsed();
        best = best.min(took);
        outcome = match decided {
            Ok(_) => "applies".to_owned(),
            Err(rejection) => {
                let reason = rejection.to_string();
                if reason.contains("BudgetExceeded") {
                    "refused: over the budget".to_owned()
                } else if reason.contains("could not be evaluated") {
                    "refused: rule failed".to_owned()
                } else {
                    "refused: guard does not hold".to_owned()
                }
            }
        };
        if took > Duration::from_secs(1) {
            break;
        }
    }
    println!(
        "{name:<28} payload {bytes:>6} B  {outcome:<28} {:>10.3} ms",
        best.as_secs_f64() * 1e3
    );
}

fn main() {
    // The issue's case: a `[level]` path reads the outer array in a body, so
    // each of n items is looked up among n: n^2 comparisons.
    let n = 62_000;
    let outer = json!({"some": [{"var": "payload.xs"},
        {"in": [{"var": ""}, {"var": [[1], "payload", "ys"]}]}]});
    run(
        "outer-scope `in` (n^2)",
        outer,
        json!({"xs": ones(n), "ys": vec![json!(2); n]}),
    );

    // Within the bounds: comparing two arrays (linear).
    run(
        "`==` of two arrays",
        json!({"==": [{"var": "payload.xs"}, {"var": "payload.ys"}]}),
        json!({"xs": ones(62_000), "ys": ones(62_000)}),
    );
    // A body of ~60 nodes over every item.
    let literals: Vec<Value> = (2..58).map(Value::from).collect();
    run(
        "`some` with a 60-node body",
        json!({"some": [{"var": "payload.xs"}, {"in": [{"var": ""}, literals]}]}),
        json!({"xs": ones(120_000)}),
    );
    // Quadratic operators at the edge of the budget, and past it.
    let distinct: Vec<Value> = (0..4_000).map(Value::from).collect();
    run(
        "`distinct` of 4,000",
        json!({"distinct": [{"var": "payload.xs"}]}),
        json!({"xs": distinct}),
    );
    let distinct: Vec<Value> = (0..40_000).map(Value::from).collect();
    run(
        "`distinct` of 40,000",
        json!({"distinct": [{"var": "payload.xs"}]}),
        json!({"xs": distinct}),
    );
    let keys: Vec<Value> = (0..200).map(|k| json!(format!("payload.o.j{k}"))).collect();
    let object: Map<String, Value> = (0..200).map(|k| (format!("k{k}"), json!(1))).collect();
    run(
        "`missing` 200 in 200 keys",
        json!({"missing": {"var": "payload.keys"}}),
        json!({"keys": keys, "o": object}),
    );
    run(
        "`sort` of 120,000",
        json!({"sort": [{"var": "payload.xs"}]}),
        json!({"xs": (0..120_000).rev().map(|k| json!(k % 10)).collect::<Vec<_>>()}),
    );
    run(
        "`split` of a 250 KB string",
        json!({"split": [{"var": "payload.s"}, ""]}),
        json!({"s": "x".repeat(250_000)}),
    );
}
