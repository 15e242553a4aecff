//! The diff of two configs: what replacing a deployed config with a local
//! one changes (states, transitions keyed by command and from-state, with
//! their alarms, the initial state, `publish`, `expiry`, the bindings keyed
//! by source and detail-type, the version). Pure:
//! the caller fetches and prints.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use crate::model::config::{
    AlarmSpec, AlarmsSpec, BindingSpec, Config, ExpirySpec, ReactionSpec, Transition,
};

/// What a transition does from one state: where it leads, what it records,
/// what it requires of the payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// The state it leads to.
    pub to: String,
    /// The event it records.
    pub event: String,
    /// What it requires of the payload.
    pub payload_schema: Option<Value>,
    /// The reactions its event causes.
    pub then: Vec<ReactionSpec>,
    /// Its guard, when it has one.
    pub guard: Option<Value>,
    /// Its guard's message.
    pub guard_message: Option<String>,
    /// Its computed values.
    pub set: Option<Map<String, Value>>,
    /// The alarms it sets and clears.
    pub alarms: Option<AlarmsSpec>,
}

impl Edge {
    /// The names of the alarms whose part of `alarms` differs between
    /// `self` and `other` (set or cleared by one and not the other, or set
    /// another way), sorted.
    pub fn alarms_changed(&self, other: &Edge) -> Vec<String> {
        // name -> how the edge sets it (`None`: it clears it).
        fn entries(edge: &Edge) -> BTreeMap<&str, Option<&AlarmSpec>> {
            let mut out = BTreeMap::new();
            if let Some(spec) = &edge.alarms {
                for set in &spec.set {
                    out.insert(set.name.as_str(), Some(set));
                }
                for name in &spec.clear {
                    out.entry(name.as_str()).or_insert(None);
                }
            }
            out
        }
        let (a, b) = (entries(self), entries(other));
        let names: BTreeSet<&str> = a.keys().chain(b.keys()).copied().collect();
        names
            .into_iter()
            .filter(|n| a.get(n) != b.get(n))
            .map(str::to_owned)
            .collect()
    }
}

/// A transition, keyed by (command, from-state), that differs. When several
/// transitions share a command and a state (guarded, tried in order), the
/// N-th one tried (N >= 2) has `from` written `"{state} (try N)"`.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)]
// A diff holds a handful of these, built once for printing: boxing the
// edges would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum TransitionChange {
    /// In the local config only.
    Added {
        command: String,
        from: String,
        edge: Edge,
    },
    /// In the deployed config only.
    Removed {
        command: String,
        from: String,
        edge: Edge,
    },
    /// In both, doing something else.
    Changed {
        command: String,
        from: String,
        before: Edge,
        after: Edge,
    },
}

/// A binding, keyed by (source, detail-type), that differs.
#[derive(Debug, Clone, PartialEq)]
pub enum BindingChange {
    /// In the local config only.
    Added(BindingSpec),
    /// In the deployed config only.
    Removed(BindingSpec),
    /// In both, building another command (or the same one another way).
    Changed {
        /// The deployed binding.
        before: BindingSpec,
        /// The local one.
        after: BindingSpec,
    },
}

impl BindingChange {
    /// The (source, detail-type) the change is about.
    pub fn key(&self) -> (&str, &str) {
        let spec = match self {
            BindingChange::Added(spec) | BindingChange::Removed(spec) => spec,
            BindingChange::Changed { after, .. } => after,
        };
        (&spec.source, &spec.detail_type)
    }
}

/// How a local config differs from the deployed one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// (deployed, local) versions, when they differ.
    pub version: Option<(u64, u64)>,
    /// (deployed, local) initial states, when they differ.
    pub initial_state: Option<(String, String)>,
    /// (deployed, local) `publish`, when they differ.
    pub publish: Option<(bool, bool)>,
    /// (deployed, local) `expiry`, when they differ.
    pub expiry: Option<(Option<ExpirySpec>, Option<ExpirySpec>)>,
    /// States only the local config has.
    pub states_added: Vec<String>,
    /// States only the deployed config has.
    pub states_removed: Vec<String>,
    /// Transitions added, removed or changed, by (command, from-state).
    pub transitions: Vec<TransitionChange>,
    /// Bindings added, removed or changed, by (source, detail-type).
    pub bindings: Vec<BindingChange>,
}

impl Changes {
    /// True when the machines are the same (the version aside).
    pub fn is_same_machine(&self) -> bool {
        self.initial_state.is_none()
            && self.publish.is_none()
            && self.expiry.is_none()
            && self.states_added.is_empty()
            && self.states_removed.is_empty()
            && self.transitions.is_empty()
            && self.bindings.is_empty()
    }

    /// True when nothing differs at all.
    pub fn is_empty(&self) -> bool {
        self.is_same_machine() && self.version.is_none()
    }
}

/// Each transition as (command, from) → edge.
fn edges(config: &Config) -> BTreeMap<(String, String), Edge> {
    let mut out = BTreeMap::new();
    for Transition {
        command,
        from,
        to,
        event,
        payload_schema,
        then,
        guard,
        guard_message,
        set,
        alarms,
    } in &config.transitions
    {
        for state in from {
            let mut key = (command.clone(), state.clone());
            let mut n = 1;
            while out.contains_key(&key) {
                n += 1;
                key.1 = format!("{state} (try {n})");
            }
            out.insert(
                key,
                Edge {
                    to: to.clone(),
                    event: event.clone(),
                    payload_schema: payload_schema.clone(),
                    then: then.clone(),
                    guard: guard.clone(),
                    guard_message: guard_message.clone(),
                    set: set.clone(),
                    alarms: alarms.clone(),
                },
            );
        }
    }
    out
}

/// What uploading `local` over `deployed` changes.
pub fn diff(deployed: &Config, local: &Config) -> Changes {
    let before: BTreeSet<&String> = deployed.states.iter().collect();
    let after: BTreeSet<&String> = local.states.iter().collect();
    let (old, new) = (edges(deployed), edges(local));
    let mut transitions = Vec::new();
    for ((command, from), edge) in &new {
        match old.get(&(command.clone(), from.clone())) {
            None => transitions.push(TransitionChange::Added {
                command: command.clone(),
                from: from.clone(),
                edge: edge.clone(),
            }),
            Some(before) if before != edge => transitions.push(TransitionChange::Changed {
                command: command.clone(),
                from: from.clone(),
                before: before.clone(),
                after: edge.clone(),
            }),
            Some(_) => {}
        }
    }
    for ((command, from), edge) in &old {
        if !new.contains_key(&(command.clone(), from.clone())) {
            transitions.push(TransitionChange::Removed {
                command: command.clone(),
                from: from.clone(),
                edge: edge.clone(),
            });
        }
    }
    let key = |b: &BindingSpec| (b.source.clone(), b.detail_type.clone());
    let old_bindings: BTreeMap<_, &BindingSpec> =
        deployed.bindings.iter().map(|b| (key(b), b)).collect();
    let new_bindings: BTreeMap<_, &BindingSpec> =
        local.bindings.iter().map(|b| (key(b), b)).collect();
    let mut bindings = Vec::new();
    for (k, after) in &new_bindings {
        match old_bindings.get(k) {
            None => bindings.push(BindingChange::Added((*after).clone())),
            Some(before) if before != after => bindings.push(BindingChange::Changed {
                before: (*before).clone(),
                after: (*after).clone(),
            }),
            Some(_) => {}
        }
    }
    for (k, before) in &old_bindings {
        if !new_bindings.contains_key(k) {
            bindings.push(BindingChange::Removed((*before).clone()));
        }
    }
    Changes {
        version: (deployed.version != local.version).then_some((deployed.version, local.version)),
        initial_state: (deployed.initial_state != local.initial_state)
            .then(|| (deployed.initial_state.clone(), local.initial_state.clone())),
        publish: (deployed.publish != local.publish).then_some((deployed.publish, local.publish)),
        expiry: (deployed.expiry != local.expiry)
            .then(|| (deployed.expiry.clone(), local.expiry.clone())),
        states_added: after.difference(&before).map(|s| (*s).clone()).collect(),
        states_removed: before.difference(&after).map(|s| (*s).clone()).collect(),
        transitions,
        bindings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        serde_json::from_str(text).unwrap()
    }

    const DEPLOYED: &str = r#"{"aggregateType":"order","version":1,"initialState":"New",
        "states":["New","Created","Paid","Gone"],
        "transitions":[
          {"command":"Create","from":["New"],"to":"Created","event":"Created"},
          {"command":"Pay","from":["Created"],"to":"Paid","event":"Paid"},
          {"command":"Drop","from":["Created","Paid"],"to":"Gone","event":"Dropped"}]}"#;

    #[test]
    fn the_same_machine_in_another_order_is_unchanged() {
        let reordered = r#"{"aggregateType":"order","version":1,"initialState":"New",
            "states":["Gone","Paid","Created","New"],
            "transitions":[
              {"command":"Drop","from":["Paid","Created"],"to":"Gone","event":"Dropped"},
              {"command":"Pay","from":["Created"],"to":"Paid","event":"Paid"},
              {"command":"Create","from":["New"],"to":"Created","event":"Created"}]}"#;
        assert!(diff(&config(DEPLOYED), &config(reordered)).is_empty());
    }

    #[test]
    fn a_transition_is_keyed_by_command_and_from_state() {
        let local = r#"{"aggregateType":"order","version":1,"initialState":"New",
            "states":["New","Created","Paid","Gone"],
            "transitions":[
              {"command":"Create","from":["New"],"to":"Created","event":"Created"},
              {"command":"Pay","from":["Created"],"to":"Paid","event":"Paid"},
              {"command":"Drop","from":["Created"],"to":"Gone","event":"Dropped"}]}"#;
        let changes = diff(&config(DEPLOYED), &config(local));
        assert_eq!(
            changes.transitions,
            [TransitionChange::Removed {
                command: "Drop".into(),
                from: "Paid".into(),
                edge: Edge {
                    to: "Gone".into(),
                    event: "Dropped".into(),
                    payload_schema: None,
                    then: Vec::new(),
                    guard: None,
                    guard_message: None,
                    set: None,
                    alarms: None,
                },
            }]
        );
        assert_eq!(changes.version, None);
        assert!(!changes.is_same_machine());
    }

    #[test]
    fn publish_and_then_are_changes() {
        let local = DEPLOYED
            .replace(r#""version":1,"#, r#""version":1,"publish":true,"#)
            .replace(
                r#""event":"Paid"}"#,
                r#""event":"Paid","then":[{"command":"Ship"}]}"#,
            );
        let changes = diff(&config(DEPLOYED), &config(&local));
        assert_eq!(changes.publish, Some((false, true)));
        let [TransitionChange::Changed { command, after, .. }] = changes.transitions.as_slice()
        else {
            panic!("one changed transition: {:?}", changes.transitions);
        };
        assert_eq!((command.as_str(), after.then.len()), ("Pay", 1));
        assert!(!changes.is_same_machine());
    }

    #[test]
    fn alarms_and_expiry_are_named() {
        let local = DEPLOYED
            .replace(
                r#""version":1,"#,
                r#""version":1,"expiry":{"command":"Drop"},"#,
            )
            .replace(
                r#""event":"Created"}"#,
                r#""event":"Created","alarms":{"set":[{"name":"pay-by","after":"PT15M","command":"Drop"}]}}"#,
            );
        let changes = diff(&config(DEPLOYED), &config(&local));
        let (before, after) = changes.expiry.clone().expect("expiry differs");
        assert_eq!(before, None);
        assert_eq!(after.and_then(|e| e.command).as_deref(), Some("Drop"));
        let [TransitionChange::Changed { before, after, .. }] = changes.transitions.as_slice()
        else {
            panic!("one changed transition: {:?}", changes.transitions);
        };
        assert_eq!(before.alarms_changed(after), ["pay-by"]);
        assert_eq!(after.alarms_changed(after), Vec::<String>::new());
        assert!(!changes.is_same_machine());
    }

    #[test]
    fn bindings_added_removed_and_changed_are_named() {
        let with = |bindings: &str| {
            DEPLOYED.replace(
                r#""version":1,"#,
                &format!(r#""version":1,"bindings":[{bindings}],"#),
            )
        };
        let a =
            r#"{"source":"s","detailType":"A","command":"Pay","aggregateId":{"var":"detail.id"}}"#;
        let b = r#"{"source":"s","detailType":"B","command":"Drop","aggregateId":"o-1"}"#;
        let b2 = r#"{"source":"s","detailType":"B","command":"Pay","aggregateId":"o-1"}"#;
        let c = r#"{"source":"t","detailType":"A","command":"Pay","aggregateId":"o-1"}"#;
        let changes = diff(
            &config(&with(&format!("{a},{b}"))),
            &config(&with(&format!("{b2},{c}"))),
        );
        let keys: Vec<(&str, &str, &str)> = changes
            .bindings
            .iter()
            .map(|change| {
                let kind = match change {
                    BindingChange::Added(_) => "added",
                    BindingChange::Removed(_) => "removed",
                    BindingChange::Changed { .. } => "changed",
                };
                let (source, detail_type) = change.key();
                (kind, source, detail_type)
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("changed", "s", "B"),
                ("added", "t", "A"),
                ("removed", "s", "A")
            ]
        );
        assert!(!changes.is_same_machine());
        let same = diff(&config(&with(a)), &config(&with(a)));
        assert!(same.is_empty());
    }
}
