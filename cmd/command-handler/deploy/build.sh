#!/usr/bin/env bash
# Builds the three release binaries for Lambda's provided.al2023 runtime and
# leaves each, with its architecture, where `stack.py zip` and `deploy` look:
#
#   target/lambda/bootstrap/bootstrap         the command handler
#   target/lambda/event-processor/bootstrap   the event processor
#   target/lambda/http-api/bootstrap          the HTTP Lambda (Function URL)
#   target/lambda/*/ARCH                      x86_64 or arm64 (the template's Architecture)
#
# Architecture: LAMBDA_ARCH=x86_64|arm64 chooses; unset, arm64 (cheaper per
# GB-second on Lambda) when it can be built here, else x86_64:
#   - with cargo-lambda (`cargo lambda --version` works): arm64 always, through
#     zig when `zig` (or `python3 -m ziglang`) is there, else `--compiler cargo`
#     which needs the next two as well;
#   - with plain cargo: the Rust target aarch64-unknown-linux-gnu installed
#     (`rustup target add aarch64-unknown-linux-gnu`) and a cross linker
#     (Debian: `apt-get install gcc-aarch64-linux-gnu`).
# A host-built binary needs glibc 2.34, which provided.al2023 has (provided.al2
# does not). Release settings come from [profile.release] (panic = "unwind").
set -euo pipefail
cd "$(dirname "$0")/../../.."

has_cargo_lambda() { cargo lambda --version >/dev/null 2>&1; }
has_zig() { command -v zig >/dev/null 2>&1 || python3 -m ziglang version >/dev/null 2>&1; }
has_arm64_cargo() {
    rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu &&
        command -v aarch64-linux-gnu-gcc >/dev/null 2>&1
}

host=$(rustc -vV | sed -n 's/^host: //p')
arch=${LAMBDA_ARCH:-}
if [[ -z "$arch" ]]; then
    if [[ "$host" == aarch64-* ]] || { has_cargo_lambda && has_zig; } || has_arm64_cargo; then
        arch=arm64
    else
        arch=x86_64
    fi
fi
case "$arch" in
    x86_64) triple=x86_64-unknown-linux-gnu ;;
    arm64) triple=aarch64-unknown-linux-gnu ;;
    *) echo "build: LAMBDA_ARCH must be x86_64 or arm64, not $arch" >&2; exit 2 ;;
esac

# One function: its package, its binary, the directory its bootstrap goes to.
build_one() {
    local package=$1 bin=$2 out=$3
    mkdir -p "$out"
    if has_cargo_lambda; then
        flags=(--release -p "$package" --bin "$bin")
        [[ "$arch" == arm64 ]] && flags+=(--arm64) || flags+=(--x86-64)
        has_zig || flags+=(--compiler cargo)
        echo "build: cargo lambda build ${flags[*]}" >&2
        cargo lambda build "${flags[@]}"
        # cargo-lambda writes target/lambda/BIN/bootstrap itself.
    else
        flags=(--release -p "$package" --bin "$bin")
        if [[ "$triple" != "$host" ]]; then
            if [[ "$arch" == arm64 ]] && ! has_arm64_cargo; then
                echo "build: arm64 needs \`rustup target add aarch64-unknown-linux-gnu\` and aarch64-linux-gnu-gcc (or cargo-lambda); LAMBDA_ARCH=x86_64 builds for x86_64" >&2
                exit 2
            fi
            if [[ "$arch" == x86_64 ]]; then
                echo "build: x86_64 from $host needs cargo-lambda, or the target x86_64-unknown-linux-gnu and a cross linker (CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER)" >&2
                rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-gnu || exit 2
            fi
            flags+=(--target "$triple")
            export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER:-aarch64-linux-gnu-gcc}
            export CC_aarch64_unknown_linux_gnu=${CC_aarch64_unknown_linux_gnu:-aarch64-linux-gnu-gcc}
            built=target/$triple/release/$bin
        else
            built=target/release/$bin
        fi
        echo "build: cargo build ${flags[*]} (cargo-lambda not installed; plain cargo)" >&2
        cargo build "${flags[@]}"
        cp "$built" "$out/bootstrap.tmp"
        mv "$out/bootstrap.tmp" "$out/bootstrap"
    fi
    echo "$arch" >"$out/ARCH"
    echo "build: $out/bootstrap ($arch, $(wc -c <"$out/bootstrap") bytes)" >&2
}

build_one command-handler bootstrap target/lambda/bootstrap
# The later builds reuse the first one's dependencies where their features
# agree: mostly only their own crates.
build_one event-processor-lambda event-processor target/lambda/event-processor
build_one http-api-lambda http-api target/lambda/http-api
