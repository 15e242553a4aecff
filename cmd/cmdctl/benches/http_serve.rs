//! `cmdctl serve` driven over loopback by 64 concurrent keep-alive clients
//! (BENCHMARKS.md, "The HTTP API"): the built binary on a fresh embedded
//! store and `tests/fixtures/http_load/counter.json`, and the load
//! generator (`testkit::http`'s raw client on a two-thread runtime) on the
//! same machine. Cases, one after the other:
//!
//! - `GET /healthz`: the floor (the HTTP stack, one store read, one config
//!   read);
//! - `POST /commands` with waits across aggregates: each request opens a
//!   new counter;
//! - `POST /commands` with waits within aggregates: `Add` to one of 4
//!   counters;
//! - `GET /aggregates/counter/{id}` of one aggregate.
//!
//! Each reports requests/s (requests over the wall time from the clients'
//! common start to the last answer), latency p50/p90/p99/max (from writing
//! a request to reading its whole answer), and the server's and the
//! generator's CPU per request (`/proc/PID/stat`).
//!
//! - `cargo bench -p cmdctl --bench http_serve`: the release build,
//!   measured. `BENCH_SCALE=N` multiplies the counts; `BENCH_CLIENTS=N`
//!   runs N clients instead of 64; `BENCH_CASES=health,across,within,read`
//!   runs only those cases; `CMDCTL_BIN=PATH` serves with another build of
//!   `cmdctl` (a profiling build, say).
//! - Under `cargo test --benches` (`.ci/run`): 64 clients × 5 requests per
//!   case in the debug build, asserting every answer only.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::http::{Connection, Request, Response, Served};
use tokio::sync::Barrier;

/// Clients, unless `BENCH_CLIENTS` says otherwise.
const CLIENTS: usize = 64;
const HOT: usize = 4;
/// Only a server that stopped answering reaches it.
const HANG: Duration = Duration::from_secs(120);

/// Requests per client of each case.
struct Plan {
    measuring: bool,
    clients: usize,
    cases: Vec<String>,
    health: usize,
    across: usize,
    within: usize,
    reads: usize,
}

impl Plan {
    fn from_args() -> Plan {
        let measuring = std::env::args().any(|a| a == "--bench");
        let scale: usize = std::env::var("BENCH_SCALE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        let clients = std::env::var("BENCH_CLIENTS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(CLIENTS);
        let cases = std::env::var("BENCH_CASES")
            .unwrap_or_else(|_| "health,across,within,read".to_owned())
            .split(',')
            .map(|c| c.trim().to_owned())
            .collect();
        if measuring {
            Plan {
                measuring,
                clients,
                cases,
                health: 1000 * scale,
                across: 250 * scale,
                within: 250 * scale,
                reads: 1000 * scale,
            }
        } else {
            Plan {
                measuring,
                clients,
                cases,
                health: 5,
                across: 5,
                within: 5,
                reads: 5,
            }
        }
    }
}

/// One case's figures.
struct Figures {
    case: &'static str,
    requests: usize,
    wall: Duration,
    latencies: Vec<Duration>,
    server_cpu: Duration,
    client_cpu: Duration,
    overloaded: usize,
}

impl Figures {
    fn row(&self) -> String {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let at = |q: f64| {
            let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
            sorted[i - 1]
        };
        let per = |cpu: Duration| cpu.as_secs_f64() * 1e6 / self.requests as f64;
        format!(
            "| {} | {} | {:.2} s | **{:.0}** | {} | {} | {} | {} | {:.0} µs ({:.0}% of a core) | {:.0} µs | {} |",
            self.case,
            self.requests,
            self.wall.as_secs_f64(),
            self.requests as f64 / self.wall.as_secs_f64(),
            ms(at(0.50)),
            ms(at(0.90)),
            ms(at(0.99)),
            ms(*sorted.last().unwrap_or(&Duration::ZERO)),
            per(self.server_cpu),
            100.0 * self.server_cpu.as_secs_f64() / self.wall.as_secs_f64(),
            per(self.client_cpu),
            self.overloaded,
        )
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// User + system CPU of a process so far (`/proc/PID/stat`, clock ticks).
fn cpu_of(pid: &str) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state is the
    // 3rd field, utime the 14th, stime the 15th.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 1000 / clock_ticks())
}

fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// Runs one case: every client opens its connection, all start together,
/// each sends `per_client` requests one after the other; 503 `overloaded`
/// is counted and sent again, anything `ok` refuses fails the bench.
async fn case(
    server: &Served,
    clients: usize,
    case: &'static str,
    per_client: usize,
    request: impl Fn(usize, usize) -> Request + Send + Sync + 'static,
    ok: fn(&Response) -> bool,
) -> Figures {
    let addr = server.addr();
    let request = Arc::new(request);
    let start = Arc::new(Barrier::new(clients + 1));
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (request, start) = (request.clone(), start.clone());
            tokio::spawn(async move { client(addr, c, per_client, request, ok, start).await })
        })
        .collect();
    let pid = server.id().to_string();
    let (server_before, client_before) = (cpu_of(&pid), cpu_of("self"));
    start.wait().await;
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(clients * per_client);
    let mut overloaded = 0;
    for task in tasks {
        let (mine, shed) = task.await.expect("a client ends");
        latencies.extend(mine);
        overloaded += shed;
    }
    let wall = started.elapsed();
    Figures {
        case,
        requests: latencies.len(),
        wall,
        latencies,
        server_cpu: cpu_of(&pid).saturating_sub(server_before),
        client_cpu: cpu_of("self").saturating_sub(client_before),
        overloaded,
    }
}

async fn client(
    addr: SocketAddr,
    c: usize,
    per_client: usize,
    request: Arc<impl Fn(usize, usize) -> Request>,
    ok: fn(&Response) -> bool,
    start: Arc<Barrier>,
) -> (Vec<Duration>, usize) {
    let mut connection = Connection::open(addr).await.expect("connect");
    let mut latencies = Vec::with_capacity(per_client);
    let mut overloaded = 0;
    start.wait().await;
    for i in 0..per_client {
        let request = request(c, i);
        loop {
            let sent = Instant::now();
            let answer = tokio::time::timeout(HANG, connection.send(&request))
                .await
                .unwrap_or_else(|_| panic!("no answer after {HANG:?}"))
                .expect("an answer");
            latencies.push(sent.elapsed());
            if answer.status == 503 && answer.json()["code"] == "overloaded" {
                overloaded += 1;
                continue;
            }
            assert!(
                ok(&answer),
                "{} {}: {} {}",
                request.method,
                request.target,
                answer.status,
                answer.text()
            );
            break;
        }
    }
    (latencies, overloaded)
}

fn applied(answer: &Response) -> bool {
    answer.status == 200 && answer.json()["outcome"] == "applied"
}

fn fine(answer: &Response) -> bool {
    answer.status == 200
}

fn command(id: String, aggregate: String, command: &str) -> Request {
    Request::post_json(
        "/commands",
        &json!({"commandId": id, "aggregateType": "counter", "aggregateId": aggregate,
                "command": command, "payload": {"note": "bench"}}),
    )
    .header("prefer", "wait")
}

fn main() {
    let plan = Plan::from_args();
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let store = tempfile::tempdir().expect("a temp dir");
    let binary =
        std::env::var_os("CMDCTL_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_cmdctl").into());
    let mut serve = Command::new(binary);
    serve
        .env_remove("RUST_LOG")
        .env_remove("CMDCTL_STORE")
        .env_remove("CMDCTL_CONFIG")
        .env_remove("CMDCTL_CONFIG_DIR")
        .arg("--store")
        .arg(store.path().join("events.sqlite3"))
        .arg("--config")
        .arg(repo.join("tests/fixtures/http_load"))
        .args(["serve", "--listen", "127.0.0.1:0"]);
    let server = Served::start(serve);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let figures = runtime.block_on(async {
        let mut setup = Connection::open(server.addr()).await.expect("connect");
        for h in 0..HOT {
            let open = command(format!("open-hot-{h}"), format!("hot-{h}"), "Open");
            let answer = setup.send(&open).await.expect("an answer");
            assert!(applied(&answer), "{}", answer.text());
        }
        let n = plan.clients;
        let mut figures = Vec::new();
        for name in &plan.cases {
            figures.push(match name.as_str() {
                "health" => {
                    case(
                        &server,
                        n,
                        "`GET /healthz` (the floor)",
                        plan.health,
                        |_, _| Request::get("/healthz"),
                        fine,
                    )
                    .await
                }
                "across" => {
                    case(
                        &server,
                        n,
                        "`POST /commands`, wait, across aggregates (each request opens one)",
                        plan.across,
                        |c, i| command(format!("open-{c}-{i}"), format!("c-{c}-{i}"), "Open"),
                        applied,
                    )
                    .await
                }
                "within" => {
                    case(
                        &server,
                        n,
                        "`POST /commands`, wait, within 4 aggregates (`Add`)",
                        plan.within,
                        |c, i| {
                            command(
                                format!("add-{c}-{i}"),
                                format!("hot-{}", (c + i) % HOT),
                                "Add",
                            )
                        },
                        applied,
                    )
                    .await
                }
                "read" => {
                    case(
                        &server,
                        n,
                        "`GET /aggregates/counter/hot-0` (one aggregate)",
                        plan.reads,
                        |_, _| Request::get("/aggregates/counter/hot-0"),
                        fine,
                    )
                    .await
                }
                other => panic!("BENCH_CASES: no case {other:?} (health, across, within, read)"),
            });
        }
        figures
    });
    println!(
        "http_serve: {} keep-alive clients on loopback, {} build of cmdctl serve, embedded store",
        plan.clients,
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    println!(
        "| case | requests | wall | requests/s | p50 | p90 | p99 | max | server CPU per request | generator CPU per request | 503 overloaded (sent again) |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for f in &figures {
        println!("{}", f.row());
    }
    if !plan.measuring {
        for f in &figures {
            assert_eq!(f.requests - f.overloaded, plan.clients * 5, "{}", f.case);
        }
    }
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
}
