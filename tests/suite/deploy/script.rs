//! `stack.py`, the script behind `cargo make zip` and `cargo make deploy`,
//! against moto and against a recording client.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use testkit::fault_proxy::{FaultPlan, FaultProxy};
use testkit::moto::{moto, unique_name};

use super::{deploy_dir, queue_attributes, run, stderr};

/// `cargo make zip` and `cargo make deploy` run `stack.py`; here it runs
/// against moto: a deterministic zip, a stack created, an unchanged
/// redeploy, new code and a parameter rolled out, a bad parameter refused.
/// The code bucket is versioned and TLS-only, the stack pins the zip's
/// version, and every S3 request names the caller's account as the
/// bucket's expected owner (moto does not check it: a proxy between the
/// script and moto records the requests).
// Two workers: the script runs blocking on one, the proxy serves on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deploy_script_creates_and_updates_the_stack_on_moto() {
    let started = Instant::now();
    let sdk = moto().sdk_config().await;
    let python = moto().python();
    let proxy = FaultProxy::start(moto().endpoint(), FaultPlan::default()).await;
    proxy.record();
    let dir = tempfile::tempdir().expect("tempdir");
    let binary = dir.path().join("bootstrap");
    let zip = dir.path().join("lambda").join("bootstrap.zip");
    let processor_zip = dir.path().join("event-processor").join("bootstrap.zip");
    let http_api_zip = dir.path().join("http-api").join("bootstrap.zip");
    let env_file = dir.path().join("stack.env");
    let stack = unique_name("deployed");
    let script = deploy_dir().join("stack.py");
    let stack_py = |args: &[&str]| {
        let mut cmd = Command::new(python);
        cmd.arg(&script)
            .args(args)
            .envs(moto().env())
            .env("AWS_ENDPOINT_URL", proxy.endpoint());
        for unset in [
            "STACK_NAME",
            "CODE_BUCKET",
            "AWS_PROFILE",
            "AWS_DEFAULT_REGION",
        ] {
            cmd.env_remove(unset);
        }
        run(&mut cmd)
    };
    let zip_of = |contents: &[u8]| {
        std::fs::write(&binary, contents).expect("write binary");
        let out = stack_py(&[
            "zip",
            binary.to_str().expect("path"),
            zip.to_str().expect("path"),
        ]);
        assert!(out.status.success(), "zip: {}", stderr(&out));
        std::fs::read(&zip).expect("read zip")
    };

    // The zip: `bootstrap`, executable, at the root; the same bytes each time.
    let first = zip_of(b"\x7fELF first build");
    assert_eq!(first, zip_of(b"\x7fELF first build"), "deterministic zip");
    let listing = run(Command::new(python).args([
        "-c",
        "import sys, zipfile; [print(i.filename, oct(i.external_attr >> 16)) for i in zipfile.ZipFile(sys.argv[1]).infolist()]",
        zip.to_str().expect("path"),
    ]));
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).trim(),
        "bootstrap 0o100755"
    );
    std::fs::write(zip.with_file_name("ARCH"), "arm64\n").expect("write ARCH");
    // The processor's zip, the same way, beside its own ARCH.
    std::fs::create_dir_all(processor_zip.parent().expect("a parent")).expect("mkdir");
    let out = stack_py(&[
        "zip",
        binary.to_str().expect("path"),
        processor_zip.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "processor zip: {}", stderr(&out));
    std::fs::write(processor_zip.with_file_name("ARCH"), "arm64\n").expect("write ARCH");
    // And the HTTP Lambda's.
    std::fs::create_dir_all(http_api_zip.parent().expect("a parent")).expect("mkdir");
    let out = stack_py(&[
        "zip",
        binary.to_str().expect("path"),
        http_api_zip.to_str().expect("path"),
    ]);
    assert!(out.status.success(), "HTTP Lambda zip: {}", stderr(&out));
    std::fs::write(http_api_zip.with_file_name("ARCH"), "arm64\n").expect("write ARCH");

    // The bindings' rules, as `cmdctl config bindings --json` prints them.
    let bindings = dir.path().join("bindings.json");
    std::fs::write(&bindings, super::bindings_json().to_string()).expect("write bindings");
    let deploy = |extra: &[&str]| {
        let mut args = vec![
            "deploy",
            "--bindings",
            bindings.to_str().expect("path"),
            "--zip",
            zip.to_str().expect("path"),
            "--processor-zip",
            processor_zip.to_str().expect("path"),
            "--http-api-zip",
            http_api_zip.to_str().expect("path"),
            "--stack-name",
            stack.as_str(),
            "--env-file",
            env_file.to_str().expect("path"),
        ];
        args.extend_from_slice(extra);
        stack_py(&args)
    };

    // Created, with the event source mapping off (AWS_ENDPOINT_URL is set).
    let out = deploy(&[]);
    assert!(out.status.success(), "first deploy: {}", stderr(&out));
    let cf = aws_sdk_cloudformation::Client::new(&sdk);
    let params = stack_parameters(&cf, &stack).await;
    assert_eq!(params["EventSourceEnabled"], "false");
    assert_eq!(params["Architecture"], "arm64", "from the ARCH file");
    assert!(
        params["CodeKey"].starts_with("command-handler/") && params["CodeKey"].ends_with(".zip")
    );
    assert!(
        params["ProcessorCodeKey"].starts_with("event-processor/")
            && params["ProcessorCodeKey"].ends_with(".zip")
    );
    assert!(
        params["HttpApiCodeKey"].starts_with("http-api/")
            && params["HttpApiCodeKey"].ends_with(".zip")
    );
    // moto's CloudFormation has no AWS::Lambda::Url: left out on an emulator.
    assert_eq!(params["HttpApiUrlEnabled"], "false");
    assert!(
        stderr(&out).contains("without its Function URL"),
        "{}",
        stderr(&out)
    );
    let env = std::fs::read_to_string(&env_file).expect("the env file");
    for name in [
        "DYNAMO_TABLE_NAME",
        "S3_BUCKET_NAME",
        "S3_CONFIG_PREFIX",
        "CMDCTL_QUEUE_URL",
        "CMDCTL_DLQ_URL",
    ] {
        assert!(env.contains(&format!("export {name}=")), "{name} in {env}");
    }
    let outputs = stack_outputs(&cf, &stack).await;
    let account = outputs["QueueArn"]
        .split(':')
        .nth(4)
        .expect("account in ARN");
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let code_bucket = format!("{stack}-code-{account}-us-east-1");
    assert_eq!(params["CodeBucket"], code_bucket);
    // No TLS to moto: a TLS-only policy would lock the script out (moto
    // ignores its condition); on AWS the bucket gets one (see
    // `the_deploy_script_makes_a_code_bucket_that_only_its_account_reaches`).
    assert!(
        stderr(&out).contains("gets no TLS-only policy"),
        "{}",
        stderr(&out)
    );
    let current_version = |key: String| {
        let s3 = s3.clone();
        let bucket = code_bucket.clone();
        async move {
            s3.head_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .expect("HeadObject of the zip")
                .version_id()
                .expect("a version id")
                .to_owned()
        }
    };
    // A versioned bucket gives every object a version id ("null" without).
    // (moto answers GetBucketVersioning with a root the Rust SDK refuses.)
    let first_version = current_version(params["CodeKey"].clone()).await;
    assert_ne!(first_version, "null", "the code bucket is versioned");
    assert_eq!(
        params["CodeObjectVersion"], first_version,
        "the stack pins the version uploaded"
    );
    assert_eq!(
        params["ProcessorCodeObjectVersion"],
        current_version(params["ProcessorCodeKey"].clone()).await,
        "and the processor's"
    );
    assert_eq!(
        params["HttpApiCodeObjectVersion"],
        current_version(params["HttpApiCodeKey"].clone()).await,
        "and the HTTP Lambda's"
    );
    let lambda = aws_sdk_lambda::Client::new(&sdk);
    let code_sha = || async {
        lambda
            .get_function_configuration()
            .function_name(&outputs["FunctionName"])
            .send()
            .await
            .expect("GetFunctionConfiguration")
            .code_sha256()
            .map(str::to_owned)
    };
    let before = code_sha().await;

    // Unchanged: succeeds (AWS says "No updates are to be performed").
    let out = deploy(&[]);
    assert!(out.status.success(), "unchanged deploy: {}", stderr(&out));
    assert!(stderr(&out).contains("code unchanged"), "{}", stderr(&out));

    // New code and a longer timeout: the function's code and the queue follow.
    zip_of(b"\x7fELF second build");
    let out = deploy(&["FunctionTimeout=60"]);
    assert!(out.status.success(), "update: {}", stderr(&out));
    assert_ne!(code_sha().await, before, "the new zip is deployed");
    let queue = queue_attributes(&sdk, &outputs["QueueUrl"]).await;
    assert_eq!(queue["VisibilityTimeout"], "360");
    let params = stack_parameters(&cf, &stack).await;
    assert_eq!(params["EventSourceEnabled"], "false", "kept from before");
    let second_version = current_version(params["CodeKey"].clone()).await;
    assert_eq!(params["CodeObjectVersion"], second_version);
    assert_ne!(second_version, first_version);

    // Every S3 request, the upload's included, names the caller's account
    // as the bucket's owner: S3 refuses it for a bucket someone else made.
    // CreateBucket takes no owner (S3 refuses a name already taken anyway).
    let create_bucket = format!("/{code_bucket}");
    let s3_requests: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|r| r.service() == Some("s3"))
        .filter(|r| !(r.operation == "S3 PUT" && r.path == create_bucket))
        .collect();
    assert!(
        s3_requests
            .iter()
            .any(|r| r.operation == "S3 PUT" && r.path.contains("/command-handler/")),
        "the uploads went through the proxy: {s3_requests:#?}"
    );
    for r in &s3_requests {
        assert_eq!(
            r.headers
                .get("x-amz-expected-bucket-owner")
                .map(String::as_str),
            Some(account),
            "{} {} without the expected bucket owner",
            r.operation,
            r.path
        );
    }

    // A parameter the template does not have: refused before anything runs.
    let out = deploy(&["Nope=1"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no parameter 'Nope'"),
        "{}",
        stderr(&out)
    );
    eprintln!("deploy script checked in {:?}", started.elapsed());
}

/// On AWS (an endpoint with TLS), a new code bucket is made private,
/// encrypted, versioned and TLS-only, and every call after its creation
/// names the caller's account as its owner. Runs stack.py's
/// `ensure_code_bucket` on a client that records its calls.
#[test]
fn the_deploy_script_makes_a_code_bucket_that_only_its_account_reaches() {
    const RECORD: &str = r#"
import importlib.util, json, sys
sys.dont_write_bytecode = True
from botocore.exceptions import ClientError
spec = importlib.util.spec_from_file_location("stack", sys.argv[1])
stack = importlib.util.module_from_spec(spec)
spec.loader.exec_module(stack)
calls = []
class Recorder:
    def __getattr__(self, name):
        def call(**params):
            calls.append({"call": name, "params": params})
            if name in ("head_bucket", "get_bucket_policy"):
                code = "404" if name == "head_bucket" else "NoSuchBucketPolicy"
                raise ClientError({"Error": {"Code": code}}, name)
            return {}
        return call
stack.ensure_code_bucket(Recorder(), "code-bucket", "eu-west-1", "111122223333", tls_only=True)
print(json.dumps(calls))
"#;
    let python = moto().python();
    let out = run(Command::new(python).args([
        "-c",
        RECORD,
        deploy_dir().join("stack.py").to_str().expect("UTF-8 path"),
    ]));
    assert!(out.status.success(), "{}", stderr(&out));
    let calls: Vec<Value> = serde_json::from_slice(&out.stdout).expect("the calls, as JSON");
    let names: Vec<&str> = calls.iter().filter_map(|c| c["call"].as_str()).collect();
    assert_eq!(
        names,
        [
            "head_bucket",
            "create_bucket",
            "put_public_access_block",
            "put_bucket_encryption",
            "get_bucket_versioning",
            "put_bucket_versioning",
            "get_bucket_policy",
            "put_bucket_policy"
        ]
    );
    for call in &calls {
        if call["call"] != "create_bucket" {
            assert_eq!(
                call["params"]["ExpectedBucketOwner"], "111122223333",
                "{call}"
            );
        }
    }
    let params = |name: &str| &calls[names.iter().position(|n| *n == name).expect(name)]["params"];
    assert_eq!(
        params("put_bucket_versioning")["VersioningConfiguration"],
        json!({"Status": "Enabled"})
    );
    let policy: Value = serde_json::from_str(
        params("put_bucket_policy")["Policy"]
            .as_str()
            .expect("a policy"),
    )
    .expect("JSON policy");
    assert_eq!(
        policy["Statement"],
        json!([{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::code-bucket", "arn:aws:s3:::code-bucket/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}
        }]),
        "the code bucket refuses plain HTTP"
    );
}

async fn stack_parameters(
    cf: &aws_sdk_cloudformation::Client,
    name: &str,
) -> BTreeMap<String, String> {
    described_stack(cf, name)
        .await
        .parameters()
        .iter()
        .filter_map(|p| {
            Some((
                p.parameter_key()?.to_owned(),
                p.parameter_value()?.to_owned(),
            ))
        })
        .collect()
}

async fn stack_outputs(
    cf: &aws_sdk_cloudformation::Client,
    name: &str,
) -> BTreeMap<String, String> {
    described_stack(cf, name)
        .await
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_owned(), o.output_value()?.to_owned())))
        .collect()
}

async fn described_stack(
    cf: &aws_sdk_cloudformation::Client,
    name: &str,
) -> aws_sdk_cloudformation::types::Stack {
    let described = cf
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .expect("DescribeStacks");
    described.stacks()[0].clone()
}

/// `cargo make zip` (deploy/stack.py zip): `bootstrap` at the root of the
/// archive, executable, the same bytes for the same binary.
#[test]
fn the_zip_task_packages_bootstrap_at_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("bootstrap");
    std::fs::write(&binary, b"#!/bin/sh\necho not really a lambda\n").unwrap();
    let script = deploy_dir().join("stack.py");
    let zip = |out: &Path| {
        let status = Command::new("python3")
            .arg(&script)
            .arg("zip")
            .arg(&binary)
            .arg(out)
            .status()
            .expect("python3 runs stack.py");
        assert!(status.success());
        std::fs::read(out).unwrap()
    };
    let first = zip(&dir.path().join("a.zip"));
    let second = zip(&dir.path().join("b.zip"));
    assert_eq!(first, second, "deterministic");
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
             print([(i.filename, oct(i.external_attr >> 16 & 0o777)) for i in z.infolist()])",
        ])
        .arg(dir.path().join("a.zip"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).trim(),
        "[('bootstrap', '0o755')]"
    );
}
