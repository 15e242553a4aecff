#!/usr/bin/env python3
"""Package and deploy the command handler's stack (template.json beside this file):
the command handler, the event processor and the HTTP Lambda, one zip each.

    stack.py zip BINARY ZIP
        Writes ZIP holding BINARY as `bootstrap` (mode 0755) at its root, the
        layout provided.al2023 wants. Deterministic: the same binary gives the
        same zip, byte for byte, so an unchanged build deploys as "no change".
        Needs only python3.

    stack.py render [--bindings FILE]
        Prints template.json with the configs' bindings made into rules (what
        `deploy` deploys): one AWS::Events::Rule per binding on the bus
        EventBusName, its pattern the binding's `source` and `detail-type`,
        targeting the command queue, and a statement in the queues' policy
        letting exactly those rules send to it. FILE (`-`: stdin) is the JSON
        `cmdctl config bindings --json` prints; without it, cmdctl is run on
        config/ ($CMDCTL, else `cargo run --bin cmdctl`). Needs only python3
        (and cmdctl without FILE).

    stack.py deploy --zip ZIP --processor-zip ZIP --http-api-zip ZIP [--stack-name NAME]
                    [--architecture x86_64|arm64] [--code-bucket BUCKET] [--env-file PATH]
                    [--bindings FILE] [Key=Value ...]
        (NAME: STACK_NAME or command-handler; the architecture: the ARCH file
        build.sh wrote beside the zip; BUCKET: CODE_BUCKET; PATH:
        target/deploy/NAME.env)
        1. ensures the code bucket (default `NAME-code-ACCOUNT-REGION`: private,
           encrypted, versioned, TLS only) and uploads the handler's ZIP as
           `command-handler/SHA256.zip`, the processor's as
           `event-processor/SHA256.zip` and the HTTP Lambda's as
           `http-api/SHA256.zip` (each skipped when its key is there: a key
           changes exactly when the code does). Every S3 call names the
           caller's account as ExpectedBucketOwner, so a bucket of that name
           owned by anyone else is refused, never written to or read from;
        2. creates or updates the stack (the template as `render` gives it:
           the bindings' rules from FILE or cmdctl) with CodeBucket/CodeKey/
           CodeObjectVersion (the S3 version of the zip, pinned: the function
           runs that object even if the key is overwritten later),
           ProcessorCodeKey/ProcessorCodeObjectVersion and
           HttpApiCodeKey/HttpApiCodeObjectVersion (the same for the processor
           and the HTTP Lambda)/Architecture (the three ARCH files must agree),
           the Key=Value parameters given, and for every other parameter the
           stack's current value (the template's default on creation);
        3. prints the stack's events as they come, then its outputs, and writes
           the environment cmdctl needs to --env-file.
        With AWS_ENDPOINT_URL set (an emulator such as moto), the event source
        mappings (queue and stream) are created disabled unless
        EventSourceEnabled is given: moto would poll the queue and the stream
        itself and cannot run the functions without Docker; and the HTTP
        Lambda's Function URL is left out unless HttpApiUrlEnabled is given:
        moto's CloudFormation has no AWS::Lambda::Url.
        Needs python3 with boto3 (`pip install boto3`; STACK_PYTHON or the
        tests' target/moto-venv is used when python3 lacks it), and AWS
        credentials and a region the usual way (AWS_PROFILE, AWS_REGION, ...).

    stack.py outputs [--stack-name NAME] [--env-file PATH]
        Prints the outputs of a deployed stack and writes the env file again.

Exit codes: 0 done (including "no change"), 1 the stack failed (its failed
events are printed), 2 bad input or a missing tool.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
TEMPLATE = os.path.join(HERE, "template.json")
# The tests' moto venv has boto3; used when this interpreter lacks it.
FALLBACK_PYTHON = os.path.join(ROOT, "target", "moto-venv", "bin", "python")
DEFAULT_STACK = "command-handler"
# A fixed timestamp (the zip epoch) keeps the archive a function of the binary.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DONE = ("_COMPLETE", "_FAILED")
FAILED_STATES = (
    "CREATE_FAILED",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "DELETE_COMPLETE",
    "DELETE_FAILED",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_FAILED",
    "UPDATE_FAILED",
)


class Fail(Exception):
    """An error to report in one line, with an exit code."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


def say(*parts):
    print("stack:", *parts, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- zip


def make_zip(binary, target):
    if not os.path.isfile(binary):
        raise Fail(f"no binary at {binary}: run `cargo make build` first")
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    info = zipfile.ZipInfo("bootstrap", date_time=ZIP_EPOCH)
    info.external_attr = (0o100755 & 0xFFFF) << 16  # regular file, rwxr-xr-x
    info.create_system = 3  # unix, so the mode is honoured
    info.compress_type = zipfile.ZIP_DEFLATED
    tmp = target + ".tmp"
    with open(binary, "rb") as f, zipfile.ZipFile(tmp, "w") as z:
        z.writestr(info, f.read(), compresslevel=9)
    os.replace(tmp, target)
    size = os.path.getsize(target)
    print(f"{target}: bootstrap ({os.path.getsize(binary)} bytes) -> {size} bytes zipped")


# ---------------------------------------------------------------- AWS


def boto3_or_fail():
    try:
        import boto3  # noqa: PLC0415
        import botocore  # noqa: PLC0415,F401
    except ImportError:
        fallback = os.environ.get("STACK_PYTHON") or FALLBACK_PYTHON
        if os.path.exists(fallback) and os.path.realpath(fallback) != os.path.realpath(sys.executable):
            say(f"{sys.executable} has no boto3; using {fallback}")
            os.execv(fallback, [fallback, os.path.abspath(__file__), *sys.argv[1:]])
        raise Fail(
            f"{sys.executable} cannot import boto3: `pip install boto3`, or set "
            "STACK_PYTHON to an interpreter that has it (target/moto-venv/bin/python "
            "has it once the tests have run)"
        ) from None
    return boto3


def session(boto3):
    # The AWS SDK for Rust (cmdctl, the function) reads AWS_REGION; botocore
    # reads AWS_DEFAULT_REGION and profiles. Take either.
    s = boto3.session.Session(region_name=os.environ.get("AWS_REGION") or None)
    if not s.region_name:
        raise Fail("no AWS region: set AWS_REGION (or a profile's region)")
    return s


def error_code(e):
    return getattr(e, "response", {}).get("Error", {}).get("Code", "")


def tls_only_policy(bucket, partition="aws"):
    """Refuses every request to the bucket that does not come over TLS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def plain_http_endpoint():
    """True when AWS_ENDPOINT_URL is an emulator reached without TLS."""
    return os.environ.get("AWS_ENDPOINT_URL", "").lower().startswith("http://")


def ensure_code_bucket(s3, bucket, region, owner, tls_only=True, partition="aws"):
    """Makes the code bucket, or checks that the one there is the caller's
    own (`owner`: its account id). Either way it ends versioned, since the
    stack pins the version of the zip it deploys, and with a TLS-only policy
    unless `tls_only` is false (an endpoint without TLS: the policy would
    refuse every request of this script; moto even ignores its condition)."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=owner)
        created = False
    except ClientError as e:
        if error_code(e) not in ("404", "NoSuchBucket", "NotFound"):
            raise Fail(
                f"code bucket {bucket} exists but is not this account's ({owner}) or not "
                f"reachable with these credentials ({error_code(e)}): pass CODE_BUCKET=another-bucket"
            ) from None
        created = True
    if created:
        say(f"creating code bucket {bucket}")
        create = {"Bucket": bucket}
        if region != "us-east-1":
            create["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            s3.create_bucket(**create)
        except ClientError as e:
            # Taken between the check and the creation, by someone else
            # (BucketAlreadyExists) or by us (BucketAlreadyOwnedByYou).
            raise Fail(f"cannot create code bucket {bucket} ({error_code(e)}): pass CODE_BUCKET=another-bucket") from None
        s3.put_public_access_block(
            Bucket=bucket,
            ExpectedBucketOwner=owner,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_encryption(
            Bucket=bucket,
            ExpectedBucketOwner=owner,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
    versioning = s3.get_bucket_versioning(Bucket=bucket, ExpectedBucketOwner=owner)
    if versioning.get("Status") != "Enabled":
        if not created:
            say(f"enabling versioning on code bucket {bucket} (the stack pins the zip's version)")
        s3.put_bucket_versioning(
            Bucket=bucket, ExpectedBucketOwner=owner, VersioningConfiguration={"Status": "Enabled"}
        )
    # A policy already there (a bucket given with CODE_BUCKET) is its owner's
    # to keep; a bucket without one gets the TLS-only policy.
    if not tls_only:
        say(f"AWS_ENDPOINT_URL has no TLS: code bucket {bucket} gets no TLS-only policy")
        return
    try:
        s3.get_bucket_policy(Bucket=bucket, ExpectedBucketOwner=owner)
    except ClientError as e:
        if error_code(e) != "NoSuchBucketPolicy":
            raise
        s3.put_bucket_policy(Bucket=bucket, ExpectedBucketOwner=owner, Policy=tls_only_policy(bucket, partition))


def upload_code(s3, bucket, zip_path, owner, folder="command-handler"):
    """Uploads the zip as FOLDER/SHA256.zip unless that key is there; returns (key, version id)."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    with open(zip_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    key = f"{folder}/{digest}.zip"
    try:
        head = s3.head_object(Bucket=bucket, Key=key, ExpectedBucketOwner=owner)
        say(f"code unchanged: s3://{bucket}/{key}")
    except ClientError as e:
        if error_code(e) not in ("404", "NoSuchKey", "NotFound"):
            raise
        say(f"uploading {zip_path} to s3://{bucket}/{key}")
        s3.upload_file(zip_path, bucket, key, ExtraArgs={"ExpectedBucketOwner": owner})
        head = s3.head_object(Bucket=bucket, Key=key, ExpectedBucketOwner=owner)
    version = head.get("VersionId")
    if not version or version == "null":
        raise Fail(f"s3://{bucket}/{key} has no version id: the code bucket must be versioned")
    return key, version


def describe(cf, name):
    from botocore.exceptions import ClientError  # noqa: PLC0415

    try:
        return cf.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as e:
        if "does not exist" in str(e):
            return None
        raise


def parse_overrides(pairs, template):
    known = template.get("Parameters", {})
    out = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        if not eq:
            raise Fail(f"parameter {pair!r} is not Key=Value")
        if key not in known:
            raise Fail(f"the template has no parameter {key!r} (it has: {', '.join(known)})")
        out[key] = value
    return out


def events_since(cf, name, seen):
    """The stack's events not printed yet, oldest first."""
    fresh = []
    for page in cf.get_paginator("describe_stack_events").paginate(StackName=name):
        for e in page["StackEvents"]:
            if e["EventId"] in seen:
                return list(reversed(fresh))
            fresh.append(e)
    return list(reversed(fresh))


def wait(cf, name, seen):
    delay = 0.2
    while True:
        for e in events_since(cf, name, seen):
            seen.add(e["EventId"])
            reason = e.get("ResourceStatusReason") or ""
            say(f"  {e['LogicalResourceId']:<22} {e['ResourceStatus']:<20} {reason}".rstrip())
        stack = describe(cf, name)
        status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
        if status.endswith(DONE) and not status.endswith("_IN_PROGRESS"):
            return stack, status
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def outputs_of(stack):
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def shell_word(s):
    return "'" + s.replace("'", "'\"'\"'") + "'"


def write_env(outputs, path):
    lines = [
        f"export DYNAMO_TABLE_NAME={shell_word(outputs.get('TableName', ''))}",
        f"export S3_BUCKET_NAME={shell_word(outputs.get('ConfigBucketName', ''))}",
        f"export S3_CONFIG_PREFIX={shell_word(outputs.get('ConfigPrefix', ''))}",
        f"export CMDCTL_QUEUE_URL={shell_word(outputs.get('QueueUrl', ''))}",
        f"export CMDCTL_DLQ_URL={shell_word(outputs.get('DeadLetterQueueUrl', ''))}",
    ]
    if outputs.get("HttpApiUrl"):
        lines.append(f"export HTTP_API_URL={shell_word(outputs['HttpApiUrl'])}")
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
    return lines


def print_outputs(outputs, env_file):
    width = max((len(k) for k in outputs), default=0)
    for key in sorted(outputs):
        print(f"{key:<{width}}  {outputs[key]}")
    print()
    for line in write_env(outputs, env_file):
        print(line)
    if env_file:
        shown = os.path.relpath(env_file) if not os.path.relpath(env_file).startswith("..") else env_file
        print(f"# written to {shown}: `. {shown}` before using cmdctl")


def recorded_architecture(zip_path):
    """What build.sh recorded beside the binary (ARCH), if anything."""
    try:
        with open(os.path.join(os.path.dirname(os.path.abspath(zip_path)), "ARCH")) as f:
            arch = f.read().strip()
    except OSError:
        return None
    if arch not in ("x86_64", "arm64"):
        raise Fail(f"ARCH beside {zip_path} says {arch!r}, not x86_64 or arm64")
    return arch


def default_env_file(stack_name):
    return os.path.join(ROOT, "target", "deploy", f"{stack_name}.env")


def binding_rules(path):
    """The rules of `cmdctl config bindings --json`: from PATH (`-`: stdin),
    else from cmdctl run on config/ ($CMDCTL, else `cargo run --bin cmdctl`)."""
    if path == "-":
        text = sys.stdin.read()
    elif path:
        try:
            with open(path) as f:
                text = f.read()
        except OSError as e:
            raise Fail(f"cannot read the bindings {path}: {e}")
    else:
        cmdctl = os.environ.get("CMDCTL")
        command = [cmdctl] if cmdctl else ["cargo", "run", "--quiet", "--bin", "cmdctl", "--"]
        command += ["--config-dir", os.path.join(ROOT, "config"), "config", "bindings", "--json"]
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        except OSError as e:
            raise Fail(f"cannot run {command[0]} for the bindings: {e} (give --bindings FILE)")
        if done.returncode != 0:
            raise Fail(f"`cmdctl config bindings` refused the configs:\n{done.stdout}{done.stderr}")
        text = done.stdout
    try:
        rules = json.loads(text)["rules"]
    except (ValueError, KeyError, TypeError) as e:
        raise Fail(f"the bindings are not `cmdctl config bindings --json` output: {e}")
    return rules


def with_bindings(template, rules):
    """TEMPLATE with one AWS::Events::Rule per binding rule (on the bus
    EventBusName, targeting the command queue) and, when there is any, a
    statement of the queues' policy letting exactly those rules send."""
    resources = template["Resources"]
    sources = []
    for rule in rules:
        logical_id = rule["logicalId"]
        if logical_id in resources:
            raise Fail(f"the template already has a resource {logical_id}")
        resources[logical_id] = {
            "Type": "AWS::Events::Rule",
            "Properties": {
                # The rule's name: its id and the stack's, within the 64
                # characters EventBridge allows whatever the stack's name.
                "Name": {"Fn::Join": ["-", [logical_id, {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}]]},
                "Description": f"binding: {rule['source']} {rule['detailType']} -> {rule['aggregateType']}.{rule['command']}",
                "EventBusName": {"Ref": "EventBusName"},
                "EventPattern": rule["eventPattern"],
                "State": "ENABLED",
                "Targets": [{"Id": "CommandQueue", "Arn": {"Fn::GetAtt": ["CommandQueue", "Arn"]}}],
            },
        }
        sources.append({"Fn::GetAtt": [logical_id, "Arn"]})
    if sources:
        statements = resources["QueuesPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        statements.append(
            {
                "Sid": "BindingRulesSend",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": ["CommandQueue", "Arn"]},
                "Condition": {"ArnEquals": {"aws:SourceArn": sources}},
            }
        )
    return template


# CloudFormation takes a TemplateBody of at most this many bytes.
MAX_TEMPLATE_BODY = 51200


def rendered(bindings, compact=False):
    """The template's text as deployed: template.json with the rules
    (compact: as sent, within CloudFormation's limit of a body)."""
    with open(TEMPLATE) as f:
        template = json.load(f)
    template = with_bindings(template, binding_rules(bindings))
    if not compact:
        return json.dumps(template, indent=1)
    body = json.dumps(template, separators=(",", ":"))
    if len(body.encode()) > MAX_TEMPLATE_BODY:
        raise Fail(
            f"the template with {len(template['Resources'])} resources is {len(body.encode())} bytes, over "
            f"CloudFormation's {MAX_TEMPLATE_BODY} for a template body: too many bindings for one stack"
        )
    return body


def deploy(args):
    body = rendered(args.bindings, compact=True)
    template = json.loads(body)
    overrides = parse_overrides(args.parameters, template)
    zips = {"handler": args.zip, "processor": args.processor_zip, "HTTP Lambda": args.http_api_zip}
    for path in zips.values():
        if not os.path.isfile(path):
            raise Fail(f"no zip at {path}: run `cargo make zip` first")
    recorded = {name: recorded_architecture(path) for name, path in zips.items()}
    architecture = args.architecture or recorded["handler"]
    if not args.architecture:
        built = {name: arch for name, arch in recorded.items() if arch}
        if len(set(built.values())) > 1:
            raise Fail(
                "the functions were built for different architectures ("
                + ", ".join(f"{name}: {arch}" for name, arch in built.items())
                + "): build them again (`cargo make build`)"
            )
        architecture = architecture or next(iter(built.values()), None)

    boto3 = boto3_or_fail()
    s = session(boto3)
    region = s.region_name
    cf, s3 = s.client("cloudformation"), s.client("s3")
    caller = s.client("sts").get_caller_identity()
    account, partition = caller["Account"], caller["Arn"].split(":")[1]
    bucket = args.code_bucket or f"{args.stack_name.lower()}-code-{account}-{region}"[:63]

    ensure_code_bucket(s3, bucket, region, account, tls_only=not plain_http_endpoint(), partition=partition)
    key, version = upload_code(s3, bucket, args.zip, account)
    processor_key, processor_version = upload_code(s3, bucket, args.processor_zip, account, "event-processor")
    http_api_key, http_api_version = upload_code(s3, bucket, args.http_api_zip, account, "http-api")

    existing = describe(cf, args.stack_name)
    if existing and existing["StackStatus"] == "ROLLBACK_COMPLETE":
        raise Fail(
            f"stack {args.stack_name} failed its creation and must be deleted first: "
            f"aws cloudformation delete-stack --stack-name {args.stack_name}"
        )
    if existing and existing["StackStatus"].endswith("_IN_PROGRESS"):
        raise Fail(f"stack {args.stack_name} is busy ({existing['StackStatus']}); try again later")

    values = {}
    if existing:
        values.update({p["ParameterKey"]: p["ParameterValue"] for p in existing.get("Parameters", [])})
    if os.environ.get("AWS_ENDPOINT_URL") and "EventSourceEnabled" not in overrides and not existing:
        say("AWS_ENDPOINT_URL is set: creating the event source mapping disabled (EventSourceEnabled=false)")
        values["EventSourceEnabled"] = "false"
    if os.environ.get("AWS_ENDPOINT_URL") and "HttpApiUrlEnabled" not in overrides and not existing:
        say("AWS_ENDPOINT_URL is set: creating the HTTP Lambda without its Function URL (HttpApiUrlEnabled=false)")
        values["HttpApiUrlEnabled"] = "false"
    values.update({"CodeBucket": bucket, "CodeKey": key, "CodeObjectVersion": version})
    values.update({"ProcessorCodeKey": processor_key, "ProcessorCodeObjectVersion": processor_version})
    values.update({"HttpApiCodeKey": http_api_key, "HttpApiCodeObjectVersion": http_api_version})
    if architecture:
        values["Architecture"] = architecture
    values.update(overrides)
    values = {k: v for k, v in values.items() if k in template["Parameters"]}
    parameters = [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in sorted(values.items())]
    request = {
        "StackName": args.stack_name,
        "TemplateBody": body,
        "Parameters": parameters,
        "Capabilities": ["CAPABILITY_IAM"],
    }

    seen = set()
    if existing:
        for e in events_since(cf, args.stack_name, set()):
            seen.add(e["EventId"])
        say(f"updating stack {args.stack_name} in {region}")
        try:
            cf.update_stack(**request)
        except Exception as e:  # botocore ClientError
            if "No updates are to be performed" in str(e):
                say("no change")
                print_outputs(outputs_of(existing), args.env_file)
                return 0
            raise
    else:
        say(f"creating stack {args.stack_name} in {region}")
        cf.create_stack(**request)

    stack, status = wait(cf, args.stack_name, seen)
    if status in FAILED_STATES or stack is None:
        raise Fail(f"stack {args.stack_name}: {status} (the failed events are above)", code=1)
    say(f"stack {args.stack_name}: {status}")
    print_outputs(outputs_of(stack), args.env_file)
    return 0


def outputs(args):
    boto3 = boto3_or_fail()
    cf = session(boto3).client("cloudformation")
    stack = describe(cf, args.stack_name)
    if not stack:
        raise Fail(f"no stack {args.stack_name}: run `cargo make deploy` first")
    print_outputs(outputs_of(stack), args.env_file)
    return 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    verbs = parser.add_subparsers(dest="verb", required=True)
    z = verbs.add_parser("zip", help="package the binary")
    z.add_argument("binary")
    z.add_argument("zip")
    stack_name = os.environ.get("STACK_NAME") or DEFAULT_STACK
    d = verbs.add_parser("deploy", help="create or update the stack")
    d.add_argument("--zip", required=True)
    d.add_argument("--processor-zip", required=True)
    d.add_argument("--http-api-zip", required=True)
    d.add_argument("--stack-name", default=stack_name)
    d.add_argument("--architecture", choices=["x86_64", "arm64"])
    d.add_argument("--code-bucket", default=os.environ.get("CODE_BUCKET") or None)
    d.add_argument("--env-file", help="default: target/deploy/STACK.env")
    d.add_argument("--bindings", help="`cmdctl config bindings --json` output (default: run cmdctl on config/)")
    d.add_argument("parameters", nargs="*", metavar="Key=Value")
    r = verbs.add_parser("render", help="print the template with the bindings' rules")
    r.add_argument("--bindings", help="`cmdctl config bindings --json` output (default: run cmdctl on config/)")
    o = verbs.add_parser("outputs", help="print a deployed stack's outputs")
    o.add_argument("--stack-name", default=stack_name)
    o.add_argument("--env-file", help="default: target/deploy/STACK.env")
    args = parser.parse_args(argv)
    if args.verb not in ("zip", "render") and not args.env_file:
        args.env_file = default_env_file(args.stack_name)
    try:
        if args.verb == "zip":
            make_zip(args.binary, args.zip)
            return 0
        if args.verb == "render":
            print(rendered(args.bindings))
            return 0
        if args.verb == "deploy":
            return deploy(args)
        return outputs(args)
    except Fail as e:
        print(f"stack: error: {e}", file=sys.stderr)
        return e.code
    except Exception as e:  # an AWS error: one line, not a traceback
        if type(e).__module__.startswith("botocore"):
            print(f"stack: error: {e}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
