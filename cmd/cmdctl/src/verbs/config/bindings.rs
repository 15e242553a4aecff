//! `cmdctl config bindings`: the EventBridge rules the configs' bindings
//! need (one per binding: its pattern, `source` and `detail-type`, and the
//! command it becomes), from `state_machine::binding_rules`, the function
//! the deploy step's rules come from too (through `--json`).

use std::fmt;
use std::io::Write;

use handler_core::state_machine::{BindingRule, binding_rules};
use serde::Serialize;

use super::{Checked, all_valid, check_files, local_paths, set};
use crate::Exit;
use crate::cli::BindingsArgs;
use crate::context::Context;
use crate::output;

/// What `config bindings` prints: `{"rules": [...]}`.
#[derive(Serialize)]
struct Rules {
    rules: Vec<BindingRule>,
}

/// One line per rule: its logical id, source, detail-type, the command it
/// becomes, its pattern.
impl fmt::Display for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rules.is_empty() {
            return writeln!(f, "no bindings: the configs need no EventBridge rule");
        }
        let rows: Vec<Vec<String>> = self
            .rules
            .iter()
            .map(|r| {
                vec![
                    r.logical_id.clone(),
                    r.source.clone(),
                    r.detail_type.clone(),
                    format!("-> {}.{}", r.aggregate_type, r.command),
                    r.event_pattern.to_string(),
                ]
            })
            .collect();
        f.write_str(&output::table(&rows))
    }
}

impl output::VerbReport for Rules {}

/// Prints the rules of `args.paths` (default: every `*.json` of the config
/// directory), checked as a set first: an invalid config, or a set binding
/// one event twice, is listed as `config validate` lists it, exit 2.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &BindingsArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let paths = local_paths(ctx, &args.paths)?;
    // Reactions to types outside the files given are no concern here.
    let verdicts = set::check_set(check_files(&paths), &mut |_| Ok(true))?;
    if !all_valid(&verdicts) {
        output::emit(ctx.global, out, &Checked::of(&verdicts))?;
        return Ok(Exit::Invalid);
    }
    let machines = super::valid_machines(&verdicts);
    output::emit(
        ctx.global,
        out,
        &Rules {
            rules: binding_rules(&machines),
        },
    )?;
    Ok(Exit::Ok)
}
