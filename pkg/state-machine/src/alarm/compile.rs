//! A config's alarms (`alarms` on transitions, `expiry` at the top),
//! checked and compiled once when the config is loaded. Every fault names
//! the transition (by its path) and the alarm (docs/reference.md §2).

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};

use crate::duration::{IsoDuration, parse_time};
use crate::fault::ConfigFault;
use crate::model::alarm::{EXPIRY, MAX_ALARMS};
use crate::model::config::{AlarmSpec, Config, ExpirySpec};
use crate::rule::Rule;
use crate::schema::PayloadSchema;

/// When a compiled alarm is due.
#[derive(Debug, Clone)]
pub(crate) enum When {
    /// This long after the command's `now`.
    After(IsoDuration),
    /// The time a rule (or a literal) gives.
    At(Rule),
}

/// One alarm a transition (or creation, for `expiry`) sets, compiled.
#[derive(Debug, Clone)]
pub(crate) struct AlarmRule {
    pub(crate) name: String,
    pub(crate) when: When,
    pub(crate) command: String,
    pub(crate) payload: Map<String, Value>,
}

/// One transition's `alarms`, compiled.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransitionAlarms {
    /// Names cleared, in config order.
    pub(crate) clear: Vec<String>,
    /// Alarms set, in config order.
    pub(crate) set: Vec<AlarmRule>,
}

impl TransitionAlarms {
    /// True when the transition sets `expiry` itself.
    pub(crate) fn sets_expiry(&self) -> bool {
        self.set.iter().any(|a| a.name == EXPIRY)
    }
}

/// A config's alarms, compiled.
#[derive(Debug, Clone, Default)]
pub(crate) struct CompiledAlarms {
    /// One per transition, by index.
    pub(crate) transitions: Vec<TransitionAlarms>,
    /// The expiry set at creation, when the config has one.
    pub(crate) expiry: Option<AlarmRule>,
}

/// True for a name in `[A-Za-z0-9_.-]{1,64}`.
pub(crate) fn is_alarm_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

const NAME_RULE: &str = "is not a valid alarm name (`[A-Za-z0-9_.-]{1,64}`)";

/// Checks and compiles every transition's `alarms` and the config's
/// `expiry` (`schemas`: each transition's compiled `payloadSchema`, by
/// index). Appends every fault found to `faults`.
pub(crate) fn compile(
    config: &Config,
    schemas: &[Option<PayloadSchema>],
    faults: &mut Vec<ConfigFault>,
) -> CompiledAlarms {
    // (command, from state) pairs some transition handles.
    let handled: HashSet<(&str, &str)> = config
        .transitions
        .iter()
        .flat_map(|t| t.from.iter().map(|f| (t.command.as_str(), f.as_str())))
        .collect();
    let applies = |command: &str, state: &str| handled.contains(&(command, state));
    // An alarm's literal payload must pass the schema of the first
    // transition its command tries from `state` (a violation refuses it).
    let refused_payload = |rule: &AlarmRule, state: &str| {
        config
            .transitions
            .iter()
            .position(|t| t.command == rule.command && t.from.iter().any(|f| f == state))
            .and_then(|j| Some((j, schemas.get(j)?.as_ref()?)))
            .filter(|(_, schema)| !schema.errors(&rule.payload).is_empty())
            .map(|(j, _)| {
                format!(
                    "alarm `{}`: its payload does not satisfy the `payloadSchema` of \
                     transitions[{j}], which its command `{}` tries from state `{state}`",
                    rule.name, rule.command
                )
            })
    };

    let expiry = config
        .expiry
        .as_ref()
        .and_then(|spec| compile_expiry(spec, faults));
    if let Some(rule) = &expiry {
        for (i, t) in config.transitions.iter().enumerate() {
            let creates = t.from.contains(&config.initial_state);
            let sets_own = t
                .alarms
                .iter()
                .flat_map(|a| &a.set)
                .any(|s| s.name == EXPIRY);
            if !creates || sets_own {
                continue;
            }
            if let Some(message) = refused_payload(rule, &t.to) {
                faults.push(ConfigFault::new("expiry.payload", message));
            }
            if !applies(&rule.command, &t.to) {
                faults.push(ConfigFault::new(
                    "expiry.command",
                    format!(
                        "alarm `{EXPIRY}`: command `{}` has no transition from state `{}`, where \
                         transitions[{i}] leads when it creates an aggregate",
                        rule.command, t.to
                    ),
                ));
            }
        }
    }

    let set_anywhere: HashSet<&str> = config
        .transitions
        .iter()
        .flat_map(|t| t.alarms.iter().flat_map(|a| &a.set))
        .map(|s| s.name.as_str())
        .chain(config.expiry.as_ref().map(|_| EXPIRY))
        .collect();
    let mut distinct: BTreeSet<&str> = config.expiry.as_ref().map(|_| EXPIRY).into_iter().collect();

    let mut compiled = Vec::with_capacity(config.transitions.len());
    for (i, t) in config.transitions.iter().enumerate() {
        let mut out = TransitionAlarms::default();
        let Some(spec) = &t.alarms else {
            compiled.push(out);
            continue;
        };
        let mut seen: HashSet<&str> = HashSet::new();
        for (k, set) in spec.set.iter().enumerate() {
            let path = format!("transitions[{i}].alarms.set[{k}]");
            let fault = |message: String| ConfigFault::new(path.clone(), message);
            let name = &set.name;
            if !is_alarm_name(name) {
                faults.push(fault(format!("alarm `{name}` {NAME_RULE}")));
                continue;
            }
            if !seen.insert(name) {
                faults.push(fault(format!(
                    "alarm `{name}`: set twice by this transition"
                )));
                continue;
            }
            if spec.clear.contains(name) {
                faults.push(fault(format!(
                    "alarm `{name}`: both set and cleared by this transition (a set replaces \
                     the alarm already)"
                )));
            }
            if distinct.insert(name) && distinct.len() > MAX_ALARMS {
                faults.push(fault(format!(
                    "alarm `{name}`: the config names more than {MAX_ALARMS} distinct alarms \
                     (expiry included), the most one aggregate may have"
                )));
            }
            let Some(rule) = compile_set(set, config.expiry.as_ref(), &path, faults) else {
                continue;
            };
            if !applies(&rule.command, &t.to) {
                faults.push(fault(format!(
                    "alarm `{name}`: command `{}` has no transition from state `{}`, where this \
                     transition leads",
                    rule.command, t.to
                )));
            } else if let Some(message) = refused_payload(&rule, &t.to) {
                faults.push(fault(message));
            }
            out.set.push(rule);
        }
        for (k, name) in spec.clear.iter().enumerate() {
            let path = format!("transitions[{i}].alarms.clear[{k}]");
            if !is_alarm_name(name) {
                faults.push(ConfigFault::new(
                    path,
                    format!("alarm `{name}` {NAME_RULE}"),
                ));
            } else if !set_anywhere.contains(name.as_str()) {
                faults.push(ConfigFault::new(
                    path,
                    format!("alarm `{name}`: is cleared, but no transition sets it"),
                ));
            } else if !out.clear.contains(name) {
                out.clear.push(name.clone());
            }
        }
        compiled.push(out);
    }
    instant_rearms(config, &compiled, faults);
    CompiledAlarms {
        transitions: compiled,
        expiry,
    }
}

/// True when an alarm may be due as soon as it is set: `after` of no time,
/// or an `at` (a rule, or a literal time that may be past).
fn instant(rule: &AlarmRule) -> bool {
    match &rule.when {
        When::After(after) => after.is_zero(),
        When::At(_) => true,
    }
}

/// Refuses a re-arm that can loop with no delay: transition `i` sets an alarm
/// that may be due at once, whose command fires a transition from where `i`
/// leads that sets (directly, or through more such alarms) an alarm that
/// fires `i` again. On AWS it would fire about once a second until the hop
/// limit.
fn instant_rearms(config: &Config, compiled: &[TransitionAlarms], faults: &mut Vec<ConfigFault>) {
    // i -> (alarm name, j): i sets an instant alarm whose command j handles
    // from the state i leads to.
    let edges: Vec<Vec<(&str, usize)>> = compiled
        .iter()
        .enumerate()
        .map(|(i, own)| {
            let Some(t) = config.transitions.get(i) else {
                return Vec::new();
            };
            own.set
                .iter()
                .filter(|rule| instant(rule))
                .flat_map(|rule| {
                    config
                        .transitions
                        .iter()
                        .enumerate()
                        .filter(move |(_, u)| u.command == rule.command && u.from.contains(&t.to))
                        .map(move |(j, _)| (rule.name.as_str(), j))
                })
                .collect()
        })
        .collect();
    for (start, outs) in edges.iter().enumerate() {
        // Depth-first from `start`'s targets: can it come back to `start`?
        let mut seen = vec![false; edges.len()];
        let mut stack: Vec<usize> = outs.iter().map(|&(_, j)| j).collect();
        let mut back = false;
        while let Some(j) = stack.pop() {
            if j == start {
                back = true;
                break;
            }
            if std::mem::replace(&mut seen[j], true) {
                continue;
            }
            stack.extend(edges[j].iter().map(|&(_, k)| k));
        }
        if back && let Some(&(name, _)) = outs.first() {
            faults.push(ConfigFault::new(
                format!("transitions[{start}].alarms.set"),
                format!(
                    "alarm `{name}`: may be due at once (`after` of no time, or `at`), and its \
                     firing leads back to this transition, which sets it again: a loop with no \
                     delay; give the re-armed alarm an `after` of at least `PT1S`"
                ),
            ));
        }
    }
}

fn compile_expiry(spec: &ExpirySpec, faults: &mut Vec<ConfigFault>) -> Option<AlarmRule> {
    let before = faults.len();
    let command = match spec.command.as_deref() {
        Some(command) if !command.is_empty() => command.to_owned(),
        _ => {
            faults.push(ConfigFault::new(
                "expiry.command",
                format!("alarm `{EXPIRY}`: has no command (the command sent when it is due)"),
            ));
            String::new()
        }
    };
    let after = match spec.after.as_deref() {
        None => Some(IsoDuration::one_year()),
        Some(text) => duration("expiry.after", EXPIRY, text, faults),
    };
    let payload = payload("expiry.payload", EXPIRY, spec.payload.as_ref(), faults);
    if faults.len() > before {
        return None;
    }
    Some(AlarmRule {
        name: EXPIRY.to_owned(),
        when: When::After(after?),
        command,
        payload: payload?,
    })
}

/// One `alarms.set` entry; for `expiry`, what it leaves out comes from the
/// config's `expiry` (`after` defaulting to `P1Y`).
fn compile_set(
    spec: &AlarmSpec,
    expiry: Option<&ExpirySpec>,
    path: &str,
    faults: &mut Vec<ConfigFault>,
) -> Option<AlarmRule> {
    let before = faults.len();
    let name = &spec.name;
    let is_expiry = name == EXPIRY;
    // What `expiry` leaves out comes from the config's `expiry`.
    let inherited = if is_expiry { expiry } else { None };
    let command = match spec
        .command
        .as_ref()
        .or_else(|| inherited.and_then(|e| e.command.as_ref()))
    {
        Some(command) if !command.is_empty() => command.clone(),
        _ => {
            faults.push(ConfigFault::new(
                format!("{path}.command"),
                format!("alarm `{name}`: has no command (the command sent when it is due)"),
            ));
            String::new()
        }
    };
    let when = match (&spec.after, &spec.at) {
        (Some(_), Some(_)) => {
            faults.push(ConfigFault::new(
                path,
                format!("alarm `{name}`: gives both `after` and `at`; give one"),
            ));
            None
        }
        (Some(text), None) => {
            duration(&format!("{path}.after"), name, text, faults).map(When::After)
        }
        (None, Some(at)) => at_rule(&format!("{path}.at"), name, at, faults).map(When::At),
        (None, None) if is_expiry => match inherited.and_then(|e| e.after.as_ref()) {
            Some(text) => duration(&format!("{path}.after"), name, text, faults),
            None => Some(IsoDuration::one_year()),
        }
        .map(When::After),
        (None, None) => {
            faults.push(ConfigFault::new(
                path,
                format!("alarm `{name}`: gives neither `after` nor `at`; give one"),
            ));
            None
        }
    };
    let given = spec
        .payload
        .as_ref()
        .or_else(|| inherited.and_then(|e| e.payload.as_ref()));
    let payload = payload(&format!("{path}.payload"), name, given, faults);
    if faults.len() > before {
        return None;
    }
    Some(AlarmRule {
        name: name.clone(),
        when: when?,
        command,
        payload: payload?,
    })
}

fn duration(
    path: &str,
    name: &str,
    text: &str,
    faults: &mut Vec<ConfigFault>,
) -> Option<IsoDuration> {
    text.parse()
        .map_err(|err| {
            faults.push(ConfigFault::new(
                path,
                format!("alarm `{name}`: `after` {err}"),
            ));
        })
        .ok()
}

fn at_rule(path: &str, name: &str, at: &Value, faults: &mut Vec<ConfigFault>) -> Option<Rule> {
    let rule = match Rule::compile(at) {
        Ok(rule) => rule,
        Err(message) => {
            faults.push(ConfigFault::new(
                path,
                format!("alarm `{name}`: `at` {message}"),
            ));
            return None;
        }
    };
    match rule.literal() {
        None => Some(rule),
        Some(Value::String(text)) if parse_time(text).is_some() => Some(rule),
        Some(_) => {
            faults.push(ConfigFault::new(
                path,
                format!(
                    "alarm `{name}`: `at` must be an RFC 3339 time with an offset, or a JSON \
                     Logic rule giving one"
                ),
            ));
            None
        }
    }
}

fn payload(
    path: &str,
    name: &str,
    payload: Option<&Value>,
    faults: &mut Vec<ConfigFault>,
) -> Option<Map<String, Value>> {
    match payload {
        None => Some(Map::new()),
        Some(Value::Object(map)) => Some(map.clone()),
        Some(_) => {
            faults.push(ConfigFault::new(
                path,
                format!("alarm `{name}`: `payload` must be an object"),
            ));
            None
        }
    }
}
