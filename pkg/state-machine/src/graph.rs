//! Diagrams drawn from configs alone: states, transitions (with their
//! guards' names and the alarms they set), and the reactions between types,
//! as Mermaid (`flowchart LR`) or Graphviz DOT text. `cmdctl config graph`
//! prints them; the README's saga diagram is its output.
//!
//! Every name is the config's own and may hold any character, so node ids
//! are positional (`t{type}s{state}`) and every label is escaped for its
//! format. The order is the configs' own: the same configs draw the same text.

use std::fmt::Write as _;

use serde_json::Value;

use crate::model::config::{Config, Transition};

/// The format a diagram is drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A Mermaid `flowchart LR`, one subgraph per type.
    Mermaid,
    /// A Graphviz `digraph`, one cluster per type.
    Dot,
}

/// One edge of a diagram, between node ids, with its label.
struct Edge {
    from: String,
    to: String,
    label: String,
    reaction: bool,
}

/// Draws `configs` (in the order given) in `format`.
pub fn draw(configs: &[&Config], format: Format) -> String {
    let edges = edges(configs);
    match format {
        Format::Mermaid => mermaid(configs, &edges),
        Format::Dot => dot(configs, &edges),
    }
}

fn node(t: usize, s: usize) -> String {
    format!("t{t}s{s}")
}

fn state_node(configs: &[&Config], t: usize, state: &str) -> Option<String> {
    configs[t]
        .states
        .iter()
        .position(|s| s == state)
        .map(|s| node(t, s))
}

/// A transition's label: its command, its guard's name (its message, or
/// `guarded`), and the alarms it sets.
fn transition_label(tr: &Transition) -> String {
    let mut label = tr.command.clone();
    if let Some(name) = guard_name(tr) {
        let _ = write!(label, " ({name})");
    }
    if let Some(alarms) = &tr.alarms {
        for alarm in &alarms.set {
            let _ = write!(label, " ⏰ {}", alarm.name);
            if let Some(after) = &alarm.after {
                let _ = write!(label, " {after}");
            }
        }
    }
    label
}

/// A guarded transition's guard as drawn: its message, else `guarded`.
pub(crate) fn guard_name(tr: &Transition) -> Option<&str> {
    tr.guard
        .as_ref()
        .map(|_| tr.guard_message.as_deref().unwrap_or("guarded"))
}

/// A reaction's literal text (a rule is drawn as `(rule)`).
fn literal(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        _ => "(rule)".to_owned(),
    }
}

fn edges(configs: &[&Config]) -> Vec<Edge> {
    let mut edges = Vec::new();
    for (t, config) in configs.iter().enumerate() {
        for tr in &config.transitions {
            let Some(to) = state_node(configs, t, &tr.to) else {
                continue;
            };
            for from in &tr.from {
                if let Some(from) = state_node(configs, t, from) {
                    edges.push(Edge {
                        from,
                        to: to.clone(),
                        label: transition_label(tr),
                        reaction: false,
                    });
                }
            }
        }
    }
    for (t, config) in configs.iter().enumerate() {
        for tr in &config.transitions {
            let Some(from) = state_node(configs, t, &tr.to) else {
                continue;
            };
            for reaction in &tr.then {
                let target = match &reaction.aggregate_type {
                    None => Some(t),
                    Some(Value::String(name)) => {
                        configs.iter().position(|c| &c.aggregate_type == name)
                    }
                    Some(_) => None,
                };
                let Some(target) = target else { continue };
                edges.push(Edge {
                    from: from.clone(),
                    to: format!("t{target}"),
                    label: format!("{} ⇒ {}", tr.event, literal(&reaction.command)),
                    reaction: true,
                });
            }
        }
    }
    edges
}

/// Mermaid label text inside `"..."`: its entity codes for the characters
/// that would end or change the label.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '|' => out.push_str("#124;"),
            '`' => out.push_str("#96;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn mermaid(configs: &[&Config], edges: &[Edge]) -> String {
    let mut out = String::from("flowchart LR\n");
    for (t, config) in configs.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph t{t} [\"{}\"]",
            mermaid_text(&config.aggregate_type)
        );
        for (s, state) in config.states.iter().enumerate() {
            let text = mermaid_text(state);
            if *state == config.initial_state {
                let _ = writeln!(out, "    {}([\"{text}\"])", node(t, s));
            } else {
                let _ = writeln!(out, "    {}[\"{text}\"]", node(t, s));
            }
        }
        for edge in edges
            .iter()
            .filter(|e| !e.reaction && e.from.starts_with(&format!("t{t}s")))
        {
            let _ = writeln!(
                out,
                "    {} -->|\"{}\"| {}",
                edge.from,
                mermaid_text(&edge.label),
                edge.to
            );
        }
        out.push_str("  end\n");
    }
    for edge in edges.iter().filter(|e| e.reaction) {
        let _ = writeln!(
            out,
            "  {} -. \"{}\" .-> {}",
            edge.from,
            mermaid_text(&edge.label),
            edge.to
        );
    }
    out
}

/// A DOT quoted string's content.
fn dot_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn dot(configs: &[&Config], edges: &[Edge]) -> String {
    let mut out = String::from("digraph configs {\n  rankdir=LR;\n  compound=true;\n");
    for (t, config) in configs.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_t{t} {{");
        let _ = writeln!(out, "    label=\"{}\";", dot_text(&config.aggregate_type));
        // The anchor reactions point at (DOT draws no edge to a cluster).
        let _ = writeln!(out, "    t{t} [shape=point, style=invis];");
        for (s, state) in config.states.iter().enumerate() {
            let shape = if *state == config.initial_state {
                "doublecircle"
            } else {
                "box"
            };
            let _ = writeln!(
                out,
                "    {} [label=\"{}\", shape={shape}];",
                node(t, s),
                dot_text(state)
            );
        }
        out.push_str("  }\n");
    }
    for edge in edges {
        let style = if edge.reaction { ", style=dashed" } else { "" };
        let _ = writeln!(
            out,
            "  {} -> {} [label=\"{}\"{style}];",
            edge.from,
            edge.to,
            dot_text(&edge.label)
        );
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::StateMachine;

    fn machine(json: &str) -> StateMachine {
        StateMachine::from_json(json.as_bytes()).expect("a valid config")
    }

    const TRICKY: &str = r#"{
      "aggregateType": "odd",
      "version": 1,
      "initialState": "New \"one\"",
      "states": ["New \"one\"", "Done|<b>#1"],
      "transitions": [
        {"command": "Go`|\"", "from": ["New \"one\""], "to": "Done|<b>#1", "event": "Went"}
      ]
    }"#;

    #[test]
    fn mermaid_escapes_every_name() {
        let m = machine(TRICKY);
        let text = draw(&[m.config()], Format::Mermaid);
        assert!(text.contains("t0s0([\"New #quot;one#quot;\"])"), "{text}");
        assert!(text.contains("t0s1[\"Done#124;#lt;b#gt;#35;1\"]"), "{text}");
        assert!(
            text.contains("t0s0 -->|\"Go#96;#124;#quot;\"| t0s1"),
            "{text}"
        );
        for line in text.lines().skip(1) {
            assert_eq!(
                line.matches('"').count() % 2,
                0,
                "unbalanced quotes: {line}"
            );
        }
    }

    #[test]
    fn dot_escapes_every_name() {
        let m = machine(TRICKY);
        let text = draw(&[m.config()], Format::Dot);
        assert!(text.contains("label=\"New \\\"one\\\"\""), "{text}");
        assert!(
            text.contains("t0s0 -> t0s1 [label=\"Go`|\\\"\"];"),
            "{text}"
        );
        assert!(text.ends_with("}\n"));
    }

    #[test]
    fn reactions_point_at_their_target_type() {
        let a = machine(
            r#"{"aggregateType": "a", "version": 1, "initialState": "New",
                "states": ["New", "Done"],
                "transitions": [{"command": "Start", "from": ["New"], "to": "Done",
                  "event": "Started", "then": [{"aggregateType": "b", "command": "Take"}]}]}"#,
        );
        let b = machine(
            r#"{"aggregateType": "b", "version": 1, "initialState": "Idle",
                "states": ["Idle", "Busy"],
                "transitions": [{"command": "Take", "from": ["Idle"], "to": "Busy", "event": "Taken"}]}"#,
        );
        let text = draw(&[a.config(), b.config()], Format::Mermaid);
        assert!(
            text.contains("  t0s1 -. \"Started ⇒ Take\" .-> t1\n"),
            "{text}"
        );
        let dot = draw(&[a.config(), b.config()], Format::Dot);
        assert!(
            dot.contains("t0s1 -> t1 [label=\"Started ⇒ Take\", style=dashed];"),
            "{dot}"
        );
    }
}
