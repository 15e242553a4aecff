//! The end-of-soak audit, shared by every soak test: nothing lost, nothing
//! doubled, versions gapless, each head equal to the fold of its events, and
//! every command that did not apply dead-lettered with its reason recorded.

use std::collections::{BTreeMap, HashMap, HashSet};

use handler_core::state_machine::StateMachine;
use handler_core::{AggregateKey, EventStore, FailureLog, all_events};

/// The environment variable that enlarges the soaks: `SOAK_SCALE=N`
/// multiplies their aggregates by `N` (default 1, the size that passes
/// comfortably on a busy 2-core machine).
pub const SCALE_VARIABLE: &str = "SOAK_SCALE";

/// The soaks' size factor from [`SCALE_VARIABLE`]; panics, naming the
/// variable, on anything but a positive integer.
pub fn scale() -> usize {
    scale_of(SCALE_VARIABLE)
}

/// A size factor from the environment variable `variable` (1 when unset or
/// empty); panics, naming the variable, on anything but a positive integer.
pub fn scale_of(variable: &str) -> usize {
    match std::env::var(variable) {
        Err(std::env::VarError::NotPresent) => 1,
        Ok(text) if text.trim().is_empty() => 1,
        Ok(text) => match text.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("{variable} must be a positive integer, not {text:?}"),
        },
        Err(e) => panic!("{variable}: {e}"),
    }
}

/// One command a soak test sent (possibly as several messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// Its `commandId`.
    pub command_id: String,
    /// Its aggregate.
    pub key: AggregateKey,
    /// The SQS message ids it was sent as (duplicates included).
    pub message_ids: Vec<String>,
}

/// What the audit found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    /// Commands sent.
    pub commands: usize,
    /// Messages sent (commands × copies).
    pub messages: usize,
    /// Commands whose one event is stored.
    pub applied: usize,
    /// Commands not applied whose messages are all in the dead-letter queue,
    /// each with a recorded failure.
    pub dead_lettered: usize,
    /// Commands neither applied nor dead-lettered with a reason.
    pub lost: usize,
    /// Events beyond the first for one command id.
    pub doubled: usize,
    /// Events stored in all.
    pub events: usize,
}

impl Audit {
    /// The line the README quotes.
    pub fn summary(&self) -> String {
        format!(
            "{} commands, {} messages, {} applied, {} dead-lettered with a reason, {} events, lost {}, doubled {}",
            self.commands,
            self.messages,
            self.applied,
            self.dead_lettered,
            self.events,
            self.lost,
            self.doubled
        )
    }
}

/// Audits `store` after a soak. Panics (with the aggregate and what is
/// wrong) on a gap in versions or a head that differs from the fold of its
/// events; counts lost and doubled commands for the caller to assert.
/// `machines` gives the state machine of each aggregate type; `dead_letters`
/// holds the message ids found in the dead-letter queue.
pub async fn audit<S: EventStore + FailureLog + ?Sized>(
    store: &S,
    machines: &HashMap<String, std::sync::Arc<StateMachine>>,
    sent: &[Sent],
    dead_letters: &HashSet<String>,
) -> Audit {
    let mut report = Audit {
        commands: sent.len(),
        messages: sent.iter().map(|s| s.message_ids.len()).sum(),
        ..Audit::default()
    };
    let mut by_key: BTreeMap<&AggregateKey, Vec<&Sent>> = BTreeMap::new();
    for s in sent {
        by_key.entry(&s.key).or_default().push(s);
    }
    for (key, commands) in by_key {
        let events = all_events(store, key).await.expect("read events");
        report.events += events.len();
        for (event, version) in events.iter().zip(1..) {
            assert_eq!(event.version, version, "{key}: versions must be gapless");
        }
        let machine = &machines[&key.aggregate_type];
        let mut folded = machine.initial_state();
        for e in &events {
            e.apply_to(&mut folded);
        }
        let head = store.load(key, &[]).await.expect("load").head;
        if events.is_empty() {
            assert_eq!(head, None, "{key}: a head without events");
        } else {
            assert_eq!(
                head.as_ref(),
                Some(&folded),
                "{key}: head differs from the fold"
            );
        }
        let mut per_command: HashMap<&str, usize> = HashMap::new();
        for e in &events {
            *per_command.entry(e.command_id.as_str()).or_default() += 1;
        }
        report.doubled += per_command.values().map(|n| n - 1).sum::<usize>();
        for s in commands {
            if per_command.contains_key(s.command_id.as_str()) {
                report.applied += 1;
                continue;
            }
            let mut explained = !s.message_ids.is_empty();
            for id in &s.message_ids {
                let reason = store.failure(id).await.expect("read failure record");
                explained &= dead_letters.contains(id) && reason.is_some();
            }
            if explained {
                report.dead_lettered += 1;
            } else {
                report.lost += 1;
            }
        }
    }
    report
}

/// Writes a soak's figures, one line, to `target/NAME` (under
/// `CARGO_TARGET_DIR` when set) for the README and BENCHMARKS.md to quote;
/// a file that cannot be written is reported, not fatal.
pub fn write_figures(name: &str, line: &str) {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    let path = target.join(name);
    if let Err(e) =
        std::fs::create_dir_all(&target).and_then(|()| std::fs::write(&path, format!("{line}\n")))
    {
        eprintln!("cannot write {}: {e}", path.display());
    }
}
