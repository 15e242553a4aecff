//! `cmdctl serve`'s hostile-input table, `tests/fixtures/bad_input/http.jsonl`,
//! through a real socket: one server, every row on a connection of its own,
//! written as raw bytes. Every answer has the row's status and is
//! `application/problem+json` with the row's `code` (or, for a row
//! `refusedBy: "http-parser"`, hyper's own bodiless 400 and a closed
//! connection: bytes HTTP/1.1 does not allow never reach the router), and
//! never holds the row's hostile value. A body over the limit is answered
//! 413 while the client still has bytes to send. Then nothing the rows sent
//! was written, and the server still answers.

use std::collections::BTreeSet;
use std::net::SocketAddr;

use serde_json::{Value, json};
use testkit::http::{Connection, Request, Response};

use crate::harness::{Cli, block_on, fixture};

/// Every hostile value of the table holds this (or its percent-encoding).
const SCRIPT: &str = "<script>";
const SCRIPT_ENCODED: &str = "%3Cscript%3E";

/// One row of the table.
struct Row {
    name: String,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Body,
    given: Vec<Value>,
    status: u16,
    code: String,
    hostile: Option<String>,
    by_parser: bool,
}

enum Body {
    None,
    Bytes(Vec<u8>),
    /// `oversize-declared`, `oversize-chunked`, `deep-nesting`.
    Recipe(String),
}

fn table() -> Vec<Row> {
    let text = std::fs::read_to_string(fixture("bad_input/http.jsonl")).expect("the HTTP table");
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let row: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON row ({e}): {line}"));
            let text = |field: &str| row[field].as_str().map(str::to_owned);
            let name = text("name").expect("name");
            let body = match (&row["body"], text("bodyText"), text("bodyRecipe")) {
                (Value::Null, None, None) => Body::None,
                (Value::Null, Some(t), None) => Body::Bytes(t.into_bytes()),
                (Value::Null, None, Some(r)) => Body::Recipe(r),
                (json, None, None) => Body::Bytes(json.to_string().into_bytes()),
                _ => panic!("{name}: one of body, bodyText, bodyRecipe"),
            };
            Row {
                method: text("method").unwrap_or_else(|| panic!("{name}: method")),
                path: text("path").unwrap_or_else(|| panic!("{name}: path")),
                headers: row["headers"]
                    .as_array()
                    .map(|hs| {
                        hs.iter()
                            .map(|h| {
                                (
                                    h[0].as_str().expect("a header name").to_owned(),
                                    h[1].as_str().expect("a header value").to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                body,
                given: row["given"].as_array().cloned().unwrap_or_default(),
                status: row["status"]
                    .as_u64()
                    .and_then(|s| u16::try_from(s).ok())
                    .unwrap_or_else(|| panic!("{name}: status")),
                code: text("code").unwrap_or_default(),
                hostile: text("hostile"),
                by_parser: text("refusedBy").as_deref() == Some("http-parser"),
                name,
            }
        })
        .collect()
}

impl Row {
    fn request(&self, body: Vec<u8>) -> Request {
        let mut request = Request::new(&self.method, &self.path).body(body);
        for (name, value) in &self.headers {
            request = request.header(name, value.as_bytes());
        }
        request
    }
}

/// The start of every oversized body: a valid command's beginning, holding
/// a hostile title.
fn oversize_prefix() -> String {
    r#"{"aggregateType":"ticket","aggregateId":"t-big","command":"OpenTicket","payload":{"title":"<script>alert(1)</script>"#
        .to_owned()
}

const LIMIT: usize = 256 * 1024;
const CHUNK: usize = 4096;

/// What was sent of a row, and its answer.
struct Sent {
    request: Vec<u8>,
    /// Bytes of the body the client still held when the answer came.
    unsent: usize,
    answer: std::io::Result<Response>,
    connection: Connection,
}

async fn send_row(addr: SocketAddr, row: &Row) -> Sent {
    let mut connection = Connection::open(addr).await.expect("connect");
    let (request, unsent) = match &row.body {
        Body::None => (row.request(Vec::new()).to_bytes(), 0),
        Body::Bytes(bytes) => (row.request(bytes.clone()).to_bytes(), 0),
        Body::Recipe(recipe) if recipe == "deep-nesting" => {
            let depth = 100_000;
            let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            (row.request(body.into_bytes()).to_bytes(), 0)
        }
        Body::Recipe(recipe) if recipe == "oversize-declared" => {
            // Declares 10 MiB; sends the head and the first KiB only.
            let declared = 10 * 1024 * 1024;
            let mut first = oversize_prefix().into_bytes();
            first.resize(1024, b'x');
            let mut bytes = row
                .request(Vec::new())
                .header("content-length", declared.to_string())
                .head_bytes();
            bytes.extend_from_slice(&first);
            (bytes, declared - first.len())
        }
        Body::Recipe(recipe) if recipe == "oversize-chunked" => {
            // A 1 MiB body in 4 KiB chunks: sends just enough of them to pass
            // the limit by one chunk, and holds back the rest and the last
            // (empty) chunk that would end the body.
            let total = 1024 * 1024;
            let mut bytes = row.request(Vec::new()).head_bytes();
            let mut data = oversize_prefix().into_bytes();
            data.resize(LIMIT + CHUNK, b'x');
            for chunk in data.chunks(CHUNK) {
                bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                bytes.extend_from_slice(chunk);
                bytes.extend_from_slice(b"\r\n");
            }
            (bytes, total - data.len() + "0\r\n\r\n".len())
        }
        Body::Recipe(other) => panic!("{}: no recipe {other:?}", row.name),
    };
    connection
        .write(&request)
        .await
        .expect("the request is sent");
    let answer = connection.read_response(&row.method).await;
    Sent {
        request,
        unsent,
        answer,
        connection,
    }
}

/// What is wrong with one row's answer (empty: nothing).
async fn check(row: &Row, sent: Sent) -> Vec<String> {
    let mut wrong = Vec::new();
    let name = &row.name;
    if let Some(hostile) = &row.hostile
        && !contains(&sent.request, hostile.as_bytes())
    {
        wrong.push(format!(
            "{name}: the request does not hold its hostile value"
        ));
    }
    let answer = match sent.answer {
        Ok(answer) => answer,
        Err(e) => {
            wrong.push(format!("{name}: no answer ({e})"));
            return wrong;
        }
    };
    if answer.status != row.status {
        wrong.push(format!(
            "{name}: status {} (want {}): {}",
            answer.status,
            row.status,
            answer.text()
        ));
    }
    let mut everything = answer.head.clone();
    everything.extend_from_slice(&answer.body);
    for quoted in row
        .hostile
        .iter()
        .map(String::as_str)
        .chain([SCRIPT, SCRIPT_ENCODED])
    {
        if contains(&everything, quoted.as_bytes()) {
            wrong.push(format!(
                "{name}: the answer quotes {quoted:?}: {}",
                String::from_utf8_lossy(&everything)
            ));
        }
    }
    if matches!(&row.body, Body::Recipe(r) if r.starts_with("oversize")) && sent.unsent == 0 {
        wrong.push(format!("{name}: the client had sent the whole body"));
    }
    if row.by_parser {
        if !answer.body.is_empty() {
            wrong.push(format!("{name}: the parser's refusal has a body"));
        }
        let mut connection = sent.connection;
        match connection.read_until_closed().await {
            Ok(rest) if rest.is_empty() => {}
            Ok(rest) => wrong.push(format!(
                "{name}: {} more bytes after the refusal",
                rest.len()
            )),
            Err(e) => wrong.push(format!("{name}: not closed cleanly ({e})")),
        }
        return wrong;
    }
    if answer.header("content-type") != Some("application/problem+json") {
        wrong.push(format!(
            "{name}: content-type {:?}",
            answer.header("content-type")
        ));
    }
    let problem = answer.json();
    let fields: BTreeSet<&str> = problem
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    if fields != BTreeSet::from(["code", "detail", "status", "title", "type"]) {
        wrong.push(format!("{name}: not a problem document: {}", answer.text()));
    }
    if problem["code"] != json!(row.code)
        || problem["status"] != json!(row.status)
        || problem["type"] != json!(format!("urn:command-handler:problem:{}", row.code))
    {
        wrong.push(format!(
            "{name}: problem {problem} (want code {:?}, status {})",
            row.code, row.status
        ));
    }
    wrong
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

async fn post(addr: SocketAddr, body: &Value) -> Response {
    let mut connection = Connection::open(addr).await.expect("connect");
    connection
        .send(&Request::post_json("/commands", body))
        .await
        .expect("an answer")
}

#[test]
fn every_hostile_request_is_answered_with_its_problem_and_quotes_nothing() {
    let rows = table();
    assert!(rows.len() >= 50, "{} rows", rows.len());
    let names: BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), rows.len(), "row names are unique");

    let cli = Cli::new();
    let server = cli.serve(&[]);
    let addr = server.addr();
    let mut given_tickets = BTreeSet::new();
    let wrong = block_on(async {
        let mut wrong = Vec::new();
        for row in &rows {
            for given in &row.given {
                let answer = post(addr, given).await;
                assert_eq!(answer.status, 200, "{}: given: {}", row.name, answer.text());
                if given["aggregateType"] == "ticket" {
                    given_tickets.insert(given["aggregateId"].as_str().unwrap().to_owned());
                }
            }
            let sent = send_row(addr, row).await;
            wrong.extend(check(row, sent).await);
        }
        wrong
    });
    assert!(
        wrong.is_empty(),
        "{} of {} rows wrong:\n{}",
        wrong.len(),
        rows.len(),
        wrong.join("\n")
    );

    // The server still answers, and holds only what the givens wrote.
    block_on(async {
        let mut connection = Connection::open(addr).await.expect("connect");
        let health = connection.send(&Request::get("/healthz")).await.unwrap();
        assert_eq!(health.status, 200, "{}", health.text());
        for (aggregate_type, want) in [("ticket", given_tickets), ("order", BTreeSet::new())] {
            let page = connection
                .send(&Request::get(&format!(
                    "/aggregates/{aggregate_type}?limit=1000"
                )))
                .await
                .unwrap();
            assert_eq!(page.status, 200, "{}", page.text());
            let ids: BTreeSet<String> = page.json()["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| i["aggregateId"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(ids, want, "{aggregate_type}: only the givens were written");
        }
    });
    let stderr = server.stderr();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        !stderr.contains(SCRIPT),
        "the logs quote a hostile value:\n{stderr}"
    );
}
