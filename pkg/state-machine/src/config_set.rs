//! Faults of a SET of configs, the ones the handler loads together
//! (docs/reference.md §2): a reaction to a type that has no config, a
//! cycle of reactions that can never end, two bindings of one outside event
//! (source and detail-type), and more bindings than EventBridge gives rules
//! to one bus ([`MAX_BINDINGS`]).
//!
//! Only literal reactions are followed (an `aggregateType` or `command` that
//! is a rule is checked at run time, bounded by the hop limit), and the
//! alarms a transition sets (each fires a command of its own aggregate, and
//! carries the hop count as a reaction does). A cycle is
//! refused when every transition on it has no `guard` and lists its own `to`
//! in its `from`: each can fire again from where it left its aggregate, so
//! nothing in the configs ever stops the chain.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde_json::{Value, json};

use crate::fault::ConfigFault;
use crate::ids::binding_rule_id;
use crate::machine::StateMachine;
use crate::model::config::{BindingSpec, binding_name, transition_name};

/// One fault of a set, located in the config of `aggregate_type`.
#[derive(Debug, Clone, PartialEq)]
pub struct SetFault {
    /// The config the fault is in.
    pub aggregate_type: String,
    /// Where in it, and what.
    pub fault: ConfigFault,
    /// For a reaction to a type with no config in the set: that type (a
    /// caller that knows configs outside the set, e.g. deployed ones, may
    /// drop the fault).
    pub missing_type: Option<String>,
}

/// The most bindings a set of configs may hold: each is one EventBridge
/// rule, and a bus takes 300 rules by default.
pub const MAX_BINDINGS: usize = 300;

/// The EventBridge rule one binding needs: on the bus, matching exactly its
/// `source` and `detail-type`, targeting the command queue. Serializes
/// (camelCase) to what `cmdctl config bindings --json` prints and the
/// deploy step reads.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingRule {
    /// The rule's id ([`binding_rule_id`]): its CloudFormation logical id.
    pub logical_id: String,
    /// The config that binds the event.
    pub aggregate_type: String,
    /// The command the event becomes.
    pub command: String,
    /// The event's `source`.
    pub source: String,
    /// The event's `detail-type`.
    pub detail_type: String,
    /// The rule's event pattern: `{"source": [source], "detail-type":
    /// [detailType]}`.
    pub event_pattern: Value,
}

/// The rules the bindings of a set of configs need, one per binding, by
/// source and detail-type. A set [`validate_set`] refuses (one event bound
/// twice) gives one rule per pair still, the first config's.
pub fn binding_rules(machines: &[&StateMachine]) -> Vec<BindingRule> {
    let mut rules: Vec<BindingRule> = Vec::new();
    for machine in machines {
        for b in &machine.config().bindings {
            if rules
                .iter()
                .any(|r| r.source == b.source && r.detail_type == b.detail_type)
            {
                continue;
            }
            rules.push(BindingRule {
                logical_id: binding_rule_id(&b.source, &b.detail_type),
                aggregate_type: machine.aggregate_type().to_owned(),
                command: b.command.clone(),
                source: b.source.clone(),
                detail_type: b.detail_type.clone(),
                event_pattern: json!({ "source": [b.source], "detail-type": [b.detail_type] }),
            });
        }
    }
    rules.sort_by(|a, b| (&a.source, &a.detail_type).cmp(&(&b.source, &b.detail_type)));
    rules
}

/// A transition: (index of its machine in the set, index in its config).
type Node = (usize, usize);

/// Every fault of the set, in config order, then the cycles.
pub fn validate_set(machines: &[&StateMachine]) -> Vec<SetFault> {
    let by_type: HashMap<&str, usize> = machines
        .iter()
        .enumerate()
        .map(|(m, machine)| (machine.aggregate_type(), m))
        .collect();
    let mut faults = Vec::new();
    let mut edges: HashMap<Node, Vec<Node>> = HashMap::new();
    for (m, machine) in machines.iter().enumerate() {
        let own = machine.aggregate_type();
        for (i, t) in machine.config().transitions.iter().enumerate() {
            for (k, spec) in t.then.iter().enumerate() {
                let target = match &spec.aggregate_type {
                    None => Some(own),
                    Some(Value::String(s)) => Some(s.as_str()),
                    Some(_) => None,
                };
                let Some(target) = target else { continue };
                let Some(&tm) = by_type.get(target) else {
                    faults.push(SetFault {
                        aggregate_type: own.to_owned(),
                        fault: ConfigFault::new(
                            format!("transitions[{i}].then[{k}].aggregateType"),
                            format!(
                                "{} reacts with a command to type `{target}`, which has no config",
                                transition_name(i, t)
                            ),
                        ),
                        missing_type: Some(target.to_owned()),
                    });
                    continue;
                };
                let Some(command) = spec.command.as_str() else {
                    continue;
                };
                let targets = machines[tm]
                    .config()
                    .transitions
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| u.command == command)
                    .map(|(j, _)| (tm, j));
                edges.entry((m, i)).or_default().extend(targets);
            }
            // An alarm the transition sets fires a command of its own
            // aggregate: an edge as a reaction is.
            for command in machine.alarm_commands(i) {
                let targets = machine
                    .config()
                    .transitions
                    .iter()
                    .enumerate()
                    .filter(|(_, u)| u.command == command)
                    .map(|(j, _)| (m, j));
                edges.entry((m, i)).or_default().extend(targets);
            }
        }
    }
    let endless = |&(m, i): &Node| {
        machines[m]
            .config()
            .transitions
            .get(i)
            .is_some_and(|t| t.guard.is_none() && t.from.contains(&t.to))
    };
    let mut seen: BTreeSet<Vec<Node>> = BTreeSet::new();
    let mut starts: Vec<&Node> = edges.keys().collect();
    starts.sort();
    for &start in starts {
        if !endless(&start) {
            continue;
        }
        if let Some(cycle) = path_back(start, &edges, &endless) {
            let mut key = cycle.clone();
            key.sort();
            if seen.insert(key) {
                let names: Vec<String> = cycle
                    .iter()
                    .chain(std::iter::once(&start))
                    .map(|&(m, i)| {
                        let t = &machines[m].config().transitions[i];
                        format!("{}.{}", machines[m].aggregate_type(), transition_name(i, t))
                    })
                    .collect();
                let (m, i) = start;
                faults.push(SetFault {
                    aggregate_type: machines[m].aggregate_type().to_owned(),
                    fault: ConfigFault::new(
                        format!("transitions[{i}].then"),
                        format!(
                            "a cycle of reactions that can never end: {} (each has no guard and \
                             can fire again from the state it leads to)",
                            names.join(" -> ")
                        ),
                    ),
                    missing_type: None,
                });
            }
        }
    }
    faults.extend(binding_faults(machines));
    faults
}

/// Two bindings of one source and detail-type in two configs (the second
/// is the fault, naming both), and bindings beyond [`MAX_BINDINGS`].
fn binding_faults(machines: &[&StateMachine]) -> Vec<SetFault> {
    let mut faults = Vec::new();
    let mut first: HashMap<(&str, &str), (&str, usize, &BindingSpec)> = HashMap::new();
    let mut count = 0usize;
    for machine in machines {
        let own = machine.aggregate_type();
        for (i, b) in machine.config().bindings.iter().enumerate() {
            count += 1;
            if count == MAX_BINDINGS + 1 {
                faults.push(SetFault {
                    aggregate_type: own.to_owned(),
                    fault: ConfigFault::new(
                        format!("bindings[{i}]"),
                        format!(
                            "the configs hold more than {MAX_BINDINGS} bindings, and each is one                              EventBridge rule: a bus takes {MAX_BINDINGS} rules by default"
                        ),
                    ),
                    missing_type: None,
                });
            }
            match first.get(&(b.source.as_str(), b.detail_type.as_str())) {
                // One config's own duplicates are its compile's faults.
                Some(&(other, _, _)) if other == own => {}
                Some(&(other, k, spec)) => faults.push(SetFault {
                    aggregate_type: own.to_owned(),
                    fault: ConfigFault::new(
                        format!("bindings[{i}]"),
                        format!(
                            "{}.{} and {own}.{} both bind source `{}` and detail-type `{}`: an \
                             event must become one command",
                            other,
                            binding_name(k, spec),
                            binding_name(i, b),
                            b.source,
                            b.detail_type
                        ),
                    ),
                    missing_type: None,
                }),
                None => {
                    first.insert((&b.source, &b.detail_type), (own, i, b));
                }
            }
        }
    }
    faults
}

/// A path `start, ..., last` of endless transitions with an edge from `last`
/// back to `start`, by depth-first search.
fn path_back(
    start: Node,
    edges: &HashMap<Node, Vec<Node>>,
    endless: &dyn Fn(&Node) -> bool,
) -> Option<Vec<Node>> {
    let mut path = vec![start];
    let mut visited: BTreeSet<Node> = BTreeSet::from([start]);
    let mut next: Vec<usize> = vec![0];
    while let (Some(&node), Some(pos)) = (path.last(), next.last_mut()) {
        let outs = edges.get(&node).map(Vec::as_slice).unwrap_or_default();
        let Some(&to) = outs.get(*pos) else {
            path.pop();
            next.pop();
            continue;
        };
        *pos += 1;
        if to == start {
            return Some(path);
        }
        if endless(&to) && visited.insert(to) {
            path.push(to);
            next.push(0);
        }
    }
    None
}
