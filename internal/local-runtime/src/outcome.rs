//! A command's outcome in words, as the reports and the CLI give it.

use handler_core::{Applied, Failure};

/// `applied`, `duplicate`, `stale` (a fired alarm with no effect),
/// `rejected` (permanent) or `failed` (may pass on a later delivery).
pub fn word(result: &Result<Applied, Failure>) -> &'static str {
    match result {
        Ok(applied) => applied.outcome(),
        Err(f) if f.is_permanent() => "rejected",
        Err(_) => "failed",
    }
}

/// `applied v3`, `duplicate v3`, `stale v3: why`, `rejected [code]: reason`
/// or `failed [code]: reason`, on one line.
pub fn text(result: &Result<Applied, Failure>) -> String {
    let word = word(result);
    match result {
        Ok(Applied {
            version,
            stale: Some(why),
            ..
        }) => format!("{word} v{version}: {why}"),
        Ok(applied) => format!("{word} v{}", applied.version),
        Err(failure) => format!(
            "{word} [{}]: {}",
            failure.code(),
            one_line(&failure.to_string())
        ),
    }
}

/// Joins the lines of a multi-line message with `; `.
pub fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
