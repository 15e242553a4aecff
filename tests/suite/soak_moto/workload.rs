//! What the soak sends: every command twice, in a shuffled order.

use std::collections::HashMap;

use futures::StreamExt;
use handler_core::AggregateKey;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use testkit::audit::Sent;
use testkit::moto::unique_name;

use super::{COMMANDS_PER_AGGREGATE, COPIES, POISON_EVERY, SEED};

/// The commands of the soak: per aggregate an `OpenTicket`, then `Comment`
/// and `Assign` alternately, each with its own command id; and the poisoned
/// aggregates' last command, refused by its schema.
pub(super) fn workload(run: &str, aggregates: usize) -> Vec<Vec<(String, Value)>> {
    (0..aggregates)
        .map(|a| {
            let id = format!("t-{a:02}");
            let poisoned = a % POISON_EVERY == 0;
            (0..COMMANDS_PER_AGGREGATE + usize::from(poisoned))
                .map(|n| {
                    let (command, payload) = match n {
                        0 => ("OpenTicket", json!({ "title": format!("ticket {a}") })),
                        COMMANDS_PER_AGGREGATE => ("Comment", json!({ "text": "" })),
                        n if n % 2 == 1 => ("Comment", json!({ "text": format!("comment {n}") })),
                        n => ("Assign", json!({ "assignee": format!("agent-{n}") })),
                    };
                    let command_id = format!("{run}-{id}-{n:02}");
                    let body = json!({
                        "commandId": command_id,
                        "aggregateType": "ticket",
                        "aggregateId": id,
                        "command": command,
                        "payload": payload,
                        "metadata": { "soak": run },
                    });
                    (command_id, body)
                })
                .collect()
        })
        .collect()
}

/// Sends every command twice, as separate `SendMessage` calls, directly to
/// moto. First copies go round by round (each aggregate's `OpenTicket`
/// before its later commands, aggregates in a shuffled order per round);
/// second copies are shuffled and mixed into the first ones at random; the
/// poisoned commands go, both copies, right after the `OpenTicket`s.
/// Returns what was sent, per command.
pub(super) async fn send_workload(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    aggregates: usize,
) -> Vec<Sent> {
    let mut rng = StdRng::seed_from_u64(SEED);
    let commands = workload(&unique_name("soak"), aggregates);
    // Early, so that the poisoned commands' ten receives overlap the run.
    let mut firsts = Vec::new();
    let mut poison = Vec::new();
    for round in 0..=COMMANDS_PER_AGGREGATE {
        let mut order: Vec<usize> = (0..aggregates)
            .filter(|&a| commands[a].len() > round)
            .collect();
        order.shuffle(&mut rng);
        let slots = order.into_iter().map(|a| (a, round));
        if round == COMMANDS_PER_AGGREGATE {
            poison.extend(slots.flat_map(|slot| [slot; COPIES]));
        } else {
            firsts.extend(slots);
        }
    }
    let mut order: Vec<(usize, usize)> = firsts.drain(..aggregates).collect();
    order.append(&mut poison);
    let mut seconds = [order[..aggregates].to_vec(), firsts.clone()].concat();
    seconds.shuffle(&mut rng);
    let (mut firsts, mut seconds) = (firsts.into_iter(), seconds.into_iter());
    loop {
        let next = if rng.random_bool(0.5) {
            firsts.next().or_else(|| seconds.next())
        } else {
            seconds.next().or_else(|| firsts.next())
        };
        match next {
            Some(slot) => order.push(slot),
            None => break,
        }
    }
    assert_eq!(
        order.len(),
        commands.iter().map(Vec::len).sum::<usize>() * COPIES
    );

    // A few sends in flight at once (moto answers slowly while the workers
    // keep it busy); the order is kept up to those few.
    let sends = order.iter().map(|&(a, n)| {
        let body = commands[a][n].1.to_string();
        async move {
            let id = sqs
                .send_message()
                .queue_url(queue_url)
                .message_body(body)
                .send()
                .await
                .expect("SendMessage to moto")
                .message_id()
                .expect("a message id")
                .to_owned();
            ((a, n), id)
        }
    });
    let sent: Vec<_> = futures::stream::iter(sends).buffered(4).collect().await;
    let mut message_ids: HashMap<(usize, usize), Vec<String>> = HashMap::new();
    for (slot, id) in sent {
        message_ids.entry(slot).or_default().push(id);
    }
    commands
        .iter()
        .enumerate()
        .flat_map(|(a, per_aggregate)| {
            let message_ids = &mut message_ids;
            per_aggregate
                .iter()
                .enumerate()
                .map(move |(n, (command_id, body))| Sent {
                    command_id: command_id.clone(),
                    key: AggregateKey::new(
                        "ticket",
                        body["aggregateId"].as_str().expect("aggregateId"),
                    ),
                    message_ids: message_ids.remove(&(a, n)).unwrap_or_default(),
                })
                .collect::<Vec<_>>()
        })
        .collect()
}
