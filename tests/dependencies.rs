//! Which way the workspace's dependencies point, read from `cargo metadata`
//! (each member's direct dependencies, every kind: normal, build and dev):
//!
//! - `pkg/*` is AWS-free and I/O-free: no `aws-*`/`aws_*`/`lambda_*` crate,
//!   nothing of `internal/` or `cmd/`;
//! - nothing depends on a crate of `cmd/` (binaries are the top);
//! - an **adapter** (an `internal/` crate that depends on an `aws-sdk-*` or
//!   `lambda_*`/`aws_lambda_*` crate) depends on no other adapter: what two
//!   adapters share goes into an AWS-free crate or a support crate;
//! - an **engine** (an `internal/` crate with no `aws-*`, `aws_*` or
//!   `lambda_*` dependency) depends on no adapter;
//! - a **support** crate ([`SUPPORT`]: a helper over the SDK that serves no
//!   engine's trait) depends on no adapter;
//! - a **wiring** crate ([`WIRING`]: one Lambda's assembly) is the only
//!   `internal/` crate that may combine adapters; no `internal/` crate
//!   depends on a wiring crate, a wiring crate included, so one Lambda
//!   never links the other's clients.
//!
//! Each failure names the edge and the rule it breaks.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The wiring crates: each Lambda's own assembly of adapters.
const WIRING: &[&str] = &["command-lambda", "processor-lambda", "http-lambda"];

/// The support crates: helpers over the SDK (or its config) that serve no
/// engine's trait, which adapters and binaries share.
const SUPPORT: &[&str] = &["sdk-error", "sqs-batch", "binary-env"];

/// Where a member lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Pkg,
    Internal,
    Cmd,
    /// The test harness (`tests/`), which may use everything below `cmd/`.
    Harness,
}

/// What an `internal/` crate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Engine,
    Adapter,
    Support,
    Wiring,
}

/// One direct dependency.
#[derive(Debug, Clone)]
struct Dep {
    name: String,
    /// `normal`, `build` or `dev`.
    kind: String,
}

/// One workspace member.
#[derive(Debug, Clone)]
struct Member {
    name: String,
    place: Place,
    deps: Vec<Dep>,
}

fn is_aws(name: &str) -> bool {
    name.starts_with("aws-") || name.starts_with("aws_") || name.starts_with("lambda_")
}

/// An SDK client or a Lambda runtime crate: what makes a crate an adapter.
fn is_aws_client(name: &str) -> bool {
    name.starts_with("aws-sdk-") || name.starts_with("lambda_") || name.starts_with("aws_lambda")
}

fn role(member: &Member) -> Role {
    if WIRING.contains(&member.name.as_str()) {
        Role::Wiring
    } else if SUPPORT.contains(&member.name.as_str()) {
        Role::Support
    } else if member
        .deps
        .iter()
        .any(|d| d.kind != "dev" && is_aws_client(&d.name))
    {
        Role::Adapter
    } else if member
        .deps
        .iter()
        .any(|d| d.kind != "dev" && is_aws(&d.name))
    {
        // AWS without a client (the SDK's config or types): not an engine,
        // and not listed as support. Reported by `violations`.
        Role::Support
    } else {
        Role::Engine
    }
}

/// Every edge that points the wrong way, as "`from` -> `to` (kind): rule".
fn violations(members: &[Member]) -> Vec<String> {
    let find = |name: &str| members.iter().find(|m| m.name == name);
    let mut found = Vec::new();
    for member in members {
        let from = member.name.as_str();
        let from_role = (member.place == Place::Internal).then(|| role(member));
        if member.place == Place::Internal
            && from_role == Some(Role::Support)
            && !SUPPORT.contains(&from)
            && !WIRING.contains(&from)
        {
            found.push(format!(
                "{from}: depends on AWS crates but on no SDK client: list it in SUPPORT or make it AWS-free"
            ));
        }
        for dep in &member.deps {
            let to = dep.name.as_str();
            let edge = format!("{from} -> {to} ({})", dep.kind);
            let target = find(to);
            if member.place == Place::Pkg && is_aws(to) {
                found.push(format!("{edge}: pkg/ crates are AWS-free"));
            }
            let Some(target) = target else { continue };
            if target.place == Place::Cmd {
                found.push(format!("{edge}: nothing depends on a crate of cmd/"));
                continue;
            }
            if member.place == Place::Pkg && target.place != Place::Pkg {
                found.push(format!(
                    "{edge}: pkg/ crates depend on no crate of internal/ or cmd/"
                ));
                continue;
            }
            if member.place != Place::Internal || target.place != Place::Internal {
                continue;
            }
            let to_role = role(target);
            match (from_role, to_role) {
                (_, Role::Wiring) => found.push(format!(
                    "{edge}: no internal/ crate depends on a wiring crate (only cmd/ and the harness do)"
                )),
                (Some(Role::Adapter), Role::Adapter) => found.push(format!(
                    "{edge}: an adapter depends on no other adapter (share through an AWS-free or a support crate)"
                )),
                (Some(Role::Engine), Role::Adapter) => found.push(format!(
                    "{edge}: an AWS-free engine depends on no adapter"
                )),
                (Some(Role::Support), Role::Adapter) => found.push(format!(
                    "{edge}: a support crate depends on no adapter"
                )),
                _ => {}
            }
        }
    }
    found
}

/// The workspace checked: this checkout's, or the one at
/// `DEPENDENCY_CHECK_ROOT` (to check another checkout).
fn workspace_root() -> PathBuf {
    match std::env::var_os("DEPENDENCY_CHECK_ROOT") {
        Some(root) => PathBuf::from(root),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("tests/ has a parent")
            .to_path_buf(),
    }
}

/// The members and their direct dependencies, from `cargo metadata`.
fn members(root: &Path) -> Vec<Member> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(root.join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let root = metadata["workspace_root"]
        .as_str()
        .map(PathBuf::from)
        .expect("a workspace root");
    let packages = metadata["packages"].as_array().expect("packages");
    packages
        .iter()
        .map(|package| {
            let manifest = Path::new(package["manifest_path"].as_str().expect("a manifest path"));
            let relative = manifest
                .strip_prefix(&root)
                .expect("a member inside the workspace");
            let place = match relative
                .components()
                .next()
                .and_then(|c| c.as_os_str().to_str())
            {
                Some("pkg") => Place::Pkg,
                Some("internal") => Place::Internal,
                Some("cmd") => Place::Cmd,
                Some("tests") => Place::Harness,
                other => panic!("a member outside pkg/, internal/, cmd/, tests/: {other:?}"),
            };
            let deps = package["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .map(|dep| Dep {
                    name: dep["name"].as_str().expect("a name").to_owned(),
                    kind: dep["kind"].as_str().unwrap_or("normal").to_owned(),
                })
                .collect();
            Member {
                name: package["name"].as_str().expect("a name").to_owned(),
                place,
                deps,
            }
        })
        .collect()
}

#[test]
fn every_dependency_points_the_right_way() {
    let members = members(&workspace_root());
    assert!(
        members.len() > 10,
        "too few members read: {}",
        members.len()
    );
    for listed in WIRING.iter().chain(SUPPORT) {
        assert!(
            members
                .iter()
                .any(|m| m.name == *listed && m.place == Place::Internal),
            "{listed} is listed but is no crate of internal/"
        );
    }
    let found = violations(&members);
    assert!(
        found.is_empty(),
        "{} dependencies point the wrong way:\n{}",
        found.len(),
        found.join("\n")
    );
}

fn member(name: &str, place: Place, deps: &[(&str, &str)]) -> Member {
    Member {
        name: name.to_owned(),
        place,
        deps: deps
            .iter()
            .map(|(name, kind)| Dep {
                name: (*name).to_owned(),
                kind: (*kind).to_owned(),
            })
            .collect(),
    }
}

/// Each rule catches its edge, and names it.
#[test]
fn each_rule_names_the_edge_it_refuses() {
    let members = [
        member(
            "domain",
            Place::Pkg,
            &[("aws-config", "normal"), ("engine", "dev")],
        ),
        member("engine", Place::Internal, &[("s3-adapter", "normal")]),
        member("s3-adapter", Place::Internal, &[("aws-sdk-s3", "normal")]),
        member(
            "sqs-adapter",
            Place::Internal,
            &[
                ("aws-sdk-sqs", "normal"),
                ("s3-adapter", "normal"),
                ("sdk-error", "normal"),
            ],
        ),
        member(
            "sdk-error",
            Place::Internal,
            &[("aws-smithy-types", "normal"), ("s3-adapter", "normal")],
        ),
        member(
            "command-lambda",
            Place::Internal,
            &[("s3-adapter", "normal"), ("processor-lambda", "normal")],
        ),
        member(
            "processor-lambda",
            Place::Internal,
            &[("sqs-adapter", "normal"), ("cli", "dev")],
        ),
        member("config-only", Place::Internal, &[("aws-config", "normal")]),
        member(
            "cli",
            Place::Cmd,
            &[("command-lambda", "normal"), ("s3-adapter", "normal")],
        ),
        member(
            "testkit",
            Place::Harness,
            &[("processor-lambda", "normal"), ("sqs-adapter", "normal")],
        ),
    ];
    let found = violations(&members);
    let expected = [
        "domain -> aws-config (normal): pkg/ crates are AWS-free",
        "domain -> engine (dev): pkg/ crates depend on no crate of internal/ or cmd/",
        "engine -> s3-adapter (normal): an AWS-free engine depends on no adapter",
        "sqs-adapter -> s3-adapter (normal): an adapter depends on no other adapter (share through an AWS-free or a support crate)",
        "sdk-error -> s3-adapter (normal): a support crate depends on no adapter",
        "command-lambda -> processor-lambda (normal): no internal/ crate depends on a wiring crate (only cmd/ and the harness do)",
        "processor-lambda -> cli (dev): nothing depends on a crate of cmd/",
        "config-only: depends on AWS crates but on no SDK client: list it in SUPPORT or make it AWS-free",
    ];
    for line in &expected {
        assert!(
            found.iter().any(|f| f == line),
            "not reported: {line}\nfound:\n{}",
            found.join("\n")
        );
    }
    assert_eq!(found.len(), expected.len(), "found:\n{}", found.join("\n"));
}
