//! Measures the Lambda binary as Lambda runs it: init time, first- and
//! second-batch latency and peak RSS, with a fake Lambda Runtime API on
//! loopback and moto as AWS (BENCHMARKS.md, "Init and first batch" and
//! "Size and memory"). It reports; it asserts nothing about time.
//!
//! ```text
//! cargo build --release -p command-handler --bin bootstrap --example hello
//! cargo run -p testkit --example lambda_init -- [RUNS]
//! ```
//!
//! Each run starts a fresh process on a fresh table and bucket, serves it
//! two SQS events of 10 messages (10 new orders, then the next command on
//! each), and measures:
//! - init: from the spawn to its first `GET .../invocation/next`;
//! - batch: from that request being answered to the `POST .../response`;
//! - peak RSS: `VmHWM` of `/proc/PID/status` once both batches are done.
//!
//! The same is measured for `bootstrap` with `WARM_ON_INIT=false`, and the
//! init of `hello` (a `lambda_runtime` hello-world, `cmd/command-handler/
//! examples/hello.rs`, built with the same profile). moto is plain HTTP:
//! the TLS handshake that warming saves on AWS is not part of these figures.
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use testkit::aws::{AwsStack, PREFIX};
use testkit::moto::moto;

/// What the fake Runtime API saw, in order.
#[derive(Debug)]
enum Seen {
    Next(Instant),
    Response(Instant, Value),
    Error(String),
}

/// One request read from a runtime connection: method, path, body.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<(String, String, Vec<u8>)> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some((method, path, body))
}

fn respond(stream: &mut TcpStream, status: &str, headers: &[(String, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

/// Serves the runtime's connections: the i-th `next` gets `events[i]`; past
/// the last one it is never answered (the process is measured and killed).
fn serve(listener: TcpListener, events: Vec<Value>, seen: mpsc::Sender<Seen>) {
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { break };
        let (events, seen, next) = (events.clone(), seen.clone(), next.clone());
        std::thread::spawn(move || {
            let mut writer = stream.try_clone().expect("clone the stream");
            let mut reader = BufReader::new(stream);
            while let Some((method, path, body)) = read_request(&mut reader) {
                let now = Instant::now();
                if method == "GET" && path.ends_with("/invocation/next") {
                    let _ = seen.send(Seen::Next(now));
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(event) = events.get(i) else {
                        // Held: the process waits here until it is killed.
                        std::thread::sleep(Duration::from_secs(3600));
                        return;
                    };
                    let deadline = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .expect("after the epoch")
                        .as_millis()
                        + 60_000;
                    let headers = [
                        ("content-type", "application/json".to_owned()),
                        ("lambda-runtime-aws-request-id", format!("request-{i}")),
                        ("lambda-runtime-deadline-ms", deadline.to_string()),
                        (
                            "lambda-runtime-invoked-function-arn",
                            "arn:aws:lambda:us-east-1:123456789012:function:bench".to_owned(),
                        ),
                        (
                            "lambda-runtime-trace-id",
                            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1".to_owned(),
                        ),
                    ]
                    .map(|(k, v)| (k.to_owned(), v));
                    let body = serde_json::to_vec(event).expect("an event");
                    respond(&mut writer, "200 OK", &headers, &body);
                } else if method == "POST" && path.ends_with("/response") {
                    let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let _ = seen.send(Seen::Response(now, value));
                    respond(&mut writer, "202 Accepted", &[], b"{}");
                } else {
                    let _ = seen.send(Seen::Error(format!(
                        "{method} {path}: {}",
                        String::from_utf8_lossy(&body)
                    )));
                    respond(&mut writer, "202 Accepted", &[], b"{}");
                }
            }
        });
    }
}

/// An SQS event of 10 messages: `command` (with `payload`) on orders
/// `{run}-0` to `{run}-9`.
fn sqs_event(run: &str, command: &str, payload: Value) -> Value {
    let records: Vec<Value> = (0..10)
        .map(|i| {
            let body = json!({
                "commandId": format!("{run}-{command}-{i}"),
                "aggregateType": "order",
                "aggregateId": format!("{run}-{i}"),
                "command": command,
                "payload": payload,
            });
            json!({
                "messageId": format!("{run}-{command}-m{i}"),
                "receiptHandle": "handle",
                "body": body.to_string(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1718000000000",
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "1718000000015"
                },
                "messageAttributes": {},
                "md5OfBody": "00000000000000000000000000000000",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:commands",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// One process's figures.
#[derive(Debug, Default, Clone)]
struct Figures {
    init: Duration,
    batches: Vec<Duration>,
    peak_rss_kb: u64,
}

fn peak_rss_kb(child: &Child) -> u64 {
    std::fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Runs `binary` through `events` and measures it.
fn run(binary: &Path, env: &[(String, String)], events: Vec<Value>) -> Figures {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    let (tx, rx) = mpsc::channel();
    let expected = events.len();
    std::thread::spawn(move || serve(listener, events, tx));
    let started = Instant::now();
    let mut child = Command::new(binary)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_RUNTIME_API", address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let mut figures = Figures::default();
    let mut served_at = None;
    let wait = Duration::from_secs(120);
    while figures.batches.len() < expected {
        match rx.recv_timeout(wait) {
            Ok(Seen::Next(at)) => {
                if served_at.is_none() && figures.batches.is_empty() {
                    figures.init = at - started;
                }
                served_at = Some(at);
            }
            Ok(Seen::Response(at, answer)) => {
                let failures = answer["batchItemFailures"].as_array().map_or(0, Vec::len);
                assert_eq!(failures, 0, "every message applies: {answer}");
                figures
                    .batches
                    .push(at - served_at.take().expect("a batch was served"));
            }
            Ok(Seen::Error(what)) => panic!("the runtime reported an error: {what}"),
            Err(_) => {
                let _ = child.kill();
                panic!("no progress from {} in {wait:?}", binary.display());
            }
        }
    }
    // Wait for the next `next`: the last batch is over.
    loop {
        match rx.recv_timeout(wait) {
            Ok(Seen::Next(_)) => break,
            Ok(_) => {}
            Err(_) => panic!("no next request after the last batch"),
        }
    }
    figures.peak_rss_kb = peak_rss_kb(&child);
    let _ = child.kill();
    let _ = child.wait();
    figures
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn release_binary(name: &str, example: bool) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("target/release");
    let path = if example {
        dir.join("examples").join(name)
    } else {
        dir.join(name)
    };
    assert!(
        path.is_file(),
        "{} is missing: cargo build --release -p command-handler --bin bootstrap --example hello",
        path.display()
    );
    path
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("RUNS is a number"))
        .unwrap_or(7);
    let bootstrap = release_binary("bootstrap", false);
    let hello = release_binary("hello", true);
    let moto_env: Vec<(String, String)> = moto()
        .env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    let events = |run: &str| {
        vec![
            sqs_event(run, "CreateOrder", json!({"itemId": "x", "quantity": 1})),
            sqs_event(run, "ReserveItem", json!({})),
        ]
    };

    let mut rows: Vec<(&str, Vec<Figures>)> = vec![
        ("bootstrap, WARM_ON_INIT=true", Vec::new()),
        ("bootstrap, WARM_ON_INIT=false", Vec::new()),
        ("hello (lambda_runtime hello-world)", Vec::new()),
    ];
    for i in 0..runs {
        // Interleaved, so that a change in the machine's load hits all three.
        for (row, warm) in [(0, "true"), (1, "false")] {
            let stack = AwsStack::new().await;
            let mut env = moto_env.clone();
            env.extend([
                ("DYNAMO_TABLE_NAME".to_owned(), stack.table.clone()),
                ("S3_BUCKET_NAME".to_owned(), stack.bucket.clone()),
                ("S3_CONFIG_PREFIX".to_owned(), PREFIX.to_owned()),
                ("WARM_ON_INIT".to_owned(), warm.to_owned()),
            ]);
            let run_id = format!("r{i}w{warm}");
            let figures = tokio::task::block_in_place(|| run(&bootstrap, &env, events(&run_id)));
            rows[row].1.push(figures);
        }
        let figures =
            tokio::task::block_in_place(|| run(&hello, &moto_env, events(&format!("r{i}hello"))));
        rows[2].1.push(figures);
    }

    println!("{runs} runs each, medians (ms; peak RSS in MB = VmHWM / 1024):\n");
    println!("| binary | init | first batch | second batch | peak RSS |");
    println!("| --- | --- | --- | --- | --- |");
    for (name, figures) in &rows {
        let init = median(figures.iter().map(|f| ms(f.init)).collect());
        let batch = |n: usize| median(figures.iter().map(|f| ms(f.batches[n])).collect());
        let rss = median(figures.iter().map(|f| f.peak_rss_kb as f64).collect()) / 1024.0;
        println!(
            "| {name} | {init:.1} | {:.1} | {:.1} | {rss:.1} MB |",
            batch(0),
            batch(1)
        );
    }
    println!("\nevery run (init / first / second ms, peak RSS kB):");
    for (name, figures) in &rows {
        let all: Vec<String> = figures
            .iter()
            .map(|f| {
                format!(
                    "{:.1}/{:.1}/{:.1} {}",
                    ms(f.init),
                    ms(f.batches[0]),
                    ms(f.batches[1]),
                    f.peak_rss_kb
                )
            })
            .collect();
        println!("- {name}: {}", all.join(", "));
    }
}
