//! `cmdctl serve` through a real loopback socket: the order saga placed by
//! `POST` and followed by `GET` until it ends, and the same
//! `Idempotency-Key` twice applying once.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::*;

/// A running `cmdctl serve` on a free loopback port; killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
    _cli: Cli,
}

impl Server {
    pub(crate) fn start(cli: Cli, extra: &[&str]) -> Server {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut child = cli
            .command(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cmdctl serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the first line");
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .unwrap_or_else(|| panic!("`listening on http://ADDR`, not {line:?}"))
            .to_owned();
        Server {
            child,
            addr,
            _cli: cli,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer: status, headers (lower-case names) and the body as JSON
/// (`null` when empty).
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Value,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&Value>,
) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("a read timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("sent");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("an answer");
    let text = String::from_utf8(raw).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(body).unwrap_or_else(|_| panic!("JSON: {body}"))
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn post(addr: &str, key: &str, body: &Value) -> Answer {
    http(
        addr,
        "POST",
        "/commands",
        &[("Idempotency-Key", key)],
        Some(body),
    )
}

/// GETs `path` until `done` holds of the answer, while the aggregate's
/// version keeps moving: gives up after 400 polls in a row with no change.
fn follow(addr: &str, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    let mut still = 0;
    loop {
        let answer = http(addr, "GET", path, &[], None);
        if answer.status == 200 && done(&answer.body) {
            return answer.body;
        }
        if answer.body["version"] == last["version"] {
            still += 1;
            assert!(still < 400, "{path} stopped at {}", answer.body);
        } else {
            still = 0;
        }
        last = answer.body;
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn the_order_saga_placed_by_post_runs_to_its_end() {
    let server = Server::start(Cli::new(), &[]);
    let addr = &server.addr;
    let restock = json!({"aggregateType": "inventory", "aggregateId": "milk-frother",
        "command": "Restock", "payload": {"quantity": 5, "price": 120}});
    let stocked = post(addr, "restock-1", &restock);
    assert_eq!(stocked.status, 200, "{}", stocked.body);
    let order = json!({"aggregateType": "order", "aggregateId": "o-1", "command": "CreateOrder",
        "payload": {"itemId": "milk-frother", "quantity": 1},
        "metadata": {"correlationId": "flow-1"}});
    let created = post(addr, "create-o-1", &order);
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(
        (&created.body["outcome"], &created.body["state"]),
        (&json!("applied"), &json!("Created"))
    );
    let done = follow(addr, "/aggregates/order/o-1", |a| a["state"] == "Confirmed");
    assert_eq!(done["data"]["itemId"], "milk-frother");
    // The inventory took the reservation; the trace has the whole flow.
    let stock = http(addr, "GET", "/aggregates/inventory/milk-frother", &[], None);
    assert!(stock.body["version"].as_u64() > Some(1), "{}", stock.body);
    let trace = http(addr, "GET", "/traces/flow-1", &[], None);
    let events = trace.body["events"].as_array().expect("events");
    assert!(
        events.iter().any(|e| e["aggregateType"] == "payment"),
        "the payment is in the flow: {}",
        trace.body
    );
    let listed = http(addr, "GET", "/aggregates/order", &[], None);
    assert_eq!(
        listed.body["items"][0]["state"], "Confirmed",
        "{}",
        listed.body
    );
}

#[test]
fn the_same_idempotency_key_twice_applies_once() {
    let server = Server::start(Cli::new(), &[]);
    let addr = &server.addr;
    let order = json!({"aggregateType": "order", "aggregateId": "o-2", "command": "CreateOrder",
        "payload": {"itemId": "beans", "quantity": 1}});
    let first = post(addr, "k-2", &order);
    let again = post(addr, "k-2", &order);
    assert_eq!(first.body["outcome"], "applied", "{}", first.body);
    assert_eq!(again.body["outcome"], "duplicate", "{}", again.body);
    assert_eq!(again.body["version"], first.body["version"]);
    let events = http(addr, "GET", "/aggregates/order/o-2/events", &[], None);
    let created: Vec<&Value> = events.body["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["commandId"] == "k-2")
        .collect();
    assert_eq!(created.len(), 1, "{}", events.body);
    let head = http(addr, "GET", "/aggregates/order/o-2", &[], None);
    let etag = head.header("etag").expect("an ETag").to_owned();
    let unchanged = http(
        addr,
        "GET",
        "/aggregates/order/o-2",
        &[("If-None-Match", &etag)],
        None,
    );
    assert!(
        unchanged.status == 304 || unchanged.header("etag") != Some(etag.as_str()),
        "304 unless the saga moved it on"
    );
}

#[test]
fn a_client_that_goes_away_mid_request_leaves_the_command_applied_once() {
    let server = Server::start(Cli::new(), &[]);
    let addr = &server.addr;
    let body = json!({"aggregateType": "ticket", "aggregateId": "t-gone", "command": "OpenTicket",
        "payload": {"title": "left early"}})
    .to_string();
    let request = format!(
        "POST /commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Idempotency-Key: gone-1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    {
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream.write_all(request.as_bytes()).expect("sent");
        // Gone before any answer.
        let _ = stream.shutdown(std::net::Shutdown::Both);
    }
    let head = follow(addr, "/aggregates/ticket/t-gone", |a| a["version"] == 1);
    assert_eq!(head["state"], "Open");
    // The client sends again: the answer is the first one's, nothing doubled.
    let again = post(addr, "gone-1", &serde_json::from_str(&body).expect("json"));
    assert_eq!(
        (&again.body["outcome"], &again.body["version"]),
        (&json!("duplicate"), &json!(1)),
        "{}",
        again.body
    );
}
