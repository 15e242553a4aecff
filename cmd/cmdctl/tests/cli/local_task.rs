//! `cargo make local` (deploy/local.sh), which runs this cmdctl: it stays
//! in this binary because only cmdctl's own tests know where cargo built
//! it (`CARGO_BIN_EXE_cmdctl`). The other deploy-script tests are in the
//! testkit suite (`tests/suite/deploy/`).

use std::process::Command;

use crate::harness::*;

/// `cargo make local` (deploy/local.sh): starts its own moto on a free
/// port, creates the walkthrough's resources with this cmdctl, uploads the
/// configs, prints the environment; `stop` stops that moto. Run from a
/// shell holding real AWS credentials (fake ones here), it gives moto the
/// dummy pair and never prints or writes the caller's.
#[test]
fn the_local_task_sets_up_an_emulator_and_stops_it() {
    moto(); // provisions target/moto-venv on a machine without moto
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let script = repo_root().join("cmd/command-handler/deploy/local.sh");
    let run = |args: &[&str]| {
        Command::new("bash")
            .arg(&script)
            .args(args)
            .env("MOTO_PORT", &port)
            .env("CMDCTL", env!("CARGO_BIN_EXE_cmdctl"))
            .env_remove("AWS_ENDPOINT_URL")
            .envs(REAL_CREDENTIALS)
            .output()
            .expect("bash runs local.sh")
    };
    let up = run(&[]);
    let stdout = String::from_utf8_lossy(&up.stdout);
    let stderr = String::from_utf8_lossy(&up.stderr);
    let stopped = run(&["stop"]);
    assert!(up.status.success(), "local.sh failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("AWS_ENDPOINT_URL=http://127.0.0.1:{port}")),
        "{stdout}"
    );
    assert!(stdout.contains("DYNAMO_TABLE_NAME=events"), "{stdout}");
    assert!(stdout.contains("CMDCTL_QUEUE_URL="), "{stdout}");
    let env_file = std::fs::read_to_string(repo_root().join("target/deploy/local.env"))
        .expect("local.sh writes target/deploy/local.env");
    assert!(
        env_file.contains("AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"),
        "{env_file}"
    );
    for (name, secret) in REAL_CREDENTIALS {
        for (place, text) in [
            ("stdout", &*stdout),
            ("stderr", &*stderr),
            ("local.env", &*env_file),
        ] {
            assert!(!text.contains(secret), "{name}'s value in {place}:\n{text}");
        }
    }
    assert!(
        stderr.contains("order.json") && stderr.contains("ticket.json"),
        "{stderr}"
    );
    assert!(stopped.status.success());
    assert!(
        String::from_utf8_lossy(&stopped.stdout).contains("stopped moto"),
        "{}",
        String::from_utf8_lossy(&stopped.stdout)
    );
}

/// What a shell logged in to AWS holds (fake values, unlike any moto uses).
const REAL_CREDENTIALS: [(&str, &str); 4] = [
    ("AWS_ACCESS_KEY_ID", "AKIAREALKEYNOTFORMOTO"),
    ("AWS_SECRET_ACCESS_KEY", "real/secret+key/not-for-moto"),
    ("AWS_SESSION_TOKEN", "real-session-token-not-for-moto"),
    ("AWS_PROFILE", "real-profile-not-for-moto"),
];
