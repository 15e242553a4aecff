//! `cmdctl config validate`: checks state-machine config files the way the
//! handler loads them, and lists every fault of each invalid one.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use handler_core::ConfigSourceError;
use handler_core::state_machine::ConfigFault;
use serde_json::{Value, json};

use crate::Exit;
use crate::cli::{GlobalArgs, ValidateArgs};
use crate::output;

/// What one file turned out to be.
enum Verdict {
    Valid {
        aggregate_type: String,
        version: u64,
        states: usize,
        transitions: usize,
    },
    Invalid(Vec<ConfigFault>),
}

/// Checks `args.paths`, or every `*.json` of `--config-dir`. Exits 2 if any
/// is invalid.
pub(crate) fn validate(
    global: &GlobalArgs,
    args: &ValidateArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let paths = if args.paths.is_empty() {
        configs_in(&global.config_dir)?
    } else {
        args.paths.clone()
    };
    let verdicts: Vec<(PathBuf, Verdict)> = paths
        .into_iter()
        .map(|p| {
            let verdict = check(&p);
            (p, verdict)
        })
        .collect();
    let all_valid = verdicts
        .iter()
        .all(|(_, v)| matches!(v, Verdict::Valid { .. }));

    if global.json {
        let files: Vec<Value> = verdicts
            .iter()
            .map(|(path, v)| verdict_json(path, v))
            .collect();
        output::write_json(out, &json!({ "valid": all_valid, "files": files }))?;
    } else {
        for (path, verdict) in &verdicts {
            match verdict {
                Verdict::Valid {
                    aggregate_type,
                    version,
                    states,
                    transitions,
                } => writeln!(
                    out,
                    "ok  {} ({aggregate_type} v{version}, {states} states, {transitions} transitions)",
                    path.display()
                )?,
                Verdict::Invalid(faults) => {
                    writeln!(out, "invalid {}", path.display())?;
                    for fault in faults {
                        for (i, line) in fault.to_string().lines().enumerate() {
                            let indent = if i == 0 { "    " } else { "      " };
                            writeln!(out, "{indent}{line}")?;
                        }
                    }
                }
            }
        }
    }
    Ok(if all_valid { Exit::Ok } else { Exit::Invalid })
}

/// Loads one file as the handler would, requiring its name to be its type.
fn check(path: &Path) -> Verdict {
    let stem = path.file_stem().and_then(|s| s.to_str());
    let fault = |path: &str, message: String| ConfigFault {
        path: path.to_owned(),
        message,
    };
    match config_dir::load_file(path, stem) {
        Ok(machine) => {
            let config = machine.config();
            Verdict::Valid {
                aggregate_type: config.aggregate_type.clone(),
                version: config.version,
                states: config.states.len(),
                transitions: config.transitions.len(),
            }
        }
        Err(ConfigSourceError::Invalid { error, .. }) => Verdict::Invalid(error.faults),
        Err(ConfigSourceError::WrongType {
            declared, expected, ..
        }) => Verdict::Invalid(vec![fault(
            "aggregateType",
            format!(
                "declares `{declared}`, but the file is named for `{expected}` (the config of type T must be T.json)"
            ),
        )]),
        Err(ConfigSourceError::NotFound { .. }) => {
            Verdict::Invalid(vec![fault("", "cannot read: no such file".to_owned())])
        }
        Err(e @ ConfigSourceError::Unavailable(_)) => {
            Verdict::Invalid(vec![fault("", format!("cannot read: {e}"))])
        }
    }
}

fn verdict_json(path: &Path, verdict: &Verdict) -> Value {
    let path = path.display().to_string();
    match verdict {
        Verdict::Valid {
            aggregate_type,
            version,
            states,
            transitions,
        } => json!({
            "path": path,
            "valid": true,
            "aggregateType": aggregate_type,
            "version": version,
            "states": states,
            "transitions": transitions,
        }),
        Verdict::Invalid(faults) => json!({
            "path": path,
            "valid": false,
            "faults": faults
                .iter()
                .map(|f| json!({ "path": f.path, "message": f.message }))
                .collect::<Vec<_>>(),
        }),
    }
}

/// Every `*.json` file of `dir`, sorted.
fn configs_in(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read config directory {}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read config directory {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            paths.push(path);
        }
    }
    if paths.is_empty() {
        bail!("no *.json config in {}", dir.display());
    }
    paths.sort();
    Ok(paths)
}
