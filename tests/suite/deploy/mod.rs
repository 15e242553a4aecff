//! The deployment: `cmd/command-handler/deploy/template.json` on moto's
//! CloudFormation, read back through the service APIs
//! ([`template_moto`]); what moto skips, checked in the template itself, and
//! cfn-lint ([`template_static`]); the event processor's function, stream
//! mapping and alarm ([`template_processor`]); the schedule group and the
//! scheduler's role for alarms ([`template_alarms`]); the HTTP Lambda and
//! its Function URL ([`template_http`]); the roles' grants against what
//! the Lambdas send ([`grants`], and [`http_grants`] for the HTTP Lambda's,
//! route by route); the script behind `cargo make zip` /
//! `cargo make deploy` (`stack.py`) against moto ([`script`]); and the rules
//! the configs' bindings need, rendered into the template and delivering a
//! provider's event to the worker through moto's EventBridge
//! ([`bindings`]).
//!
//! moto makes the queues, the table (keys, index, stream), the bucket (with
//! its encryption), the roles and their inline policies, the functions and the
//! event source mappings; it skips `AWS::CloudWatch::Alarm`, `AWS::Scheduler::ScheduleGroup`,
//! `AWS::S3::BucketPolicy` and `AWS::SQS::QueuePolicy`, has no
//! `AWS::Lambda::Url` at all (a stack whose outputs name one fails, so it is
//! deployed there with `HttpApiUrlEnabled=false`), and ignores a
//! table's TTL and point-in-time recovery, a bucket's public access block,
//! versioning and ownership, a queue's `RedriveAllowPolicy`, and a
//! function's `Architectures` and `S3ObjectVersion`. Those are checked in
//! the template itself, and
//! the whole template against CloudFormation's resource schemas (cfn-lint,
//! which comes with moto).

mod bindings;
mod grants;
mod http_grants;
mod script;
mod template_alarms;
mod template_http;
mod template_moto;
mod template_processor;
mod template_static;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName as Q;
use serde_json::Value;

/// The template and its scripts.
pub(super) fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../cmd/command-handler/deploy")
}

pub(super) fn template_path() -> PathBuf {
    deploy_dir().join("template.json")
}

pub(super) fn template() -> Value {
    let text = std::fs::read_to_string(template_path()).expect("read template.json");
    serde_json::from_str(&text).expect("template.json is JSON")
}

/// What `cmdctl config bindings --json` prints for the repository's
/// configs: `{"rules": [...]}` from the same function.
pub(super) fn bindings_json() -> Value {
    let configs = testkit::scenario::config_dir();
    let mut machines = Vec::new();
    for entry in std::fs::read_dir(&configs).expect("config/") {
        let path = entry.expect("an entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            machines.push(config_dir::load_file(&path, None).expect("a valid config"));
        }
    }
    let machines: Vec<&handler_core::state_machine::StateMachine> = machines.iter().collect();
    serde_json::json!({ "rules": handler_core::state_machine::binding_rules(&machines) })
}

/// The template as `stack.py render --bindings` gives it, with the rules of
/// `bindings` (the JSON of `cmdctl config bindings --json`).
pub(super) fn rendered_template(bindings: &Value) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bindings.json");
    std::fs::write(&file, bindings.to_string()).expect("write bindings");
    let out = run(Command::new("python3")
        .arg(deploy_dir().join("stack.py"))
        .args(["render", "--bindings"])
        .arg(&file));
    assert!(out.status.success(), "stack.py render: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("the rendered template is JSON")
}

pub(super) async fn queue_attributes(sdk: &SdkConfig, url: &str) -> BTreeMap<String, String> {
    aws_sdk_sqs::Client::new(sdk)
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(Q::All)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The environment variables a source file of the repository names: its
/// quoted UPPER_CASE words, the SDK's own `AWS_*` aside.
pub(super) fn variables_named_in(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.split('"')
        .skip(1)
        .step_by(2)
        .filter(|name| {
            name.len() > 3
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && !name.starts_with("AWS_")
        })
        .map(str::to_owned)
        .collect()
}

pub(super) fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|s| s.as_str().expect("a string").to_owned())
            .collect(),
        other => panic!("expected a string or a list, got {other}"),
    }
}

pub(super) fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub(super) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
