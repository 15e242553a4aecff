//! The core decision, no I/O: parse the envelope, decide (the transition and
//! its payload schema), fingerprint the command, and fold the event into the
//! state, for a ticket opened, then commented and assigned. Reports commands per second
//! on one core, and each step on its own ("fold" includes cloning the
//! state it folds into). `cargo bench -p batch-handler --bench decision`.
#![forbid(unsafe_code)]
// criterion_group! makes an undocumented pub fn.
#![allow(missing_docs)]

mod common;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use handler_core::{fingerprint, parse_command};

use common::{body, ticket_machine};

fn decision(c: &mut Criterion) {
    let machine = ticket_machine();
    let bodies: Vec<String> = (0..10)
        .map(|step| body("o-1", step, &format!("c-{step}")))
        .collect();
    let mut group = c.benchmark_group("decision");
    group.throughput(Throughput::Elements(bodies.len() as u64));
    group.bench_function("parse+decide+fingerprint+fold", |b| {
        b.iter(|| {
            let mut state = machine.initial_state();
            for (i, body) in bodies.iter().enumerate() {
                let command = parse_command(black_box(body), "m-1").expect("valid command");
                let decision = machine
                    .decide(&state, &command.command, &command.payload)
                    .expect("allowed");
                black_box(fingerprint(
                    &command.key,
                    &command.command,
                    &command.payload,
                ));
                state.apply(&decision.to_state, &command.payload);
                debug_assert_eq!(state.version, i as u64 + 1);
            }
            black_box(state)
        });
    });
    // Each step on its own, to see what dominates.
    let commands: Vec<_> = bodies
        .iter()
        .map(|body| parse_command(body, "m-1").expect("valid command"))
        .collect();
    let mut states = vec![machine.initial_state()];
    for command in &commands {
        let mut next = states.last().expect("a state").clone();
        let decision = machine
            .decide(&next, &command.command, &command.payload)
            .expect("allowed");
        next.apply(&decision.to_state, &command.payload);
        states.push(next);
    }
    group.bench_function("parse", |b| {
        b.iter(|| {
            for body in &bodies {
                black_box(parse_command(black_box(body), "m-1").expect("valid command"));
            }
        });
    });
    group.bench_function("decide (with the payload schema)", |b| {
        b.iter(|| {
            for (command, state) in commands.iter().zip(&states) {
                black_box(
                    machine
                        .decide(black_box(state), &command.command, &command.payload)
                        .expect("allowed"),
                );
            }
        });
    });
    group.bench_function("fingerprint", |b| {
        b.iter(|| {
            for command in &commands {
                black_box(fingerprint(
                    &command.key,
                    &command.command,
                    &command.payload,
                ));
            }
        });
    });
    group.bench_function("fold", |b| {
        b.iter(|| {
            for (command, state) in commands.iter().zip(&states) {
                let mut state = state.clone();
                state.apply("Open", black_box(&command.payload));
                black_box(state);
            }
        });
    });
    group.finish();
}

criterion_group!(benches, decision);
criterion_main!(benches);
