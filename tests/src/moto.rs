//! The AWS emulator for tests: one `moto` server per test process, on a free
//! loopback port, reached through the real AWS SDK for Rust.
//!
//! - When `python3 -c "import moto.server"` fails, a venv is created under
//!   `target/moto-venv` and a pinned `moto[server]` installed into it (once;
//!   about 35 s). `MOTO_PYTHON` names another interpreter to use instead.
//! - The server runs in a small Python launcher that exits when this process
//!   does, so no server outlives its tests.
//! - A test that cannot get a server fails with the reason; none is skipped.
//!
//! Each test makes its own uniquely named resources ([`unique_name`]).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use aws_config::{BehaviorVersion, ConfigLoader, Region, SdkConfig};

use crate::progress::Progress;

/// The moto version the harness installs when the machine has none.
pub const MOTO_PIN: &str = "moto[server]==5.2.1";

/// Starts the server in-process and stops when its parent (the test
/// process) is gone.
const LAUNCHER: &str = r#"
import logging, os, sys, time
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
parent = os.getppid()
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print("ready", flush=True)
while os.getppid() == parent:
    time.sleep(0.5)
server.stop()
"#;

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    endpoint: String,
    python: PathBuf,
    _child: Mutex<Child>,
}

static SERVER: OnceLock<Result<Moto, String>> = OnceLock::new();

/// The process's moto server, started on first use. Panics, with the reason,
/// when no server can be had.
pub fn moto() -> &'static Moto {
    match SERVER.get_or_init(start) {
        Ok(moto) => moto,
        Err(why) => {
            panic!("the moto AWS emulator is needed by this test and could not be started: {why}")
        }
    }
}

impl Moto {
    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The interpreter running the server: it has moto and everything
    /// `moto[server]` brings (boto3, cfn-lint), for tests that run Python.
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// SDK config pointing every client at the server, with dummy
    /// credentials and a region.
    pub async fn sdk_config(&self) -> SdkConfig {
        loader(&self.endpoint).load().await
    }

    /// The environment a child process (cmdctl, the Lambda) needs to reach
    /// the server through the SDK's own variables.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_ACCESS_KEY_ID", "testing".into()),
            ("AWS_SECRET_ACCESS_KEY", "testing".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }
}

/// The SDK config loader the binaries get, pointed at `endpoint` (moto, or
/// something in front of it) with dummy credentials and a region.
pub fn loader(endpoint: &str) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
}

/// A name no other test of this run uses (lowercase, valid for tables,
/// buckets and queues).
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn start() -> Result<Moto, String> {
    let python = python_with_moto()?;
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free loopback port: {e}"))?
        .port();
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(LAUNCHER)
        .arg(port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| format!("moto launcher: {e}"))?;
    if line.trim() != "ready" {
        let _ = child.kill();
        return Err(format!(
            "moto launcher did not start (said {line:?}); its stderr is above"
        ));
    }
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_until_listening(port, &mut child)?;
    Ok(Moto {
        endpoint,
        python,
        _child: Mutex::new(child),
    })
}

/// The launcher said ready once the server had bound its port, so this
/// normally connects at once. It gives up when the launcher exits, or after
/// two minutes in which it neither listens nor exits (a hang, not a slow
/// machine).
fn wait_until_listening(port: u16, child: &mut Child) -> Result<(), String> {
    let mut alive = Progress::new(Duration::from_secs(120));
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!(
                "moto exited ({status}) before listening on 127.0.0.1:{port}; its stderr is above"
            ));
        }
        alive.check(()).map_err(|stalled| {
            let _ = child.kill();
            format!("moto is not listening on 127.0.0.1:{port}: {stalled}")
        })?;
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An interpreter that can `import moto.server`: `MOTO_PYTHON`, the
/// machine's `python3`, or a venv under `target/` provisioned on demand.
fn python_with_moto() -> Result<PathBuf, String> {
    if let Some(python) = std::env::var_os("MOTO_PYTHON") {
        let python = PathBuf::from(python);
        return if imports_moto(&python) {
            Ok(python)
        } else {
            Err(format!(
                "MOTO_PYTHON={} cannot import moto.server",
                python.display()
            ))
        };
    }
    let system = PathBuf::from("python3");
    if std::env::var_os("MOTO_FORCE_VENV").is_none() && imports_moto(&system) {
        return Ok(system);
    }
    let venv = target_dir().join("moto-venv");
    let python = venv.join("bin").join("python");
    if imports_moto(&python) {
        return Ok(python);
    }
    provision(&venv)?;
    if imports_moto(&python) {
        Ok(python)
    } else {
        Err(format!(
            "{} still cannot import moto.server after installing {MOTO_PIN}",
            python.display()
        ))
    }
}

fn imports_moto(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import moto.server"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn provision(venv: &Path) -> Result<(), String> {
    eprintln!(
        "testkit: installing {MOTO_PIN} into {} (once)",
        venv.display()
    );
    run(Command::new("python3").args(["-m", "venv"]).arg(venv))?;
    run(Command::new(venv.join("bin").join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        MOTO_PIN,
    ]))
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed with {status}"))
    }
}

/// The workspace's `target/` (or `CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}
