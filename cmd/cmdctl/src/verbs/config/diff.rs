//! `cmdctl config diff`: what `config upload` would change, config by
//! config: states and transitions (keyed by command and from-state) added,
//! removed or changed, and the version.

use std::fmt;
use std::io::Write;

use anyhow::Context as _;
use handler_core::state_machine::Config;
use handler_core::state_machine::diff::{BindingChange, Changes, Edge, TransitionChange, diff};
use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::Exit;
use crate::cli::DiffArgs;
use crate::context::Context;
use crate::output;
use crate::verbs::config::{self as config_cmd, Verdict};

/// What is deployed for a local config.
enum Deployed {
    Nothing,
    Unreadable(String),
    Config(Box<Config>),
}

/// One local config against its deployed object.
struct FileDiff {
    path: String,
    uri: String,
    local: Config,
    deployed: Deployed,
    changes: Changes,
}

impl FileDiff {
    fn status(&self) -> &'static str {
        match &self.deployed {
            Deployed::Nothing => "new",
            Deployed::Unreadable(_) => "unreadable",
            Deployed::Config(_) if self.changes.is_empty() => "unchanged",
            Deployed::Config(_) => "changed",
        }
    }

    fn differs(&self) -> bool {
        self.status() != "unchanged"
    }
}

/// Compares every local config with S3. Exits 2 if a local config is
/// invalid; with `--exit-code`, 1 if anything would change.
pub(crate) fn run(ctx: &Context<'_>, args: &DiffArgs, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let (bucket, prefix) =
        config_cmd::upload_target(ctx, args.bucket.as_deref(), args.prefix.as_deref())?;
    let paths = config_cmd::local_paths(ctx, &args.paths)?;
    let verdicts = config_cmd::check_files(&paths);
    if !config_cmd::all_valid(&verdicts) {
        output::emit(ctx.global, out, &config_cmd::Checked::of(&verdicts))?;
        output::note("fix the invalid configs first");
        return Ok(Exit::Invalid);
    }
    let s3 = ctx.s3();
    let mut diffs = Vec::with_capacity(paths.len());
    for (path, verdict) in paths.iter().zip(&verdicts) {
        let Verdict::Valid { aggregate_type, .. } = &verdict.1 else {
            continue;
        };
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let local: Config = serde_json::from_slice(&bytes)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let uri = format!(
            "s3://{bucket}/{}",
            config_s3::object_key(&prefix, aggregate_type)
        );
        let fetched = ctx
            .block_on(config_s3::fetch_config(
                &s3,
                &bucket,
                &prefix,
                aggregate_type,
            ))
            .with_context(|| format!("cannot read {uri}"))?;
        let deployed = match fetched {
            None => Deployed::Nothing,
            Some((bytes, _etag)) => match serde_json::from_slice::<Config>(&bytes) {
                Ok(config) => Deployed::Config(Box::new(config)),
                Err(e) => Deployed::Unreadable(e.to_string()),
            },
        };
        let changes = match &deployed {
            Deployed::Config(deployed) => diff(deployed, &local),
            _ => Changes::default(),
        };
        diffs.push(FileDiff {
            path: path.display().to_string(),
            uri,
            local,
            deployed,
            changes,
        });
    }
    let any = diffs.iter().any(FileDiff::differs);
    output::emit(ctx.global, out, &Diffs(diffs))?;
    Ok(if any && args.exit_code {
        Exit::Refused
    } else {
        Exit::Ok
    })
}

/// What `config upload` would change, file by file.
struct Diffs(Vec<FileDiff>);

/// `{changed, files: [...]}`, keys in alphabetical order.
impl Serialize for Diffs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let any = self.0.iter().any(FileDiff::differs);
        let files: Vec<Value> = self.0.iter().map(file_json).collect();
        json!({ "changed": any, "files": files }).serialize(s)
    }
}

/// Each file's line, then one line per change.
impl fmt::Display for Diffs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|d| write_file(f, d))
    }
}

impl output::VerbReport for Diffs {}

fn write_file(out: &mut fmt::Formatter<'_>, d: &FileDiff) -> fmt::Result {
    let head = format!("{} -> {}", d.path, d.uri);
    match &d.deployed {
        Deployed::Nothing => {
            writeln!(out, "{head}: new (v{}, nothing deployed)", d.local.version)?;
            return Ok(());
        }
        Deployed::Unreadable(error) => {
            writeln!(
                out,
                "{head}: would replace a deployed object that is not a config ({error})"
            )?;
            return Ok(());
        }
        Deployed::Config(deployed) if d.changes.is_empty() => {
            writeln!(out, "{head}: unchanged (v{})", deployed.version)?;
            return Ok(());
        }
        Deployed::Config(deployed) => match d.changes.version {
            Some((old, new)) => writeln!(out, "{head}: changed, v{old} -> v{new}")?,
            None => writeln!(
                out,
                "{head}: changed, still v{} (raise the version so that events name the config that accepted them)",
                deployed.version
            )?,
        },
    }
    let c = &d.changes;
    if let Some((old, new)) = &c.initial_state {
        writeln!(out, "  ~ initialState {old} -> {new}")?;
    }
    if let Some((old, new)) = &c.publish {
        writeln!(out, "  ~ publish {old} -> {new}")?;
    }
    if let Some((old, new)) = &c.expiry {
        let text = |e: &Option<handler_core::state_machine::ExpirySpec>| match e {
            None => "none".to_owned(),
            Some(e) => format!(
                "{} after {}",
                e.command.as_deref().unwrap_or("?"),
                e.after.as_deref().unwrap_or("P1Y")
            ),
        };
        writeln!(out, "  ~ expiry {} -> {}", text(old), text(new))?;
    }
    for state in &c.states_added {
        writeln!(out, "  + state {state}")?;
    }
    for state in &c.states_removed {
        writeln!(out, "  - state {state}")?;
    }
    for t in &c.transitions {
        writeln!(out, "  {}", transition_text(t))?;
    }
    for b in &c.bindings {
        writeln!(out, "  {}", binding_text(b))?;
    }
    Ok(())
}

/// `+ binding payments.provider PaymentSucceeded -> ConfirmCharge`.
fn binding_text(b: &BindingChange) -> String {
    let (source, detail_type) = b.key();
    match b {
        BindingChange::Added(spec) => {
            format!("+ binding {source} {detail_type} -> {}", spec.command)
        }
        BindingChange::Removed(spec) => {
            format!("- binding {source} {detail_type} -> {}", spec.command)
        }
        BindingChange::Changed { before, after } if before.command != after.command => format!(
            "~ binding {source} {detail_type} -> {} (was {})",
            after.command, before.command
        ),
        BindingChange::Changed { after, .. } => format!(
            "~ binding {source} {detail_type} -> {} (builds it another way)",
            after.command
        ),
    }
}

fn edge_text(edge: &Edge) -> String {
    let schema = if edge.payload_schema.is_some() {
        ", payloadSchema"
    } else {
        ""
    };
    let then = match edge.then.len() {
        0 => String::new(),
        n => format!(", then {n}"),
    };
    let guard = if edge.guard.is_some() { ", guard" } else { "" };
    let set = match edge.set.as_ref().map_or(0, |s| s.len()) {
        0 => String::new(),
        n => format!(", set {n}"),
    };
    let alarms = match edge.alarms.as_ref() {
        Some(a) if !a.set.is_empty() || !a.clear.is_empty() => {
            let names: Vec<String> = a
                .set
                .iter()
                .map(|s| format!("+{}", s.name))
                .chain(a.clear.iter().map(|n| format!("-{n}")))
                .collect();
            format!(", alarms {}", names.join(" "))
        }
        _ => String::new(),
    };
    format!(
        "-> {} ({}{schema}{guard}{set}{then}{alarms})",
        edge.to, edge.event
    )
}

fn transition_text(t: &TransitionChange) -> String {
    match t {
        TransitionChange::Added {
            command,
            from,
            edge,
        } => format!("+ {command} from {from} {}", edge_text(edge)),
        TransitionChange::Removed {
            command,
            from,
            edge,
        } => format!("- {command} from {from} {}", edge_text(edge)),
        TransitionChange::Changed {
            command,
            from,
            before,
            after,
        } => {
            let mut what = Vec::new();
            if before.to != after.to {
                what.push(format!("to {} -> {}", before.to, after.to));
            }
            if before.event != after.event {
                what.push(format!("event {} -> {}", before.event, after.event));
            }
            if before.payload_schema != after.payload_schema {
                what.push(
                    match (&before.payload_schema, &after.payload_schema) {
                        (None, Some(_)) => "payloadSchema added",
                        (Some(_), None) => "payloadSchema removed",
                        _ => "payloadSchema changed",
                    }
                    .to_owned(),
                );
            }
            let added_removed = |before: bool, after: bool, field: &str| match (before, after) {
                (false, true) => format!("{field} added"),
                (true, false) => format!("{field} removed"),
                _ => format!("{field} changed"),
            };
            if before.guard != after.guard {
                what.push(added_removed(
                    before.guard.is_some(),
                    after.guard.is_some(),
                    "guard",
                ));
            }
            if before.guard_message != after.guard_message {
                what.push(added_removed(
                    before.guard_message.is_some(),
                    after.guard_message.is_some(),
                    "guardMessage",
                ));
            }
            if before.set != after.set {
                let fields = |set: &Option<serde_json::Map<String, Value>>| {
                    set.as_ref()
                        .map(|s| s.keys().cloned().collect::<Vec<_>>().join(" "))
                        .unwrap_or_default()
                };
                what.push(format!(
                    "set changed ({{{}}} -> {{{}}})",
                    fields(&before.set),
                    fields(&after.set)
                ));
            }
            if before.then != after.then {
                what.push(format!(
                    "then changed ({} -> {} reactions)",
                    before.then.len(),
                    after.then.len()
                ));
            }
            let alarms = before.alarms_changed(after);
            if !alarms.is_empty() {
                what.push(format!("alarms changed ({})", alarms.join(" ")));
            }
            format!("~ {command} from {from}: {}", what.join(", "))
        }
    }
}

fn edge_json(edge: &Edge) -> Value {
    json!({ "to": edge.to, "event": edge.event, "payloadSchema": edge.payload_schema,
            "guard": edge.guard, "guardMessage": edge.guard_message, "set": edge.set,
            "then": edge.then, "alarms": edge.alarms })
}

fn file_json(d: &FileDiff) -> Value {
    let c = &d.changes;
    let (mut added, mut removed, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    for t in &c.transitions {
        match t {
            TransitionChange::Added {
                command,
                from,
                edge,
            } => added.push(json!({ "command": command, "from": from, "after": edge_json(edge) })),
            TransitionChange::Removed {
                command,
                from,
                edge,
            } => {
                removed.push(json!({ "command": command, "from": from, "before": edge_json(edge) }))
            }
            TransitionChange::Changed {
                command,
                from,
                before,
                after,
            } => changed.push(json!({
                "command": command,
                "from": from,
                "before": edge_json(before),
                "after": edge_json(after),
            })),
        }
    }
    let deployed_version = match &d.deployed {
        Deployed::Config(config) => Some(config.version),
        _ => None,
    };
    json!({
        "path": d.path,
        "uri": d.uri,
        "aggregateType": d.local.aggregate_type,
        "status": d.status(),
        "version": { "deployed": deployed_version, "local": d.local.version },
        "deployedError": match &d.deployed {
            Deployed::Unreadable(error) => Some(error.as_str()),
            _ => None,
        },
        "initialState": c.initial_state.as_ref().map(|(old, new)| json!({ "deployed": old, "local": new })),
        "publish": c.publish.map(|(old, new)| json!({ "deployed": old, "local": new })),
        "expiry": c.expiry.as_ref().map(|(old, new)| json!({ "deployed": old, "local": new })),
        "statesAdded": c.states_added,
        "statesRemoved": c.states_removed,
        "transitionsAdded": added,
        "transitionsRemoved": removed,
        "transitionsChanged": changed,
        "bindingsAdded": c.bindings.iter().filter_map(|b| match b {
            BindingChange::Added(spec) => Some(json!(spec)),
            _ => None,
        }).collect::<Vec<_>>(),
        "bindingsRemoved": c.bindings.iter().filter_map(|b| match b {
            BindingChange::Removed(spec) => Some(json!(spec)),
            _ => None,
        }).collect::<Vec<_>>(),
        "bindingsChanged": c.bindings.iter().filter_map(|b| match b {
            BindingChange::Changed { before, after } => Some(json!({ "before": before, "after": after })),
            _ => None,
        }).collect::<Vec<_>>(),
    })
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
    fn states_and_transitions_by_command_and_from_state() {
        let local = r#"{"aggregateType":"order","version":2,"initialState":"New",
            "states":["New","Created","Paid","Shipped"],
            "transitions":[
              {"command":"Create","from":["New"],"to":"Created","event":"Created",
               "payloadSchema":{"type":"object"}},
              {"command":"Pay","from":["Created"],"to":"Paid","event":"PaymentTaken"},
              {"command":"Ship","from":["Paid"],"to":"Shipped","event":"Shipped"}]}"#;
        let changes = diff(&config(DEPLOYED), &config(local));
        assert_eq!(changes.version, Some((1, 2)));
        assert_eq!(changes.states_added, ["Shipped"]);
        assert_eq!(changes.states_removed, ["Gone"]);
        let text: Vec<String> = changes.transitions.iter().map(transition_text).collect();
        assert_eq!(
            text,
            [
                "~ Create from New: payloadSchema added",
                "~ Pay from Created: event Paid -> PaymentTaken",
                "+ Ship from Paid -> Shipped (Shipped)",
                "- Drop from Created -> Gone (Dropped)",
                "- Drop from Paid -> Gone (Dropped)",
            ]
        );
        assert!(!changes.is_same_machine());
    }

    #[test]
    fn publish_and_then_are_named() {
        let local = DEPLOYED
            .replace(r#""version":1,"#, r#""version":1,"publish":true,"#)
            .replace(
                r#""event":"Paid"}"#,
                r#""event":"Paid","then":[{"command":"Ship"}]}"#,
            );
        let changes = diff(&config(DEPLOYED), &config(&local));
        let text: Vec<String> = changes.transitions.iter().map(transition_text).collect();
        assert_eq!(
            text,
            ["~ Pay from Created: then changed (0 -> 1 reactions)"]
        );
        assert_eq!(changes.publish, Some((false, true)));
        let added = TransitionChange::Added {
            command: "Pay".into(),
            from: "Created".into(),
            edge: match &changes.transitions[0] {
                TransitionChange::Changed { after, .. } => after.clone(),
                other => panic!("{other:?}"),
            },
        };
        assert_eq!(
            transition_text(&added),
            "+ Pay from Created -> Paid (Paid, then 1)"
        );
    }

    #[test]
    fn alarms_and_expiry_are_named() {
        let local = DEPLOYED
            .replace(r#""version":1,"#, r#""version":1,"expiry":{"command":"Drop"},"#)
            .replace(
                r#""event":"Paid"}"#,
                r#""event":"Paid","alarms":{"set":[{"name":"ship-by","after":"P2D","command":"Drop"}]}}"#,
            );
        let changes = diff(&config(DEPLOYED), &config(&local));
        let text: Vec<String> = changes.transitions.iter().map(transition_text).collect();
        assert_eq!(text, ["~ Pay from Created: alarms changed (ship-by)"]);
        let Some((None, Some(expiry))) = &changes.expiry else {
            panic!("{:?}", changes.expiry);
        };
        assert_eq!(expiry.command.as_deref(), Some("Drop"));
        let after = match &changes.transitions[0] {
            TransitionChange::Changed { after, .. } => after,
            other => panic!("{other:?}"),
        };
        assert!(
            edge_text(after).ends_with("(Paid, alarms +ship-by)"),
            "{}",
            edge_text(after)
        );
    }

    #[test]
    fn guards_and_set_are_named() {
        let local = DEPLOYED.replace(
            r#""event":"Paid"}"#,
            r#""event":"Paid","guard":{"<":[{"var":"payload.amount"},100]},"set":{"paidAt":{"var":"metadata.at"}}},
               {"command":"Pay","from":["Created"],"to":"Created","event":"Declined"}"#,
        );
        let changes = diff(&config(DEPLOYED), &config(&local));
        let text: Vec<String> = changes.transitions.iter().map(transition_text).collect();
        assert_eq!(
            text,
            [
                "~ Pay from Created: guard added, set changed ({} -> {paidAt})",
                "+ Pay from Created (try 2) -> Created (Declined)",
            ]
        );
    }
}
