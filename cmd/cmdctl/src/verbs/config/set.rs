//! The checks of a whole set of configs (a directory or an S3 prefix, the
//! configs the handler loads together): `state_machine::validate_set`'s
//! faults make the config they are in invalid.

use handler_core::state_machine::validate_set;

use super::Verdict;

/// `verdicts` with each valid config that has a fault of the set turned
/// invalid, listing those faults.
/// When some config is already invalid, the set is not checked: a reaction
/// to its type would read as one to a type with no config.
/// `known_elsewhere(type)`: a config of that type exists outside the set
/// (deployed), so a reaction to it is no fault.
pub(super) fn check_set(
    mut verdicts: Vec<(String, Verdict)>,
    known_elsewhere: &mut dyn FnMut(&str) -> anyhow::Result<bool>,
) -> anyhow::Result<Vec<(String, Verdict)>> {
    if !super::all_valid(&verdicts) {
        return Ok(verdicts);
    }
    let machines = super::valid_machines(&verdicts);
    let mut faults = Vec::new();
    for fault in validate_set(&machines) {
        match &fault.missing_type {
            Some(target) if known_elsewhere(target)? => {}
            _ => faults.push(fault),
        }
    }
    if faults.is_empty() {
        return Ok(verdicts);
    }
    for (_, verdict) in &mut verdicts {
        let Verdict::Valid { aggregate_type, .. } = verdict else {
            continue;
        };
        let mine: Vec<_> = faults
            .iter()
            .filter(|f| &f.aggregate_type == aggregate_type)
            .map(|f| f.fault.clone())
            .collect();
        if !mine.is_empty() {
            *verdict = Verdict::Invalid(mine);
        }
    }
    Ok(verdicts)
}
