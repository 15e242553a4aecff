#!/usr/bin/env bash
# The README's moto walkthrough, set up in one step: starts moto on
# 127.0.0.1:5055 in the background unless something answers there already,
# creates the table, the bucket and the queues with `cmdctl setup`, uploads
# config/*.json, and prints the environment to use them with (also written to
# target/deploy/local.env). `local.sh stop` stops the moto it started.
#
# Credentials: moto always gets the dummy pair testing/testing. Whatever AWS
# credentials, session token, profile or role the calling shell holds are
# unset before moto or cmdctl start, so a real secret is never sent to the
# emulator, written to local.env or printed.
#
# moto: `moto_server` on PATH, else target/moto-venv (made by the tests), else
# a python3 that can import moto.server; none of these:
# `pip install 'moto[server]==5.2.1'`. MOTO_PORT changes the port.
set -euo pipefail
cd "$(dirname "$0")/../../.."

port=${MOTO_PORT:-5055}
endpoint=http://127.0.0.1:$port
pidfile=target/deploy/moto-$port.pid
logfile=target/deploy/moto-$port.log
mkdir -p target/deploy

# Nothing of the caller's AWS identity reaches moto, cmdctl or the env file.
unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE \
      AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE AWS_ROLE_ARN AWS_ROLE_SESSION_NAME \
      AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
      AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_AUTHORIZATION_TOKEN \
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE AWS_CREDENTIAL_EXPIRATION
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_EC2_METADATA_DISABLED=true

answers() { python3 - "$endpoint" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/moto-api/", timeout=1)
PY
}

if [[ "${1:-}" == stop ]]; then
    if [[ -f "$pidfile" ]] && kill "$(cat "$pidfile")" 2>/dev/null; then
        echo "local: stopped moto (pid $(cat "$pidfile"))"
    else
        echo "local: no moto started by this script on port $port"
    fi
    rm -f "$pidfile"
    exit 0
fi

if answers; then
    echo "local: moto already answers on $endpoint" >&2
else
    if command -v moto_server >/dev/null 2>&1 && moto_server --help >/dev/null 2>&1; then
        server=(moto_server)
    elif [[ -x target/moto-venv/bin/moto_server ]]; then
        server=(target/moto-venv/bin/moto_server)
    elif python3 -c 'import moto.server' 2>/dev/null; then
        server=(python3 -m moto.server)
    else
        echo "local: no moto found: pip install 'moto[server]==5.2.1' (or run \`cargo test --workspace\` once, which makes target/moto-venv)" >&2
        exit 2
    fi
    echo "local: starting ${server[*]} on $endpoint (log: $logfile)" >&2
    nohup "${server[@]}" -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 100); do
        answers && break
        sleep 0.1
    done
    answers || { echo "local: moto did not answer on $endpoint; see $logfile" >&2; exit 2; }
fi

export AWS_ENDPOINT_URL=$endpoint AWS_REGION=${AWS_REGION:-us-east-1}
# CMDCTL names a built cmdctl to use instead of `cargo run` (for tests).
if [[ -n "${CMDCTL:-}" ]]; then
    cmdctl() { "$CMDCTL" "$@"; }
else
    cmdctl() { cargo run -q --bin cmdctl -- "$@"; }
fi

setup=$(cmdctl setup --table events --bucket configs --queue commands --json)
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1" <<<"$setup"; }
queue_url=$(field queueUrl)
dlq_url=$(field dlqUrl)
echo "local: table events, bucket configs, queue $queue_url, dead-letter queue $dlq_url" >&2
export DYNAMO_TABLE_NAME=events S3_BUCKET_NAME=configs S3_CONFIG_PREFIX=''
cmdctl config upload >&2

{
    echo "export AWS_ENDPOINT_URL=$endpoint AWS_REGION=$AWS_REGION \\"
    echo "       AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true"
    echo "unset AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_PROFILE AWS_DEFAULT_PROFILE"
    echo "export DYNAMO_TABLE_NAME=events S3_BUCKET_NAME=configs S3_CONFIG_PREFIX=''"
    echo "export CMDCTL_QUEUE_URL=$queue_url CMDCTL_DLQ_URL=$dlq_url"
} >target/deploy/local.env
echo
cat target/deploy/local.env
echo "# written to target/deploy/local.env: \`. target/deploy/local.env\`; \`cargo make local-stop\` stops moto"
