//! `cmdctl config graph`: the configs drawn as Mermaid or DOT, by
//! `state_machine::graph` (the README's saga diagram is this output).

use std::fmt;
use std::io::Write;

use handler_core::state_machine::Config;
use handler_core::state_machine::graph::{self, Format};
use serde::Serialize;

use super::{Checked, all_valid, check_files, local_paths, set};
use crate::Exit;
use crate::cli::{GraphArgs, GraphFormat};
use crate::context::Context;
use crate::output;

/// What `config graph` prints: the diagram's text (`{"diagram": ...}`
/// with `--json`).
#[derive(Serialize)]
struct Diagram {
    diagram: String,
}

impl fmt::Display for Diagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagram)
    }
}

impl output::VerbReport for Diagram {}

/// Draws the configs of the config directory (those of `args.types` when
/// given, in that order), checked as a set first: an invalid config is
/// listed as `config validate` lists it, exit 2.
pub(crate) fn run(
    ctx: &Context<'_>,
    args: &GraphArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let paths = local_paths(ctx, &[])?;
    let verdicts = set::check_set(check_files(&paths), &mut |_| Ok(true))?;
    if !all_valid(&verdicts) {
        output::emit(ctx.global, out, &Checked::of(&verdicts))?;
        return Ok(Exit::Invalid);
    }
    let machines = super::valid_machines(&verdicts);
    let configs: Vec<&Config> = if args.types.is_empty() {
        machines.iter().map(|m| m.config()).collect()
    } else {
        let mut chosen = Vec::new();
        for name in &args.types {
            let Some(machine) = machines.iter().find(|m| m.aggregate_type() == name) else {
                anyhow::bail!("no config for aggregate type `{name}` in the config directory");
            };
            chosen.push(machine.config());
        }
        chosen
    };
    let format = match args.format {
        GraphFormat::Mermaid => Format::Mermaid,
        GraphFormat::Dot => Format::Dot,
    };
    output::emit(
        ctx.global,
        out,
        &Diagram {
            diagram: graph::draw(&configs, format),
        },
    )?;
    Ok(Exit::Ok)
}
