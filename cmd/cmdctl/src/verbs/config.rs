//! `cmdctl config validate` and `config upload`: checks state-machine
//! configs (files, or the objects under an S3 prefix) the way the handler
//! loads them, listing every fault of each invalid one; and uploads files to
//! S3 only when all of them are valid and none would replace a newer deployed
//! version (unless `--force`).

pub(crate) mod bindings;
pub(crate) mod diff;
pub(crate) mod graph;
mod report;
mod set;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use handler_core::ConfigSourceError;
use handler_core::state_machine::{ConfigFault, StateMachine};
use serde_json::{Value, json};

use crate::Exit;
use crate::cli::{UploadArgs, ValidateArgs};
use crate::context::Context;
use crate::output;
use crate::sources::{ConfigSpec, DEFAULT_CONFIG_DIR};
pub(crate) use report::Checked;
use report::UploadReport;

/// What one file turned out to be.
pub(crate) enum Verdict {
    Valid {
        aggregate_type: String,
        version: u64,
        states: usize,
        transitions: usize,
        /// The compiled machine, for the checks of the whole set.
        machine: Box<StateMachine>,
    },
    Invalid(Vec<ConfigFault>),
}

/// Checks `args.paths`, or every `*.json` of `--config` (a directory or an
/// S3 prefix). Exits 2 if any is invalid.
pub(crate) fn validate(
    ctx: &Context<'_>,
    args: &ValidateArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    // A directory or prefix is the set the handler loads together, so its
    // reactions are checked across it; files named one by one are not.
    let verdicts: Vec<(String, Verdict)> = if !args.paths.is_empty() {
        check_files(&args.paths)
    } else {
        match ctx.config_spec() {
            ConfigSpec::Dir(dir) => {
                set::check_set(check_files(&configs_in(&dir)?), &mut |_| Ok(false))?
            }
            ConfigSpec::S3 { bucket, prefix } => {
                let s3 = ctx.s3();
                let verdicts = ctx.block_on(check_objects(&s3, &bucket, &prefix))?;
                // A prefix may be filled a type at a time: a missing type
                // is noted, an endless cycle refused.
                set::check_set(verdicts, &mut |aggregate_type| {
                    output::note(&format!(
                        "warning: a reaction goes to type `{aggregate_type}`, which has no config \
                         under the prefix; until one is uploaded, its reactions fail (reaction_failed)"
                    ));
                    Ok(true)
                })?
            }
        }
    };
    output::emit(ctx.global, out, &Checked::of(&verdicts))?;
    Ok(if all_valid(&verdicts) {
        Exit::Ok
    } else {
        Exit::Invalid
    })
}

/// Checks `args.paths` (or every `*.json` of the config directory) and,
/// only if every one is valid, uploads them all to the bucket. Exits 2,
/// uploading nothing, if any is invalid.
pub(crate) fn upload(
    ctx: &Context<'_>,
    args: &UploadArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Exit> {
    let (bucket, prefix) = upload_target(ctx, args.bucket.as_deref(), args.prefix.as_deref())?;
    let paths = local_paths(ctx, &args.paths)?;
    let s3 = ctx.s3();
    // The config directory is checked as a set: an endless cycle of
    // reactions refuses the upload; a reaction to a type neither in the
    // directory nor deployed is only noted (it may be uploaded next).
    let verdicts = if args.paths.is_empty() {
        set::check_set(check_files(&paths), &mut |aggregate_type| {
            let deployed = ctx.block_on(config_s3::deployed_version(
                &s3,
                &bucket,
                &prefix,
                aggregate_type,
            ));
            let deployed = deployed.with_context(|| {
                format!("cannot read the deployed config of `{aggregate_type}`")
            })?;
            if deployed.is_none() {
                output::note(&format!(
                    "warning: a reaction goes to type `{aggregate_type}`, which has no config here \
                     nor deployed; until one is uploaded, its reactions fail (reaction_failed)"
                ));
            }
            Ok(true)
        })?
    } else {
        check_files(&paths)
    };
    if !all_valid(&verdicts) {
        output::emit(ctx.global, out, &Checked::upload_refused(&verdicts))?;
        output::note("nothing uploaded: fix the invalid configs first");
        return Ok(Exit::Invalid);
    }

    if !args.force {
        let older = ctx.block_on(older_than_deployed(&s3, &bucket, &prefix, &verdicts))?;
        if !older.is_empty() {
            for line in &older {
                output::note(line);
            }
            output::note(
                "nothing uploaded: a config would replace a newer deployed version (--force to go back)",
            );
            return Ok(Exit::Invalid);
        }
    }
    let mut uploaded = Vec::with_capacity(paths.len());
    for path in &paths {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let stem = path.file_stem().and_then(|s| s.to_str());
        let up = if args.force {
            ctx.block_on(config_s3::force_upload_config(
                &s3, &bucket, &prefix, &bytes, stem,
            ))
        } else {
            ctx.block_on(config_s3::upload_config(
                &s3, &bucket, &prefix, &bytes, stem,
            ))
        }
        .with_context(|| format!("cannot upload {}", path.display()))?;
        uploaded.push((path.display().to_string(), up));
    }

    output::emit(
        ctx.global,
        out,
        &UploadReport {
            bucket,
            prefix,
            uploaded,
        },
    )?;
    Ok(Exit::Ok)
}

/// One line for each valid config whose `version` is lower than the one
/// deployed for its type, checked before anything is uploaded.
async fn older_than_deployed(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    verdicts: &[(String, Verdict)],
) -> anyhow::Result<Vec<String>> {
    let mut older = Vec::new();
    for (name, verdict) in verdicts {
        let Verdict::Valid {
            aggregate_type,
            version,
            ..
        } = verdict
        else {
            continue;
        };
        let deployed = config_s3::deployed_version(s3, bucket, prefix, aggregate_type)
            .await
            .with_context(|| format!("cannot read the deployed config of `{aggregate_type}`"))?;
        if let Some(deployed) = deployed.filter(|d| d > version) {
            older.push(format!(
                "{name} is version {version}, older than version {deployed} deployed at s3://{bucket}/{}",
                config_s3::object_key(prefix, aggregate_type)
            ));
        }
    }
    Ok(older)
}

/// The files given, else every `*.json` of the config directory (--config
/// when it is one, else `config`).
pub(crate) fn local_paths(ctx: &Context<'_>, given: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let dir = match ctx.config_spec() {
        ConfigSpec::Dir(dir) => dir,
        ConfigSpec::S3 { .. } => PathBuf::from(DEFAULT_CONFIG_DIR),
    };
    configs_in(&dir)
}

/// The machines of the valid verdicts, in their order.
pub(super) fn valid_machines(verdicts: &[(String, Verdict)]) -> Vec<&StateMachine> {
    verdicts
        .iter()
        .filter_map(|(_, v)| match v {
            Verdict::Valid { machine, .. } => Some(machine.as_ref()),
            Verdict::Invalid(_) => None,
        })
        .collect()
}

/// `--bucket`/`--prefix` (or their variables), else an `s3://` --config.
pub(crate) fn upload_target(
    ctx: &Context<'_>,
    bucket: Option<&str>,
    prefix: Option<&str>,
) -> anyhow::Result<(String, String)> {
    if let Some(bucket) = bucket.filter(|b| !b.is_empty()) {
        return Ok((bucket.to_owned(), prefix.unwrap_or_default().to_owned()));
    }
    match ctx.config_spec() {
        ConfigSpec::S3 {
            bucket,
            prefix: spec_prefix,
        } => Ok((bucket, prefix.map_or(spec_prefix, str::to_owned))),
        ConfigSpec::Dir(_) => {
            bail!(
                "no bucket to upload to: give --bucket, set S3_BUCKET_NAME, or --config s3://BUCKET/PREFIX"
            )
        }
    }
}

pub(crate) fn all_valid(verdicts: &[(String, Verdict)]) -> bool {
    verdicts
        .iter()
        .all(|(_, v)| matches!(v, Verdict::Valid { .. }))
}

pub(crate) fn check_files(paths: &[PathBuf]) -> Vec<(String, Verdict)> {
    paths
        .iter()
        .map(|p| (p.display().to_string(), check(p)))
        .collect()
}

/// Every `{prefix}{type}.json` object directly under the prefix, checked as
/// the handler would load it (`config_s3::deployed_configs`).
async fn check_objects(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> anyhow::Result<Vec<(String, Verdict)>> {
    let configs = config_s3::deployed_configs(s3, bucket, prefix).await?;
    if configs.is_empty() {
        bail!("no *.json config in s3://{bucket}/{prefix}");
    }
    Ok(configs
        .into_iter()
        .map(|c| (c.location, verdict_of(c.loaded)))
        .collect())
}

/// Loads one file as the handler would, requiring its name to be its type.
fn check(path: &Path) -> Verdict {
    let stem = path.file_stem().and_then(|s| s.to_str());
    verdict_of(config_dir::load_file(path, stem))
}

/// What a load came to.
fn verdict_of(loaded: Result<StateMachine, ConfigSourceError>) -> Verdict {
    let fault = |path: &str, message: String| ConfigFault {
        path: path.to_owned(),
        message,
    };
    match loaded {
        Ok(machine) => {
            let config = machine.config();
            Verdict::Valid {
                aggregate_type: config.aggregate_type.clone(),
                version: config.version,
                states: config.states.len(),
                transitions: config.transitions.len(),
                machine: Box::new(machine),
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
        Err(e @ ConfigSourceError::Unavailable { .. }) => {
            Verdict::Invalid(vec![fault("", format!("cannot read: {e}"))])
        }
    }
}

fn verdict_json(path: &str, verdict: &Verdict) -> Value {
    match verdict {
        Verdict::Valid {
            aggregate_type,
            version,
            states,
            transitions,
            ..
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
